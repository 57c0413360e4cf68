"""Character RNNs of d2l section 7.5, trained as an *ensemble*: several independent
models (one per seed or per configuration) advanced together in one batched PyTorch
computation.

A small RNN on one CPU thread spends most of its time in per-operation overhead, so
E models stacked along a leading axis cost little more per SGD step than one. Model
``e`` of the ensemble is exactly the book's from-scratch RNN with its own parameters,
its own data order and its own hyperparameters (learning rate, clipping threshold,
activation); the models never interact (the summed loss has block-separate gradients).

- [`init_params`][]: the book's initialisation (normal, std 0.01; zero biases), one
  generator per seed, so member ``e`` does not depend on the other members.
- [`forward`][]: logits of every model for inputs of shape (E, B, T).
- [`train`][]: SGD with per-model gradient clipping on the sequential (adjacent)
  sampler; records the loss and the gradient norm of every model at every step.
- [`perplexity`][]: exp of the mean cross-entropy on a held-out token stream.
- [`predict`][]: greedy continuation of a prefix, as the book's ``predict_rnn``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .text import seq_data_iter_consecutive

PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hq", "b_q")


def _per_model(value, num_models: int, name: str) -> torch.Tensor:
    """A scalar or one value per model, as a float64 tensor of shape (E,)."""
    arr = (
        np.broadcast_to(np.asarray(value, dtype=np.float64), (num_models,))
        if np.ndim(value) == 0
        else np.asarray(value, dtype=np.float64)
    )
    if arr.shape != (num_models,):
        raise ValueError(
            f"expected {name} as a scalar or {num_models} values, got shape {arr.shape}"
        )
    return torch.as_tensor(arr.copy())


def _relu_mask(activation, num_models: int) -> torch.Tensor:
    acts = [activation] * num_models if isinstance(activation, str) else list(activation)
    if len(acts) != num_models or any(a not in ("tanh", "relu") for a in acts):
        raise ValueError(
            f"expected activation 'tanh'/'relu' or {num_models} of them, got {activation!r}"
        )
    return torch.tensor([a == "relu" for a in acts])


def init_params(
    seeds: Sequence[int], vocab_size: int, num_hiddens: int, sigma: float = 0.01
) -> list[torch.Tensor]:
    """Parameters ``[W_xh (E,V,H), W_hh (E,H,H), b_h (E,H), W_hq (E,H,V), b_q (E,V)]``,
    model ``e`` drawn from ``torch.Generator().manual_seed(seeds[e])``.

    ```python
    from companion.rnn import init_params

    params = init_params(seeds=[0, 1], vocab_size=5, num_hiddens=3)
    assert [tuple(p.shape) for p in params] == [(2, 5, 3), (2, 3, 3), (2, 3), (2, 3, 5), (2, 5)]
    assert (params[0][0] == init_params([0], 5, 3)[0][0]).all()   # member 0 alone is the same
    ```
    """
    if len(seeds) < 1 or vocab_size < 1 or num_hiddens < 1:
        raise ValueError(
            f"expected >= 1 seed, vocab_size >= 1, num_hiddens >= 1, got "
            f"{len(seeds)}, {vocab_size}, {num_hiddens}"
        )
    v, h = vocab_size, num_hiddens
    per_model = []
    for s in seeds:
        g = torch.Generator().manual_seed(int(s))
        per_model.append(
            [
                torch.randn(v, h, generator=g) * sigma,
                torch.randn(h, h, generator=g) * sigma,
                torch.zeros(h),
                torch.randn(h, v, generator=g) * sigma,
                torch.zeros(v),
            ]
        )
    return [torch.stack(ps).requires_grad_() for ps in zip(*per_model)]


def _check_params(params: Sequence[torch.Tensor]) -> tuple[int, int, int]:
    if len(params) != 5:
        raise ValueError(f"expected 5 parameter tensors {PARAM_NAMES}, got {len(params)}")
    e, v, h = params[0].shape
    want = [(e, v, h), (e, h, h), (e, h), (e, h, v), (e, v)]
    got = [tuple(p.shape) for p in params]
    if got != want:
        raise ValueError(f"expected parameter shapes {want}, got {got}")
    return e, v, h


def forward(
    params: Sequence[torch.Tensor], X: torch.Tensor, state: torch.Tensor, activation="tanh"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (E, B, T, V) and the last hidden state (E, B, H) for token indices X of
    shape (E, B, T) and an initial state of shape (E, B, H). The input layer multiplies
    one-hot vectors by ``W_xh`` (the same as looking up row ``x``) in one batched
    product.

    ```python
    import torch
    from companion.rnn import forward, init_params

    params = init_params([0, 1], vocab_size=5, num_hiddens=3)
    X = torch.zeros(2, 4, 6, dtype=torch.long)                   # (models, batch, time)
    logits, state = forward(params, X, torch.zeros(2, 4, 3), activation=["tanh", "relu"])
    assert logits.shape == (2, 4, 6, 5) and state.shape == (2, 4, 3)
    ```
    """
    e, v, h = _check_params(params)
    if X.dim() != 3 or X.shape[0] != e or tuple(state.shape) != (e, X.shape[1], h):
        raise ValueError(
            f"expected X of shape ({e}, B, T) and state ({e}, B, {h}), "
            f"got {tuple(X.shape)} and {tuple(state.shape)}"
        )
    W_xh, W_hh, b_h, W_hq, b_q = params
    relu = _relu_mask(activation, e)
    b, t = X.shape[1], X.shape[2]
    onehot = F.one_hot(X.reshape(e, b * t), v).to(W_xh.dtype)
    xw = (torch.bmm(onehot, W_xh) + b_h[:, None, :]).reshape(e, b, t, h)
    if bool(relu.all()):
        act = torch.relu
    elif not bool(relu.any()):
        act = torch.tanh
    else:

        def act(z):
            return torch.where(relu[:, None, None], torch.relu(z), torch.tanh(z))

    hs = []
    for xw_t in xw.unbind(2):  # unbind: its backward stacks, no zero-filled copies
        state = act(torch.baddbmm(xw_t, state, W_hh))
        hs.append(state)
    H = torch.stack(hs, 2)  # (E, B, T, H)
    logits = torch.matmul(H, W_hq[:, None]) + b_q[:, None, None, :]
    return logits, state


def loss_per_model(logits: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of each model, shape (E,), for logits (E, B, T, V) and targets
    (E, B, T).

    ```python
    import math
    import torch
    from companion.rnn import loss_per_model

    logits = torch.zeros(2, 1, 3, 4)                 # uniform over 4 tokens
    loss = loss_per_model(logits, torch.zeros(2, 1, 3, dtype=torch.long))
    assert torch.allclose(loss, torch.full((2,), math.log(4)))
    ```
    """
    if logits.dim() != 4 or tuple(Y.shape) != tuple(logits.shape[:3]):
        raise ValueError(
            f"expected logits of shape (E, B, T, V) and targets (E, B, T), got "
            f"{tuple(logits.shape)} and {tuple(Y.shape)}"
        )
    e, b, t, v = logits.shape
    ce = F.cross_entropy(logits.reshape(-1, v), Y.reshape(-1), reduction="none")
    return ce.reshape(e, b * t).mean(1)


@dataclass
class TrainResult:
    """Per-step records of [`train`][] (losses and gradient norms of shape (steps, E),
    CPU seconds of each step) and the trained parameters.

    ```python
    from companion.rnn import TrainResult, train

    result = train(list(range(10)) * 20, 10, seeds=[0], num_hiddens=8, steps=3,
                   batch_size=2, num_steps=5)
    assert isinstance(result, TrainResult) and result.losses.shape == (3, 1)
    ```
    """

    losses: np.ndarray
    grad_norms: np.ndarray
    params: list
    seconds_per_step: np.ndarray


def _epoch_batches(corpus: np.ndarray, batch_size: int, num_steps: int) -> int:
    """Minibatches per epoch that every offset in [0, num_steps] can supply."""
    n = (len(corpus) - num_steps - 1) // batch_size
    return n // num_steps


def train(
    corpus: Sequence[int],
    vocab_size: int,
    seeds: Sequence[int],
    *,
    num_hiddens: int,
    steps: int,
    lr=1.0,
    clip=1.0,
    activation="tanh",
    batch_size: int = 32,
    num_steps: int = 35,
    detach: bool = True,
    params: list | None = None,
) -> TrainResult:
    """Train ``len(seeds)`` models with SGD on the sequential sampler, ``steps`` steps.

    Model ``e`` draws its initial parameters (unless ``params`` is given) and its epoch
    offsets from ``seeds[e]``; ``lr``, ``clip`` (``math.inf``: no clipping) and
    ``activation`` are one value for all or one per model. The state starts at zero in
    every epoch and, with ``detach=True`` (the book), is detached before each minibatch;
    with ``detach=False`` the gradient of every minibatch flows back through all earlier
    minibatches of its epoch (their Jacobians taken at the parameters they ran with).

    ```python
    from companion.rnn import train

    corpus = [0, 1, 2, 3] * 100                      # a periodic text: easy to learn
    result = train(corpus, vocab_size=4, seeds=[0, 1], num_hiddens=16, steps=60, lr=[1.0, 2.0],
                   batch_size=4, num_steps=8)
    assert result.losses.shape == (60, 2) and (result.losses[-1] < result.losses[0]).all()
    ```
    """
    corpus = np.asarray(corpus)
    e = len(seeds)
    if steps < 1:
        raise ValueError(f"expected steps >= 1, got {steps}")
    lrs, clips = _per_model(lr, e, "lr"), _per_model(clip, e, "clip")
    if (clips <= 0).any() or (lrs <= 0).any():
        raise ValueError(f"expected lr > 0 and clip > 0, got {lrs.tolist()}, {clips.tolist()}")
    per_epoch = _epoch_batches(corpus, batch_size, num_steps)
    if per_epoch < 1:
        need = (batch_size + 1) * num_steps + 1
        raise ValueError(f"expected a corpus of at least {need} tokens, got {len(corpus)}")
    params = init_params(seeds, vocab_size, num_hiddens) if params is None else params
    _check_params(params)
    rngs = [np.random.default_rng(int(s)) for s in seeds]
    losses, norms, secs = np.zeros((steps, e)), np.zeros((steps, e)), np.zeros(steps)
    step, leaves = 0, []
    while step < steps:
        its = [seq_data_iter_consecutive(corpus, batch_size, num_steps, rng=r) for r in rngs]
        state = torch.zeros(e, batch_size, num_hiddens)
        leaves = []
        for _ in range(per_epoch):
            if step == steps:
                break
            t0 = time.process_time()
            xs, ys = zip(*(next(it) for it in its))
            X, Y = torch.as_tensor(np.stack(xs)), torch.as_tensor(np.stack(ys))
            if detach:
                state = state.detach()
                cur = params
            else:  # a fresh leaf per step keeps the earlier graph valid after updates
                cur = [p.detach().clone().requires_grad_() for p in params]
                leaves.append(cur)
            logits, state = forward(cur, X, state, activation)
            loss = loss_per_model(logits, Y)
            loss.sum().backward(retain_graph=not detach)
            with torch.no_grad():
                groups = [cur] if detach else leaves
                grads = [sum(g[i].grad for g in groups if g[i].grad is not None) for i in range(5)]
                for g in groups:
                    for p in g:
                        p.grad = None
                norm = torch.sqrt(sum((g.double() ** 2).flatten(1).sum(1) for g in grads))
                scale = torch.clamp(clips / norm, max=1.0) * lrs
                for p, g in zip(params, grads):
                    p -= (scale.view(-1, *[1] * (g.dim() - 1)) * g).to(p.dtype)
            losses[step], norms[step] = loss.detach().numpy(), norm.numpy()
            secs[step] = time.process_time() - t0
            step += 1
    return TrainResult(losses, norms, params, secs)


def perplexity(
    params: Sequence[torch.Tensor], tokens: Sequence[int], activation="tanh", num_streams: int = 16
) -> np.ndarray:
    """Perplexity of every model on a held-out token stream: the text is cut into
    ``num_streams`` parallel streams read with the state carried; returns shape (E,).

    ```python
    from companion.rnn import init_params, perplexity

    params = init_params([0], vocab_size=4, num_hiddens=8)
    ppl = perplexity(params, [0, 1, 2, 3] * 10, num_streams=2)
    assert ppl.shape == (1,) and abs(ppl[0] - 4) < 0.1      # untrained: about uniform
    ```
    """
    e, v, h = _check_params(params)
    tokens = np.asarray(tokens, dtype=np.int64)
    n = (len(tokens) - 1) // num_streams
    if n < 1:
        raise ValueError(f"expected at least {num_streams + 1} tokens, got {len(tokens)}")
    X = torch.as_tensor(tokens[: n * num_streams].reshape(num_streams, n))
    Y = torch.as_tensor(tokens[1 : n * num_streams + 1].reshape(num_streams, n))
    with torch.no_grad():
        logits, _ = forward(params, X.expand(e, -1, -1), torch.zeros(e, num_streams, h), activation)
        return torch.exp(loss_per_model(logits, Y.expand(e, -1, -1))).numpy()


def predict(
    params: Sequence[torch.Tensor],
    prefix: Sequence[int],
    num_preds: int,
    model: int = 0,
    activation="tanh",
) -> list[int]:
    """Greedy continuation (argmax) of ``prefix`` by ensemble member ``model``.

    ```python
    from companion.rnn import predict, train

    result = train([0, 1, 2, 3] * 100, 4, seeds=[0], num_hiddens=16, steps=150, lr=2.0,
                   batch_size=4, num_steps=8)
    assert predict(result.params, [0, 1], num_preds=4) == [0, 1, 2, 3, 0, 1]
    ```
    """
    e, v, h = _check_params(params)
    if not 0 <= model < e or len(prefix) < 1:
        raise ValueError(
            f"expected model in [0, {e}) and a non-empty prefix, got {model}, {len(prefix)} tokens"
        )
    one = [p[model : model + 1] for p in params]
    act = activation if isinstance(activation, str) else activation[model]
    out = list(prefix)
    with torch.no_grad():
        logits, state = forward(one, torch.tensor([[out]]), torch.zeros(1, 1, h), act)
        for _ in range(num_preds):
            out.append(int(logits[0, 0, -1].argmax()))
            logits, state = forward(one, torch.tensor([[[out[-1]]]]), state, act)
    return out
