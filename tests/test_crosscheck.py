"""pagerun.crosscheck: the counts a page computes with companion.sizing are compared with
torchinfo (torch) and MXNet's shape inference (Gluon) while the page runs; a miscount fails the
block; the checks change nothing the page can see."""

import contextlib
import textwrap

import pytest
from pagefiles import write_page

from pagerun import crosscheck
from pagerun.execute import PageRunner

torch = pytest.importorskip("torch")
pytest.importorskip("torchinfo")
from torch import nn  # noqa: E402

from companion import sizing  # noqa: E402

PAGE = textwrap.dedent("""\
    # Sizes

    ```python
    from torch import nn
    from companion import sizing
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                        nn.Linear(4 * 6 * 6, 10))
    rows = sizing.layer_table(net, (2, 1, 8, 8))
    print(sizing.count_params(net), sizing.count_macs(net, (2, 1, 8, 8)), len(rows))
    ```

    ```output
    1498 2736 5
    ```
""")


def test_a_page_counts_are_cross_checked(tmp_path):
    before = sum(crosscheck.CHECKS.values())
    (result,) = PageRunner(write_page(tmp_path, PAGE), compare_outputs=True).run_all()
    assert result.status == "passed", result.error
    # layer_table checks twice (rows, MACs); count_macs and count_params once each
    assert sum(crosscheck.CHECKS.values()) - before == 4


@pytest.mark.parametrize("name", ["count_params", "count_macs", "layer_table"])
def test_a_miscount_fails_the_block(tmp_path, monkeypatch, name):
    """Mutation check: a counting function that is off by one is caught by torchinfo."""
    original = getattr(sizing, name)
    original = getattr(original, "__wrapped__", original)

    def off_by_one(*args, **kwargs):
        result = original(*args, **kwargs)
        if isinstance(result, list):
            row = result[0]
            return [sizing.LayerRow(row.name, row.kind, row.out_shape, row.params + 1,
                                    row.macs, row.activations)] + result[1:]  # fmt: skip
        return result + 1

    monkeypatch.setattr(sizing, name, off_by_one)
    results = PageRunner(write_page(tmp_path, PAGE), compare_outputs=False).run_all()
    assert results[0].status == "failed"
    assert f"companion.sizing.{name} gives" in results[0].error and "torchinfo" in results[0].error


def test_a_gluon_miscount_fails_the_block(tmp_path, monkeypatch):
    pytest.importorskip("mxnet")
    original = getattr(sizing.layer_table_gluon, "__wrapped__", sizing.layer_table_gluon)

    def drop_last_layer(*args, **kwargs):
        return original(*args, **kwargs)[:-1]

    page = textwrap.dedent("""\
        ```python
        from mxnet.gluon import nn
        from companion import sizing
        net = nn.Sequential()
        net.add(nn.Conv2D(4, 3, activation="relu"), nn.MaxPool2D(2), nn.Dense(10))
        print(sum(r.params for r in sizing.layer_table_gluon(net, (1, 1, 8, 8))))
        ```

        ```output
        410
        ```
    """)
    # MXNet code in a shared block: page order, not notebook order
    path = write_page(tmp_path, page)
    (ok,) = PageRunner(path, compare_outputs=True, first=None).run_all()
    assert ok.status == "passed", ok.error
    monkeypatch.setattr(sizing, "layer_table_gluon", drop_last_layer)
    (bad,) = PageRunner(path, compare_outputs=False, first=None).run_all()
    assert bad.status == "failed" and "MXNet's shape inference" in bad.error


def test_the_checks_keep_modes_and_the_random_stream():
    """The same calls with and without the checks leave the same random stream, modes and state
    (layer_table's own forward draws dropout masks in training mode; the checks add nothing)."""

    def calls(checked: bool) -> tuple:
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.BatchNorm1d(4))
        net[2].eval()
        with crosscheck.active() if checked else contextlib.nullcontext():
            sizing.layer_table(net, (2, 4))
            sizing.count_macs(net, (2, 4))
        return torch.rand(3), [m.training for m in net], int(net[2].num_batches_tracked)

    before = sum(crosscheck.CHECKS.values())
    plain, checked = calls(False), calls(True)
    assert sum(crosscheck.CHECKS.values()) - before == 3
    assert torch.equal(plain[0], checked[0]) and plain[1:] == checked[1:] == (
        [True] * 2 + [False],
        0,
    )


def test_outside_a_page_nothing_is_checked():
    crosscheck.install()
    before = sum(crosscheck.CHECKS.values())
    sizing.count_macs(nn.Linear(3, 2), (1, 3))
    assert sum(crosscheck.CHECKS.values()) == before
