"""Tests of companion.rnn (the batched from-scratch character RNN)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from companion import rnn

V, H = 7, 5
CORPUS = np.random.default_rng(0).integers(0, V, size=600)


def reference_forward(params, X, h):
    """One model, the book's loop with one-hot inputs."""
    W_xh, W_hh, b_h, W_hq, b_q = params
    outs = []
    for x in X.T:
        h = torch.tanh(F.one_hot(x, V).to(W_xh.dtype) @ W_xh + h @ W_hh + b_h)
        outs.append(h @ W_hq + b_q)
    return torch.stack(outs, 1), h


def test_init_params_shapes_and_members_independent():
    params = rnn.init_params([3, 4], V, H)
    shapes = [(2, V, H), (2, H, H), (2, H), (2, H, V), (2, V)]
    assert [tuple(p.shape) for p in params] == shapes
    alone = rnn.init_params([4], V, H)
    for p, q in zip(params, alone):
        assert torch.equal(p[1], q[0])
    assert float(params[2].detach().abs().max()) == 0.0


def test_forward_matches_reference_loop():
    params = [p.detach().double() for p in rnn.init_params([0, 1], V, H, sigma=0.5)]
    X = torch.as_tensor(CORPUS[:2 * 3 * 4].reshape(2, 3, 4))
    h0 = torch.zeros(2, 3, H, dtype=torch.float64)
    logits, h = rnn.forward(params, X, h0)
    for e in range(2):
        ref, ref_h = reference_forward([p[e] for p in params], X[e], h0[e])
        assert torch.allclose(logits[e], ref, atol=1e-12)
        assert torch.allclose(h[e], ref_h, atol=1e-12)


def test_forward_relu_per_model():
    params = [p.detach() for p in rnn.init_params([0, 1], V, H, sigma=0.5)]
    X = torch.as_tensor(CORPUS[:16].reshape(2, 2, 4))
    mixed, _ = rnn.forward(params, X, torch.zeros(2, 2, H), ["tanh", "relu"])
    relu, _ = rnn.forward(params, X, torch.zeros(2, 2, H), "relu")
    tanh, _ = rnn.forward(params, X, torch.zeros(2, 2, H), "tanh")
    assert torch.allclose(mixed[0], tanh[0]) and torch.allclose(mixed[1], relu[1])
    assert not torch.allclose(tanh[1], relu[1])


def test_forward_bad_input():
    params = rnn.init_params([0, 1], V, H)
    with pytest.raises(ValueError, match="expected X of shape"):
        rnn.forward(params, torch.zeros(3, 2, 4, dtype=torch.long),
                    torch.zeros(3, 2, H))
    with pytest.raises(ValueError, match="expected 5 parameter tensors"):
        rnn.forward(params[:4], torch.zeros(2, 2, 4, dtype=torch.long),
                    torch.zeros(2, 2, H))
    with pytest.raises(ValueError, match="activation"):
        rnn.forward(params, torch.zeros(2, 2, 4, dtype=torch.long),
                    torch.zeros(2, 2, H), "sigmoid")


def test_train_members_do_not_interact():
    kw = dict(num_hiddens=H, steps=12, batch_size=4, num_steps=6)
    both = rnn.train(CORPUS, V, [3, 4], lr=[1.0, 0.5], clip=[1.0, math.inf], **kw)
    alone = rnn.train(CORPUS, V, [4], lr=0.5, clip=math.inf, **kw)
    assert both.losses.shape == (12, 2) and both.grad_norms.shape == (12, 2)
    assert np.allclose(both.losses[:, 1], alone.losses[:, 0], atol=1e-5)
    assert both.losses[-1, 0] < both.losses[0, 0]


def test_train_clipping_bounds_the_update():
    kw = dict(num_hiddens=H, steps=1, batch_size=4, num_steps=6, lr=1.0)
    start = [p.detach().clone() for p in rnn.init_params([0], V, H, sigma=1.0)]
    res = rnn.train(CORPUS, V, [0], clip=1e-3, params=[p.clone().requires_grad_()
                                                        for p in start], **kw)
    moved = math.sqrt(sum(float(((p.detach() - q) ** 2).sum())
                          for p, q in zip(res.params, start)))
    assert res.grad_norms[0, 0] > 1e-2
    assert abs(moved - 1e-3) < 1e-6


def test_train_without_detach_changes_gradients_after_first_step():
    kw = dict(num_hiddens=H, steps=4, batch_size=4, num_steps=6, lr=1.0, clip=1.0)
    a = rnn.train(CORPUS, V, [0], detach=True,
                  params=rnn.init_params([0], V, H, sigma=0.5), **kw)
    b = rnn.train(CORPUS, V, [0], detach=False,
                  params=rnn.init_params([0], V, H, sigma=0.5), **kw)
    assert np.isclose(a.grad_norms[0, 0], b.grad_norms[0, 0], rtol=1e-6)
    assert abs(a.grad_norms[1, 0] - b.grad_norms[1, 0]) > 1e-3 * a.grad_norms[1, 0]


def test_train_bad_input():
    with pytest.raises(ValueError, match="lr"):
        rnn.train(CORPUS, V, [0, 1], num_hiddens=H, steps=1, lr=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="clip > 0"):
        rnn.train(CORPUS, V, [0], num_hiddens=H, steps=1, clip=0.0, batch_size=4,
                  num_steps=6)
    with pytest.raises(ValueError, match="corpus of at least"):
        rnn.train(CORPUS[:50], V, [0], num_hiddens=H, steps=1)
    with pytest.raises(ValueError, match="steps >= 1"):
        rnn.train(CORPUS, V, [0], num_hiddens=H, steps=0)


def test_perplexity_of_uniform_model_is_vocab_size():
    zeros = [torch.zeros_like(p) for p in rnn.init_params([0, 1], V, H)]
    assert np.allclose(rnn.perplexity(zeros, CORPUS), V, rtol=1e-5)
    with pytest.raises(ValueError, match="at least"):
        rnn.perplexity(zeros, CORPUS[:5])


def test_predict():
    params = rnn.init_params([0, 1], V, H)
    out = rnn.predict(params, [1, 2, 3], 5, model=1)
    assert out[:3] == [1, 2, 3] and len(out) == 8 and all(0 <= t < V for t in out)
    with pytest.raises(ValueError, match="model in"):
        rnn.predict(params, [1], 2, model=2)
