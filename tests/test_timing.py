import math

import pytest

from companion.timing import Timing, format_seconds, measure


class FakeEngine:
    """A deterministic clock and an engine that runs work either at once or on sync.

    Each call of ``launch`` costs the next of ``costs`` seconds; with ``lazy=True`` the
    work is only queued (like MXNet's engine or a CUDA stream) and ``sync`` runs it.
    """

    def __init__(self, costs, lazy=False):
        self.now, self.pending, self.costs, self.lazy = 0.0, 0.0, iter(costs), lazy

    def clock(self):
        return self.now

    def launch(self):
        if self.lazy:
            self.pending += next(self.costs)
        else:
            self.now += next(self.costs)

    def sync(self):
        self.now, self.pending = self.now + self.pending, 0.0


def test_measure_counts_calls_and_syncs():
    calls, syncs = [], []
    t = measure(
        lambda: calls.append(1), sync=lambda: syncs.append(1), warmup=2, repeats=3, number=4
    )
    assert len(calls) == 2 + 3 * 4
    assert len(syncs) == 1 + 3
    assert len(t.times) == 3


def test_time_is_per_call():
    engine = FakeEngine([0.25] * 12)
    t = measure(engine.launch, warmup=0, repeats=3, number=4, clock=engine.clock)
    assert t.times == (0.25, 0.25, 0.25)


def test_warm_up_is_not_timed():
    engine = FakeEngine([10.0, 10.0] + [1.0] * 3)  # slow first calls
    t = measure(engine.launch, warmup=2, repeats=3, clock=engine.clock)
    assert t.times == (1.0, 1.0, 1.0)


def test_queued_warm_up_work_is_waited_for_before_timing():
    engine = FakeEngine([10.0, 10.0] + [1.0] * 3, lazy=True)
    t = measure(engine.launch, sync=engine.sync, warmup=2, repeats=3, clock=engine.clock)
    assert t.times == (1.0, 1.0, 1.0)


def test_sync_is_inside_the_timed_interval():
    engine = FakeEngine([2.0] * 6, lazy=True)
    t = measure(engine.launch, sync=engine.sync, warmup=0, repeats=3, number=2, clock=engine.clock)
    assert t.times == (2.0, 2.0, 2.0)


def test_real_clock_gives_finite_times():
    t = measure(lambda: sum(range(100)), repeats=3)
    assert len(t.times) == 3 and all(math.isfinite(x) and x >= 0 for x in t.times)


def test_timing_statistics_and_str():
    t = Timing((0.003, 0.001, 0.002))
    assert t.median == 0.002 and t.min == 0.001 and t.max == 0.003
    assert str(t) == "2 ms (median of 3; min 1 ms, max 3 ms)"


@pytest.mark.parametrize(
    "seconds, text",
    [
        (1.5, "1.5 s"),
        (0.0123, "12.3 ms"),
        (4.56e-6, "4.56 µs"),
        (2e-9, "2 ns"),
        (0.0, "0 ns"),
        (0, "0 ns"),
        (5e-13, "0.0005 ns"),
        # rounding to three digits can carry into the next unit
        (0.99996, "1 s"),
        (9.9996e-4, "1 ms"),
        (9.996e-7, "1 µs"),
        (0.9994, "999 ms"),
        (1.0, "1 s"),
        (1e-3, "1 ms"),
        (1e-6, "1 µs"),
        (1e-9, "1 ns"),
        (999.4, "999 s"),
        # from 1000 s up: whole seconds, never an exponent
        (999.6, "1000 s"),
        (1234.0, "1234 s"),
        (86400.4, "86400 s"),
    ],
)
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


@pytest.mark.parametrize("seconds", [0.9995, 9.9995e-4, 9.995e-7, 999.5, 12345.0])
def test_format_seconds_has_no_exponent_at_unit_boundaries(seconds):
    number, unit = format_seconds(seconds).split()
    assert "e" not in number and unit in ("s", "ms", "µs", "ns")
    assert float(number) < 1000 or unit == "s"


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"warmup": -1}, "warmup"),
        ({"repeats": 0}, "repeats"),
        ({"number": 0}, "number"),
        ({"repeats": 2.0}, "repeats"),
        ({"repeats": True}, "repeats"),
        ({"warmup": False}, "warmup"),
        ({"number": True}, "number"),
    ],
)
def test_measure_rejects_bad_counts(kwargs, word):
    with pytest.raises(ValueError, match=f"integer {word} >= "):
        measure(lambda: None, **kwargs)


def test_measure_rejects_non_callables():
    with pytest.raises(ValueError, match="callables"):
        measure(42)
    with pytest.raises(ValueError, match="callables"):
        measure(lambda: None, sync=3)
    with pytest.raises(ValueError, match="callables"):
        measure(lambda: None, clock=0.0)


@pytest.mark.parametrize(
    "times", [(), (0.1, -0.1), (math.nan,), (0.1, math.inf), (True,), ("0.1",)]
)
def test_bad_timings(times):
    with pytest.raises(ValueError, match=r"at least one|finite times in \[0, inf\)"):
        Timing(times)


@pytest.mark.parametrize("seconds", [-1.0, math.nan, math.inf, -math.inf, True, "1"])
def test_bad_seconds(seconds):
    with pytest.raises(ValueError, match=r"finite number of seconds in \[0, inf\)"):
        format_seconds(seconds)
