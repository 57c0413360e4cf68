"""MkDocs hook: the site shows what the pages' code produces when the site is built.

- Runs every Markdown page's python blocks (``pagerun``; a test run of the same sources leaves a
  cache, so the build after the tests does not run them again). A failing block fails the build;
  printed output that differs from the page's ``output`` fence is a warning (``--strict`` fails).
- Figures left open by a block are inlined as SVG below it; ``.live-output`` blocks get the
  output of this run below them.
- ``corrections.md``: ``<!-- corrections -->`` becomes the list of every ``Correction:``
  admonition of the site.
- ``<!-- parity-report -->`` becomes the table of every MXNet/PyTorch comparison the pages ran.
- Exercise notebooks (jupytext ``.py`` sources) are also written to the site as ``.ipynb``.
"""

from __future__ import annotations

import html
import logging
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mkdocs.exceptions import PluginError  # noqa: E402
from markdown.extensions.toc import slugify  # noqa: E402

from pagerun import kernels  # noqa: E402
from pagerun.execute import load_or_run, text_only_mismatch  # noqa: E402

kernels.apply()  # before the pages import torch: the set ./dev chose, else the pinned one

log = logging.getLogger("mkdocs.hooks.pages")

_runs: dict[str, tuple] = {}  # src_uri -> (blocks, results)
_CORRECTION = re.compile(r'^\s*(?:!!!|\?\?\?\+?)\s+\S+\s+"Correction:\s*(?P<summary>[^"]*)"', re.M)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _markdown_pages(files) -> list:
    return [f for f in files.documentation_pages() if f.src_uri.endswith(".md")]


def on_files(files, config):
    _runs.clear()
    for f in _markdown_pages(files):
        blocks, results, cached = load_or_run(f.abs_src_path)
        failed = [r for r in results if r.status == "failed"]
        hard = [r for r in failed if not text_only_mismatch(r.error)]
        if hard:
            raise PluginError(f"{f.src_uri}:{hard[0].line}: a code block failed:\n{hard[0].error}")
        for result in failed:  # printed output differs from the page: a warning, fatal under --strict
            log.warning(f"{f.src_uri}:{result.line}: {result.error}")
        _runs[f.src_uri] = (blocks, results)
        if blocks:
            log.info(f"{f.src_uri}: {len(blocks)} code blocks {'(cached run)' if cached else 'executed'}")
    return files


def _insert_after(lines: list[str], at: int, indent: str, new: list[str]) -> None:
    lines[at:at] = [""] + [(indent + l) if l else "" for l in new]


def on_page_markdown(markdown, page, config, files):
    src = page.file.src_uri
    if src not in _runs:
        return markdown
    blocks, results = _runs[src]
    lines = markdown.split("\n")
    page.companion_figures = []
    for block, result in sorted(zip(blocks, results), key=lambda p: p[0].start, reverse=True):
        after = block.output.end if block.output else block.end
        extra: list[str] = []
        if block.live_output and result.stdout.strip():
            extra += ["```output", *result.stdout.rstrip().splitlines(), "```", ""]
        for svg in result.figures:
            extra += [f"@@companion-figure-{len(page.companion_figures)}@@", ""]
            page.companion_figures.append(svg)
        if extra:
            _insert_after(lines, after, block.indent, extra)
    markdown = "\n".join(lines)
    if "<!-- corrections -->" in markdown:
        markdown = markdown.replace("<!-- corrections -->", _corrections_list(files, page))
    if "<!-- parity-report -->" in markdown:
        markdown = markdown.replace("<!-- parity-report -->", _parity_table(files, page))
    return markdown


def on_page_content(html_text, page, config, files):
    for i, svg in enumerate(getattr(page, "companion_figures", [])):
        html_text = html_text.replace(
            f"<p>@@companion-figure-{i}@@</p>", f'<figure class="companion-figure">{svg}</figure>'
        )
    return html_text


def _rel(target: str, page) -> str:
    here = Path(page.file.src_uri).parent
    return Path(*([".."] * len(here.parts)), target).as_posix() if here.parts else target


_EXPLICIT_ID = re.compile(r"\s*\{#(?P<id>[\w-]+)\}\s*$")


def _heading_anchor(heading: str) -> tuple[str, str]:
    """(text, anchor) of a heading: its explicit ``{#id}`` if it has one, else the slug."""
    if m := _EXPLICIT_ID.search(heading):
        return heading[: m.start()], m.group("id")
    return heading, slugify(heading, "-")


def _corrections_list(files, page) -> str:
    rows = []
    for f in _markdown_pages(files):
        if f.src_uri == page.file.src_uri:
            continue
        text = Path(f.abs_src_path).read_text(encoding="utf-8")
        heading, anchor, title = "", "", f.src_uri
        lines = text.splitlines()
        fence = False
        for line in lines:
            if line.lstrip().startswith("```"):
                fence = not fence
            if fence:
                continue
            if m := _HEADING.match(line):
                heading, anchor = _heading_anchor(m.group(2))
                if len(m.group(1)) == 1:
                    title = heading
            if m := _CORRECTION.match(line):
                where = heading if heading else title
                cell = [text.replace("|", "\\|") for text in (title, where, m.group("summary"))]
                rows.append(f"| [{cell[0]}]({_rel(f.src_uri, page)}) | [{cell[1]}]({_rel(f.src_uri, page)}#{anchor}) | {cell[2]} |")
    if not rows:
        return "No draft answer has been found wrong yet."
    return (
        f"{len(rows)} corrections, generated from the pages at build time.\n\n"
        "| page | section | correction |\n|---|---|---|\n" + "\n".join(rows)
    )


def _parity_table(files, page) -> str:
    rows, failed = [], 0
    for f in _markdown_pages(files):
        blocks, results = _runs.get(f.src_uri, ([], []))
        for result in results:
            for r in result.parity:
                ok = bool(r.get("passed"))
                failed += not ok
                rows.append(
                    f"| [{html.escape(f.src_uri[:-3])}]({_rel(f.src_uri, page)}) | {html.escape(str(r.get('name', '')))} "
                    f"| {html.escape(str(r.get('what', '')))} | {float(r.get('max_abs', 0)):.1e} "
                    f"| {float(r.get('tolerance', 0)):.0e} | {'pass' if ok else '**FAIL**'} |"
                )
    if not rows:
        return "No MXNet/PyTorch comparison has run."
    head = f"{len(rows)} comparisons, {len(rows) - failed} pass, {failed} fail (run while building this site).\n\n"
    return head + "| page | example | compared | max abs diff | tolerance | result |\n|---|---|---|---|---|---|\n" + "\n".join(rows)


_MERMAID_LOADER = re.compile(r'<script type="module">(?:(?!</script>).)*?cdnjs[^<]*?mermaid(?:(?!</script>).)*</script>', re.S)
_EMPTY_SCRIPT = re.compile(r'<script src="">\s*</script>')
_EXTERNAL = re.compile(
    r'<script[^>]+src="(?:https?:)?//[^"]*"'
    r'|<link\b(?=[^>]*rel="(?:stylesheet|preload|modulepreload|icon|preconnect)")[^>]*href="(?:https?:)?//[^"]*"'
    r'|@import\s+url\(["\']?(?:https?:)?//|import\(["\'](?:https?:)?//',
    re.I,
)


def on_post_page(output, page, config):
    """Notebook pages: drop mkdocs-jupyter's CDN loaders (mermaid, an empty MathJax tag)."""
    if getattr(page, "nb_url", None):
        output = _EMPTY_SCRIPT.sub("", _MERMAID_LOADER.sub("", output))
    return output


def on_post_build(config):
    """Write each exercise notebook as .ipynb beside its page; fail if a page loads anything remote."""
    import jupytext

    docs = Path(config["docs_dir"])
    site = Path(config["site_dir"])
    for src in sorted((docs / "exercise-1").glob("*.py")):
        out = site / src.relative_to(docs).with_suffix("") / f"{src.stem}.ipynb"
        out.parent.mkdir(parents=True, exist_ok=True)
        jupytext.write(jupytext.read(src), out, fmt="ipynb")
    remote = [
        f"{p.relative_to(site)}: {m.group(0)}"
        for p in site.rglob("*.html")
        for m in _EXTERNAL.finditer(p.read_text(encoding="utf-8"))
    ]
    if remote:
        raise PluginError("the site must work offline, but pages load remote resources:\n" + "\n".join(remote[:20]))
