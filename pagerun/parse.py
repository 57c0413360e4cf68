"""Find the python code blocks of a Markdown page, with their expected outputs.

Content tabs (``===``), admonitions (``!!!``) and details (``???``) indent their bodies by four
spaces, which CommonMark reads as indented code: a fence inside them is invisible to a plain
Markdown parser. :func:`unindent_containers` removes that indentation line by line (line numbers
stay the same), then markdown-it finds the fences.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt

PYTHON_LANGS = {"python", "py", "python3"}
NOT_IN_CI = {"needs-gpu": "needs a GPU", "needs-network": "needs the network"}
LIVE_OUTPUT = "live-output"
BOTH_FRAMEWORKS = "both-frameworks"  # a parity check: in neither framework's notebook
OUTPUT_LANG = "output"

CONTAINER = re.compile(r"^(?P<indent> *)(===|!!!|\?\?\?\+?)\s")
_FENCE = re.compile(r"^(?P<indent> *)(?P<marks>`{3,}|~{3,})")


class PageError(ValueError):
    """A page breaks the conventions of CONTRIBUTING.md (said with file and line)."""


@dataclass
class Output:
    """An ``output`` fence: the text a block is expected to print."""

    start: int  # 0-based index of the opening fence line
    end: int  # 0-based index one past the closing fence line
    indent: str
    text: str


@dataclass
class Block:
    """One python fence of a page."""

    path: Path
    start: int  # 0-based index of the opening fence line
    end: int  # 0-based index one past the closing fence line
    indent: str
    info: str
    classes: set[str]
    code: str
    output: Output | None = None
    extra: dict = field(default_factory=dict)

    @property
    def line(self) -> int:
        """1-based line number of the opening fence, as an editor shows it."""
        return self.start + 1

    @property
    def not_in_ci(self) -> str | None:
        """Why this block is not run in CI, or None when it is."""
        for cls, why in NOT_IN_CI.items():
            if cls in self.classes:
                return why
        return None

    @property
    def live_output(self) -> bool:
        return LIVE_OUTPUT in self.classes


def unindent_containers(lines: list[str]) -> list[str]:
    """Return the lines with tab/admonition/details bodies un-indented and their headers blanked."""
    out: list[str] = []
    stack: list[int] = []  # body indentation of each open container
    fence: tuple[str, str] | None = None  # (marks, indent) of the open fence in the output text
    for raw in lines:
        line = raw.rstrip("\n")
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if stripped and fence is None:
            while stack and indent < stack[-1]:
                stack.pop()
        cut = stack[-1] if stack else 0
        body = line[cut:] if len(line) >= cut and line[:cut].strip() == "" else line.lstrip(" ")
        if fence is None and CONTAINER.match(line):
            stack.append(indent + 4)
            out.append("")
            continue
        m = _FENCE.match(body)
        if m:
            if fence is None:
                fence = (m.group("marks"), m.group("indent"))
            elif m.group("marks").startswith(fence[0]) and body.strip() == m.group("marks"):
                fence = None
        out.append(body)
    return out


def _parse_info(info: str, where: str) -> tuple[str, set[str]]:
    """Return (language, classes) of a fence info string."""
    info = info.strip()
    if not info:
        return "", set()
    if info.startswith("{"):
        if not info.endswith("}"):
            raise PageError(f"{where}: unterminated brace info string {info!r}")
        words = shlex.split(info[1:-1])
        classes = [w[1:] for w in words if w.startswith(".")]
        lang = classes[0] if classes else ""
        return lang, set(classes[1:])
    words = shlex.split(info)
    lang, rest = words[0], words[1:]
    bare = [w for w in rest if "=" not in w]
    if lang in PYTHON_LANGS and bare:
        raise PageError(
            f"{where}: bare word(s) {bare} after {lang!r} render as garbage on the site; "
            f"use the brace form, e.g. ```{{.python .{bare[0]}}}"
        )
    return lang, set()


def parse_page(path: Path | str) -> list[Block]:
    """Return the python blocks of a Markdown page, each with its expected output (if any)."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    flat = unindent_containers(lines)
    tokens = MarkdownIt("commonmark").parse("\n".join(flat) + "\n")
    fences = [t for t in tokens if t.type == "fence" and t.map]
    blocks: list[Block] = []
    previous: Block | None = None
    for tok in fences:
        start, end = tok.map
        where = f"{path}:{start + 1}"
        lang, classes = _parse_info(tok.info, where)
        indent = re.match(r" *", lines[start]).group(0)
        if lang in PYTHON_LANGS:
            unknown = classes - set(NOT_IN_CI) - {LIVE_OUTPUT, BOTH_FRAMEWORKS}
            if unknown:
                raise PageError(f"{where}: unknown class(es) {sorted(unknown)} on a python block")
            previous = Block(path, start, end, indent, tok.info, classes, tok.content)
            blocks.append(previous)
            continue
        if lang == OUTPUT_LANG:
            between = lines[previous.end : start] if previous else []
            if previous is None or any(s.strip() for s in between) or previous.output:
                raise PageError(f"{where}: an output fence must follow a python block directly")
            previous.output = Output(start, end, indent, tok.content)
        previous = None
    return blocks
