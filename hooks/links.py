"""Check a built site's internal links: every ``<a href>``, ``<link href>`` and ``src`` of an
image, script, iframe or media source to the site's own pages and files resolves, and every
``#fragment`` names an ``id`` (or ``name``) in the page it points to.

    python -m hooks.links site /dl-companion/   # exit 1 and one line per broken link

``hooks/pages.py`` runs it after every build (``mkdocs build`` fails on a finding), like
``hooks/offline.py``. Links with a scheme or a host (``https:``, ``mailto:``, ``//host``) are
not followed: the site is checked offline. Pages are the built HTML files; a link to a
directory means its ``index.html``.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from hooks.offline import is_remote

SKIP_SCHEMES = ("mailto:", "tel:", "javascript:", "data:")
LINK_ATTRIBUTES = {"a": "href", "link": "href", "img": "src", "script": "src"}
LINK_ATTRIBUTES |= {"iframe": "src", "source": "src", "video": "src", "audio": "src"}


class _Page(HTMLParser):
    """The ids a page defines and the addresses it links to or loads (``LINK_ATTRIBUTES``)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.ids.update(a[k] for k in ("id", "name") if a.get(k))
        attribute = LINK_ATTRIBUTES.get(tag)
        if attribute and attribute in a:
            self.hrefs.append(a[attribute])


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def _target(site: Path, page: Path, path: str, base: str) -> Path | None:
    """The file a relative or site-absolute link path names (a folder: its index.html), or
    None for an absolute path outside ``base``, the site's path on its host."""
    if path.startswith("/"):
        if not path.startswith(base):
            return None
        target = (site / unquote(path[len(base) :])).resolve()
    else:
        target = (page.parent / unquote(path)).resolve()
    return target / "index.html" if target.is_dir() else target


def broken_links(site: Path, base: str = "/") -> list[str]:
    """``page: href (why)`` for every internal link or anchor of the built site that does not
    resolve; ``base`` is the site's path on its host (``/dl-companion/`` for a ``site_url`` of
    ``https://host/dl-companion/``), which absolute links such as those of 404.html start
    with."""
    base = "/" + base.strip("/") + "/" if base.strip("/") else "/"
    site = site.resolve()
    pages = {p: _parse(p) for p in sorted(site.rglob("*.html"))}
    out = []
    for page, parsed in pages.items():
        for href in parsed.hrefs:
            why = _problem(site, page, href, pages, base)
            if why:
                out.append(f"{page.relative_to(site)}: {href} ({why})")
    return out


def _problem(site: Path, page: Path, href: str, pages: dict[Path, _Page], base: str) -> str:
    if not href or is_remote(href) or href.lower().startswith(SKIP_SCHEMES):
        return ""
    parts = urlsplit(href)
    target = _target(site, page, parts.path, base) if parts.path else page
    if target is None or site not in target.parents:
        return "outside the site"
    if not target.exists():
        return "no such file"
    fragment = unquote(parts.fragment)
    if not fragment or target.suffix != ".html":
        return ""
    parsed = pages.get(target) or _parse(target)
    return "" if fragment in parsed.ids else f"no id {fragment!r} in {target.relative_to(site)}"


def main(argv: list[str]) -> int:
    """``python -m hooks.links SITE [BASE]``."""
    site = Path(argv[1] if len(argv) > 1 else "site")
    if not (site / "index.html").exists():
        print(f"no built site at {site}/ (run mkdocs build first)", file=sys.stderr)
        return 2
    found = broken_links(site, argv[2] if len(argv) > 2 else "/")
    for line in found:
        print(f"  broken link: {line}")
    pages = len(list(site.rglob("*.html")))
    print(f"link and anchor check of the built site: {pages} pages, {len(found)} broken")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
