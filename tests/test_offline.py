"""The site asks no other host for anything at page load: hooks/offline.py (which every build runs)
on a small site built with the project's theme configuration (overrides included), and on sites
that do."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hooks import offline as check_offline

ROOT = Path(__file__).resolve().parent.parent


def build(tmp_path: Path, page: str, overrides: Path = ROOT / "overrides") -> Path:
    """Build one page with the site's theme, repository link and Markdown extensions."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    mini = {k: config[k] for k in ("site_name", "repo_url", "markdown_extensions")}
    mini["theme"] = dict(config["theme"], custom_dir=str(overrides))
    mini["docs_dir"], mini["site_dir"] = str(tmp_path / "docs"), str(tmp_path / "site")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text(page)
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(mini))
    mkdocs = Path(sys.executable).parent / "mkdocs"
    run = subprocess.run(
        [str(mkdocs), "build", "-q", "-f", str(tmp_path / "mkdocs.yml")],
        capture_output=True,
        text=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stderr
    return tmp_path / "site"


def test_the_theme_with_its_overrides_requests_no_other_host(tmp_path):
    site = build(tmp_path, "# A page\n\nText with a [link](https://example.org).\n")
    assert (site / "index.html").exists()
    assert check_offline.findings(site) == []
    assert 'class="md-source"' in (site / "index.html").read_text()  # the link is kept


def test_materials_own_repository_widget_would_call_the_github_api(tmp_path):
    """Without overrides/partials/source.html the check fails: the override is what fixes it."""
    bare = tmp_path / "overrides"
    shutil.copytree(ROOT / "overrides", bare, ignore=shutil.ignore_patterns("source.html"))
    site = build(tmp_path, "# A page\n", overrides=bare)
    assert any("GitHub API" in f for f in check_offline.findings(site))


@pytest.mark.parametrize(
    "html",
    [
        '<img src="https://example.org/a.png">',
        '<script src="//cdn.example.org/x.js"></script>',
        '<link rel="stylesheet" href="https://fonts.example.org/css">',
        '<div style="background: url(https://example.org/b.png)"></div>',
        '<script>import("https://cdn.example.org/m.mjs")</script>',
    ],
)
def test_a_page_that_loads_from_another_host_is_found(tmp_path, html):
    site = build(tmp_path, f"# A page\n\n{html}\n")
    assert len(check_offline.findings(site)) == 1


def test_a_remote_css_import_is_found_and_links_are_not(tmp_path):
    (tmp_path / "index.html").write_text('<a href="https://example.org">x</a>')
    (tmp_path / "a.css").write_text('@import "https://example.org/f.css"; b { x: url(i.png) }')
    assert check_offline.findings(tmp_path) == ["a.css: url(https://example.org/f.css)"]
    assert check_offline.main(["check_offline", str(tmp_path)]) == 1
