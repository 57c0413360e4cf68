import math

import pytest

from companion.seeds import SeedStats, clearly_better, compare, over_seeds, table


def test_over_seeds_calls_every_seed_and_computes_sample_std():
    calls = []
    stats = over_seeds(lambda s: calls.append(s) or float(s), seeds=range(5))
    assert calls == [0, 1, 2, 3, 4]
    assert stats.mean == 2.0
    assert math.isclose(stats.std, math.sqrt(2.5))
    assert str(stats) == "2.000 ± 1.581 over seeds 0-4"


def test_over_seeds_seeds_the_generators():
    import numpy as np

    a = over_seeds(lambda s: np.random.rand(), seeds=[3, 7, 9, 11, 13])
    b = over_seeds(lambda s: np.random.rand(), seeds=[3, 7, 9, 11, 13])
    assert a.values == b.values
    assert "seeds 3,7,9,11,13" in a.format()


def test_bad_seeds_are_rejected_with_the_expectation():
    with pytest.raises(ValueError, match="at least 5 seeds, got 3"):
        over_seeds(float, seeds=range(3))
    with pytest.raises(ValueError, match="distinct"):
        over_seeds(float, seeds=[1, 1, 2, 3, 4])
    with pytest.raises(ValueError, match="non-negative integer"):
        over_seeds(float, seeds=[-1, 0, 1, 2, 3])
    with pytest.raises(ValueError, match="NaN"):
        over_seeds(lambda s: float("nan"))
    with pytest.raises(ValueError, match="one value per seed"):
        SeedStats((0, 1), (1.0,))


def test_clearly_better_needs_more_than_the_spread():
    a = SeedStats(tuple(range(5)), (0.90, 0.91, 0.92, 0.91, 0.90))
    b = SeedStats(tuple(range(5)), (0.80, 0.81, 0.82, 0.81, 0.80))
    noisy = SeedStats(tuple(range(5)), (0.70, 1.0, 0.85, 0.95, 0.75))
    assert clearly_better(a, b) and not clearly_better(b, a)
    assert not clearly_better(a, noisy) and not clearly_better(noisy, a)
    with pytest.raises(ValueError, match="k > 0"):
        clearly_better(a, b, k=0)


def test_compare_and_table():
    results = compare({"one": lambda s: 1.0 + s / 10, "two": lambda s: 2.0 + s / 10})
    text = table(results, digits=2)
    assert text.splitlines()[1].startswith("one     1.20 ± 0.16  1.00  1.40")
    assert text.splitlines()[-1] == "seeds 0-4"
    with pytest.raises(ValueError, match="at least one configuration"):
        compare({})
    with pytest.raises(ValueError, match="at least one result"):
        table({})
