"""The notebooks each page offers (hooks/notebooks.py): cells, outputs, Colab links, and that a
PyTorch notebook runs top to bottom in a kernel where mxnet cannot be imported."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from pagefiles import write_page

from hooks import notebooks
from pagerun import frameworks
from pagerun.execute import BlockResult
from pagerun.parse import parse_page

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if parse_page(p))

PAGE = """# A page

Shared prose with math $x^2$.

```python
import numpy as np
x = np.arange(3)
```

=== "MXNet"

    Prose for MXNet readers.

    ```python
    from mxnet import np as mnp
    mx_sum = float(mnp.array(x).sum())
    print("mx", mx_sum)
    ```

=== "PyTorch"

    Prose for PyTorch readers.

    ```python
    import torch
    torch_sum = float(torch.tensor(x).sum())
    print("torch", torch_sum)
    ```

    ```output
    torch 3.0
    ```

!!! note "Parity"
    Both agree.

```{.python .both-frameworks}
assert mx_sum == torch_sum
```
"""

# A kernel's first cell: from here on `import mxnet` fails, as on a machine without it.
HIDE_MXNET = """
import sys
class _NoMxnet:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "mxnet":
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, _NoMxnet())
"""


def _results(path: Path) -> list[BlockResult]:
    """A result per block of the page, matched by its line; block k printed "out k"."""
    return [
        BlockResult(b.line, "passed", stdout=f"out {k}\n") for k, b in enumerate(parse_page(path))
    ]


def _sources(nb, kind: str) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == kind]


def test_a_pytorch_notebook_has_the_shared_and_pytorch_code_and_prose(tmp_path):
    path = write_page(tmp_path, PAGE)
    nb = notebooks.page_notebook(path, "pytorch", _results(path))
    code = _sources(nb, "code")
    assert len(code) == 2 and code[0].startswith("import numpy") and "torch_sum" in code[1]
    prose = "\n".join(_sources(nb, "markdown"))
    assert "PyTorch readers" in prose and "MXNet readers" not in prose and "$x^2$" in prose
    assert "**Parity**" in prose and "===" not in prose and "```output" not in prose
    outputs = [c.outputs for c in nb.cells if c.cell_type == "code"]
    assert [o[0].text for o in outputs] == ["out 0\n", "out 2\n"]  # the build's own results
    nbformat.validate(nb)


def test_an_mxnet_notebook_leaves_out_the_pytorch_tab_and_the_parity_block(tmp_path):
    path = write_page(tmp_path, PAGE)
    nb = notebooks.page_notebook(path, "mxnet", _results(path))
    code = _sources(nb, "code")
    assert len(code) == 2 and "mx_sum" in code[1] and not any("torch" in c for c in code)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_every_notebook_holds_exactly_its_blocks(page):
    blocks = parse_page(page)
    for framework in frameworks.frameworks_of(page, blocks):
        nb = notebooks.page_notebook(page, framework)
        chosen = frameworks.notebook_blocks(page, blocks, framework)
        marked = [notebooks.NOT_RUN_HERE.format(why=b.not_in_ci) for b in chosen]
        expected = [
            (f"# {m}\n" if b.not_in_ci else "") + b.code.rstrip("\n")
            for b, m in zip(chosen, marked)
        ]
        assert _sources(nb, "code") == expected


def test_offered_downloads_and_names(tmp_path):
    path = write_page(tmp_path, PAGE)
    got = notebooks.downloads("d2l/ch4/page.md", path, parse_page(path))
    assert [(d.file, d.label) for d in got] == [
        ("page.pytorch.ipynb", "PyTorch notebook"),
        ("page.mxnet.ipynb", "MXNet notebook"),
    ]
    neutral = write_page(tmp_path, "# P\n\n```python\nx = 1\n```\n")
    (only,) = notebooks.downloads("p.md", neutral, parse_page(neutral))
    assert (only.file, only.label) == ("p.ipynb", "Notebook")
    assert notebooks.downloads("q.md", neutral, []) == []


def test_colab_url_is_built_from_the_repository_url():
    url = notebooks.colab_url("https://github.com/owner/dl-companion", "d2l/ch4/x/x.pytorch.ipynb")
    assert url == (
        "https://colab.research.google.com/github/owner/dl-companion/blob/notebooks/"
        "d2l/ch4/x/x.pytorch.ipynb"
    )
    assert notebooks.colab_url("https://github.com/o/r.git/", "a.ipynb").endswith(
        "/o/r/blob/notebooks/a.ipynb"
    )
    with pytest.raises(ValueError, match="https://github.com/<owner>/<repo>"):
        notebooks.colab_url("https://gitlab.com/o/r", "a.ipynb")


def _execute_without_mxnet(nb, tmp_path: Path) -> None:
    nb.cells.insert(0, nbformat.v4.new_code_cell(HIDE_MXNET))
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()


def test_the_kernel_really_refuses_mxnet(tmp_path):
    pytest.importorskip("mxnet")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import mxnet")])
    with pytest.raises(Exception, match="No module named 'mxnet'"):
        _execute_without_mxnet(nb, tmp_path)


@pytest.mark.parametrize("rel", ["d2l/ch5/5-1-blocks.md", "exams/vgg16.md"])
def test_real_pytorch_notebooks_run_without_mxnet(rel, tmp_path):
    nb = notebooks.page_notebook(DOCS / rel, "pytorch", repo_url="https://github.com/o/r")
    assert 'find_spec("companion") is None' in nb.cells[1].source  # installs where missing
    _execute_without_mxnet(nb, tmp_path)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in errors if o.output_type == "error"]


def test_buttons_sit_under_the_title_with_colab_and_note():
    offered = [notebooks.Download("pytorch", "p.pytorch.ipynb", "PyTorch notebook")]
    row = notebooks.buttons_html(offered, "https://colab.example/x", notebooks.NO_MXNET)
    assert 'href="p.pytorch.ipynb" class="md-button" download>PyTorch notebook</a>' in row
    assert ">Open in Colab</a>" in row and "No MXNet notebook" in row


NOTEBOOK_PAGE_HTML = """<div class="jupyter-wrapper"><div class="jp-Cell jp-CodeCell">
<div class="jp-InputArea"><div class="jp-InputPrompt jp-InputArea-prompt">In\xa0[1]:</div>
<div class="zeroclipboard-container"><clipboard-copy for="cell-1"></clipboard-copy></div>
<div class="highlight-ipynb hl-python"><pre><span></span><span class="n">x</span> = 1</pre></div>
</div><div class="jp-OutputArea"><div class="jp-OutputPrompt jp-OutputArea-prompt"></div>
<div class="jp-RenderedText jp-OutputArea-output" data-mime-type="text/plain"><pre>1
</pre></div></div></div></div>"""


def test_notebook_pages_get_the_sites_code_and_output_blocks():
    from hooks.notebook_pages import restyle

    out = restyle(NOTEBOOK_PAGE_HTML)
    assert '<div class="language-python highlight"><pre><code><span></span>' in out
    assert '<div class="language-output highlight"><pre><code>1\n</code></pre></div>' in out
    for gone in ("In\xa0[1]", "clipboard-copy", "highlight-ipynb", "jp-OutputPrompt"):
        assert gone not in out
    assert restyle("<p>no notebook</p>") == "<p>no notebook</p>"


def test_a_cell_the_build_did_not_run_says_so(tmp_path):
    text = PAGE.replace(
        "    ```python\n    import torch", "    ```{.python .needs-gpu}\n    import torch"
    )
    path = write_page(tmp_path, text)
    nb = notebooks.page_notebook(path, "pytorch", _results(path))
    assert _sources(nb, "code")[1].startswith("# This cell needs a GPU: the site's build did not")


def test_links_to_other_pages_become_site_addresses():
    text = "See [4.2](4-2-mlp-scratch.md#ex) and [home](../../index.md), [x](https://a.b/c.md)."
    got = notebooks.absolute_links(text, "d2l/ch4/4-1-mlp.md", "https://h.io/site/")
    assert got == (
        "See [4.2](https://h.io/site/d2l/ch4/4-2-mlp-scratch/#ex) and "
        "[home](https://h.io/site/), [x](https://a.b/c.md)."
    )


def test_notebooks_that_import_companion_get_an_install_cell_first(tmp_path):
    page = write_page(
        tmp_path,
        PAGE.replace("import numpy as np", "import numpy as np\nfrom companion import seeds"),
    )
    nb = notebooks.page_notebook(page, "pytorch", repo_url="https://github.com/o/r")
    code = _sources(nb, "code")
    assert 'package = "git+https://github.com/o/r"' in code[0] and len(code) == 3
    plain = notebooks.page_notebook(
        write_page(tmp_path, PAGE), "pytorch", repo_url="https://github.com/o/r"
    )
    assert len(_sources(plain, "code")) == 2  # no companion: no install cell
