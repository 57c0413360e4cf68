"""Run one configuration over several seeds and report mean and spread.

The experiment rule of the site: a comparison reports mean ± standard deviation over at least
five seeds, with the seeds printed, and a difference is claimed only where it clearly exceeds
the spread. ``over_seeds`` makes that one line:

```text
stats = over_seeds(lambda seed: train_and_score(width=64, seed=seed), seeds=range(5))
print(stats)                       # 0.912 ± 0.004 over seeds 0-4
```

``compare`` tabulates several configurations and ``clearly_better`` says whether one beats
another by more than the spread.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from .training import seed_all

MIN_SEEDS = 5


def _check_seeds(seeds: Iterable[int], minimum: int = 1) -> tuple[int, ...]:
    """The seeds as a tuple of ints, or ValueError naming what was expected (also used by
    ``companion.ensemble``)."""
    seeds = tuple(seeds)
    if len(seeds) < minimum:
        raise ValueError(f"expected at least {minimum} seeds, got {len(seeds)}: {seeds}")
    if any(
        isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0 for s in seeds
    ) or len(set(seeds)) != len(seeds):
        raise ValueError(f"expected distinct non-negative integer seeds, got {seeds!r}")
    return tuple(int(s) for s in seeds)


def _seed_label(seeds: Sequence[int]) -> str:
    if list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"seeds {seeds[0]}-{seeds[-1]}"
    return "seeds " + ",".join(map(str, seeds))


@dataclass(frozen=True)
class SeedStats:
    """The values one configuration gave, one per seed.

    ```python
    from companion.seeds import SeedStats

    s = SeedStats(seeds=(0, 1, 2), values=(0.90, 0.92, 0.94))
    assert abs(s.mean - 0.92) < 1e-12 and abs(s.std - 0.02) < 1e-12
    assert str(s) == "0.920 ± 0.020 over seeds 0-2"
    ```
    """

    seeds: tuple[int, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.seeds) != len(self.values) or len(self.values) < 2:
            raise ValueError(
                f"expected one value per seed (at least 2), got {len(self.seeds)} "
                f"seeds and {len(self.values)} values"
            )

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)

    @property
    def std(self) -> float:
        """Sample standard deviation (n - 1 in the denominator)."""
        m = self.mean
        return math.sqrt(sum((v - m) ** 2 for v in self.values) / (len(self.values) - 1))

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def max(self) -> float:
        return max(self.values)

    def format(self, digits: int = 3) -> str:
        """``mean ± std over seeds a-b``, both rounded to ``digits`` decimals.

        ```python
        from companion.seeds import SeedStats

        s = SeedStats((0, 1, 2, 3, 4), (0.5, 0.6, 0.7, 0.6, 0.6))
        assert s.format(2) == "0.60 ± 0.07 over seeds 0-4"
        ```
        """
        return f"{self.mean:.{digits}f} ± {self.std:.{digits}f} over {_seed_label(self.seeds)}"

    def __str__(self) -> str:
        return self.format()


def over_seeds(
    run: Callable[[int], float],
    seeds: Iterable[int] = range(MIN_SEEDS),
    minimum: int = MIN_SEEDS,
    seed_everything: bool = True,
) -> SeedStats:
    """Call ``run(seed)`` for every seed (after ``seed_all(seed)``) and collect the numbers.

    ```python
    from companion.seeds import over_seeds

    stats = over_seeds(lambda seed: 0.9 + seed / 100, seeds=range(5))
    assert str(stats) == "0.920 ± 0.016 over seeds 0-4"
    ```
    """
    seeds = _check_seeds(seeds, minimum)
    values = []
    for seed in seeds:
        if seed_everything:
            seed_all(seed)
        value = float(run(seed))
        if math.isnan(value):
            raise ValueError(f"run(seed={seed}) returned NaN; expected a number")
        values.append(value)
    return SeedStats(seeds, tuple(values))


def clearly_better(a: SeedStats, b: SeedStats, k: float = 2.0) -> bool:
    """True when ``a``'s mean exceeds ``b``'s by more than ``k`` standard errors of the difference.

    ```python
    from companion.seeds import SeedStats, clearly_better

    a = SeedStats((0, 1, 2, 3, 4), (0.91, 0.92, 0.93, 0.92, 0.92))
    b = SeedStats((0, 1, 2, 3, 4), (0.86, 0.88, 0.87, 0.89, 0.88))
    assert clearly_better(a, b)      # 0.920 vs 0.876: more than 2 standard errors apart
    assert not clearly_better(b, a)
    ```
    """
    if k <= 0:
        raise ValueError(f"expected k > 0, got {k}")
    se = math.sqrt(a.std**2 / len(a.values) + b.std**2 / len(b.values))
    return a.mean - b.mean > k * se and a.mean > b.mean


def compare(
    configs: Mapping[str, Callable[[int], float]],
    seeds: Iterable[int] = range(MIN_SEEDS),
    minimum: int = MIN_SEEDS,
) -> dict[str, SeedStats]:
    """``over_seeds`` for each named configuration, on the same seeds.

    ```python
    from companion.seeds import compare

    results = compare({"wide": lambda seed: 0.9 + seed / 100, "narrow": lambda seed: 0.8})
    assert list(results) == ["wide", "narrow"] and results["narrow"].std == 0.0
    ```
    """
    if not configs:
        raise ValueError("expected at least one configuration, got none")
    seeds = _check_seeds(seeds, minimum)
    return {name: over_seeds(run, seeds, minimum) for name, run in configs.items()}


def table(results: Mapping[str, SeedStats], digits: int = 3, header: str = "config") -> str:
    """A fixed-width table: name, mean ± std, min, max, and the seeds.

    ```python
    from companion.seeds import compare, table

    results = compare({"wide": lambda seed: 0.9 + seed / 100, "narrow": lambda seed: 0.8})
    assert table(results).splitlines()[-1] == "seeds 0-4"
    ```
    """
    if not results:
        raise ValueError("expected at least one result, got none")
    width = max(len(header), *(len(n) for n in results))
    lines = [f"{header:<{width}}  mean ± std{'':>{2 * digits - 3}}  min{'':>{digits - 1}}  max"]
    for name, s in results.items():
        lines.append(
            f"{name:<{width}}  {s.mean:.{digits}f} ± {s.std:.{digits}f}  "
            f"{s.min:.{digits}f}  {s.max:.{digits}f}"
        )
    seeds = {s.seeds for s in results.values()}
    lines.append(_seed_label(next(iter(seeds))) if len(seeds) == 1 else "seeds differ per row")
    return "\n".join(lines)
