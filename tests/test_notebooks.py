"""The exercise notebooks (jupytext text sources in docs/) execute without error, as in the site
build."""

from pathlib import Path

import jupytext
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "docs" / "exercise-1").glob("*.py"))


def test_there_are_three_notebooks():
    assert [p.stem for p in NOTEBOOKS] == [
        "ex1_01_pen_and_paper",
        "ex1_02_numpy_gradient",
        "ex1_03_pytorch_regression",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path, tmp_path):
    nb = jupytext.read(path)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    assert not errors
    printed = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    assert "Traceback" not in printed
