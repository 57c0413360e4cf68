"""The exercise index: every exercise of the book's sections 4.1-7.5 and every exam question,
found on the pages themselves.

What is expected comes from ``hooks/book_exercises.yml`` (the sources' questions); everything
else in a row is read off the page text when the site is built: the heading that answers it,
whether there is an answer under it, the ``Correction:`` admonitions there, whether a block
there ran a ``companion.parity`` comparison in the build, and whether the page's code has a
CPU scale (it calls ``full_scale()``). An exercise with no heading on any page is "not
answered", so the index cannot claim what the pages do not have. ``hooks/pages.py`` fills the
``<!-- exercise-index -->`` and ``<!-- coverage -->`` markers with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from markdown.extensions.toc import slugify

DATA = Path(__file__).with_name("book_exercises.yml")
CORRECTION = re.compile(r'^\s*(?:!!!|\?\?\?\+?)\s+\S+\s+"Correction:\s*(?P<summary>[^"]*)"')
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
EXPLICIT_ID = re.compile(r"\s*\{#(?P<id>[\w-]+)\}\s*$")
BOOK_EXERCISE = re.compile(r"^Exercise (?P<id>\d+\.\d+\.\d+)[a-z]?\b")


def heading_anchor(heading: str) -> tuple[str, str]:
    """(text, anchor) of a heading: its explicit ``{#id}`` if it has one, else the slug."""
    if m := EXPLICIT_ID.search(heading):
        return heading[: m.start()], m.group("id")
    return heading, slugify(heading, "-")


@dataclass
class Section:
    """An H2 section of a page (the page itself for level 1), with what is under it."""

    page: str
    title: str
    anchor: str
    start: int  # 0-based line of the heading
    end: int = 0  # one past the last line
    words: int = 0  # prose words under the heading, before the next H2
    corrections: list[str] = field(default_factory=list)


def _markdown_lines(text: str, suffix: str) -> list[str]:
    """Lines as Markdown: a jupytext notebook's comment prefix removed from its cells."""
    if suffix != ".py":
        return text.splitlines()
    return [re.sub(r"^# ?", "", line) for line in text.splitlines()]


def sections(page: str, text: str) -> list[Section]:
    """The page (its H1, as the first section) and its H2 sections, fences skipped."""
    out: list[Section] = []
    fence = False
    lines = _markdown_lines(text, Path(page).suffix)
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
            continue
        m = None if fence else HEADING.match(line)
        if m and len(m.group(1)) <= 2 and not (len(m.group(1)) == 1 and out):
            title, anchor = heading_anchor(m.group(2))
            out.append(Section(page, title, "" if len(m.group(1)) == 1 else anchor, i))
        elif out and not fence:
            _add_line(out, line)
    for here, after in zip(out, out[1:] + [None]):
        here.end = after.start if after else len(lines)
    return out


def _add_line(out: list[Section], line: str) -> None:
    """Count a line for the page (``out[0]``) and for the H2 it is under (``out[-1]``)."""
    under = [out[0]] if len(out) == 1 else [out[0], out[-1]]
    for section in under:
        if m := CORRECTION.match(line):
            section.corrections.append(m.group("summary").strip())
        elif _is_prose(line):
            section.words += len(line.split())


_NOT_ANSWER = ("#", "===", "%%", "!!!", "???", "<!--", "```")
_RESTATED = re.compile(r"^\s*([*_]).+\1\s*$")  # the question restated, in italics


def _is_prose(line: str) -> bool:
    """A line that can be part of an answer: not a heading, tab, admonition title, comment,
    or the italic restatement of the question every answer starts with."""
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith(_NOT_ANSWER) and not _RESTATED.match(line)


def heading_for(prefix: str, title: str) -> bool:
    """``title`` is the heading of the question listed as ``prefix``: ``Question 1`` matches
    ``Question 1 — ...`` but not ``Question 10`` or ``Question 1.1``."""
    if not title.startswith(prefix):
        return False
    rest = title[len(prefix) :]
    return not rest or not (rest[0].isalnum() or rest[0] == "." and not prefix.endswith("."))


@dataclass
class Row:
    """One line of the index."""

    group: str
    item: str  # "4.2.1", or the question's heading prefix
    question: str
    section: Section | None
    parity: bool = False
    cpu_scale: bool = False

    @property
    def answered(self) -> bool:
        return self.section is not None and self.section.words >= 5


def _has_parity(section: Section, parity_lines: set[int]) -> bool:
    return any(section.start <= line < section.end for line in parity_lines)


def book_rows(texts: dict[str, str], parity: dict[str, set[int]]) -> list[Row]:
    """A row per exercise of the book's sections, found by its ``## Exercise S.k`` heading
    on a page under ``d2l/`` (several headings, e.g. ``7.5.2a``/``7.5.2b``: the first)."""
    found: dict[str, Section] = {}
    for page, text in texts.items():
        if page.startswith("d2l/"):
            for s in sections(page, text)[1:]:
                if (m := BOOK_EXERCISE.match(s.title)) and m.group("id") not in found:
                    found[m.group("id")] = s
    rows = []
    for chapter, questions in load()["book"].items():
        for k, question in enumerate(questions, 1):
            s = found.get(f"{chapter}.{k}")
            rows.append(
                _row(f"D2L {chapter.split('.')[0]}", f"{chapter}.{k}", question, s, texts, parity)
            )
    return rows


def exam_rows(texts: dict[str, str], parity: dict[str, set[int]]) -> list[Row]:
    """A row per exam question: the H2 of its page that starts with the listed text."""
    rows = []
    for group, pages in load()["exams"].items():
        for page, prefixes in pages.items():
            found = sections(page, texts[page]) if page in texts else []
            for prefix in prefixes:
                s = next((s for s in found if s.anchor and heading_for(prefix, s.title)), None)
                if prefix == "" and found:
                    s = found[0]
                rows.append(_row(group, prefix or page, prefix, s, texts, parity))
    return rows


def _row(group, item, question, s, texts, parity) -> Row:
    if s is None:
        return Row(group, item, question, None)
    lines = parity.get(s.page, set())
    return Row(group, item, question, s, _has_parity(s, lines), "full_scale(" in texts[s.page])


def load() -> dict:
    return yaml.safe_load(DATA.read_text(encoding="utf-8"))


def _cell(text: str) -> str:
    """Text for a table cell: a norm ``\\|`` as ``\\Vert`` (a pipe would end the cell)."""
    return text.replace("\\|", "\\Vert ").replace("|", "\\|").replace("\n", " ")


def _mark(ok: bool) -> str:
    return "yes" if ok else "—"


def _summary(rows: list[Row]) -> list[str]:
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(row.group, []).append(row)
    out = ["| part | answered | with a Correction | parity-checked |", "|---|---|---|---|"]
    for group, members in groups.items():
        answered = sum(r.answered for r in members)
        corrected = sum(bool(r.section and r.section.corrections) for r in members)
        parity = sum(r.parity for r in members)
        out.append(f"| {group} | {answered} of {len(members)} | {corrected} | {parity} |")
    return out


def index_markdown(rows: list[Row], link) -> str:
    """The index page's tables; ``link(page, anchor)`` gives the relative URL of a heading."""
    out = [coverage_sentence(rows), "", *_summary(rows), ""]
    head = "| | question | answered on | Corrections | parity | scale |\n|---|---|---|---|---|---|"
    group = None
    for row in rows:
        if row.group != group:
            group = row.group
            out += ["", f"## {group}", "", head]
        s = row.section
        where = f"[{_cell(s.title)}]({link(s.page, s.anchor)})" if s else "**not answered**"
        if s and not row.answered:
            where += " (heading without an answer)"
        fixes = "; ".join(_cell(c) for c in s.corrections) if s else ""
        scale = "CPU (`COMPANION_SCALE=full`: the book's)" if row.cpu_scale else "—"
        question = row.question if row.group.startswith("D2L") else (s.title if s else row.item)
        item = row.item if row.group.startswith("D2L") else ""
        out.append(
            f"| {item} | {_cell(question)} | {where} | {fixes or '—'} "
            f"| {_mark(row.parity)} | {scale} |"
        )
    return "\n".join(out)


def coverage_sentence(rows: list[Row]) -> str:
    """What is covered now, in one sentence (home page, README, index)."""
    book = [r for r in rows if r.group.startswith("D2L")]
    exams = [r for r in rows if not r.group.startswith("D2L")]
    return (
        f"Covered now: {sum(r.answered for r in book)} of the {len(book)} exercises of the "
        f"book's sections 4.1–7.5 and {sum(r.answered for r in exams)} of the {len(exams)} "
        "exam and exercise-sheet questions are answered."
    )


def all_rows(docs: Path, parity: dict[str, set[int]]) -> list[Row]:
    """Every row, reading the pages under ``docs``."""
    texts = {
        p.relative_to(docs).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(docs.rglob("*"))
        if p.suffix in (".md", ".py")
    }
    return book_rows(texts, parity) + exam_rows(texts, parity)
