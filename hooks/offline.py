"""Check a built site for anything that makes a browser contact another host at page load.

Scans every HTML and CSS file under the site directory for resources that load by themselves
(``<script src>``, ``<link href>`` other than navigation links, ``<img>``, ``<iframe>``,
``<source>``, ``<video>``/``<audio>``, CSS ``url(...)`` and ``@import``) whose URL names a host,
and for Material's ``data-md-component="source"``, which makes the theme's script ask the
GitHub API for repository facts. Links a reader clicks (``<a href>``) are not requests.

    python -m hooks.offline site      # exit 1 and one line per finding

``hooks/pages.py`` runs it after every build (``mkdocs build`` fails on a finding). It is a
static check of what the HTML asks for (inline scripts: a dynamic ``import("//host/...")``);
it does not replace a browser test.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

LOADING = {
    "script": "src",
    "img": "src",
    "iframe": "src",
    "source": "src",
    "video": "src",
    "audio": "src",
    "embed": "src",
    "link": "href",
}
NAVIGATION_RELS = {"canonical", "alternate", "prev", "next", "author", "license", "search"}
DYNAMIC_IMPORT = re.compile(r"""\bimport\(\s*['"]((?:[a-z]+:)?//[^'"]+)""", re.IGNORECASE)
CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""")


def is_remote(url: str) -> bool:
    """True for a URL that names a host (``https://...``, ``//host/...``)."""
    return bool(re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url.strip(), re.IGNORECASE))


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self._in_script = tag == "script"
        if a.get("data-md-component") == "source":
            self.found.append(f'<{tag} data-md-component="source">: GitHub API request')
        attr = LOADING.get(tag)
        if attr and is_remote(a.get(attr, "")):
            rels = set(a.get("rel", "").lower().split())
            if tag == "link" and rels and rels <= NAVIGATION_RELS:
                return
            self.found.append(f"<{tag} {attr}={a[attr]}>")
        for url in CSS_URL.findall(a.get("style", "")):
            if is_remote(url):
                self.found.append(f"<{tag} style> url({url})")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.found += [f"<script> import({url})" for url in DYNAMIC_IMPORT.findall(data)]


def findings(site: Path) -> list[str]:
    """``path: what`` for every page-load request to another host in the built site."""
    out = []
    for path in sorted(site.rglob("*")):
        if path.suffix == ".html":
            finder = _Finder()
            finder.feed(path.read_text(encoding="utf-8", errors="replace"))
            out += [f"{path.relative_to(site)}: {f}" for f in finder.found]
        elif path.suffix == ".css":
            text = path.read_text(encoding="utf-8", errors="replace")
            out += [f"{path.relative_to(site)}: url({u})" for u in CSS_URL.findall(text)
                    if is_remote(u)]  # fmt: skip
    return out


def main(argv: list[str]) -> int:
    site = Path(argv[1] if len(argv) > 1 else "site")
    if not (site / "index.html").exists():
        print(f"no built site at {site}/ (run mkdocs build first)", file=sys.stderr)
        return 2
    found = findings(site)
    pages = len(list(site.rglob("*.html")))
    for line in found:
        print(f"  request to another host at page load: {line}")
    print(f"offline check of the built site: {pages} pages, {len(found)} requests to other hosts")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
