"""Plotting helpers for the pages: training histories and named curves against a shared x axis.

Figures are left open (the site build renders open figures under the block that made them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .training import History

DEFAULT_FIGSIZE = (6, 3.5)


def _new_axes(ax: Any, ncols: int = 1) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    width = DEFAULT_FIGSIZE[0] if ncols == 1 else 10
    fig, axes = plt.subplots(1, ncols, figsize=(width, DEFAULT_FIGSIZE[1]))
    return fig, axes


def _check_x(x: Sequence[float]) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or len(x) == 0:
        raise ValueError(f"expected x to be a non-empty 1-D sequence, got shape {x.shape}")
    return x


def plot_curves(
    x: Sequence[float],
    series: dict[str, Sequence[float]],
    xlabel: str,
    ylabel: str,
    logy: bool = False,
    ax: Any = None,
    title: str | None = None,
    logx: bool = False,
    marker: str | None = None,
) -> tuple[Any, Any]:
    """Plot named y-series against ``x`` on one axes (a new 6x3.5 figure unless ``ax`` is given).

    Every series must have ``len(x)`` values (None values are skipped). Returns ``(fig, ax)``.

    ```python
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from companion.plotting import plot_curves

    fig, ax = plot_curves([1, 2, 3], {"train": [1.0, 0.5, 0.3], "test": [1.1, None, 0.4]},
                          "epoch", "loss", logy=True)
    assert ax.get_yscale() == "log" and len(ax.get_lines()) == 2
    plt.close(fig)
    ```
    """
    x = _check_x(x)
    if not series:
        raise ValueError("expected at least one series, got an empty dict")
    arrays = {}
    for name, ys in series.items():
        ys = np.array([np.nan if v is None else v for v in ys], dtype=float)
        if ys.shape != x.shape:
            raise ValueError(
                f"series {name!r}: expected {len(x)} values (one per x), got shape {ys.shape}"
            )
        if logy and np.any(ys[~np.isnan(ys)] <= 0):
            raise ValueError(f"series {name!r}: logy needs values > 0, got min {np.nanmin(ys)}")
        arrays[name] = ys
    fig, ax = _new_axes(ax)
    for name, ys in arrays.items():
        ax.plot(x, ys, label=name, marker=marker)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if len(arrays) > 1:
        ax.legend()
    ax.grid(True, alpha=0.3)
    return fig, ax


def plot_history(
    history: History,
    ax: Any = None,
    what: str | None = None,
    title: str | None = None,
    logy: bool = False,
) -> tuple[Any, Any]:
    """Plot a [`History`][companion.training.History] per epoch.

    ``what``: ``"loss"``, ``"acc"`` or ``"both"`` (two panels; default when there are accuracies and
    no ``ax`` is given). With ``ax`` given, one panel is drawn on it (``"loss"`` by default).
    Returns ``(fig, ax)`` or ``(fig, [ax_loss, ax_acc])``.

    ```python
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from companion.plotting import plot_history
    from companion.training import History

    h = History([0.9, 0.5], [0.6, 0.8], [1.0, 0.7], [0.55, 0.75])
    fig, (ax_loss, ax_acc) = plot_history(h)          # two panels: loss and accuracy
    assert ax_acc.get_ylabel() == "accuracy"
    plt.close(fig)
    ```
    """
    if not isinstance(history, History):
        raise ValueError(f"expected a companion.training.History, got {type(history).__name__}")
    if history.epochs == 0:
        raise ValueError("expected a history with at least 1 epoch, got 0")
    has_acc = any(v is not None for v in history.train_acc + history.test_acc)
    if what is None:
        what = "both" if has_acc and ax is None else "loss"
    if what not in {"loss", "acc", "both"}:
        raise ValueError(f"expected what in {{'loss', 'acc', 'both'}}, got {what!r}")
    if what != "loss" and not has_acc:
        raise ValueError(f"what={what!r} needs accuracies, but this history has none (regression?)")
    if what == "both" and ax is not None:
        raise ValueError("what='both' draws two panels: pass ax=None, or what='loss' / 'acc'")
    epochs = np.arange(1, history.epochs + 1)

    def panel(metric: str, axis: Any) -> None:
        series = {"train": getattr(history, f"train_{metric}")}
        if any(v is not None for v in getattr(history, f"test_{metric}")):
            series["test"] = getattr(history, f"test_{metric}")
        label = "loss" if metric == "loss" else "accuracy"
        plot_curves(
            epochs,
            series,
            "epoch",
            label,
            logy=logy and metric == "loss",
            ax=axis,
            marker="o" if history.epochs < 20 else None,
        )

    if what == "both":
        fig, axes = _new_axes(None, ncols=2)
        panel("loss", axes[0])
        panel("acc", axes[1])
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        return fig, list(axes)
    fig, axis = _new_axes(ax)
    panel(what, axis)
    if title:
        axis.set_title(title)
    return fig, axis


def plot_bands(
    x: Sequence[float],
    runs: dict[str, Sequence[Sequence[float]]],
    xlabel: str,
    ylabel: str,
    ax: Any = None,
    title: str | None = None,
    logy: bool = False,
) -> tuple[Any, Any]:
    """Plot each named set of curves (one per seed) as its mean with a ±1 std band.

    ``runs[name]`` is a list of curves, each with ``len(x)`` values (at least 2 curves).
    Returns ``(fig, ax)``.

    ```python
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from companion.plotting import plot_bands

    fig, ax = plot_bands([1, 2, 3], {"sgd": [[1.0, 0.6, 0.4], [1.2, 0.7, 0.5]]}, "epoch", "loss")
    assert ax.get_legend().get_texts()[0].get_text() == "sgd (2 seeds)"
    plt.close(fig)
    ```
    """
    x = _check_x(x)
    if not runs:
        raise ValueError("expected at least one set of runs, got an empty dict")
    arrays = {}
    for name, curves in runs.items():
        a = np.asarray(curves, dtype=float)
        if a.ndim != 2 or a.shape[1] != len(x) or a.shape[0] < 2:
            raise ValueError(
                f"runs {name!r}: expected (seeds >= 2, {len(x)}) values, got shape {a.shape}"
            )
        if logy and np.any(a <= 0):
            raise ValueError(f"runs {name!r}: logy needs values > 0, got min {a.min()}")
        arrays[name] = a
    fig, ax = _new_axes(ax)
    for name, a in arrays.items():
        mean, std = a.mean(axis=0), a.std(axis=0, ddof=1)
        (line,) = ax.plot(x, mean, label=f"{name} ({a.shape[0]} seeds)")
        ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    ax.grid(True, alpha=0.3)
    return fig, ax
