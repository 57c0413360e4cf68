"""Link what a page uses of ``companion`` to its entry in the API reference, at first use.

Called by ``hooks/pages.py`` on every page's HTML. The first occurrence on a page of each
``companion`` module, function and class becomes a link to its entry on the ``api/`` pages:

- in code blocks: the names a ``from companion.x import a, b`` line imports, the module of
  ``from companion import x`` / ``import companion.x``, and ``x.f`` where ``x`` is a
  ``companion`` module imported by the page;
- in prose: inline code that names one, as ``companion.x.f``, ``x.f`` (``x`` a ``companion``
  module) or a name the page imports from ``companion`` (``over_seeds``).

Never inside links, headings (their anchors and the table of contents stay as they are),
``<pre>`` blocks other than python code, scripts, or the ``<summary>`` of a collapsible
admonition (a link there would navigate instead of opening it).

Links are written as mkdocs-autorefs markers (``<autoref identifier="companion.x.f">``), which
the autorefs plugin turns into relative links after every page is rendered; an identifier with
no entry is reported by autorefs as a warning, which fails ``mkdocs build --strict``.
"""

from __future__ import annotations

import ast
import html
import re
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "companion"

_SEGMENT = re.compile(
    r'(?P<block><div class="language-(?:python|py|python3) highlight"><pre>.*?</pre></div>)'
    r"|(?P<skip><a\b[^>]*>.*?</a>|<h[1-6]\b.*?</h[1-6]>|<pre\b.*?</pre>|<script\b.*?</script>"
    r"|<summary\b.*?</summary>)"
    r"|<code>(?P<code>[^<]*)</code>",
    re.S,
)
_TOKEN = re.compile(
    r'<span class="(?P<kind>[^"]*)">(?P<text>[^<]*)</span>|(?P<other><[^>]+>|[^<]+)'
)
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


@lru_cache(maxsize=1)
def api_index() -> frozenset[str]:
    """``companion.x`` for every module and ``companion.x.Name`` for every public top-level
    function and class (read from the sources, nothing imported)."""
    paths = set()
    for f in sorted((ROOT / PACKAGE).glob("*.py")):
        if f.stem.startswith("_"):
            continue
        module = f"{PACKAGE}.{f.stem}"
        paths.add(module)
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in tree.body:
            defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
            if isinstance(node, defs) and not node.name.startswith("_"):
                paths.add(f"{module}.{node.name}")
    return frozenset(paths)


def _imports(code: str) -> tuple[dict[str, str], dict[str, str]]:
    """(module aliases, object aliases) bound by the ``companion`` imports of some code."""
    modules: dict[str, str] = {}
    objects: dict[str, str] = {}
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return modules, objects
    index = api_index()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != PACKAGE:
                continue
            for alias in node.names:
                path = f"{node.module}.{alias.name}"
                if path not in index:
                    continue
                bound = alias.asname or alias.name
                (modules if path.count(".") == 1 else objects)[bound] = path
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in index and alias.asname:
                    modules[alias.asname] = alias.name
    return modules, objects


def _block_text(block_html: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", block_html))


def _longest(path: str) -> str | None:
    """The longest prefix of a dotted path that has an API entry (a method -> its class)."""
    parts = path.split(".")
    index = api_index()
    for n in range(len(parts), 1, -1):
        if ".".join(parts[:n]) in index:
            return ".".join(parts[:n])
    return None


class _Page:
    def __init__(self, modules: dict[str, str], objects: dict[str, str]):
        self.modules, self.objects = modules, objects
        self.linked: set[str] = set()

    def link(self, path: str | None, inner: str) -> str:
        if path is None or path in self.linked:
            return inner
        self.linked.add(path)
        return f'<autoref identifier="{path}">{inner}</autoref>'

    def resolve_prose(self, text: str) -> str | None:
        m = _DOTTED.match(text.strip())
        if not m:
            return None
        parts = m.group(0).split(".")
        head, rest = parts[0], parts[1:]
        if head == PACKAGE:
            return _longest(m.group(0)) if rest else None
        if head in self.objects:
            return _longest(".".join([self.objects[head], *rest]))
        if rest and head in self.modules:
            return _longest(".".join([self.modules[head], *rest]))
        if rest and f"{PACKAGE}.{head}" in api_index():  # ``sizing.count_macs``, not imported
            path = _longest(f"{PACKAGE}.{m.group(0)}")
            return path if path and path.count(".") >= 2 else None
        return None

    def code_block(self, block: str) -> str:
        out: list[str] = []
        prev: list[tuple[str, str]] = [("", ""), ("", "")]  # the last two tokens, spaces skipped
        from_module: str | None = None
        importing = False
        depth = 0
        for m in _TOKEN.finditer(block):
            if m.group("other") is not None:
                other = m.group("other")
                if "\n" in other and not other.startswith("<") and depth == 0:
                    from_module, importing = None, False
                out.append(other)
                continue
            kind, raw = m.group("kind"), m.group("text")
            text = html.unescape(raw)
            token = m.group(0)
            if kind == "w":
                out.append(token)
                continue
            if kind == "p":
                depth += text.count("(") - text.count(")")
            if kind == "nn" and prev[-1] == ("kn", "from"):
                from_module = text
                token = self.link(text if text in api_index() else None, token)
            elif kind == "nn" and prev[-1] == ("kn", "import"):
                token = self.link(text if text in api_index() else None, token)
            elif kind == "kn" and text == "import" and from_module:
                importing = from_module.split(".")[0] == PACKAGE
            elif kind == "n" and importing and prev[-1] != ("k", "as"):
                path = f"{from_module}.{text}"
                token = self.link(path if path in api_index() else None, token)
            elif kind == "n" and prev[-1] == ("o", ".") and prev[-2][0] == "n":
                module = self.modules.get(prev[-2][1])
                if module and f"{module}.{text}" in api_index():
                    token = self.link(f"{module}.{text}", token)
            prev = [prev[-1], (kind, text)]
            out.append(token)
        return "".join(out)


def link_api(page_html: str) -> str:
    """The page's HTML with the first use of each ``companion`` module, function and class
    linked to its API entry (as autorefs markers)."""
    blocks = [m.group("block") for m in _SEGMENT.finditer(page_html) if m.group("block")]
    modules: dict[str, str] = {}
    objects: dict[str, str] = {}
    for block in blocks:
        mods, objs = _imports(_block_text(block))
        modules.update(mods)
        objects.update(objs)
    if not modules and not objects and "companion" not in page_html:
        return page_html
    page = _Page(modules, objects)

    def replace(m: re.Match) -> str:
        if m.group("block"):
            return page.code_block(m.group("block"))
        if m.group("skip"):
            return m.group("skip")
        return page.link(page.resolve_prose(html.unescape(m.group("code"))), m.group(0))

    return _SEGMENT.sub(replace, page_html)
