import numpy as np
import pytest
import torch
from torch import nn

from companion import data
from companion.ensemble import Ensemble, evaluate, train_ensemble
from companion.training import train_torch


def _problem(n=90, d=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5).astype(np.int64)
    return x, y % classes


def _mlp(p=0.0):
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(p), nn.Linear(8, 3))


def _sgd(params):
    return torch.optim.SGD(params, lr=0.3, weight_decay=1e-3)


def test_members_equal_separate_runs_without_dropout():
    x, y = _problem()
    ens, hists = train_ensemble(
        _mlp,
        [0, 3],
        x,
        y,
        loss_fn=nn.CrossEntropyLoss(),
        epochs=3,
        batch_size=16,
        optimizer=_sgd,
        test=(x[:30], y[:30]),
    )
    for seed, hist in zip([0, 3], hists):
        torch.manual_seed(seed)
        net = _mlp()
        ref = train_torch(
            net,
            data.torch_batches(x, y, 16, seed=seed),
            data.torch_batches(x[:30], y[:30], 30, shuffle=False),
            nn.CrossEntropyLoss(),
            3,
            _sgd(net.parameters()),
        )
        for metric in hist.METRICS:
            np.testing.assert_allclose(getattr(hist, metric), getattr(ref, metric), atol=1e-5)
        member = ens.member(seed)
        for a, b in zip(member.parameters(), net.parameters()):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_dropout_masks_differ_between_members():
    torch.manual_seed(0)

    def make():
        layer = nn.Linear(4, 4, bias=False)
        nn.init.eye_(layer.weight)
        return nn.Sequential(layer, nn.Dropout(0.5))

    ens = Ensemble(make, [0, 1])
    out = ens(torch.ones(200, 4))
    assert out.shape == (2, 200, 4)
    assert set(out.unique().tolist()) == {0.0, 2.0}
    assert (out[0] != out[1]).any()
    assert ens.eval()(torch.ones(3, 4)).eq(1).all()


def test_evaluate_reports_each_member():
    x, y = _problem()
    ens = Ensemble(_mlp, [1, 2])
    (l1, a1), (l2, a2) = evaluate(ens, x, y, nn.CrossEntropyLoss())
    for seed, (loss, acc) in zip([1, 2], [(l1, a1), (l2, a2)]):
        net = ens.member(seed).eval()
        out = net(torch.from_numpy(x)).detach()
        assert abs(loss - float(nn.CrossEntropyLoss()(out, torch.from_numpy(y)))) < 1e-5
        assert acc == float((out.argmax(1).numpy() == y).mean())


def test_regression_has_no_accuracy():
    x = np.random.default_rng(0).normal(size=(20, 6)).astype(np.float32)
    y = x[:, :1] * 2.0
    _, hists = train_ensemble(
        lambda: nn.Linear(6, 1),
        [0, 1],
        x,
        y,
        loss_fn=nn.MSELoss(),
        epochs=2,
        batch_size=5,
        optimizer=_sgd,
    )
    assert hists[0].train_acc == [None, None] and hists[0].test_loss == [None, None]


def test_bad_input_names_the_expectation():
    x, y = _problem()
    with pytest.raises(ValueError, match="distinct non-negative integer seeds"):
        Ensemble(_mlp, [0, 0])
    with pytest.raises(ValueError, match="at least 1 seeds, got 0"):
        Ensemble(_mlp, [])
    with pytest.raises(ValueError, match="with parameters"):
        Ensemble(nn.ReLU, [0])
    with pytest.raises(ValueError, match="nn.Module"):
        Ensemble(lambda: lambda t: t, [0])
    with pytest.raises(ValueError, match="without running statistics, got BatchNorm1d"):
        Ensemble(lambda: nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4)), [0])
    with pytest.raises(ValueError, match=r"expected input of shape \(2, N, ...\)"):
        Ensemble(_mlp, [0, 1]).per_member(torch.ones(3, 5, 6))
    with pytest.raises(ValueError, match="one of the seeds"):
        Ensemble(_mlp, [0, 1]).member(5)
    with pytest.raises(ValueError, match="same non-zero length"):
        train_ensemble(
            _mlp,
            [0],
            x,
            y[:-1],
            loss_fn=nn.CrossEntropyLoss(),
            epochs=1,
            batch_size=8,
            optimizer=_sgd,
        )
    with pytest.raises(ValueError, match="positive integer batch_size"):
        train_ensemble(
            _mlp, [0], x, y, loss_fn=nn.CrossEntropyLoss(), epochs=1, batch_size=0, optimizer=_sgd
        )
    with pytest.raises(ValueError, match="positive integer number of epochs"):
        train_ensemble(
            _mlp, [0], x, y, loss_fn=nn.CrossEntropyLoss(), epochs=0, batch_size=8, optimizer=_sgd
        )
    with pytest.raises(ValueError, match="batch mean"):
        train_ensemble(
            _mlp,
            [0],
            x,
            y,
            loss_fn=nn.CrossEntropyLoss(reduction="none"),
            epochs=1,
            batch_size=8,
            optimizer=_sgd,
        )
    with pytest.raises(ValueError, match="same non-zero length"):
        evaluate(Ensemble(_mlp, [0]), x, y[:3], nn.CrossEntropyLoss())
