"""Which framework each python block of a page belongs to, and the notebook of each framework.

A block inside a ``=== "MXNet"`` or ``=== "PyTorch"`` content tab belongs to that framework; a
block outside both tabs is *shared* and must be framework-neutral (numpy, matplotlib, the neutral
modules of ``companion``): :func:`rule_problems` names every shared block that imports or seeds a
framework. A block that needs both frameworks (a parity check) carries the class
``.both-frameworks`` and is in neither notebook. A framework's notebook is the shared blocks plus
that framework's tab blocks, in page order (:func:`notebook_blocks`).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import re
import symtable
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .parse import BOTH_FRAMEWORKS, CONTAINER, Block

FRAMEWORKS = ("pytorch", "mxnet")
NEUTRAL = "neutral"  # a page without framework tabs: one notebook, its shared blocks
TAB_TITLES = {"PyTorch": "pytorch", "MXNet": "mxnet"}
BOTH = BOTH_FRAMEWORKS
ROOT = Path(__file__).resolve().parent.parent

_TAB = re.compile(r'^(?P<indent> *)===\+?\s+"(?P<title>[^"]*)"')
_FRAMEWORK_PACKAGES = {"torch": "pytorch", "torchvision": "pytorch", "torchinfo": "pytorch"}
_FRAMEWORK_PACKAGES |= {"mxnet": "mxnet", "d2l": "mxnet"}
_SEEDS = re.compile(r"\b(torch\.manual_seed|mx\.random\.seed|mxnet\.random\.seed|npx\.set_np)\b")


@dataclass
class Tabbed:
    """A block and the framework of the tab it sits in (None: shared)."""

    block: Block
    framework: str | None

    @property
    def both(self) -> bool:
        return BOTH in self.block.classes


def tab_frameworks(lines: list[str]) -> list[str | None]:
    """For every line of a page, the framework of the innermost framework tab around it."""
    stack: list[tuple[int, str | None]] = []  # (body indentation, framework or None)
    out: list[str | None] = []
    in_fence = ""
    for line in lines:
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if stripped and not in_fence:
            while stack and indent < stack[-1][0]:
                stack.pop()
        fence = re.match(r"(`{3,}|~{3,})", stripped)
        if fence and not in_fence:
            in_fence = fence.group(1)
        elif fence and stripped.strip() == in_fence:
            in_fence = ""
        elif not in_fence and CONTAINER.match(line):
            tab = _TAB.match(line)
            framework = TAB_TITLES.get(tab.group("title")) if tab else None
            stack.append((indent + 4, framework))
        out.append(next((fw for _, fw in reversed(stack) if fw), None))
    return out


def classify(path: Path, blocks: list[Block]) -> list[Tabbed]:
    """Each block of the page with the framework of its tab."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    where = tab_frameworks(lines)
    return [Tabbed(b, where[b.start]) for b in blocks]


def framework_modules() -> dict[str, str]:
    """``companion`` modules that import a framework when imported, with that framework."""
    found = {}
    for src in sorted((ROOT / "companion").glob("*.py")):
        for pkg in _top_level_imports(src.read_text(encoding="utf-8")):
            if pkg in _FRAMEWORK_PACKAGES:
                found[f"companion.{src.stem}"] = _FRAMEWORK_PACKAGES[pkg]
    return found


@lru_cache(maxsize=64)  # keyed by the module's text: parsed once per version of the file
def _top_level_imports(source: str) -> tuple[str, ...]:
    return tuple(_imports_of(ast.parse(source)))


def _imports_of(tree: ast.Module) -> Iterator[str]:
    for node in tree.body:
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module


def framework_code(code: str) -> list[str]:
    """What in a block's code imports or seeds a framework (empty for neutral code)."""
    found = [m.group(0) for m in _SEEDS.finditer(code)]
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return found
    companion = framework_modules()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in _FRAMEWORK_PACKAGES or name in companion:
                found.append(f"import {name}")
    return found


def rule_problems(path: Path, blocks: list[Block]) -> list[str]:
    """Shared blocks that import or seed a framework (each said with its line)."""
    problems = []
    for t in classify(path, blocks):
        if t.framework is None and not t.both and (found := framework_code(t.block.code)):
            problems.append(
                f"{path}:{t.block.line}: framework code in a shared block "
                f"({', '.join(sorted(set(found)))}): move it into the "
                '=== "MXNet" / === "PyTorch" tab, or mark the block {.python .both-frameworks}'
            )
    return problems


def notebook_indices(path: Path, blocks: list[Block], framework: str) -> set[int]:
    """Indices of the blocks of a framework's notebook (see :func:`notebook_blocks`)."""
    if framework not in (*FRAMEWORKS, NEUTRAL):
        raise ValueError(f"framework must be one of {FRAMEWORKS + (NEUTRAL,)}, got {framework!r}")
    tabbed = classify(path, blocks)
    return {i for i, t in enumerate(tabbed) if not t.both and t.framework in (None, framework)}


def notebook_blocks(path: Path, blocks: list[Block], framework: str) -> list[Block]:
    """The blocks of a framework's notebook: shared and that framework's tab, in page order
    (blocks not run in CI, such as ``needs-gpu``, included: a reader may have a GPU)."""
    return [blocks[i] for i in sorted(notebook_indices(path, blocks, framework))]


def frameworks_of(path: Path, blocks: list[Block]) -> list[str]:
    """The notebooks a page offers: one per framework with a tab block, else one neutral one
    (a page with code but no tabs is framework-free by the rule); none without code."""
    if not blocks:
        return []
    tabbed = {t.framework for t in classify(path, blocks) if not t.both}
    return [fw for fw in FRAMEWORKS if fw in tabbed] or [NEUTRAL]


def run_order(path: Path, blocks: list[Block], first: str = "pytorch") -> tuple[list[int], int]:
    """Block indices in notebook order: the ``first`` framework's notebook blocks (shared and
    its tab), then the rest (the other tab and ``.both-frameworks``) in page order; and how
    many the first part holds. (A teardown that both parts need done first, such as removing
    a folder both write to, is a ``.both-frameworks`` block.)"""
    if first not in FRAMEWORKS:
        raise ValueError(f"first must be one of {FRAMEWORKS}, got {first!r}")
    chosen = notebook_indices(path, blocks, first)
    tail = [i for i in range(len(blocks)) if i not in chosen]
    return sorted(chosen) + tail, len(chosen)


# --- names a notebook uses but does not define -------------------------------------------
def undefined_names(cells: list[str]) -> list[tuple[int, str]]:
    """(cell index, name) of module-level names read before any cell defines them, and of
    globals that functions read but no cell defines. Star imports make the check give up."""
    known = set(dir(builtins)) | {"__name__", "__file__", "display", "get_ipython"}
    defined_anywhere = set().union(*(_defined(c) for c in cells)) if cells else set()
    problems = []
    for i, code in enumerate(cells):
        table = symtable.symtable(code, f"cell{i}", "exec")
        if "*" in code and re.search(r"^\s*from\s+\S+\s+import\s+\*", code, re.M):
            return []
        here = _defined(code)
        for name in sorted(_module_reads(table) - known - here):
            problems.append((i, name))
        for name in sorted(_function_globals(table) - known - defined_anywhere):
            problems.append((i, name))
        known |= here
    return problems


def _defined(code: str) -> set[str]:
    table = symtable.symtable(code, "cell", "exec")
    return {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}


def _module_reads(table: symtable.SymbolTable) -> set[str]:
    return {s.get_name() for s in table.get_symbols() if s.is_referenced()}


def _function_globals(table: symtable.SymbolTable) -> set[str]:
    names: set[str] = set()
    for child in table.get_children():
        names |= {s.get_name() for s in child.get_symbols() if s.is_global() and s.is_referenced()}
        names |= _function_globals(child)
    return names


# --- running the PyTorch part where mxnet cannot be imported ------------------------------
class _RefuseMxnet:
    """A meta path finder that refuses mxnet, as a machine without it would."""

    def find_spec(self, name, path=None, target=None):  # noqa: D102 - importlib protocol
        if name == "mxnet" or name.startswith("mxnet."):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden: PyTorch notebook)")
        return None


@contextlib.contextmanager
def mxnet_hidden() -> Iterator[None]:
    """Within the block, ``import mxnet`` fails even if an earlier page imported it."""
    taken = {k: v for k, v in sys.modules.items() if k == "mxnet" or k.startswith("mxnet.")}
    for k in taken:
        del sys.modules[k]
    finder = _RefuseMxnet()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        sys.modules.update(taken)


def tab_set_problems(path: Path | str) -> list[str]:
    """Tab sets holding a title twice: two tabs with nothing between them merge into one set,
    and the second tab's blocks hide behind a same-named tab."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    problems, open_sets = [], {}  # indentation -> titles of the set still open there
    in_fence = ""
    for number, line in enumerate(lines, 1):
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if in_fence:
            in_fence = "" if stripped.strip() == in_fence else in_fence
            continue
        if not stripped:
            continue
        # Anything at a set's indentation but a tab header (prose, a block) ends the set.
        for level in [k for k in open_sets if k > indent or (k == indent and not _TAB.match(line))]:
            del open_sets[level]
        if fence := re.match(r"(`{3,}|~{3,})", stripped):
            in_fence = fence.group(1)
            continue
        if tab := _TAB.match(line):
            titles = open_sets.setdefault(indent, [])
            if tab.group("title") in titles:
                problems.append(
                    f"{path}:{number}: a second {tab.group('title')!r} tab in one tab set (two "
                    "tabs with nothing between them merge): join their blocks in one tab"
                )
            titles.append(tab.group("title"))
    return problems


def unseen_blocks(path: Path | str, blocks: list[Block]) -> list[str]:
    """Python fences the page runner does not see (an indented fence outside any tab or
    admonition is plain text to Markdown): they would neither run nor render as code."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    starts, problems, in_fence = {b.start for b in blocks}, [], ""
    for i, line in enumerate(lines):
        stripped = line.lstrip(" ")
        if in_fence:
            in_fence = "" if stripped.strip() == in_fence else in_fence
            continue
        if fence := re.match(r"(`{3,}|~{3,})(.*)", stripped):
            in_fence = fence.group(1)
            if re.match(r"(\{\s*\.?)?(python3?|py)\b", fence.group(2).strip()) and i not in starts:
                problems.append(
                    f"{path}:{i + 1}: a python block that is not run (indented outside any tab "
                    "or admonition? Markdown shows it as text)"
                )
    return problems


# --- everything a page must satisfy, for the tests and for `python -m pagerun.frameworks` ---
def page_problems(path: Path | str) -> list[str]:
    """The rule's problems and, per notebook, the names a cell uses that no earlier cell defines."""
    from .parse import parse_page

    path = Path(path)
    blocks = parse_page(path)
    problems = rule_problems(path, blocks) + tab_set_problems(path) + unseen_blocks(path, blocks)
    for framework in frameworks_of(path, blocks):
        cells = notebook_blocks(path, blocks, framework)
        missing: dict[int, list[str]] = {}
        for i, name in undefined_names([b.code for b in cells]):
            missing.setdefault(cells[i].line, []).append(name)
        problems += [
            f"{path}:{line}: the {framework} notebook reads names that no earlier cell of it "
            f"defines: {', '.join(sorted(set(names)))} (define them in a shared block or this "
            "tab, or mark a block that needs both frameworks {.python .both-frameworks})"
            for line, names in missing.items()
        ]
    return problems


def main(argv: list[str]) -> int:
    """``python -m pagerun.frameworks PAGE...``: print every problem; exit 1 if any."""
    pages = [Path(a) for a in argv] or sorted((ROOT / "docs").rglob("*.md"))
    found = [p for page in pages for p in page_problems(page)]
    print("\n".join(found) if found else f"notebook rule: {len(pages)} pages, no problems")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
