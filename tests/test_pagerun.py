"""pagerun: the parser finds every fence (tabs, admonitions), outputs are compared, failures name
the line."""

import textwrap
from pathlib import Path

import pytest
from pagefiles import write_page

from pagerun.execute import PageRunner, rewrite_outputs
from pagerun.inventory import rendered_python_blocks
from pagerun.parse import PageError, parse_page

DOCS = Path(__file__).resolve().parent.parent / "docs"

PAGE = textwrap.dedent("""\
    # A page

    ```python
    x = 2
    print(x * 3)
    ```

    ```output
    6
    ```

    === "MXNet"

        ```python
        y = x + 1
        print(y)
        ```

        ```output
        3
        ```

    === "PyTorch"

        ```{.python .needs-gpu}
        import torch; torch.ones(1).cuda()
        ```

    !!! failure "Correction: something"

        ```python
        print("in an admonition", y)
        ```

    ??? note "Details"

        ```python
        z = [i for i in range(3)]
        ```

    ```text
    not python
    ```
""")


def test_parser_finds_fences_in_tabs_admonitions_and_details(tmp_path):
    blocks = parse_page(write_page(tmp_path, PAGE))
    assert [b.line for b in blocks] == [3, 14, 25, 31, 37]
    assert [b.not_in_ci for b in blocks] == [None, None, "needs a GPU", None, None]
    assert blocks[0].output.text == "6\n" and blocks[1].output.text == "3\n"
    assert blocks[1].code == "y = x + 1\nprint(y)\n"


def test_site_renderer_sees_the_same_number_of_python_blocks(tmp_path):
    assert rendered_python_blocks(write_page(tmp_path, PAGE)) == 5


def test_blocks_share_a_namespace_and_outputs_are_checked(tmp_path):
    # PAGE's shared blocks read the MXNet tab's `y` (against the notebook rule): page order.
    runner = PageRunner(write_page(tmp_path, PAGE), first=None)
    results = runner.run_all()
    assert [r.status for r in results] == ["passed", "passed", "not-in-ci", "failed", "passed"]
    assert "the block printed output but the page shows none" in results[3].error
    assert "in an admonition 3" in results[3].error


def test_a_wrong_output_fails_with_a_diff_and_update_rewrites_it(tmp_path):
    page = write_page(tmp_path, PAGE.replace("```output\n6\n```", "```output\n7\n```"))
    runner = PageRunner(page, first=None)  # page order, as above
    results = runner.run_all()
    assert results[0].status == "failed"
    assert "-7" in results[0].error and "+6" in results[0].error
    assert rewrite_outputs(page, runner.blocks, results)
    again = PageRunner(page, first=None).run_all()
    assert [r.status for r in again] == ["passed", "passed", "not-in-ci", "passed", "passed"]
    assert "    ```output\n    in an admonition 3\n    ```" in page.read_text()


def test_an_exception_names_the_markdown_line_and_stops_the_page(tmp_path):
    page = write_page(
        tmp_path,
        "# P\n\nText.\n\n```python\na = 1\nraise ValueError('boom')\n```\n\n```python\nb = "
        "2\n```\n",
    )
    results = PageRunner(page).run_all()
    assert results[0].status == "failed"
    assert f'File "{page}", line 7' in results[0].error and "ValueError: boom" in results[0].error
    assert "earlier block of this page failed (line 5)" in results[1].error


def test_figures_are_captured_as_svg(tmp_path):
    plot = "```python\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\n```\n"
    page = write_page(tmp_path, plot)
    (result,) = PageRunner(page).run_all()
    assert (
        result.status == "passed"
        and len(result.figures) == 1
        and result.figures[0].startswith("<svg")
        and "<dc:description>a plot</dc:description>" in result.figures[0]
    )


def test_a_figure_says_in_words_what_it_shows():
    import matplotlib.pyplot as plt

    from pagerun.execute import figure_description

    fig, (curves, picture) = plt.subplots(1, 2)
    curves.plot([1, 2], label="LeNet, $\\eta = 0.1$")
    curves.plot([2, 1], label="AlexNet")
    curves.legend()
    curves.set(title="Training", xlabel="epoch", ylabel="loss")
    fig.colorbar(picture.imshow([[0, 1], [1, 0]]))
    fig.suptitle("Two panels")
    grid, _ = plt.subplots(2, 3)
    try:
        assert figure_description(fig) == (
            "Two panels; Training (x axis: epoch; y axis: loss; "
            'legend: "LeNet, \\eta = 0.1", "AlexNet"); an image'
        )
        assert figure_description(grid) == "6 panels: a plot"
        twin, ax = plt.subplots()
        ax.plot([1, 2], label="loss")
        ax.twinx().set_ylabel("density")
        twin.legend()
        assert figure_description(twin) == 'a plot; a second axis (y axis: density); legend: "loss"'
    finally:
        plt.close("all")


@pytest.mark.parametrize(
    "bad, message",
    [
        ("```python notest\nx = 1\n```\n", "use the brace form"),
        ("```{.python .skip}\nx = 1\n```\n", "unknown class"),
        ("Text\n\n```output\n1\n```\n", "must follow a python block"),
    ],
)
def test_convention_breaches_are_reported(tmp_path, bad, message):
    with pytest.raises(PageError, match=message):
        parse_page(write_page(tmp_path, bad))


@pytest.mark.parametrize("page", sorted(DOCS.rglob("*.md")), ids=lambda p: str(p.relative_to(DOCS)))
def test_every_rendered_python_block_is_found_by_the_test_parser(page):
    assert rendered_python_blocks(page) == len(parse_page(page))


def test_pages_do_not_inherit_state_from_pages_run_before_them(tmp_path):
    pytest.importorskip("mxnet")
    page = write_page(
        tmp_path,
        textwrap.dedent("""\
        ```python
        import numpy as np
        from mxnet.gluon import nn
        print(nn.Dense(1).name, np.get_printoptions()["precision"])
        np.set_printoptions(precision=2)
        ```

        ```output
        dense0 8
        ```
    """),
    )
    # A shared block importing mxnet breaks the notebook rule: run in page order.
    first, again = (PageRunner(page, first=None).run_all() for _ in range(2))
    assert [r.status for r in first + again] == ["passed", "passed"], again[0].error


def test_page_cache_key_follows_code_not_docstrings_or_layout(tmp_path, monkeypatch):
    """A cached page run is reused after a docstring or formatting edit of companion/pagerun,
    and not after any change of what the code does (or a file added)."""
    from pagerun import execute

    (tmp_path / "pagerun").mkdir()
    (tmp_path / "pagerun" / "__init__.py").write_text("")
    module = tmp_path / "companion" / "m.py"
    module.parent.mkdir()
    monkeypatch.setattr(execute, "ROOT", tmp_path)

    def digest(source: str) -> str:
        module.write_text(textwrap.dedent(source))
        return execute._source_digest()

    base = digest('''\
        """Module docstring."""
        def f(x, n=2):
            """Old docstring, with an example."""
            return x * n  # a comment
        class C:
            """Old class docstring."""
            msg = "not a docstring"
    ''')
    same = '''\
        """Another module docstring."""


        def f(x, n=2):
            """A new docstring."""

            return x * n
        class C:
            msg = "not a docstring"
    '''
    assert digest(same) == base
    changed = [
        'def f(x, n=3):\n    return x * n\nclass C:\n    msg = "not a docstring"\n',
        'def f(x, n=2):\n    return x + n\nclass C:\n    msg = "not a docstring"\n',
        'def f(x, n=2):\n    return x * n\nclass C:\n    msg = "another string"\n',
    ]
    for source in changed:
        assert digest(source) != base, source
    digest(same)
    (tmp_path / "companion" / "new.py").write_text("X = 1\n")
    assert execute._source_digest() != base


def test_results_are_cached_under_the_key_of_the_page_as_it_was_read(tmp_path, monkeypatch):
    """A page (or code) edited while the page runs: its old results must not be found under the
    new text's key."""
    from pagerun import execute

    monkeypatch.setattr(execute, "CACHE", tmp_path / "cache")
    page = write_page(
        tmp_path,
        "```python\nwith open(__file__, 'a') as f:\n    f.write('edited while running\\n')\n```\n",
    )
    runner = PageRunner(page)
    key_at_start = runner.cache_file()
    runner.run_all()
    runner.save()
    assert key_at_start.exists()
    assert PageRunner(page).cache_file() != key_at_start
    assert not execute.load_or_run(page)[2]  # the edited page runs again, it is not "cached"


MAX_COLUMNS = 88  # what a reader's notebook and the site's code blocks show without scrolling


def long_code_lines(page: Path) -> list[str]:
    """``line: length`` of every code line of the page's python blocks over MAX_COLUMNS."""
    return [
        f"{page.name}:{b.start + 2 + i}: {len(line)} columns"
        for b in parse_page(page)
        for i, line in enumerate(b.code.splitlines())
        if len(line) > MAX_COLUMNS
    ]


def test_no_code_line_of_any_page_is_over_88_columns():
    found = [hit for page in sorted(DOCS.rglob("*.md")) for hit in long_code_lines(page)]
    assert not found, "code lines over 88 columns (wrap them):\n" + "\n".join(found[:40])


def test_the_column_check_finds_a_long_line_inside_a_tab(tmp_path):
    page = write_page(
        tmp_path, '=== "PyTorch"\n\n    ```python\n    x = ' + "1 + " * 22 + "1\n    ```\n"
    )
    assert long_code_lines(page) == ["page.md:4: 93 columns"]


def test_pages_run_in_notebook_order_with_mxnet_hidden_from_the_pytorch_part(tmp_path):
    pytest.importorskip("mxnet")
    page = write_page(
        tmp_path,
        textwrap.dedent("""\
        ```python
        order = []
        ```

        === "MXNet"

            ```python
            import mxnet
            order.append("mxnet")
            ```

        === "PyTorch"

            ```python
            order.append("pytorch")
            ```

        ```{.python .both-frameworks}
        print(order)
        ```

        ```output
        ['pytorch', 'mxnet']
        ```
    """),
    )
    assert [r.status for r in PageRunner(page).run_all()] == ["passed"] * 4
    leaky = page.read_text().replace('order.append("pytorch")', "import mxnet")
    page.write_text(leaky)
    results = PageRunner(page, compare_outputs=False).run_all()
    assert "No module named 'mxnet' (hidden: PyTorch notebook)" in results[2].error
    in_page_order = PageRunner(page, compare_outputs=False, first=None).run_all()
    assert [r.status for r in in_page_order] == ["passed"] * 4
    page.write_text(leaky.replace("['pytorch', 'mxnet']", "['mxnet']"))
    mxnet_first = PageRunner(page, first="mxnet").run_all()  # nothing hidden, MXNet's blocks first
    assert [r.status for r in mxnet_first] == ["passed"] * 4


def test_run_all_runs_every_block_when_the_last_one_runs_early(tmp_path):
    page = write_page(
        tmp_path,
        textwrap.dedent("""\
        === "MXNet"

            ```python
            a = 1
            ```

        === "PyTorch"

            ```python
            b = 2
            ```
    """),
    )
    runner = PageRunner(page, compare_outputs=False)
    assert [r.line for r in runner.run_all()] == [3, 9] and runner.done
