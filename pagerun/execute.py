"""Run the python blocks of a page in order, in one namespace, capturing output and figures.

Used by the tests (``pagerun.pytest_plugin``) and by the site build (``hooks/pages.py``); a
successful run is cached under ``.cache/pagerun`` keyed by the page text and the code of
``companion`` and ``pagerun`` (docstrings and formatting left out), so the build after a test
run does not execute the pages again.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import hashlib
import io
import itertools
import json
import os
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import crosscheck, frameworks, kernels
from .parse import Block, parse_page

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "pagerun"
SCALE_ENV = "COMPANION_SCALE"


@dataclass
class BlockResult:
    line: int
    status: str  # "passed", "failed", "not-in-ci"
    stdout: str = ""
    figures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""  # traceback, or a diff of expected vs printed output
    parity: list[dict] = field(default_factory=list)


def normalize(text: str) -> str:
    """Output as compared: trailing spaces and trailing blank lines removed."""
    return "\n".join(line.rstrip() for line in text.rstrip().splitlines())


def output_problem(block: Block, stdout: str, compare: bool = True) -> str:
    """Return why the printed output does not match the page, or '' when it does.

    With ``compare=False`` (kernels other than the pinned ones) only the page's structure is
    checked: a block that prints still needs an ``output`` fence, but its digits may differ."""
    if block.live_output:
        if block.output is not None:
            return "a .live-output block must not have an output fence (its output varies)"
        return ""
    printed = normalize(stdout)
    if block.output is None:
        if printed:
            return (
                "the block printed output but the page shows none under it; "
                "add an `output` fence (./dev update-outputs writes it):\n" + printed
            )
        return ""
    expected = normalize(block.output.text)
    if printed == expected or not compare:
        return ""
    diff = difflib.unified_diff(
        expected.splitlines(), printed.splitlines(), "shown on the page", "printed now", lineterm=""
    )
    return "printed output differs from the page (./dev update-outputs rewrites it):\n" + "\n".join(
        diff
    )


def _code_of(source: bytes) -> str:
    """What a module does, without its docstrings and layout: the AST with every docstring
    removed (comments, formatting and line numbers are not in it). Editing a docstring or
    reformatting a file therefore keeps the cached page runs; changing code does not."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source.decode("utf-8", "replace")
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


_CODE_DIGESTS: dict[bytes, bytes] = {}  # sha256 of a module's bytes -> of its _code_of


def _code_digest(source: bytes) -> bytes:
    """The digest of ``_code_of(source)``, remembered per file content: the AST is built once
    per version of a file in a process, not once per page (it cost 0.8 s a page)."""
    key = hashlib.sha256(source).digest()
    if key not in _CODE_DIGESTS:
        _CODE_DIGESTS[key] = hashlib.sha256(_code_of(source).encode()).digest()
    return _CODE_DIGESTS[key]


def _source_digest() -> str:
    h = hashlib.sha256()
    for pkg in ("companion", "pagerun"):
        for f in sorted((ROOT / pkg).rglob("*.py")):
            h.update(f.relative_to(ROOT).as_posix().encode())
            h.update(_code_digest(f.read_bytes()))
    h.update(os.environ.get(SCALE_ENV, "cpu").encode())
    h.update(os.environ.get(kernels.ENV, "").encode())  # results differ between kernel sets
    return h.hexdigest()


def _collect_figures() -> list[str]:
    if "matplotlib.pyplot" not in sys.modules:
        return []
    import matplotlib.pyplot as plt

    svgs = []
    for num in plt.get_fignums():
        fig = plt.figure(num)
        buf = io.StringIO()
        metadata = {"Date": None, "Description": figure_description(fig)}
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata=metadata)
        svg = buf.getvalue()
        svgs.append(svg[svg.index("<svg") :])
        plt.close(fig)
    return svgs


def figure_description(fig) -> str:  # noqa: ANN001 - a matplotlib Figure
    """What a figure shows, in words, from its titles, axis labels and legends: the text
    of the SVG's ``<dc:description>``, which the site uses as the image's alt text."""
    parts = [fig._suptitle.get_text()] if fig._suptitle is not None else []
    seen: set[tuple[float, ...]] = set()  # panel positions so far
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>":
            continue
        where = ax.get_position().bounds
        twin = where in seen  # twinx/twiny: one panel, a second axis
        seen.add(where)
        title = " ".join(t for t in (ax.get_title(loc) for loc in _TITLES) if t)
        labels = [
            f"{a} axis: {t}" for a, t in (("x", ax.get_xlabel()), ("y", ax.get_ylabel())) if t
        ]
        labels += [_legend_words(ax.get_legend())] if ax.get_legend() else []
        kind = "a second axis" if twin else "an image" if ax.images else "a plot"
        head = title or kind
        parts.append(f"{head} ({'; '.join(labels)})" if labels else head)
    parts += [_legend_words(legend) for legend in fig.legends]
    runs = [(part, len(list(same))) for part, same in itertools.groupby(p for p in parts if p)]
    return "; ".join(part if n == 1 else f"{n} panels: {part}" for part, n in runs).replace("$", "")


def _legend_words(legend) -> str:  # noqa: ANN001 - a matplotlib Legend
    """'legend: "a", "b"': each entry quoted, since labels hold commas themselves."""
    return "legend: " + ", ".join(f'"{t.get_text()}"' for t in legend.get_texts())


_TITLES = ("left", "center", "right")


def _take_parity_records() -> list[dict]:
    parity = sys.modules.get("companion.parity")
    records = getattr(parity, "RECORDS", None)
    if not records:
        return []
    taken = list(records)
    records.clear()
    return taken


def _reset_global_state() -> None:
    """Undo what an earlier page may have changed globally (pages never share state)."""
    _take_parity_records()
    if "numpy" in sys.modules:
        import numpy as np

        np.set_printoptions(
            edgeitems=3,
            infstr="inf",
            linewidth=75,
            nanstr="nan",
            precision=8,
            suppress=False,
            threshold=1000,
            formatter=None,
            sign="-",
            floatmode="maxprec",
        )
    if "torch" in sys.modules:
        import torch

        torch.set_default_dtype(torch.float32)
        torch.set_grad_enabled(True)
        torch.set_printoptions(profile="default")
        # Importing mxnet drops torch to one thread for the rest of the process; pin it for every
        # page so that a page's numbers do not depend on which pages ran before it.
        torch.set_num_threads(1)
    if "mxnet" in sys.modules:
        import mxnet as mx

        # Gluon names unscoped blocks from one process-wide counter (dense0, dense1, ...), and a
        # Trainer orders parameters by sorted name: restart the count so that no page depends
        # on how many blocks the pages before it built.
        mx.name.NameManager._current.value = mx.name.NameManager()
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib as mpl
        import matplotlib.pyplot as plt

        plt.close("all")
        mpl.rcdefaults()
        mpl.rcParams["svg.hashsalt"] = "dl-companion"


class PageRunner:
    """Executes the blocks of one page, in file order, in one namespace."""

    def __init__(
        self,
        path: Path | str,
        compare_outputs: bool | None = None,
        first: str | None = "pytorch",
    ):
        self.path = Path(path).resolve()
        # Outputs were written with the pinned kernels: other kernel sets check asserts only.
        self.compare_outputs = (
            kernels.outputs_comparable() if compare_outputs is None else compare_outputs
        )
        # The cache key is taken from the files as they are when the page is read, so that an
        # edit made while the page runs cannot label old results with the new code's key.
        self._cache_file = self._cache_key_file()
        self.blocks = parse_page(self.path)
        self.namespace: dict = {"__name__": "__main__", "__file__": str(self.path)}
        # Notebook order: the ``first`` framework's notebook blocks, then the rest (None: page
        # order); while the PyTorch notebook's blocks run, mxnet cannot be imported.
        self.order, self.hidden_mxnet = list(range(len(self.blocks))), set()
        if first is not None:
            self.order, _ = frameworks.run_order(self.path, self.blocks, first)
        if first == "pytorch":
            self.hidden_mxnet = frameworks.notebook_indices(self.path, self.blocks, "pytorch")
        self._done: dict[int, BlockResult] = {}
        self.workdir = tempfile.mkdtemp(prefix="pagerun-")
        self.failed_at: int | None = None

    @property
    def results(self) -> list[BlockResult]:
        """Results of the blocks run so far, in page order."""
        return [self._done[i] for i in sorted(self._done)]

    @property
    def done(self) -> bool:
        return len(self._done) == len(self.blocks)

    def run_through(self, index: int) -> BlockResult:
        """Run every block before ``index`` in the run order that has not run yet, then ``index``;
        return its result."""
        while index not in self._done:
            nxt = self.order[len(self._done)]
            hide = nxt in self.hidden_mxnet
            with frameworks.mxnet_hidden() if hide else contextlib.nullcontext():
                self._done[nxt] = self._run(self.blocks[nxt])
        return self._done[index]

    def run_all(self) -> list[BlockResult]:
        """Run every block, in the run order; the results in page order."""
        for index in self.order:
            self.run_through(index)
        return self.results

    def _run(self, block: Block) -> BlockResult:
        if block.not_in_ci:
            return BlockResult(block.line, "not-in-ci")
        if self.failed_at is not None:
            return BlockResult(
                block.line,
                "failed",
                error=f"not run: an earlier block of this page failed (line {self.failed_at})",
            )
        if not self._done:
            _reset_global_state()
            wrong_kernels = kernels.problem()
            if wrong_kernels:
                self.failed_at = block.line
                return BlockResult(block.line, "failed", error=wrong_kernels)
        source = "\n" * (block.start + 1) + block.code  # tracebacks point at the Markdown lines
        stdout = io.StringIO()
        old_cwd = os.getcwd()
        t0 = time.perf_counter()
        error = ""
        try:
            code = compile(source, str(self.path), "exec")
            os.chdir(self.workdir)
            with contextlib.redirect_stdout(stdout), crosscheck.active():
                exec(code, self.namespace)
        except BaseException as exc:  # noqa: BLE001 - report everything, including SystemExit
            if isinstance(exc, KeyboardInterrupt):
                raise
            tb = traceback.TracebackException.from_exception(exc)
            tb.stack = traceback.StackSummary.from_list(
                [f for f in tb.stack if f.filename == str(self.path) or "companion" in f.filename]
            )
            error = "".join(tb.format())
        finally:
            os.chdir(old_cwd)
        seconds = time.perf_counter() - t0
        figures = _collect_figures()
        parity = _take_parity_records()
        text = stdout.getvalue()
        if not error:
            error = output_problem(block, text, self.compare_outputs)
            failed_parity = [r for r in parity if not r.get("passed", True)]
            if not error and failed_parity:
                error = "parity check failed: " + json.dumps(failed_parity, default=str)
        status = "failed" if error else "passed"
        if error and self.failed_at is None and not text_only_mismatch(error):
            self.failed_at = block.line
        return BlockResult(block.line, status, text, figures, seconds, error, parity)

    # --- cache shared by the tests and the site build ---------------------------------
    def _cache_key_file(self) -> Path:
        digest = hashlib.sha256(self.path.read_bytes() + _source_digest().encode()).hexdigest()[:24]
        return CACHE / f"{self.path.stem}-{digest}.json"

    def cache_file(self) -> Path:
        """Where this page's results are cached: keyed by the page and code read at start."""
        return self._cache_file

    def save(self) -> None:
        if self.done and all(r.status != "failed" for r in self.results):
            CACHE.mkdir(parents=True, exist_ok=True)
            target = self.cache_file()
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps([asdict(r) for r in self.results]))
            tmp.replace(target)  # atomic: a concurrent reader never sees half a file


def text_only_mismatch(error: str) -> bool:
    """An output mismatch does not stop the later blocks of the page from running."""
    return error.startswith(
        ("printed output differs", "the block printed output", "a .live-output")
    )


def load_or_run(path: Path | str) -> tuple[list[Block], list[BlockResult], bool]:
    """Results of a page from the cache, or from running it now; the flag says which."""
    runner = PageRunner(path)
    cached = runner.cache_file()
    if cached.exists():
        results = [BlockResult(**r) for r in json.loads(cached.read_text())]
        if len(results) == len(runner.blocks):
            return runner.blocks, results, True
    results = runner.run_all()
    runner.save()
    return runner.blocks, results, False


def rewrite_outputs(path: Path, blocks: list[Block], results: list[BlockResult]) -> bool:
    """Write the printed outputs under their blocks in the page; return True if the file changed."""
    lines = path.read_text(encoding="utf-8").splitlines()
    original = list(lines)
    pairs = sorted(zip(blocks, results), key=lambda p: p[0].start, reverse=True)
    for block, result in pairs:
        if result.status != "passed" and not text_only_mismatch(result.error):
            continue
        if block.live_output:
            continue
        printed = normalize(result.stdout)
        fence = []
        if printed:
            ticks = "````" if "```" in printed else "```"
            fence = [block.indent + ticks + "output"]
            fence += [(block.indent + line) if line else "" for line in printed.splitlines()]
            fence += [block.indent + ticks]
        if block.output is not None:
            start, end = block.output.start, block.output.end
            if not fence:  # drop the fence and the blank line before it
                start = block.end
            lines[start:end] = fence
        elif fence:
            lines[block.end : block.end] = [""] + fence
    if lines != original:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return True
    return False
