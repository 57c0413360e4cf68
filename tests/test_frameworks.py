"""The notebook rule (pagerun.frameworks): framework code only in tabs; each notebook complete."""

from pathlib import Path

import pytest
from pagefiles import write_page

from pagerun import frameworks
from pagerun.parse import parse_page

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if parse_page(p))


TABS = """# A page

```python
import numpy as np
x = np.arange(3)
```

=== "MXNet"

    ```python
    from mxnet import np as mnp
    mx_sum = float(mnp.array(x).sum())
    ```

=== "PyTorch"

    ```python
    import torch
    torch_sum = float(torch.tensor(x).sum())
    ```

```{.python .both-frameworks}
assert mx_sum == torch_sum
```
"""


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_every_page_keeps_the_rule(page):
    assert frameworks.page_problems(page) == []


def test_a_page_that_keeps_the_rule(tmp_path):
    path = write_page(tmp_path, TABS)
    blocks = parse_page(path)
    assert frameworks.page_problems(path) == []
    assert frameworks.frameworks_of(path, blocks) == ["pytorch", "mxnet"]
    torch_cells = [b.code for b in frameworks.notebook_blocks(path, blocks, "pytorch")]
    assert len(torch_cells) == 2 and "torch_sum" in torch_cells[1]
    order, hidden = frameworks.run_order(path, blocks)
    assert (order, hidden) == ([0, 2, 1, 3], 2)


def test_framework_import_in_a_shared_block_breaks_the_rule(tmp_path):
    text = TABS.replace("import numpy as np", "import numpy as np\nimport torch")
    path = write_page(tmp_path, text)
    (problem,) = frameworks.page_problems(path)
    assert "framework code in a shared block (import torch)" in problem


def test_a_seed_in_a_shared_block_breaks_the_rule(tmp_path):
    path = write_page(
        tmp_path, TABS.replace("x = np.arange(3)", "x = np.arange(3)\ntorch.manual_seed(0)")
    )
    assert any("torch.manual_seed" in p for p in frameworks.page_problems(path))


def test_an_unmarked_parity_block_is_caught_in_both_notebooks(tmp_path):
    path = write_page(tmp_path, TABS.replace("{.python .both-frameworks}", "python"))
    problems = frameworks.page_problems(path)
    assert any("pytorch notebook" in p and "mx_sum" in p for p in problems)
    assert any("mxnet notebook" in p and "torch_sum" in p for p in problems)


def test_a_page_without_tabs_offers_one_neutral_notebook(tmp_path):
    path = write_page(tmp_path, "# P\n\n```python\nimport numpy as np\n```\n")
    blocks = parse_page(path)
    assert frameworks.frameworks_of(path, blocks) == [frameworks.NEUTRAL]
    with pytest.raises(ValueError, match="framework must be one of"):
        frameworks.notebook_blocks(path, blocks, "jax")


def test_undefined_names_reads_cells_in_order():
    cells = ["a = 1", "print(a + b)", "def f():\n    return c\n", "b = 2"]
    assert frameworks.undefined_names(cells) == [(1, "b"), (2, "c")]


def test_mxnet_hidden_refuses_the_import_even_when_loaded():
    pytest.importorskip("mxnet")
    with frameworks.mxnet_hidden():
        with pytest.raises(ModuleNotFoundError, match="hidden"):
            import mxnet  # noqa: F401
    import mxnet  # noqa: F401, F811 - back afterwards


def test_blocks_not_run_in_ci_are_in_their_notebook(tmp_path):
    text = TABS.replace(
        "    ```python\n    import torch", "    ```{.python .needs-gpu}\n    import torch"
    )
    path = write_page(tmp_path, text)
    cells = frameworks.notebook_blocks(path, parse_page(path), "pytorch")
    assert [b.not_in_ci for b in cells] == [None, "needs a GPU"]


def test_the_mxnet_notebook_can_run_first(tmp_path):
    path = write_page(tmp_path, TABS)
    assert frameworks.run_order(path, parse_page(path), "mxnet") == ([0, 1, 2, 3], 2)
    with pytest.raises(ValueError, match="first must be one of"):
        frameworks.run_order(path, parse_page(path), "jax")


def test_two_tabs_of_one_name_in_one_set_are_caught(tmp_path):
    merged = TABS.replace(
        '=== "PyTorch"',
        '=== "PyTorch"\n\n    ```python\n    a = 1\n    ```\n\n=== "PyTorch"',
    )
    (problem,) = frameworks.tab_set_problems(write_page(tmp_path, merged))
    assert "a second 'PyTorch' tab in one tab set" in problem
    apart = merged.replace('    ```\n\n=== "PyTorch"', '    ```\n\nProse between.\n\n=== "PyTorch"')
    assert frameworks.tab_set_problems(write_page(tmp_path, apart)) == []


def test_a_tab_set_ends_at_a_block_between_tabs(tmp_path):
    between = TABS.replace(
        '=== "PyTorch"',
        '```python\ny = 1\n```\n\n=== "MXNet"\n\n    ```python\n    z = 2\n    ```\n\n'
        '=== "PyTorch"',
    )
    assert frameworks.tab_set_problems(write_page(tmp_path, between)) == []


def test_an_indented_block_outside_a_tab_is_caught(tmp_path):
    lost = TABS.replace(
        "```{.python .both-frameworks}",
        "Prose.\n\n    ```python\n    w = 3\n    ```\n\n```{.python .both-frameworks}",
    )
    path = write_page(tmp_path, lost)
    (problem,) = frameworks.unseen_blocks(path, parse_page(path))
    assert "a python block that is not run" in problem
    fine = write_page(tmp_path, TABS)
    assert frameworks.unseen_blocks(fine, parse_page(fine)) == []
