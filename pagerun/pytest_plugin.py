"""pytest collects every python block of every Markdown page under docs/ as one test item.

- Items are named ``docs/page.md::L<line>``; the blocks of a page share one namespace and run in
  file order (selecting one block runs the earlier ones first).
- The printed output is compared with the ``output`` fence under the block;
  ``--update-outputs`` rewrites those fences instead of failing.
- Blocks marked ``.needs-gpu`` / ``.needs-network`` are reported as not run in CI, with a count.
- After the last block, an inventory item checks that every python block a reader sees on the
  site (counted by rendering each page with the site's own Markdown configuration) was executed
  or explicitly marked, and the summary prints per-page times.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .execute import PageRunner, rewrite_outputs
from .inventory import rendered_python_blocks

DOCS = Path(__file__).resolve().parent.parent / "docs"

_stats: dict[str, dict] = {}  # page -> {"blocks", "executed", "not_in_ci": [(line, why)], "seconds"}


def pytest_addoption(parser):
    parser.addoption(
        "--update-outputs",
        action="store_true",
        help="rewrite the expected `output` fences of the pages with what the blocks print now",
    )


def pytest_collect_file(parent, file_path: Path):
    if file_path.suffix == ".md" and DOCS in file_path.resolve().parents:
        return MarkdownPage.from_parent(parent, path=file_path)
    return None


class MarkdownPage(pytest.File):
    def collect(self):
        self.runner = PageRunner(self.path)
        rel = self.path.resolve().relative_to(DOCS.parent).as_posix()
        _stats[rel] = {"blocks": len(self.runner.blocks), "executed": 0, "not_in_ci": [], "seconds": 0.0}
        for i, block in enumerate(self.runner.blocks):
            yield BlockItem.from_parent(self, name=f"L{block.line}", index=i, rel=rel)


class BlockError(Exception):
    pass


class BlockItem(pytest.Item):
    def __init__(self, *, index: int, rel: str, **kw):
        super().__init__(**kw)
        self.index = index
        self.rel = rel
        block = self.parent.runner.blocks[index]
        if block.not_in_ci:
            self.add_marker(pytest.mark.skip(reason=f"marked .{sorted(block.classes)[0]}: {block.not_in_ci}"))

    def runtest(self):
        runner: PageRunner = self.parent.runner
        t0 = time.perf_counter()
        before = len(runner.results)
        result = runner.run_through(self.index)
        stats = _stats[self.rel]
        stats["seconds"] += time.perf_counter() - t0 if len(runner.results) > before else 0.0
        stats["executed"] = sum(r.status == "passed" for r in runner.results)
        if runner.done:
            self._finish_page(runner)
        if result.status == "failed":
            if self.config.getoption("update_outputs") and result.error.startswith(("printed output", "the block printed")):
                return
            raise BlockError(result.error)

    def _finish_page(self, runner: PageRunner) -> None:
        _stats[self.rel]["not_in_ci"] = [(b.line, b.not_in_ci) for b in runner.blocks if b.not_in_ci]
        if self.config.getoption("update_outputs"):
            if rewrite_outputs(runner.path, runner.blocks, runner.results):
                print(f"\nrewrote outputs in {self.rel}")
        else:
            runner.save()

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, BlockError):
            return f"{self.rel}:{self.parent.runner.blocks[self.index].line}\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.parent.runner.blocks[self.index].start, f"{self.rel}::L{self.name[1:]}"


class InventoryItem(pytest.Item):
    """Every python block a reader sees was executed, or is marked as not runnable in CI."""

    def runtest(self):
        problems = []
        for rel, s in sorted(_stats.items()):
            seen = rendered_python_blocks(DOCS.parent / rel)
            marked = len(s["not_in_ci"])
            if seen != s["blocks"]:
                problems.append(f"{rel}: the site shows {seen} python blocks, the tests found {s['blocks']}")
            elif s["executed"] + marked != seen:
                problems.append(f"{rel}: {seen} python blocks, {s['executed']} executed, {marked} marked")
        if problems:
            raise BlockError("blocks neither executed nor marked:\n" + "\n".join(problems))

    def repr_failure(self, excinfo):
        return str(excinfo.value)

    def reportinfo(self):
        return DOCS, None, "docs: every python block executed or marked"


def pytest_collection_modifyitems(session, config, items):
    pages = {i.rel for i in items if isinstance(i, BlockItem)}
    complete = pages and all(
        sum(1 for i in items if isinstance(i, BlockItem) and i.rel == p) == _stats[p]["blocks"] for p in pages
    )
    all_pages = {p.resolve().relative_to(DOCS.parent).as_posix() for p in DOCS.rglob("*.md")}
    rewriting = config.getoption("update_outputs")  # a rewrite run checks nothing, it writes
    if complete and not rewriting and pages == {p for p in all_pages if _stats.get(p, {}).get("blocks")}:
        items.append(InventoryItem.from_parent(session, name="docs-inventory"))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _stats:
        return
    tr = terminalreporter
    tr.section("code blocks of the pages")
    total = sum(s["blocks"] for s in _stats.values())
    executed = sum(s["executed"] for s in _stats.values())
    marked = [(rel, line, why) for rel, s in sorted(_stats.items()) for line, why in s["not_in_ci"]]
    for rel, s in sorted(_stats.items(), key=lambda kv: -kv[1]["seconds"]):
        if s["blocks"]:
            tr.write_line(f"{s['seconds']:7.1f} s  {s['executed']:3d}/{s['blocks']:<3d} blocks  {rel}")
    tr.write_line(
        f"code blocks: {total} in {sum(1 for s in _stats.values() if s['blocks'])} pages; "
        f"executed and checked: {executed}; marked not runnable in CI: {len(marked)}; "
        f"neither (silently skipped): {total - executed - len(marked)}"
    )
    for rel, line, why in marked:
        tr.write_line(f"  not run in CI: {rel}:{line} ({why})")
