"""hooks/links.py, which every build runs: internal links and #anchors of a built site resolve.
Small sites written to tmp_path, and one page built with the site's own theme."""

from pathlib import Path

import pytest

from hooks import links
from tests.test_offline import build


def write_site(root: Path, pages: dict[str, str]) -> Path:
    for rel, body in pages.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"<html><body>{body}</body></html>")
    return root


GOOD = {
    "index.html": '<h1 id="top">Home</h1><a href="a/">A</a> <a href="a/#sec">A, sec</a>'
    ' <a href="#top">top</a> <a href="https://example.org/#x">out</a>'
    ' <a href="mailto:me@example.org">mail</a> <a href="notes.txt">file</a>',
    "a/index.html": '<h2 id="sec">Sec</h2><a href="../">home</a>'
    ' <a href="/base/a/#sec">absolute</a>',
    "notes.txt": "",
}


def test_a_site_whose_links_resolve_has_no_findings(tmp_path):
    site = write_site(tmp_path, GOOD)
    assert links.broken_links(site, "/base/") == []
    assert links.main(["links", str(site), "/base/"]) == 0


@pytest.mark.parametrize(
    "href, why",
    [
        ("a/#nope", "no id 'nope' in a/index.html"),
        ("#nope", "no id 'nope' in index.html"),
        ("b/", "no such file"),
        ("missing.html", "no such file"),
        ("/base/b/", "no such file"),
        ("/elsewhere/a/", "outside the site"),
        ("../../outside.html", "outside the site"),
    ],
)
def test_a_broken_link_or_anchor_is_reported_with_its_page(tmp_path, href, why):
    bad = dict(GOOD, **{"index.html": GOOD["index.html"] + f'<a href="{href}">bad</a>'})
    site = write_site(tmp_path / "site", bad)
    assert links.broken_links(site, "/base/") == [f"index.html: {href} ({why})"]
    assert links.main(["links", str(site), "/base/"]) == 1


def test_headings_of_a_page_built_with_the_sites_theme_are_anchors(tmp_path):
    page = "# Page\n\n[down](#a-section) [gone](#no-such-section)\n\n## A section\n"
    site = build(tmp_path, page)
    assert links.broken_links(site) == [
        "index.html: #no-such-section (no id 'no-such-section' in index.html)"
    ]


def test_no_built_site_is_said(tmp_path, capsys):
    assert links.main(["links", str(tmp_path)]) == 2
    assert "no built site" in capsys.readouterr().err


@pytest.mark.parametrize(
    "element", ['<img src="{}">', '<script src="{}"></script>', '<link rel="stylesheet" href="{}">']
)
def test_a_missing_image_script_or_stylesheet_is_reported(tmp_path, element):
    site = write_site(tmp_path, dict(GOOD, **{"b.html": element.format("gone.png")}))
    assert links.broken_links(site, "/base/") == ["b.html: gone.png (no such file)"]
