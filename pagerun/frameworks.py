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
from pathlib import Path

from .parse import BOTH_FRAMEWORKS, Block

FRAMEWORKS = ("pytorch", "mxnet")
TAB_TITLES = {"PyTorch": "pytorch", "MXNet": "mxnet"}
BOTH = BOTH_FRAMEWORKS
ROOT = Path(__file__).resolve().parent.parent

_TAB = re.compile(r'^(?P<indent> *)===\+?\s+"(?P<title>[^"]*)"')
_CONTAINER = re.compile(r"^(?P<indent> *)(===|!!!|\?\?\?\+?)\s")
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
        elif not in_fence and _CONTAINER.match(line):
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
        for pkg in _top_level_imports(ast.parse(src.read_text(encoding="utf-8"))):
            if pkg in _FRAMEWORK_PACKAGES:
                found[f"companion.{src.stem}"] = _FRAMEWORK_PACKAGES[pkg]
    return found


def _top_level_imports(tree: ast.Module) -> Iterator[str]:
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


def notebook_blocks(path: Path, blocks: list[Block], framework: str) -> list[Block]:
    """The blocks of a framework's notebook: shared and that framework's tab, in page order."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework must be one of {FRAMEWORKS}, got {framework!r}")
    return [
        t.block
        for t in classify(path, blocks)
        if not t.both and t.framework in (None, framework) and not t.block.not_in_ci
    ]


def frameworks_of(path: Path, blocks: list[Block]) -> list[str]:
    """The frameworks a page offers a notebook for (those with a tab block; PyTorch if none)."""
    tabbed = {t.framework for t in classify(path, blocks) if not t.both}
    offered = [fw for fw in FRAMEWORKS if fw in tabbed]
    return offered or ["pytorch"]


def run_order(path: Path, blocks: list[Block]) -> tuple[list[int], int]:
    """Block indices in notebook order: the PyTorch notebook's blocks first, then the rest
    (MXNet tab and ``.both-frameworks``) in page order; and how many the first part holds."""
    tabbed = classify(path, blocks)
    head = [i for i, t in enumerate(tabbed) if not t.both and t.framework in (None, "pytorch")]
    tail = [i for i in range(len(blocks)) if i not in set(head)]
    return head + tail, len(head)


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
