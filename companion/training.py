"""Training loops for PyTorch and MXNet with per-epoch history; seeding; the CPU/full scale switch.

Both loops follow the 2019 book's ``train_ch3``: the training loss and accuracy of an epoch are
averaged over the minibatches as they are trained (per example), the test loss and accuracy are
measured after the epoch. The MXNet loop is Gluon's: per-example loss, ``l.backward()``,
``trainer.step(batch_size)``. mxnet is imported only inside the MXNet functions.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SCALE_ENV = "COMPANION_SCALE"
BOOK_STEPS = 2350  # the book's budget: 10 epochs x ceil(60,000 / 256) = 10 x 235 SGD steps


def full_scale() -> bool:
    """True when ``COMPANION_SCALE=full``: experiments run at the book's scale instead of CPU scale.

    ```python
    from unittest import mock
    from companion.training import full_scale

    with mock.patch.dict("os.environ", {"COMPANION_SCALE": "cpu"}):   # the default when unset
        assert full_scale() is False
    with mock.patch.dict("os.environ", {"COMPANION_SCALE": "full"}):
        assert full_scale() is True
    ```
    """
    value = os.environ.get(SCALE_ENV, "cpu").strip().lower()
    if value not in {"cpu", "full"}:
        raise ValueError(f"{SCALE_ENV} must be 'cpu' or 'full', got {value!r}")
    return value == "full"


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """SGD steps in one pass over ``n_train`` examples (the last, short batch counts).

    ```python
    from companion.training import steps_per_epoch

    assert steps_per_epoch(60000, 256) == 235     # the last, short batch counts
    ```
    """
    for name, value in (("n_train", n_train), ("batch_size", batch_size)):
        if int(value) != value or value < 1:
            raise ValueError(f"expected a positive integer {name}, got {value!r}")
    return -(-int(n_train) // int(batch_size))


def epochs_for_steps(n_train: int, batch_size: int, steps: int = BOOK_STEPS) -> int:
    """The fewest epochs that give at least ``steps`` SGD steps (default: the book's 2,350).

    ```python
    from companion.training import BOOK_STEPS, epochs_for_steps

    assert epochs_for_steps(60000, 256) == 10 and BOOK_STEPS == 2350
    assert epochs_for_steps(4000, 64) == 38        # 63 steps per epoch: 38 x 63 >= 2,350
    ```
    """
    if int(steps) != steps or steps < 1:
        raise ValueError(f"expected a positive integer number of steps, got {steps!r}")
    per_epoch = steps_per_epoch(n_train, batch_size)
    return -(-int(steps) // per_epoch)


def seed_all(seed: int) -> None:
    """Seed python's ``random``, numpy, torch, and MXNet when it is already imported.

    ```python
    import numpy as np
    import torch
    from companion.training import seed_all

    seed_all(0)
    a = (np.random.rand(), torch.rand(1).item())
    seed_all(0)
    assert a == (np.random.rand(), torch.rand(1).item())
    ```
    """
    if int(seed) != seed or seed < 0:
        raise ValueError(f"expected a non-negative integer seed, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    import torch

    torch.manual_seed(seed)
    if "mxnet" in sys.modules:
        sys.modules["mxnet"].random.seed(seed)


@dataclass
class History:
    """Per-epoch metrics; accuracies are None for regression, test values None without test data.

    ```python
    from companion.training import History

    h = History()
    h.append(train_loss=0.9, train_acc=0.6, test_loss=1.0, test_acc=0.55)
    h.append(train_loss=0.5, train_acc=0.8, test_loss=0.7, test_acc=0.75)
    assert h.epochs == 2 and h.last("test_acc") == 0.75
    ```
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float | None] = field(default_factory=list)
    test_loss: list[float | None] = field(default_factory=list)
    test_acc: list[float | None] = field(default_factory=list)

    METRICS = ("train_loss", "train_acc", "test_loss", "test_acc")

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def append(
        self,
        train_loss: float,
        train_acc: float | None,
        test_loss: float | None,
        test_acc: float | None,
    ) -> None:
        self.train_loss.append(train_loss)
        self.train_acc.append(train_acc)
        self.test_loss.append(test_loss)
        self.test_acc.append(test_acc)

    def last(self, metric: str | None = None) -> Any:
        """The last epoch's metrics as a dict, or one of them by name (e.g. ``last("test_acc")``).

        ```python
        from companion.training import History

        h = History([0.5], [None], [None], [None])    # a regression run without test data
        assert h.last() == {"train_loss": 0.5, "train_acc": None, "test_loss": None,
                            "test_acc": None}
        ```
        """
        if not self.train_loss:
            raise ValueError("the history is empty (0 epochs): expected at least one append()")
        if metric is None:
            return {m: getattr(self, m)[-1] for m in self.METRICS}
        if metric not in self.METRICS:
            raise ValueError(f"expected metric in {self.METRICS}, got {metric!r}")
        return getattr(self, metric)[-1]


def _is_classification(out_shape: tuple[int, ...], y_dtype_is_int: bool) -> bool:
    return y_dtype_is_int and len(out_shape) == 2 and out_shape[1] > 1


def accuracy(logits: Any, y: Any) -> float:
    """Fraction of rows whose argmax equals the integer label (torch, MXNet or numpy arrays).

    ```python
    import numpy as np
    from companion.training import accuracy

    logits = np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert accuracy(logits, np.array([0, 1, 1])) == 2 / 3
    ```
    """
    from .parity import to_numpy

    logits, y = to_numpy(logits), to_numpy(y)
    if logits.ndim != 2 or y.shape != (logits.shape[0],):
        raise ValueError(
            f"expected logits (N, C) and labels (N,), got {logits.shape} and {y.shape}"
        )
    if logits.shape[0] == 0:
        raise ValueError("expected at least one example, got 0")
    return float((logits.argmax(axis=1) == y).mean())


def _check_common(epochs: int) -> None:
    if int(epochs) != epochs or epochs < 1:
        raise ValueError(f"expected a positive integer number of epochs, got {epochs!r}")


def _progress(epochs: int, progress: bool, desc: str) -> Iterable[int]:
    if not progress:
        return range(epochs)
    from tqdm.auto import tqdm

    return tqdm(range(epochs), desc=desc, unit="epoch")


class _Tally:
    """Running loss sum, correct predictions and examples over the batches of one pass."""

    def __init__(self) -> None:
        self.loss, self.correct, self.n, self.classification = 0.0, 0, 0, True

    def add(
        self,
        loss_sum: float,
        out_shape: tuple,
        integer_labels: bool,
        count_correct: Callable[[], int],
        n: int,
    ) -> None:
        self.loss += loss_sum
        self.classification = self.classification and _is_classification(out_shape, integer_labels)
        if self.classification:
            self.correct += count_correct()
        self.n += n

    def result(self, source: str) -> tuple[float, float | None]:
        """Mean loss and accuracy (None when not a classification problem)."""
        if self.n == 0:
            raise ValueError(f"{source} yielded no examples: expected at least one (X, y) batch")
        return self.loss / self.n, (self.correct / self.n if self.classification else None)


# --------------------------------------------------------------------------- PyTorch


def _torch_loss_sum(loss: Any) -> tuple[Any, Any]:
    """(mean for backward, sum over the batch) of a scalar-mean or per-example torch loss."""
    if loss.dim() == 0:
        return loss, None
    per_example = loss.reshape(loss.shape[0], -1).mean(dim=1)
    return per_example.mean(), per_example.sum()


def evaluate_torch(net: Any, data_iter: Iterable, loss_fn: Callable) -> tuple[float, float | None]:
    """Mean loss and accuracy (None for non-classification) of ``net`` on ``data_iter``.

    An ``nn.Module`` is evaluated in eval mode (its mode is restored afterwards).

    ```python
    import torch
    from torch import nn
    from companion.data import torch_batches
    from companion.training import evaluate_torch

    torch.manual_seed(0)
    x, y = torch.randn(20, 2), (torch.arange(20) % 2)
    net = nn.Linear(2, 2)
    loss, acc = evaluate_torch(net, torch_batches(x, y, 8), nn.CrossEntropyLoss())
    with torch.no_grad():      # the same on all 20 examples at once (batches of 8, 8 and 4)
        out = net(x)
    assert abs(loss - nn.functional.cross_entropy(out, y).item()) < 1e-6
    assert acc == (out.argmax(dim=1) == y).sum().item() / 20
    ```
    """
    import torch

    was_training = getattr(net, "training", None)  # None: a plain function, not an nn.Module
    if was_training is not None:
        net.eval()
    tally = _Tally()
    try:
        with torch.no_grad():
            for x, y in data_iter:
                out = net(x)
                mean, s = _torch_loss_sum(loss_fn(out, y))
                tally.add(
                    float(s) if s is not None else float(mean) * len(y),
                    tuple(out.shape),
                    not torch.is_floating_point(y),
                    lambda: int((out.argmax(dim=1) == y).sum()),
                    len(y),
                )
    finally:
        if was_training is not None:
            net.train(was_training)
    return tally.result("data_iter")


def train_torch(
    net: Any,
    train_iter: Iterable,
    test_iter: Iterable | None,
    loss_fn: Callable,
    epochs: int,
    optimizer: Any,
    progress: bool = False,
) -> History:
    """Train a PyTorch model; ``loss_fn`` may return the batch mean or per-example losses.

    ``net`` is an ``nn.Module`` or any callable (a from-scratch model); ``optimizer`` anything with
    ``zero_grad()`` and ``step()``.

    Returns the per-epoch [`History`][] (train metrics averaged during the epoch, test metrics
    after it). Reproducible when the net, the data order and torch are seeded.

    ```python
    import torch
    from torch import nn
    from companion.data import torch_batches
    from companion.training import train_torch

    torch.manual_seed(0)
    x = torch.randn(64, 2)
    y = (x[:, 0] > 0).long()                       # a linearly separable problem
    net = nn.Linear(2, 2)
    history = train_torch(net, torch_batches(x, y, 16), torch_batches(x, y, 64),
                          nn.CrossEntropyLoss(), epochs=20,
                          optimizer=torch.optim.SGD(net.parameters(), lr=0.5))
    assert history.epochs == 20 and history.last("test_acc") > 0.9
    ```
    """
    import torch

    _check_common(epochs)
    history = History()
    bar = _progress(epochs, progress, "train_torch")
    for _ in bar:
        if hasattr(net, "train"):
            net.train()
        tally = _Tally()
        for x, y in train_iter:
            out = net(x)
            mean, s = _torch_loss_sum(loss_fn(out, y))
            optimizer.zero_grad()
            mean.backward()
            optimizer.step()
            tally.add(
                float(s.detach()) if s is not None else float(mean.detach()) * len(y),
                tuple(out.shape),
                not torch.is_floating_point(y),
                lambda: int((out.detach().argmax(dim=1) == y).sum()),
                len(y),
            )
        train_loss, train_acc = tally.result("train_iter")
        test_loss, test_acc = (
            evaluate_torch(net, test_iter, loss_fn) if test_iter is not None else (None, None)
        )
        history.append(train_loss, train_acc, test_loss, test_acc)
        if progress:
            bar.set_postfix(_postfix(history))
    return history


def _postfix(history: History) -> dict[str, str]:
    return {k: f"{v:.3f}" for k, v in history.last().items() if v is not None}


# --------------------------------------------------------------------------- MXNet


def _mx_is_int(y: Any) -> bool:
    return np.issubdtype(np.dtype(y.dtype), np.integer)


def _mx_correct(out: Any, y: Any) -> int:
    return int((out.argmax(axis=1).asnumpy().astype(np.int64) == y.asnumpy()).sum())


def evaluate_mxnet(net: Any, data_iter: Iterable, loss_fn: Callable) -> tuple[float, float | None]:
    """Mean loss and accuracy (None for non-classification) of a Gluon block, outside autograd.

    ```python
    import numpy as np
    from mxnet import gluon, nd
    from companion.data import mxnet_batches
    from companion.training import evaluate_mxnet

    net = gluon.nn.Dense(2)
    net.initialize()
    x, y = np.random.default_rng(0).normal(size=(20, 2)), np.arange(20) % 2
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    loss, acc = evaluate_mxnet(net, mxnet_batches(x, y, 8), loss_fn)
    out = net(nd.array(x))    # the same on all 20 examples at once (batches of 8, 8 and 4)
    assert abs(loss - loss_fn(out, nd.array(y)).mean().asscalar()) < 1e-6
    assert acc == (out.asnumpy().argmax(axis=1) == y).sum() / 20
    ```
    """
    tally = _Tally()
    for x, y in data_iter:
        out = net(x)
        tally.add(
            float(loss_fn(out, y).sum().asscalar()),
            tuple(out.shape),
            _mx_is_int(y),
            lambda: _mx_correct(out, y),
            y.shape[0],
        )
    return tally.result("data_iter")


def train_mxnet(
    net: Any,
    train_iter: Iterable,
    test_iter: Iterable | None,
    loss_fn: Callable,
    epochs: int,
    trainer: Any,
    progress: bool = False,
) -> History:
    """Train a Gluon block the 2019 book's way: per-example loss, ``l.backward()``,
    ``trainer.step(batch_size)``. Returns the per-epoch [`History`][].

    ``net`` is a Gluon block or any callable on NDArrays; ``trainer`` anything with
    ``step(batch_size)`` (a ``gluon.Trainer``, or a from-scratch SGD).

    ```python
    import mxnet as mx
    import numpy as np
    from mxnet import gluon
    from companion.data import mxnet_batches
    from companion.training import train_mxnet

    mx.random.seed(0)
    x = np.random.default_rng(0).normal(size=(64, 2))
    y = (x[:, 0] > 0).astype(np.int64)
    net = gluon.nn.Dense(2)
    net.initialize()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5})
    history = train_mxnet(net, mxnet_batches(x, y, 16), mxnet_batches(x, y, 64),
                          gluon.loss.SoftmaxCrossEntropyLoss(), epochs=20, trainer=trainer)
    assert history.epochs == 20 and history.last("test_acc") > 0.9
    ```
    """
    from mxnet import autograd

    _check_common(epochs)
    history = History()
    bar = _progress(epochs, progress, "train_mxnet")
    for _ in bar:
        tally = _Tally()
        for x, y in train_iter:
            with autograd.record():
                out = net(x)
                loss = loss_fn(out, y)
            if loss.ndim == 0 or (loss.ndim == 1 and loss.shape[0] == 1 and x.shape[0] != 1):
                raise ValueError(
                    f"expected a per-example loss of shape ({x.shape[0]},), got {loss.shape}: "
                    "Gluon losses are per example; do not call .mean() before backward()"
                )
            loss.backward()
            trainer.step(x.shape[0])
            tally.add(
                float(loss.sum().asscalar()),
                tuple(out.shape),
                _mx_is_int(y),
                lambda: _mx_correct(out, y),
                y.shape[0],
            )
        train_loss, train_acc = tally.result("train_iter")
        test_loss, test_acc = (
            evaluate_mxnet(net, test_iter, loss_fn) if test_iter is not None else (None, None)
        )
        history.append(train_loss, train_acc, test_loss, test_acc)
        if progress:
            bar.set_postfix(_postfix(history))
    return history
