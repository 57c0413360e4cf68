"""Train one small PyTorch model on several seeds at once, as one stacked computation.

Five seeds of one configuration, trained as one computation: the weights of the seeds are
stacked along a new first axis and the model runs once per step for all of them
(``torch.func.vmap`` over ``functional_call``). It keeps a page's five-seed comparison to one
call; it is not a speed-up at the pages' sizes (measured warm on one thread: 1.2x faster
than five ``train_torch`` runs for a 64-unit MLP, 0.7x for LeNet, where vmapped convolutions
cost more than separate ones).

Each member is exactly the model a separate run would train: its weights come from
``torch.manual_seed(seed); make()``, its minibatch order from ``np.random.default_rng(seed)``
(the order of ``companion.data.torch_batches(..., seed=seed)``), and the loss summed over
members gives each member its own gradient. Only the random draws inside the forward pass
(dropout masks) come from another stream than in a separate run.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from .data import _to_torch
from .seeds import _check_seeds
from .training import History, _check_common


def _check_no_running_stats(model: nn.Module) -> None:
    for name, m in model.named_modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats:
            raise ValueError(
                f"expected a model without running statistics, got {type(m).__name__} at "
                f"{name!r}: train batch-norm models one seed at a time (train_torch)"
            )


class Ensemble:
    """One model per seed, its weights stacked along a leading axis of length ``len(seeds)``.

    ``ens(x)`` runs every member on the same input of shape (N, ...); ``ens.per_member(x)``
    gives member i the slice ``x[i]`` of a stacked input (S, N, ...). Both return (S, N, ...).

    ```python
    import torch
    from torch import nn
    from companion.ensemble import Ensemble

    ens = Ensemble(lambda: nn.Linear(3, 2), seeds=[0, 1, 2])
    assert len(ens) == 3 and ens(torch.zeros(5, 3)).shape == (3, 5, 2)
    torch.manual_seed(1)
    assert torch.equal(ens.member(1).weight, nn.Linear(3, 2).weight)  # seed 1's own init
    ```
    """

    def __init__(self, make: Callable[[], nn.Module], seeds: Sequence[int]) -> None:
        self.seeds = _check_seeds(seeds)
        models = []
        for seed in self.seeds:
            torch.manual_seed(seed)
            model = make()
            if not isinstance(model, nn.Module):
                raise ValueError(f"expected make() to return an nn.Module, got {type(model)}")
            models.append(model)
        _check_no_running_stats(models[0])
        if not any(True for _ in models[0].parameters()):
            raise ValueError("expected a model with parameters, got one with none")
        self._template = copy.deepcopy(models[0])
        self._skeleton = copy.deepcopy(models[0]).to("meta")
        self.params, self.buffers = stack_module_state(models)

    def __len__(self) -> int:
        return len(self.seeds)

    def parameters(self) -> list[torch.Tensor]:
        """The stacked parameters (leaf tensors of shape (S, ...)), for an optimizer."""
        return list(self.params.values())

    def train(self, mode: bool = True) -> Ensemble:
        self._skeleton.train(mode)
        return self

    def eval(self) -> Ensemble:
        return self.train(False)

    @property
    def training(self) -> bool:
        return self._skeleton.training

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Every member on the same input (N, ...); the result is (S, N, ...)."""
        return self._forward(x, per_member=False)

    def _forward(self, x: torch.Tensor, per_member: bool) -> torch.Tensor:
        def one(params, buffers, xi):
            return functional_call(self._skeleton, (params, buffers), (xi,))

        in_dims = (0, 0, 0 if per_member else None)
        return vmap(one, in_dims=in_dims, randomness="different")(self.params, self.buffers, x)

    def per_member(self, x: torch.Tensor) -> torch.Tensor:
        """Run member i on ``x[i]`` for a stacked input of shape (S, N, ...)."""
        if x.dim() < 2 or x.shape[0] != len(self):
            raise ValueError(f"expected input of shape ({len(self)}, N, ...), got {tuple(x.shape)}")
        return self._forward(x, per_member=True)

    def member(self, seed: int) -> nn.Module:
        """A standalone copy of the model trained from ``seed`` (detached weights).

        ```python
        import torch
        from torch import nn
        from companion.ensemble import Ensemble

        ens = Ensemble(lambda: nn.Linear(3, 2), seeds=[0, 1])
        x = torch.randn(4, 3)
        assert torch.allclose(ens.member(1)(x), ens(x)[1])
        ```
        """
        if seed not in self.seeds:
            raise ValueError(f"expected one of the seeds {self.seeds}, got {seed!r}")
        i = self.seeds.index(seed)
        model = copy.deepcopy(self._template)
        state = {k: v[i].detach().clone() for k, v in {**self.params, **self.buffers}.items()}
        model.load_state_dict(state)
        model.train(self.training)
        return model


def _as_tensor(a: Any) -> torch.Tensor:
    """As torch_batches converts a batch: float64 -> float32, other dtypes kept."""
    return _to_torch(np.asarray(a))


def _member_loss(loss_fn: Callable, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean loss of each member, shape (S,), from a loss that averages over its batch."""
    losses = vmap(loss_fn)(out, y)
    if losses.dim() != 1:
        raise ValueError(
            f"expected loss_fn to return the batch mean (a scalar per member), "
            f"got shape {tuple(losses.shape[1:])} per member"
        )
    return losses


def _correct(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor | None:
    """Correct predictions per member, or None when this is not classification."""
    if torch.is_floating_point(y) or out.dim() != 3 or out.shape[-1] < 2:
        return None
    return (out.argmax(dim=-1) == y).sum(dim=1)


class _Tallies:
    """Per-member running loss sum and correct count over the batches of one pass."""

    def __init__(self, size: int) -> None:
        self.loss = torch.zeros(size, dtype=torch.float64)
        self.correct: torch.Tensor | None = torch.zeros(size, dtype=torch.int64)
        self.n = 0

    def add(self, losses: torch.Tensor, correct: torch.Tensor | None, n: int) -> None:
        self.loss += losses.detach().double() * n
        self.correct = None if correct is None or self.correct is None else self.correct + correct
        self.n += n

    def results(self) -> list[tuple[float, float | None]]:
        accs = (
            [None] * len(self.loss)
            if self.correct is None
            else (self.correct.double() / self.n).tolist()
        )
        return list(zip((self.loss / self.n).tolist(), accs))


def evaluate(ens: Ensemble, x: Any, y: Any, loss_fn: Callable) -> list[tuple[float, float | None]]:
    """(mean loss, accuracy or None) of every member on the whole of ``x, y``, in eval mode.

    ```python
    import torch
    from torch import nn
    from companion.ensemble import Ensemble, evaluate

    ens = Ensemble(lambda: nn.Linear(2, 2), seeds=[0, 1])
    x, y = torch.randn(10, 2), torch.arange(10) % 2
    results = evaluate(ens, x, y, nn.CrossEntropyLoss())
    with torch.no_grad():
        out = ens.member(1)(x)             # member 1 on its own
    loss, acc = results[1]
    assert len(results) == 2 and abs(loss - nn.functional.cross_entropy(out, y).item()) < 1e-6
    assert acc == (out.argmax(dim=1) == y).sum().item() / 10
    ```
    """
    x, y = _as_tensor(x), _as_tensor(y)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"expected x and y with the same non-zero length, got {len(x)}, {len(y)}")
    was_training = ens.training
    ens.eval()
    try:
        with torch.no_grad():
            out = ens(x)
            ys = y.expand(len(ens), *y.shape)
            tally = _Tallies(len(ens))
            tally.add(_member_loss(loss_fn, out, ys), _correct(out, ys), len(y))
    finally:
        ens.train(was_training)
    return tally.results()


def train_ensemble(
    make: Callable[[], nn.Module],
    seeds: Sequence[int],
    train_x: Any,
    train_y: Any,
    *,
    loss_fn: Callable,
    epochs: int,
    batch_size: int,
    optimizer: Callable[[list[torch.Tensor]], Any],
    test: tuple[Any, Any] | None = None,
) -> tuple[Ensemble, list[History]]:
    """Train ``make()`` once per seed, all seeds in one computation; one History per seed.

    ``loss_fn(out, y)`` returns the batch mean (``nn.CrossEntropyLoss()``);
    ``optimizer(params)`` builds the optimizer over the stacked parameters
    (``lambda p: torch.optim.SGD(p, lr=0.5)``). The History holds what ``train_torch`` records:
    training loss and accuracy averaged over the epoch's batches, test loss and accuracy after
    each epoch (on the whole test set ``test = (x, y)``).

    ```python
    import torch
    from torch import nn
    from companion.ensemble import train_ensemble

    torch.manual_seed(0)
    x = torch.randn(64, 2)
    y = (x[:, 0] > 0).long()
    ens, histories = train_ensemble(lambda: nn.Linear(2, 2), range(5), x, y,
                                    loss_fn=nn.CrossEntropyLoss(), epochs=10, batch_size=16,
                                    optimizer=lambda p: torch.optim.SGD(p, lr=0.5), test=(x, y))
    assert len(histories) == 5 and min(h.last("test_acc") for h in histories) > 0.9
    ```
    """
    _check_common(epochs)
    x, y = _as_tensor(train_x), _as_tensor(train_y)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(
            f"expected train_x and train_y of the same non-zero length, got {len(x)} and {len(y)}"
        )
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"expected a positive integer batch_size, got {batch_size!r}")
    ens = Ensemble(make, seeds)
    opt = optimizer(ens.parameters())
    rngs = [np.random.default_rng(seed) for seed in ens.seeds]  # torch_batches' orders
    histories = [History() for _ in ens.seeds]
    for _ in range(epochs):
        ens.train()
        tally = _Tallies(len(ens))
        orders = torch.from_numpy(np.stack([rng.permutation(len(x)) for rng in rngs]))
        for start in range(0, len(x), batch_size):
            idx = orders[:, start : start + batch_size]
            xb, yb = x[idx], y[idx]
            out = ens.per_member(xb)
            losses = _member_loss(loss_fn, out, yb)
            opt.zero_grad()
            losses.sum().backward()
            opt.step()
            tally.add(losses, _correct(out.detach(), yb), idx.shape[1])
        tests = evaluate(ens, *test, loss_fn) if test is not None else [(None, None)] * len(ens)
        for h, (tl, ta), (vl, va) in zip(histories, tally.results(), tests):
            h.append(tl, ta, vl, va)
    return ens, histories
