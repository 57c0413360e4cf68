"""MkDocs hook: every page with code offers a PyTorch and an MXNet notebook (``.ipynb``).

A framework's notebook (:func:`page_notebook`) is the page's prose as markdown cells (content
tab and admonition indentation removed, the other framework's tabs dropped) and its code cells
are the shared blocks plus that framework's tab blocks (``pagerun.frameworks.notebook_blocks``),
with the outputs of the build's own run of the page (``pagerun.execute.load_or_run``, cached by
the tests): stdout as stream outputs, figures as SVG outputs. The notebooks are written next to
each page's HTML as ``<page>.pytorch.ipynb`` and ``<page>.mxnet.ipynb``; the page template
(``overrides/main.html``) shows the download buttons and an "Open in Colab" link for the PyTorch
one, which opens the copy the publish workflow pushes to the ``notebooks`` branch.
"""

from __future__ import annotations

import html
import posixpath
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402
from nbformat import v4  # noqa: E402

from pagerun import frameworks  # noqa: E402
from pagerun.execute import BlockResult, load_or_run  # noqa: E402
from pagerun.parse import Block, parse_page, unindent_containers  # noqa: E402

LABELS = {"pytorch": "PyTorch notebook", "mxnet": "MXNet notebook", "neutral": "Notebook"}
NOTEBOOKS_BRANCH = "notebooks"
NO_MXNET = "No MXNet notebook: the code of this page has no MXNet version."
# The first code cell of a notebook that imports companion: a no-op where it is installed.
INSTALL = """# This notebook uses `companion`, the package of the DL Companion repository. Where it
# is not installed (Colab, a fresh environment), this cell installs it (without its pinned
# dependencies: torch, numpy and matplotlib as they are there).
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("companion") is None:
    package = "git+{repo_url}"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", package],
                   check=True)"""
_MD_LINK = re.compile(r"\]\((?P<target>[^)\s#:]+\.md)(?P<anchor>#[^)\s]*)?\)")
NOT_RUN_HERE = "This cell {why}: the site's build did not run it."
_ADMONITION = re.compile(r'^ *(?:!!!|\?\?\?\+?)\s+\S+(?:\s+"(?P<title>[^"]*)")?\s*$')
_TAB = re.compile(r'^ *===[+!]?\s+"')
_GITHUB = re.compile(r"^https://github\.com/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+?)(?:\.git)?/?$")

# src_uri -> (blocks, the build's results, dest_uri)
_pages: dict[str, tuple[list[Block], list[BlockResult], str]] = {}


@dataclass
class Download:
    """One notebook a page offers: its file name beside the page, and the button label."""

    framework: str
    file: str
    label: str


def notebook_name(src_uri: str, framework: str) -> str:
    """``d2l/ch4/4-2.md`` -> ``4-2.pytorch.ipynb`` (written beside the page's index.html); a
    page without framework tabs has one notebook, ``4-2.ipynb``."""
    stem = Path(src_uri).stem
    return f"{stem}.ipynb" if framework == frameworks.NEUTRAL else f"{stem}.{framework}.ipynb"


def site_path(src_uri: str, dest_uri: str, framework: str) -> str:
    """Where the notebook lies in the site (and on the ``notebooks`` branch)."""
    folder = Path(dest_uri).parent
    return (folder / notebook_name(src_uri, framework)).as_posix()


def colab_url(repo_url: str, path: str, branch: str = NOTEBOOKS_BRANCH) -> str:
    """The "Open in Colab" address of a notebook pushed to ``branch`` of a GitHub repository."""
    m = _GITHUB.match(repo_url or "")
    if not m:
        raise ValueError(f"repo_url must be https://github.com/<owner>/<repo>, got {repo_url!r}")
    return f"https://colab.research.google.com/github/{m['owner']}/{m['repo']}/blob/{branch}/{path}"


def _prose_lines(lines: list[str], framework: str) -> list[str]:
    """The page's lines as plain Markdown for one framework: front matter, tab headers and the
    other framework's tabs blanked, container bodies un-indented, admonition titles in bold."""
    where = frameworks.tab_frameworks(lines)
    flat = unindent_containers(lines)
    out = []
    for raw, fw, line in zip(lines, where, flat):
        if fw not in (None, framework) or _TAB.match(raw):
            out.append("")
        elif m := _ADMONITION.match(raw):
            out.append(f"**{m['title']}**" if m["title"] else "")
        else:
            out.append(line)
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
        out[: end + 1] = [""] * (end + 1)
    return out


def _markdown_cell(lines: list[str]) -> list:
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return [v4.new_markdown_cell(text)] if text else []


def _code_cell(block: Block, result: BlockResult | None):
    code = block.code.rstrip("\n")
    if block.not_in_ci:
        code = f"# {NOT_RUN_HERE.format(why=block.not_in_ci)}\n{code}"
    cell = v4.new_code_cell(code)
    if result is not None and result.stdout:
        cell.outputs.append(v4.new_output("stream", name="stdout", text=result.stdout))
    for svg in result.figures if result is not None else []:
        cell.outputs.append(v4.new_output("display_data", data={"image/svg+xml": svg}))
    return cell


def absolute_links(text: str, src_uri: str, site_url: str) -> str:
    """Relative links to other pages (``[4.2](4-2.md#x)``) as the site's addresses, which a
    downloaded notebook can follow."""

    def address(m: re.Match) -> str:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(src_uri), m["target"]))
        path = target.removesuffix(".md").removesuffix("index").rstrip("/")
        url = site_url.rstrip("/") + "/" + (path + "/" if path else "")
        return f"]({url}{m['anchor'] or ''})"

    return _MD_LINK.sub(address, text)


def page_notebook(
    path: Path | str,
    framework: str,
    results: list[BlockResult] | None = None,
    repo_url: str = "",
    site_url: str = "",
) -> nbformat.NotebookNode:
    """The notebook of one framework for a page; ``results`` give the outputs (by block line),
    ``repo_url`` the install cell of notebooks that import companion, ``site_url`` the
    address of links to other pages."""
    path = Path(path)
    blocks = parse_page(path)
    chosen = frameworks.notebook_blocks(path, blocks, framework)
    by_line = {r.line: r for r in results or []}
    prose = _prose_lines(path.read_text(encoding="utf-8").splitlines(), framework)
    if site_url:
        src_uri = path.resolve().relative_to(DOCS).as_posix()
        prose = [absolute_links(line, src_uri, site_url) for line in prose]
    cells, cursor = [], 0
    for block in blocks:
        end = block.output.end if block.output else block.end
        cells += _markdown_cell(prose[cursor : block.start])
        if block in chosen:
            cells.append(_code_cell(block, by_line.get(block.line)))
        cursor = end
    cells += _markdown_cell(prose[cursor:])
    if repo_url and any("companion" in b.code for b in chosen):
        first_code = next(i for i, c in enumerate(cells) if c.cell_type == "code")
        cells.insert(first_code, v4.new_code_cell(INSTALL.format(repo_url=repo_url)))
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    return nb


def downloads(src_uri: str, path: Path, blocks: list[Block]) -> list[Download]:
    """The notebooks a page offers: none without code, else one per framework it has."""
    if not blocks:
        return []
    return [
        Download(fw, notebook_name(src_uri, fw), LABELS[fw])
        for fw in frameworks.frameworks_of(path, blocks)
    ]


def on_files(files, config):
    """Take the build's run of every page (cached by hooks/pages.py, which runs first)."""
    _pages.clear()
    for f in files.documentation_pages():
        if f.src_uri.endswith(".md"):
            blocks, results, _ = load_or_run(f.abs_src_path)
            if blocks:
                _pages[f.src_uri] = (blocks, results, f.dest_uri)
    return files


def buttons_html(offered: list[Download], colab: str, note: str) -> str:
    """The row of download buttons (and the Colab link) shown under a page's title."""
    links = [
        f'<a href="{html.escape(d.file)}" class="md-button" download>{html.escape(d.label)}</a>'
        for d in offered
    ]
    if colab:
        links.append(f'<a href="{html.escape(colab)}" class="md-button">Open in Colab</a>')
    if note:
        links.append(f'<span class="companion-notebooks__note">{html.escape(note)}</span>')
    return f'<div class="companion-notebooks">{"".join(links)}</div>'


def on_page_content(content, page, config, files):
    """Write the page's notebooks beside its HTML (before the build's link check runs) and put
    their download buttons, the Colab link and a no-MXNet line under the page's title."""
    src = page.file.src_uri
    if src not in _pages:
        return content
    blocks, results, dest_uri = _pages[src]
    path = Path(page.file.abs_src_path)
    offered = downloads(src, path, blocks)
    for d in offered:
        target = Path(config["site_dir"]) / site_path(src, dest_uri, d.framework)
        target.parent.mkdir(parents=True, exist_ok=True)
        notebook = page_notebook(path, d.framework, results, config["repo_url"], config["site_url"])
        nbformat.write(notebook, target)
    runs_anywhere = next((d for d in offered if d.framework != "mxnet"), None)
    colab = (
        colab_url(config["repo_url"], site_path(src, dest_uri, runs_anywhere.framework))
        if runs_anywhere
        else ""
    )
    note = NO_MXNET if [d.framework for d in offered] == ["pytorch"] else ""
    row = buttons_html(offered, colab, note)
    head, h1, rest = content.partition("</h1>")
    return head + h1 + row + rest if h1 else row + content
