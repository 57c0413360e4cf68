"""The navigation shows each page under its own title: every title in mkdocs.yml's ``nav`` is
the page's H1 (for an API page, the module mkdocstrings renders as its H1), and every page of
docs/ is in the navigation."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# Entries not in the navigation on purpose (none today; say why when adding one).
NOT_IN_NAV: set[str] = set()


class _IgnoreTags(yaml.SafeLoader):
    """mkdocs.yml may hold !!python tags; the nav does not need them."""


_IgnoreTags.add_multi_constructor("", lambda loader, suffix, node: None)


def nav_entries(items: list) -> list[tuple[str | None, str]]:
    """(title or None, page path) of every page of a MkDocs nav, sections flattened."""
    out: list[tuple[str | None, str]] = []
    for item in items:
        if isinstance(item, str):
            out.append((None, item))
            continue
        for title, value in item.items():
            out += nav_entries(value) if isinstance(value, list) else [(title, value)]
    return out


def page_title(path: Path) -> str:
    """A page's H1: its first line (``# Title``, or the module of a ``::: companion.x`` API
    page); in a jupytext notebook, the first line after its header (``# # Title``)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix == ".py" and lines[0] == "# ---":
        lines = lines[lines.index("# ---", 1) + 1 :]
    first = next(line for line in lines if line.strip() and line != "# %% [markdown]")
    pattern = {".md": r"^(?:# |::: )(.+)$", ".py": r"^# # (.+)$"}[path.suffix]
    match = re.match(pattern, first)
    if not match:
        raise AssertionError(f"{path.name}: first line is not an H1: {first!r}")
    return match.group(1).strip()


NAV = nav_entries(yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=_IgnoreTags)["nav"])


@pytest.mark.parametrize("title, rel", [e for e in NAV if e[0]], ids=[e[1] for e in NAV if e[0]])
def test_a_navigation_title_is_the_pages_title(title, rel):
    assert title == page_title(DOCS / rel), f"mkdocs.yml nav title of {rel}"


def test_the_titles_checked_are_the_navigation():
    assert len([e for e in NAV if e[0]]) > 50  # an empty nav must not pass by checking nothing


def test_every_page_is_in_the_navigation():
    pages = {
        p.relative_to(DOCS).as_posix()
        for p in DOCS.rglob("*")
        if p.suffix == ".md" or p.parent.name == "exercise-1" and p.suffix == ".py"
    }
    assert pages - {rel for _, rel in NAV} == NOT_IN_NAV


def test_a_title_that_differs_is_caught(tmp_path):
    (tmp_path / "page.md").write_text("# 4.2 Implementing an MLP from scratch\n\nText.\n")
    assert page_title(tmp_path / "page.md") != "4.2 MLP from scratch"
    (tmp_path / "nb.py").write_text("# # Part 1: by hand\n")
    assert page_title(tmp_path / "nb.py") == "Part 1: by hand"
    (tmp_path / "bad.md").write_text("Intro first\n# Title\n")
    with pytest.raises(AssertionError, match="not an H1"):
        page_title(tmp_path / "bad.md")


def test_nav_entries_flattens_sections():
    nav = [{"Home": "index.md"}, {"Sec": ["sec/index.md", {"A": "sec/a.md"}]}]
    assert nav_entries(nav) == [("Home", "index.md"), (None, "sec/index.md"), ("A", "sec/a.md")]
