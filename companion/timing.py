"""Wall-clock timing done right: warm-up, repeats, median, and a synchronisation call.

Asynchronous frameworks (MXNet's engine, CUDA streams) return from an operation before
it has run. A timing must therefore end with a call that waits for the result
(``nd.waitall``, ``y.wait_to_read``, ``torch.cuda.synchronize``); [`measure`][] takes
it as ``sync``:

```text
t = measure(lambda: nd.dot(a, b), sync=nd.waitall, warmup=1, repeats=5)
print(t)                 # 12.3 ms (median of 5; min 12.1 ms, max 13 ms)
```

Nothing here imports a framework.
"""

from __future__ import annotations

import math
import numbers
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Timing:
    """The seconds each repeat took, with the median as the headline number.

    ```python
    from companion.timing import Timing

    t = Timing((0.012, 0.010, 0.011))
    assert t.median == 0.011
    assert str(t) == "11 ms (median of 3; min 10 ms, max 12 ms)"
    ```
    """

    times: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.times:
            raise ValueError("expected at least one time, got none")
        if not all(_is_seconds(t) for t in self.times):
            raise ValueError(f"expected finite times in [0, inf) s, got {self.times}")

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def min(self) -> float:
        return min(self.times)

    @property
    def max(self) -> float:
        return max(self.times)

    def __str__(self) -> str:
        return (
            f"{format_seconds(self.median)} (median of {len(self.times)}; "
            f"min {format_seconds(self.min)}, max {format_seconds(self.max)})"
        )


def _is_seconds(value: Any) -> bool:
    """True for a finite real number >= 0 (a boolean is not a number of seconds)."""
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def format_seconds(seconds: float) -> str:
    """``0.0123`` -> ``'12.3 ms'``: three significant digits in s, ms, µs or ns.

    The value is rounded before the unit is chosen (``0.9996`` -> ``'1 s'``); from
    1000 s up it is printed in whole seconds (``1234.5`` -> ``'1234 s'``).

    ```python
    from companion.timing import format_seconds

    assert format_seconds(0.0123) == "12.3 ms"
    assert format_seconds(0.9996) == "1 s"
    assert format_seconds(2.5e-7) == "250 ns"
    ```
    """
    if not _is_seconds(seconds):
        raise ValueError(f"expected a finite number of seconds in [0, inf), got {seconds!r}")
    rounded = float(f"{seconds:.3g}")
    if rounded >= 1000:
        return f"{seconds:.0f} s"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if rounded >= scale:
            return f"{rounded / scale:.3g} {unit}"
    return f"{rounded / 1e-9:.3g} ns"


def _check_count(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"expected an integer {name} >= {low}, got {value!r}")


def measure(
    fn: Callable[[], Any],
    sync: Callable[[], Any] | None = None,
    warmup: int = 1,
    repeats: int = 5,
    number: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> Timing:
    """Time ``number`` calls of ``fn`` and ``sync()``, ``repeats`` times, after warm-up.

    Each time is per call (the repeat's total divided by ``number``). ``sync`` is called
    once after the warm-up calls (untimed) and once at the end of every repeat, inside
    the timed interval; leave it ``None`` only for synchronous code. ``clock`` gives the
    time in seconds (tests pass a fake one).

    ```python
    from companion.timing import measure

    ticks = iter(range(100))                 # a fake clock: one second per reading
    t = measure(lambda: None, warmup=1, repeats=3, clock=lambda: float(next(ticks)))
    assert t.times == (1.0, 1.0, 1.0)
    assert measure(lambda: sum(range(1000)), repeats=3).median > 0   # a real timing
    ```
    """
    for name, value, low in (("warmup", warmup, 0), ("repeats", repeats, 1), ("number", number, 1)):
        _check_count(name, value, low)
    if not (callable(fn) and callable(clock) and (sync is None or callable(sync))):
        raise ValueError(
            f"expected callables fn, sync (or None) and clock, got "
            f"{type(fn).__name__}, {type(sync).__name__} and {type(clock).__name__}"
        )
    wait = sync if sync is not None else (lambda: None)
    for _ in range(warmup):
        fn()
    wait()
    times = []
    for _ in range(repeats):
        start = clock()
        for _ in range(number):
            fn()
        wait()
        times.append((clock() - start) / number)
    return Timing(tuple(times))
