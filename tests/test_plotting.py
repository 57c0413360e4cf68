"""Tests of companion.plotting."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from companion import plotting
from companion.training import History


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def history(acc: bool = True) -> History:
    h = History()
    for e in range(3):
        h.append(
            1.0 / (e + 1),
            0.5 + 0.1 * e if acc else None,
            1.2 / (e + 1),
            0.4 + 0.1 * e if acc else None,
        )
    return h


def test_plot_curves_draws_each_series():
    fig, ax = plotting.plot_curves(
        [1, 2, 3], {"train": [3, 2, 1], "test": [4, None, 2]}, "degree", "loss", logy=True
    )
    assert [line.get_label() for line in ax.get_lines()] == ["train", "test"]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "degree" and ax.get_ylabel() == "loss"
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), [3, 2, 1])
    assert np.isnan(ax.get_lines()[1].get_ydata()[1])
    assert ax.get_legend() is not None and fig is ax.figure


def test_plot_curves_on_given_axes():
    fig, ax = plt.subplots()
    fig2, ax2 = plotting.plot_curves([0, 1], {"a": [1, 2]}, "x", "y", ax=ax, title="t")
    assert fig2 is fig and ax2 is ax and ax.get_title() == "t" and ax.get_legend() is None


@pytest.mark.parametrize(
    "x, series, logy, message",
    [
        ([1, 2, 3], {"a": [1, 2]}, False, r"series 'a': expected 3 values"),
        ([], {"a": []}, False, "non-empty 1-D"),
        ([1, 2], {}, False, "at least one series"),
        ([1, 2], {"a": [1, 0]}, True, "logy needs values > 0"),
    ],
)
def test_plot_curves_bad_input(x, series, logy, message):
    with pytest.raises(ValueError, match=message):
        plotting.plot_curves(x, series, "x", "y", logy=logy)


def test_plot_history_both_panels():
    fig, axes = plotting.plot_history(history(), title="run")
    assert len(axes) == 2
    assert axes[0].get_ylabel() == "loss" and axes[1].get_ylabel() == "accuracy"
    np.testing.assert_array_equal(axes[0].get_lines()[0].get_xdata(), [1, 2, 3])
    assert [line.get_label() for line in axes[1].get_lines()] == ["train", "test"]


def test_plot_history_regression_and_given_axes():
    fig, ax = plt.subplots()
    fig2, ax2 = plotting.plot_history(history(acc=False), ax=ax)
    assert ax2 is ax and ax.get_ylabel() == "loss"
    fig3, ax3 = plotting.plot_history(history(acc=False))
    assert ax3.get_ylabel() == "loss"


@pytest.mark.parametrize(
    "h, kwargs, message",
    [
        (history(acc=False), {"what": "acc"}, "needs accuracies"),
        (history(), {"what": "weights"}, "expected what in"),
        (History(), {}, "at least 1 epoch"),
        ({"train_loss": [1]}, {}, "expected a companion.training.History"),
    ],
)
def test_plot_history_bad_input(h, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plotting.plot_history(h, **kwargs)


def test_plot_history_both_needs_no_axes():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="two panels"):
        plotting.plot_history(history(), ax=ax, what="both")


def test_plot_bands_draws_mean_and_band():
    fig, ax = plotting.plot_bands(
        [1, 2, 3],
        {"a": [[1, 2, 3], [3, 4, 5]], "b": [[0, 0, 1], [0, 1, 1]]},
        "step",
        "acc",
        title="t",
    )
    assert [line.get_label() for line in ax.get_lines()] == ["a (2 seeds)", "b (2 seeds)"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [2, 3, 4])
    assert len(ax.collections) == 2 and ax.get_title() == "t"
    plt.close(fig)


@pytest.mark.parametrize(
    "x, runs, logy, message",
    [
        ([], {"a": [[1], [2]]}, False, "non-empty 1-D"),
        ([1, 2], {}, False, "at least one set"),
        ([1, 2], {"a": [[1, 2]]}, False, r"expected \(seeds >= 2, 2\)"),
        ([1, 2], {"a": [[1, 2, 3], [1, 2, 3]]}, False, r"got shape \(2, 3\)"),
        ([1, 2], {"a": [[1, 0], [1, 2]]}, True, "logy needs values > 0"),
    ],
)
def test_plot_bands_bad_input(x, runs, logy, message):
    with pytest.raises(ValueError, match=message):
        plotting.plot_bands(x, runs, "x", "y", logy=logy)
    plt.close("all")
