"""Tests of companion.training: seeding, History, the PyTorch and MXNet loops and their parity."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from torch import nn

from companion import data, training


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models: one thread is faster than two on a busy CPU, and sums are deterministic."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def blobs(n: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well separated Gaussian blobs in 2-D: a classification problem learnable in a few
    epochs."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    centers = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    x = centers[y] + rng.normal(scale=0.5, size=(n, 2))
    return x.astype(np.float32), y.astype(np.int64)


def test_full_scale(monkeypatch):
    monkeypatch.delenv("COMPANION_SCALE", raising=False)
    assert training.full_scale() is False
    monkeypatch.setenv("COMPANION_SCALE", "FULL")
    assert training.full_scale() is True
    monkeypatch.setenv("COMPANION_SCALE", "huge")
    with pytest.raises(ValueError, match="'cpu' or 'full'"):
        training.full_scale()


def test_seed_all_seeds_python_numpy_torch():
    training.seed_all(7)
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    training.seed_all(7)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == a
    with pytest.raises(ValueError, match="non-negative integer seed"):
        training.seed_all(-1)


def test_seed_all_seeds_mxnet_when_imported():
    import mxnet as mx

    training.seed_all(3)
    a = mx.nd.random.uniform(shape=(3,)).asnumpy()
    training.seed_all(3)
    np.testing.assert_array_equal(mx.nd.random.uniform(shape=(3,)).asnumpy(), a)


def test_history_last():
    h = training.History()
    with pytest.raises(ValueError, match="empty"):
        h.last()
    h.append(1.0, 0.5, 2.0, None)
    h.append(0.5, 0.75, 1.0, None)
    assert h.epochs == 2
    assert h.last() == {"train_loss": 0.5, "train_acc": 0.75, "test_loss": 1.0, "test_acc": None}
    assert h.last("train_acc") == 0.75
    with pytest.raises(ValueError, match="expected metric in"):
        h.last("val_loss")


def test_accuracy():
    logits = torch.tensor([[0.1, 0.9], [2.0, -1.0], [0.0, 1.0], [3.0, 0.0]])
    assert training.accuracy(logits, torch.tensor([1, 0, 0, 0])) == 0.75
    assert training.accuracy(logits.numpy(), np.array([1, 0, 1, 0])) == 1.0
    with pytest.raises(ValueError, match=r"logits \(N, C\) and labels \(N,\)"):
        training.accuracy(logits, torch.tensor([1, 0]))


def torch_classifier() -> nn.Module:
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))


def test_train_torch_learns_and_is_reproducible():
    x, y = blobs()
    runs = []
    for _ in range(2):
        training.seed_all(0)
        net = torch_classifier()
        h = training.train_torch(
            net,
            data.torch_batches(x[:80], y[:80], 16),
            data.torch_batches(x[80:], y[80:], 40),
            nn.CrossEntropyLoss(),
            5,
            torch.optim.SGD(net.parameters(), lr=0.3),
        )
        runs.append(h)
    assert runs[0] == runs[1]
    h = runs[0]
    assert h.epochs == 5 and len(h.test_acc) == 5
    assert h.train_loss[-1] < h.train_loss[0]
    assert h.last("test_acc") >= 0.95 and h.last("train_acc") >= 0.9


def test_train_torch_per_example_loss_equals_mean_loss():
    x, y = blobs()
    hs = []
    for loss in (nn.CrossEntropyLoss(), nn.CrossEntropyLoss(reduction="none")):
        training.seed_all(0)
        net = torch_classifier()
        hs.append(
            training.train_torch(
                net,
                data.torch_batches(x, y, 32),
                None,
                loss,
                2,
                torch.optim.SGD(net.parameters(), lr=0.1),
            )
        )
    np.testing.assert_allclose(hs[0].train_loss, hs[1].train_loss, rtol=1e-6)
    assert hs[0].test_loss == [None, None] and hs[0].test_acc == [None, None]


def test_train_torch_regression_has_no_accuracy():
    r = data.high_dim_linear(n_train=50, num_inputs=5)
    training.seed_all(0)
    net = nn.Linear(5, 1)
    h = training.train_torch(
        net,
        data.torch_batches(r.train_x, r.train_y, 10),
        data.torch_batches(r.test_x, r.test_y, 50),
        nn.MSELoss(),
        20,
        torch.optim.SGD(net.parameters(), lr=0.05),
    )
    assert h.train_acc[-1] is None and h.test_acc[-1] is None
    assert h.last("test_loss") < 0.01


def test_evaluate_torch_restores_training_mode():
    x, y = blobs(20)
    net = nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.5))
    net.train()
    loss, acc = training.evaluate_torch(net, data.torch_batches(x, y, 7), nn.CrossEntropyLoss())
    assert net.training and 0 <= acc <= 1 and loss > 0
    net.eval()
    training.evaluate_torch(net, data.torch_batches(x, y, 7), nn.CrossEntropyLoss())
    assert not net.training


def test_train_bad_epochs_and_empty_iterator():
    net = torch_classifier()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="positive integer number of epochs"):
        training.train_torch(net, [], None, nn.CrossEntropyLoss(), 0, opt)
    with pytest.raises(ValueError, match="no examples"):
        training.train_torch(net, [], None, nn.CrossEntropyLoss(), 1, opt)


def test_train_torch_progress_bar(capsys):
    x, y = blobs(32)
    net = torch_classifier()
    h = training.train_torch(
        net,
        data.torch_batches(x, y, 16),
        None,
        nn.CrossEntropyLoss(),
        2,
        torch.optim.SGD(net.parameters(), lr=0.1),
        progress=True,
    )
    assert h.epochs == 2
    assert "train_torch" in capsys.readouterr().err


# --------------------------------------------------------------------------- MXNet


def mx_classifier():
    from mxnet.gluon import nn as mnn

    net = mnn.Sequential()
    net.add(mnn.Dense(8, activation="relu"), mnn.Dense(3))
    net.initialize()
    return net


def copy_mx_to_torch(mx_net, torch_net) -> None:
    """Dense layers in order -> Linear layers in order (same (out, in) layout)."""
    mx_params = [p.data().asnumpy() for p in mx_net.collect_params().values()]
    with torch.no_grad():
        for p, value in zip(torch_net.parameters(), mx_params, strict=True):
            p.copy_(torch.from_numpy(value))


def test_train_mxnet_matches_train_torch():
    """Same initial weights, same batches, Gluon's per-example loss + step(N) = torch's mean
    loss."""
    from mxnet import gluon

    x, y = blobs()
    mx_net = mx_classifier()
    mx_net(data._to_mxnet(x[:2]))  # finish deferred initialisation
    torch_net = torch_classifier()
    copy_mx_to_torch(mx_net, torch_net)
    h_mx = training.train_mxnet(
        mx_net,
        data.mxnet_batches(x[:80], y[:80], 16),
        data.mxnet_batches(x[80:], y[80:], 40),
        gluon.loss.SoftmaxCrossEntropyLoss(),
        3,
        gluon.Trainer(mx_net.collect_params(), "sgd", {"learning_rate": 0.3}),
    )
    h_t = training.train_torch(
        torch_net,
        data.torch_batches(x[:80], y[:80], 16),
        data.torch_batches(x[80:], y[80:], 40),
        nn.CrossEntropyLoss(),
        3,
        torch.optim.SGD(torch_net.parameters(), lr=0.3),
    )
    for metric in training.History.METRICS:
        np.testing.assert_allclose(
            getattr(h_mx, metric), getattr(h_t, metric), atol=1e-5, err_msg=metric
        )
    assert h_mx.last("test_acc") >= 0.95


def test_train_mxnet_regression_and_evaluate():
    from mxnet import gluon
    from mxnet.gluon import nn as mnn

    r = data.high_dim_linear(n_train=50, num_inputs=5)
    net = mnn.Dense(1)
    net.initialize()
    h = training.train_mxnet(
        net,
        data.mxnet_batches(r.train_x, r.train_y, 10),
        None,
        gluon.loss.L2Loss(),
        20,
        gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.05}),
    )
    assert h.train_acc[-1] is None and h.test_loss[-1] is None
    loss, acc = training.evaluate_mxnet(
        net, data.mxnet_batches(r.test_x, r.test_y, 50), gluon.loss.L2Loss()
    )
    assert acc is None and loss < 0.005


def test_train_mxnet_rejects_mean_loss():
    from mxnet import gluon

    x, y = blobs(32)
    net = mx_classifier()
    ce = gluon.loss.SoftmaxCrossEntropyLoss()
    with pytest.raises(ValueError, match=r"per-example loss of shape \(16,\)"):
        training.train_mxnet(
            net,
            data.mxnet_batches(x, y, 16),
            None,
            lambda o, t: ce(o, t).mean(),
            1,
            gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1}),
        )


def test_train_torch_accepts_plain_function_and_custom_optimizer():
    """A from-scratch model (a function of its parameter tensors) and a hand-written SGD."""
    x, y = blobs()
    g = torch.Generator().manual_seed(0)
    w = (torch.randn(2, 3, generator=g) * 0.1).requires_grad_()
    b = torch.zeros(3, requires_grad=True)

    class SGD:
        def zero_grad(self):
            for p in (w, b):
                p.grad = None

        def step(self):
            with torch.no_grad():
                for p in (w, b):
                    p -= 0.3 * p.grad

    h = training.train_torch(
        lambda X: X @ w + b,
        data.torch_batches(x, y, 16),
        data.torch_batches(x, y, 60),
        nn.CrossEntropyLoss(reduction="none"),
        5,
        SGD(),
    )
    assert h.last("test_acc") >= 0.95


def test_steps_per_epoch_and_epochs_for_steps():
    assert training.steps_per_epoch(60_000, 256) == 235
    assert training.steps_per_epoch(4000, 256) == 16
    assert training.epochs_for_steps(60_000, 256) == 10  # the book's budget
    assert training.epochs_for_steps(4000, 256) == 147  # 147 x 16 = 2,352 >= 2,350
    assert training.epochs_for_steps(100, 10, steps=25) == 3
    with pytest.raises(ValueError, match="positive integer batch_size"):
        training.steps_per_epoch(100, 0)
    with pytest.raises(ValueError, match="positive integer n_train"):
        training.epochs_for_steps(2.5, 10)
    with pytest.raises(ValueError, match="number of steps"):
        training.epochs_for_steps(100, 10, steps=0)
