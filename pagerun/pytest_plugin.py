"""pytest collects every python block of every Markdown page under docs/ as one test item.

- Items are named ``docs/page.md::L<line>``; the blocks of a page share one namespace and run in
  file order (selecting one block runs the earlier ones first).
- The printed output is compared with the ``output`` fence under the block;
  ``--update-outputs`` rewrites those fences instead of failing.
- Blocks marked ``.needs-gpu`` / ``.needs-network`` are reported as not run in CI, with a count.
- After the last block of a page, an inventory item checks that every python block a reader
  sees on the site (counted by rendering the page with the site's own Markdown configuration)
  was executed or explicitly marked; the summary prints per-page times.
- Each page runs in notebook order: the PyTorch notebook's blocks first where mxnet cannot be
  imported (their outputs compared: the PyTorch notebook reproduces the page), then the rest.
  ``--asserts-only`` runs every block with output comparison off (the second kernel set), the
  MXNet notebook's blocks first; the pinned kernels (``pagerun.kernels``) are checked inside
  each page run.
- Under pytest-xdist (``-n 2 --dist loadfile``) each page runs whole on one worker; the workers
  send their page statistics to the controller, which prints the summary once.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from . import crosscheck, kernels, schedule
from .execute import PageRunner, rewrite_outputs, text_only_mismatch
from .inventory import rendered_python_blocks

DOCS = Path(__file__).resolve().parent.parent / "docs"

# page -> {"blocks", "executed", "not_in_ci": [(line, why)], "seconds", "ran", "failed"}
_stats: dict[str, dict] = {}
_STATS_KEY = "pagerun_stats"


def pytest_addoption(parser):
    parser.addoption(
        "--update-outputs",
        action="store_true",
        help="rewrite the expected `output` fences of the pages with what the blocks print now",
    )
    parser.addoption(
        "--asserts-only",
        action="store_true",
        help="run every block with printed output not compared (another CPU kernel set)",
    )


def pytest_configure(config):
    # Files are handed to the xdist workers longest first (pagerun.schedule), not by test count.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False
    if config.getoption("update_outputs") and not kernels.outputs_comparable():
        raise pytest.UsageError(
            "--update-outputs writes the outputs shown on the pages, which are written with the "
            f"pinned CPU kernels; this run has {kernels.describe()!r}. Use ./dev update-outputs."
        )


def pytest_collect_file(parent, file_path: Path):
    if file_path.suffix == ".md" and DOCS in file_path.resolve().parents:
        return MarkdownPage.from_parent(parent, path=file_path)
    return None


class MarkdownPage(pytest.File):
    def collect(self):
        compare = not self.config.getoption("asserts_only") and kernels.outputs_comparable()
        # Pages run in notebook order (pagerun.frameworks.run_order), as the build does: the
        # PyTorch notebook's blocks first with mxnet unimportable, outputs compared, then the
        # MXNet and .both-frameworks blocks, in one namespace; every block runs once. The second
        # kernel pass runs the MXNet notebook's blocks first, so both notebooks run as written.
        first = "mxnet" if self.config.getoption("asserts_only") else "pytorch"
        self.runner = PageRunner(self.path, compare_outputs=compare, first=first)
        rel = self.path.resolve().relative_to(DOCS.parent).as_posix()
        _stats[rel] = {
            "blocks": len(self.runner.blocks),
            "executed": 0,
            "not_in_ci": [],
            "seconds": 0.0,
            "ran": False,
            "failed": False,
            "crosschecked": 0,
        }
        for i, block in enumerate(self.runner.blocks):
            yield BlockItem.from_parent(self, name=f"L{block.line}", index=i, rel=rel)
        if self.runner.blocks:
            yield InventoryItem.from_parent(self, name="inventory", rel=rel)


class BlockError(Exception):
    pass


class BlockItem(pytest.Item):
    def __init__(self, *, index: int, rel: str, **kw):
        super().__init__(**kw)
        self.index = index
        self.rel = rel
        block = self.parent.runner.blocks[index]
        if block.not_in_ci:
            self.add_marker(
                pytest.mark.skip(reason=f"marked .{sorted(block.classes)[0]}: {block.not_in_ci}")
            )

    def runtest(self):
        runner: PageRunner = self.parent.runner
        t0 = time.perf_counter()
        before, checks = len(runner.results), sum(crosscheck.CHECKS.values())
        result = runner.run_through(self.index)
        stats = _stats[self.rel]
        stats["crosschecked"] += sum(crosscheck.CHECKS.values()) - checks
        stats["seconds"] += time.perf_counter() - t0 if len(runner.results) > before else 0.0
        stats["executed"] = sum(
            r.status == "passed" or text_only_mismatch(r.error) for r in runner.results
        )
        stats["ran"] = True
        stats["failed"] = stats["failed"] or result.status == "failed"
        if runner.done:
            self._finish_page(runner)
        if result.status == "failed":
            if self.config.getoption("update_outputs") and result.error.startswith(
                ("printed output", "the block printed")
            ):
                return
            raise BlockError(result.error)

    def _finish_page(self, runner: PageRunner) -> None:
        _stats[self.rel]["not_in_ci"] = [
            (b.line, b.not_in_ci) for b in runner.blocks if b.not_in_ci
        ]
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
        return (
            self.path,
            self.parent.runner.blocks[self.index].start,
            f"{self.rel}::L{self.name[1:]}",
        )


class InventoryItem(pytest.Item):
    """Every python block a reader sees on the page was executed, or is marked as not run in CI."""

    def __init__(self, *, rel: str, **kw):
        super().__init__(**kw)
        self.rel = rel

    def runtest(self):
        s = _stats[self.rel]
        seen = rendered_python_blocks(DOCS.parent / self.rel)
        marked = len([b for b in self.parent.runner.blocks if b.not_in_ci])
        if seen != s["blocks"]:
            raise BlockError(
                f"{self.rel}: the site shows {seen} python blocks, the tests found {s['blocks']}"
            )
        if s["executed"] + marked != seen:
            raise BlockError(
                f"{self.rel}: {seen} python blocks, {s['executed']} executed, "
                f"{marked} marked: blocks neither executed nor marked"
            )

    def repr_failure(self, excinfo):
        return str(excinfo.value)

    def reportinfo(self):
        return self.path, None, f"{self.rel}: every python block executed or marked"


def pytest_collection_modifyitems(session, config, items):
    """Keep a page's inventory item only when every block of the page was selected."""
    selected: dict[str, int] = {}
    for item in items:
        if isinstance(item, BlockItem):
            selected[item.rel] = selected.get(item.rel, 0) + 1
    if config.getoption("update_outputs"):  # a rewrite run checks nothing, it writes
        items[:] = [i for i in items if not isinstance(i, InventoryItem)]
    else:
        items[:] = [
            i
            for i in items
            if not isinstance(i, InventoryItem) or selected.get(i.rel) == _stats[i.rel]["blocks"]
        ]
    items[:] = schedule.longest_first(items)


_seconds: dict[str, float] = {}  # file -> seconds of its tests in this run (the controller's)


def pytest_runtest_logreport(report):
    if report.nodeid:
        f = schedule.file_of(report.nodeid)
        _seconds[f] = _seconds.get(f, 0.0) + report.duration


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the pages it ran to the controller
        workeroutput[_STATS_KEY] = json.dumps({k: v for k, v in _stats.items() if v["ran"]})
    elif session.config.rootpath == schedule.ROOT:  # not a test's run of a page it wrote
        schedule.record(_seconds)


@pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown when xdist is not loaded
def pytest_testnodedown(node, error):
    """xdist controller: merge the page statistics of a worker that finished."""
    for rel, s in json.loads(getattr(node, "workeroutput", {}).get(_STATS_KEY, "{}")).items():
        _stats[rel] = s


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    ran = {rel: s for rel, s in _stats.items() if s["ran"] and s["blocks"]}
    if not ran:
        return
    tr = terminalreporter
    asserts_only = config.getoption("asserts_only")
    tr.section("code blocks of the pages")
    tr.write_line(
        kernels.describe() + ("; outputs not compared, asserts on" if asserts_only else "")
    )
    total = sum(s["blocks"] for s in ran.values())
    executed = sum(s["executed"] for s in ran.values())
    marked = [(rel, line, why) for rel, s in sorted(ran.items()) for line, why in s["not_in_ci"]]
    for rel, s in sorted(ran.items(), key=lambda kv: -kv[1]["seconds"]):
        tr.write_line(f"{s['seconds']:7.1f} s  {s['executed']:3d}/{s['blocks']:<3d} blocks  {rel}")
    tr.write_line(
        f"code blocks: {total} in {len(ran)} pages; "
        f"executed and checked: {executed}; marked not runnable in CI: {len(marked)}; "
        f"neither (silently skipped): {total - executed - len(marked)}"
    )
    for rel, line, why in marked:
        tr.write_line(f"  not run in CI: {rel}:{line} ({why})")
    counted = {rel: s["crosschecked"] for rel, s in sorted(ran.items()) if s["crosschecked"]}
    tr.write_line(
        f"companion.sizing counts cross-checked against torchinfo / MXNet shape inference: "
        f"{sum(counted.values())} calls in {len(counted)} pages"
    )
    if asserts_only:
        failed = sorted(rel for rel, s in ran.items() if s["failed"])
        which = (
            "a second kernel set" if os.environ.get(kernels.ENV) == "second" else "unpinned kernels"
        )
        tr.write_line(f"asserts under {which}: {len(ran)} pages, {len(failed)} failed")
        for rel in failed:
            tr.write_line(f"  failed under the second kernel set: {rel}")
