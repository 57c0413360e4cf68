"""Tests of companion.rnn (the batched from-scratch character RNN)."""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from companion import rnn
from companion.text import seq_data_iter_consecutive

V, H = 7, 5
CORPUS = np.random.default_rng(0).integers(0, V, size=600)


def reference_forward(params, X, h, act=torch.tanh):
    """One model, the book's loop with one-hot inputs."""
    W_xh, W_hh, b_h, W_hq, b_q = params
    outs = []
    for x in X.T:
        h = act(F.one_hot(x, V).to(W_xh.dtype) @ W_xh + h @ W_hh + b_h)
        outs.append(h @ W_hq + b_q)
    return torch.stack(outs, 1), h


def random_params(seeds, dtype=torch.float32, sigma=0.5, noise_seed=99):
    """Ensemble parameters with large weights and nonzero biases (the book's init has
    zero biases, which would hide a forgotten bias)."""
    g = torch.Generator().manual_seed(noise_seed)
    return [
        (p.detach() + 0.3 * torch.randn(p.shape, generator=g)).to(dtype)
        for p in rnn.init_params(seeds, V, H, sigma=sigma)
    ]


@contextlib.contextmanager
def float64():
    """rnn.train starts its state with torch.zeros (the default dtype): float64
    throughout makes the comparisons with the reference loop exact to rounding."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def reference_train(corpus, seed, params, steps, lr, clip, batch_size, num_steps):
    """The book's training loop for one model: a new random offset per epoch (drawn
    from ``default_rng(seed)``), the state zero at each epoch's start and detached
    before each minibatch, clipping of the gradient norm at ``clip``, SGD."""
    W = [p.detach().clone() for p in params]
    rng = np.random.default_rng(seed)
    per_epoch = ((len(corpus) - num_steps - 1) // batch_size) // num_steps
    losses, norms = [], []
    while len(losses) < steps:
        batches = seq_data_iter_consecutive(corpus, batch_size, num_steps, rng=rng)
        h = torch.zeros(batch_size, H)
        for _ in range(per_epoch):
            if len(losses) == steps:
                break
            X, Y = (torch.as_tensor(a) for a in next(batches))
            W = [w.requires_grad_() for w in W]
            out, h = reference_forward(W, X, h.detach())
            loss = F.cross_entropy(out.reshape(-1, V), Y.reshape(-1))
            grads = torch.autograd.grad(loss, W)
            norm = math.sqrt(sum(float((g.double() ** 2).sum()) for g in grads))
            W = [(w - lr * min(1.0, clip / norm) * g).detach() for w, g in zip(W, grads)]
            losses.append(float(loss.detach()))
            norms.append(norm)
    return np.array(losses), np.array(norms), W


def test_init_params_shapes_and_members_independent():
    params = rnn.init_params([3, 4], V, H)
    shapes = [(2, V, H), (2, H, H), (2, H), (2, H, V), (2, V)]
    assert [tuple(p.shape) for p in params] == shapes
    alone = rnn.init_params([4], V, H)
    for p, q in zip(params, alone):
        assert torch.equal(p[1], q[0])
    assert float(params[2].detach().abs().max()) == 0.0
    assert float(params[4].detach().abs().max()) == 0.0
    g = torch.Generator().manual_seed(3)  # the N(0, sigma^2) draws
    scaled = rnn.init_params([3], V, H, sigma=0.7)
    for p, shape in zip([scaled[0], scaled[1], scaled[3]], [(V, H), (H, H), (H, V)]):
        assert torch.allclose(p[0], 0.7 * torch.randn(shape, generator=g), atol=1e-7)


def test_forward_matches_reference_loop():
    params = random_params([0, 1], torch.float64)
    X = torch.as_tensor(CORPUS[: 2 * 3 * 4].reshape(2, 3, 4))
    h0 = torch.randn(2, 3, H, dtype=torch.float64)
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
        rnn.forward(params, torch.zeros(3, 2, 4, dtype=torch.long), torch.zeros(3, 2, H))
    with pytest.raises(ValueError, match="expected 5 parameter tensors"):
        rnn.forward(params[:4], torch.zeros(2, 2, 4, dtype=torch.long), torch.zeros(2, 2, H))
    with pytest.raises(ValueError, match="activation"):
        rnn.forward(params, torch.zeros(2, 2, 4, dtype=torch.long), torch.zeros(2, 2, H), "sigmoid")


def test_train_members_do_not_interact():
    kw = dict(num_hiddens=H, steps=12, batch_size=4, num_steps=6)
    both = rnn.train(CORPUS, V, [3, 4], lr=[1.0, 0.5], clip=[1.0, math.inf], **kw)
    alone = rnn.train(CORPUS, V, [4], lr=0.5, clip=math.inf, **kw)
    assert both.losses.shape == (12, 2) and both.grad_norms.shape == (12, 2)
    assert np.allclose(both.losses[:, 1], alone.losses[:, 0], atol=1e-5)
    assert both.losses[-1, 0] < both.losses[0, 0]


def test_train_equals_the_books_loop_per_member():
    """Two members, each with its own seed, learning rate and clipping threshold, over
    two epochs and a half: the ensemble must reproduce each one's book loop (losses,
    gradient norms before clipping, final parameters)."""
    kw = dict(batch_size=4, num_steps=6)  # 24 minibatches per epoch
    seeds, lrs, clips, steps = [3, 4], [1.0, 0.5], [0.4, 0.5], 60
    with float64():
        start = random_params(seeds, torch.float64)
        res = rnn.train(
            CORPUS,
            V,
            seeds,
            num_hiddens=H,
            steps=steps,
            lr=lrs,
            clip=clips,
            **kw,
            params=[p.clone().requires_grad_() for p in start],
        )
        for e in range(2):
            losses, norms, W = reference_train(
                CORPUS, seeds[e], [p[e] for p in start], steps, lrs[e], clips[e], **kw
            )
            # both branches of the clipping were taken, by norms that differ per member
            assert (norms > clips[e]).sum() >= 5 and (norms < clips[e]).sum() >= 5
            assert np.allclose(res.losses[:, e], losses, rtol=0, atol=1e-9)
            assert np.allclose(res.grad_norms[:, e], norms, rtol=1e-9, atol=0)
            for p, w in zip(res.params, W):
                assert torch.allclose(p[e].detach(), w, rtol=0, atol=1e-9)


def grad_norm(loss, W):
    return math.sqrt(sum(float((g**2).sum()) for g in torch.autograd.grad(loss, W)))


def test_train_without_detach_is_full_backprop_through_the_epoch():
    """With a vanishing learning rate the parameters stay put, so the gradient of the
    second minibatch without detaching is that of its loss after reading the first
    minibatch and the second as one sequence from the zero state; detached, the
    first minibatch only supplies the state."""
    B, T, seed = 4, 6, 5
    with float64():
        start = random_params([seed], torch.float64)
        W = [p[0].clone().requires_grad_() for p in start]
        batches = seq_data_iter_consecutive(CORPUS, B, T, rng=np.random.default_rng(seed))
        (X1, _), (X2, Y2) = [
            [torch.as_tensor(a) for a in xy] for xy in [next(batches), next(batches)]
        ]
        out, _ = reference_forward(W, torch.cat([X1, X2], 1), torch.zeros(B, H))
        full = grad_norm(F.cross_entropy(out[:, T:].reshape(-1, V), Y2.reshape(-1)), W)
        _, h1 = reference_forward(W, X1, torch.zeros(B, H))
        out, _ = reference_forward(W, X2, h1.detach())
        cut = grad_norm(F.cross_entropy(out.reshape(-1, V), Y2.reshape(-1)), W)
        assert abs(full - cut) > 1e-4 * cut  # the test can tell them apart
        for detach, want in ((False, full), (True, cut)):
            res = rnn.train(
                CORPUS,
                V,
                [seed],
                num_hiddens=H,
                steps=2,
                lr=1e-12,
                clip=math.inf,
                batch_size=B,
                num_steps=T,
                detach=detach,
                params=[p.clone().requires_grad_() for p in start],
            )
            assert abs(res.grad_norms[1, 0] - want) < 1e-9 * want


def test_train_clipping_bounds_the_update():
    kw = dict(num_hiddens=H, steps=1, batch_size=4, num_steps=6, lr=1.0)
    start = [p.detach().clone() for p in rnn.init_params([0], V, H, sigma=1.0)]
    res = rnn.train(
        CORPUS, V, [0], clip=1e-3, params=[p.clone().requires_grad_() for p in start], **kw
    )
    moved = math.sqrt(sum(float(((p.detach() - q) ** 2).sum()) for p, q in zip(res.params, start)))
    assert res.grad_norms[0, 0] > 1e-2
    assert abs(moved - 1e-3) < 1e-6


def test_train_without_detach_changes_gradients_after_first_step():
    kw = dict(num_hiddens=H, steps=4, batch_size=4, num_steps=6, lr=1.0, clip=1.0)
    a = rnn.train(CORPUS, V, [0], detach=True, params=rnn.init_params([0], V, H, sigma=0.5), **kw)
    b = rnn.train(CORPUS, V, [0], detach=False, params=rnn.init_params([0], V, H, sigma=0.5), **kw)
    assert np.isclose(a.grad_norms[0, 0], b.grad_norms[0, 0], rtol=1e-6)
    assert abs(a.grad_norms[1, 0] - b.grad_norms[1, 0]) > 1e-3 * a.grad_norms[1, 0]


def test_train_bad_input():
    with pytest.raises(ValueError, match="lr"):
        rnn.train(CORPUS, V, [0, 1], num_hiddens=H, steps=1, lr=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="clip > 0"):
        rnn.train(CORPUS, V, [0], num_hiddens=H, steps=1, clip=0.0, batch_size=4, num_steps=6)
    with pytest.raises(ValueError, match="corpus of at least"):
        rnn.train(CORPUS[:50], V, [0], num_hiddens=H, steps=1)
    with pytest.raises(ValueError, match="steps >= 1"):
        rnn.train(CORPUS, V, [0], num_hiddens=H, steps=0)


def test_perplexity_of_uniform_model_is_vocab_size():
    zeros = [torch.zeros_like(p) for p in rnn.init_params([0, 1], V, H)]
    assert np.allclose(rnn.perplexity(zeros, CORPUS), V, rtol=1e-5)
    with pytest.raises(ValueError, match="at least"):
        rnn.perplexity(zeros, CORPUS[:5])


def test_perplexity_is_exp_of_the_mean_cross_entropy_with_the_state_carried():
    params = random_params([0, 1])
    tokens = CORPUS[:401]  # 4 streams of 100 characters
    got = rnn.perplexity(params, tokens, activation=["tanh", "relu"], num_streams=4)
    X = torch.as_tensor(tokens[:400].reshape(4, 100))
    Y = torch.as_tensor(tokens[1:401].reshape(4, 100))
    for e, act in enumerate([torch.tanh, torch.relu]):
        logits, _ = reference_forward(
            [p[e].double() for p in params], X, torch.zeros(4, H, dtype=torch.float64), act
        )
        logp = torch.log_softmax(logits, -1).gather(-1, Y[..., None])
        assert abs(got[e] - math.exp(-float(logp.mean()))) < 1e-5 * got[e]


def test_predict_is_the_books_greedy_loop():
    params = random_params([0, 1], sigma=1.0, noise_seed=2)
    prefix, n = [1, 2, 3], 12
    for model, act in ((0, torch.tanh), (1, torch.relu)):
        out = rnn.predict(params, prefix, n, model=model, activation=["tanh", "relu"])
        W = [p[model] for p in params]
        want, h = list(prefix), torch.zeros(1, H)
        logits, h = reference_forward(W, torch.tensor([prefix]), h, act)
        for _ in range(n):
            want.append(int(logits[0, -1].argmax()))
            logits, h = reference_forward(W, torch.tensor([[want[-1]]]), h, act)
        assert out == want
        assert len(set(out[3:])) >= 2  # not a constant continuation
    with pytest.raises(ValueError, match="model in"):
        rnn.predict(params, [1], 2, model=2)
