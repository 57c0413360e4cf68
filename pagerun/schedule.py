"""The order in which test files reach the pytest-xdist workers: the longest first.

Under ``--dist loadfile`` a free worker takes the next file in the queue. pytest-xdist sorts
that queue by the number of tests in a file, which puts a page of four long training blocks
behind a page of eighty one-line blocks, and the run then ends with one worker still training
while the other waits. Handing the files out longest first (the LPT rule) ends the run with
short files. The expected seconds of a file come from this machine's last run
(``.cache/pagerun/durations.json``, written after each run), else from the committed table
(``pagerun/durations.json``, refreshed with ``python -m pagerun.schedule``); a file found in
neither goes first, as if it were the longest.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
MEASURED = ROOT / ".cache" / "pagerun" / "durations.json"
COMMITTED = Path(__file__).with_name("durations.json")

T = TypeVar("T")


def _read(path: Path) -> dict[str, float]:
    try:
        return {str(k): float(v) for k, v in json.loads(path.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def expected_seconds() -> dict[str, float]:
    """Seconds per file (path relative to the repository): committed, overridden by measured."""
    return {**_read(COMMITTED), **_read(MEASURED)}


def file_of(nodeid: str) -> str:
    """The file part of a pytest node id: ``docs/a.md::L3`` -> ``docs/a.md``."""
    return nodeid.split("::", 1)[0]


def longest_first(
    items: Sequence[T],
    nodeid: Callable[[T], str] = lambda item: item.nodeid,
    seconds: dict[str, float] | None = None,
) -> list[T]:
    """``items`` grouped by file, files in order of decreasing expected time (unknown first),
    each file's items in their original order.

    ```python
    from pagerun.schedule import longest_first

    ids = ["a.md::L1", "b.md::L1", "a.md::L5", "c.md::L2"]
    out = longest_first(ids, nodeid=str, seconds={"a.md": 1.0, "b.md": 9.0})
    assert out == ["c.md::L2", "b.md::L1", "a.md::L1", "a.md::L5"]
    ```
    """
    seconds = expected_seconds() if seconds is None else seconds
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(file_of(nodeid(item)), []).append(item)
    order = sorted(groups, key=lambda f: -seconds.get(f, float("inf")))  # stable: ties keep order
    return [item for f in order for item in groups[f]]


def record(seconds: dict[str, float]) -> None:
    """Merge the seconds measured in this run into this machine's table. Two runs in one
    checkout (a ``./dev check`` during a ``./dev test``) may finish at once: the merge holds a
    lock, and the table is replaced whole, never seen half written."""
    if not seconds:
        return
    MEASURED.parent.mkdir(parents=True, exist_ok=True)
    with open(MEASURED.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        merged = {**_read(MEASURED), **{f: round(s, 2) for f, s in seconds.items()}}
        tmp = MEASURED.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n")
        tmp.replace(MEASURED)


def main(argv: list[str]) -> int:
    """``python -m pagerun.schedule``: copy this machine's measured table to the committed one."""
    if not MEASURED.exists():
        print(f"no measured table at {MEASURED}: run ./dev test first", file=sys.stderr)
        return 1
    shutil.copyfile(MEASURED, COMMITTED)
    print(f"wrote {COMMITTED.relative_to(ROOT)} ({len(_read(COMMITTED))} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
