"""companion.layers: gradients against finite differences and torch, shape errors."""

import numpy as np
import pytest
import torch

from companion.layers import Linear, MSELoss, Sequential, Tanh


def numeric_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central finite differences of the scalar f() with respect to x (modified in place)."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f()
        x[i] = old - eps
        down = f()
        x[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


def make_net(seed: int = 0) -> Sequential:
    rng = np.random.default_rng(seed)
    return Sequential(Linear(3, 4, rng), Tanh(), Linear(4, 2, rng))


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    net, loss = make_net(), MSELoss()
    x, t = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    value = lambda: loss.forward(net.forward(x), t)  # noqa: E731
    value()
    dx = net.backward(loss.backward())
    assert np.allclose(dx, numeric_grad(value, x), atol=1e-7)
    for layer in net.layers:
        for name, p in layer.params.items():
            value()
            net.backward(loss.backward())
            analytic = layer.grads[name].copy()
            assert np.allclose(analytic, numeric_grad(value, p), atol=1e-7), name


def test_forward_backward_and_step_match_torch():
    net, loss = make_net(), MSELoss()
    rng = np.random.default_rng(2)
    x, t = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    l1, l2 = net.layers[0], net.layers[2]
    tnet = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)
    ).double()
    with torch.no_grad():
        for tl, nl in ((tnet[0], l1), (tnet[2], l2)):
            tl.weight.copy_(torch.from_numpy(nl.params["W"]))
            tl.bias.copy_(torch.from_numpy(nl.params["b"]))
    opt = torch.optim.SGD(tnet.parameters(), lr=0.1)
    for _ in range(3):
        ours = loss.forward(net.forward(x), t)
        net.backward(loss.backward())
        net.sgd_step(0.1)
        opt.zero_grad()
        theirs = torch.nn.functional.mse_loss(tnet(torch.from_numpy(x)), torch.from_numpy(t))
        theirs.backward()
        opt.step()
        assert ours == pytest.approx(theirs.item(), abs=1e-12)
    assert np.allclose(l1.params["W"], tnet[0].weight.detach().numpy(), atol=1e-12)
    assert np.allclose(l2.params["b"], tnet[2].bias.detach().numpy(), atol=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: Linear(3, 2).forward(np.ones((4, 5))),
            r"expected an array of shape \(N, 3\), got shape \(4, 5\)",
        ),
        (
            lambda: Linear(3, 2).forward(np.ones(3)),
            r"expected an array of shape \(N, 3\), got shape \(3,\)",
        ),
        (lambda: Linear(0, 2), "sizes must be positive"),
        (
            lambda: Linear(3, 2, weight=np.ones((3, 2))),
            r"weight must have shape \(2, 3\), got \(3, 2\)",
        ),
        (lambda: Linear(3, 2, bias=np.ones(3)), r"bias must have shape \(2,\), got \(3,\)"),
        (
            lambda: MSELoss().forward(np.ones((4, 1)), np.ones(4)),
            r"prediction shape \(4, 1\) and target shape \(4,\)",
        ),
        (lambda: make_net().sgd_step(-1.0), "learning rate must be positive"),
    ],
)
def test_bad_input_is_rejected_with_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_backward_shape_errors():
    layer = Linear(3, 2)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((1, 2)))
    layer.forward(np.ones((4, 3)))
    with pytest.raises(
        ValueError, match=r"expected an array of shape \(N, 2\), got shape \(4, 3\)"
    ):
        layer.backward(np.ones((4, 3)))
    with pytest.raises(ValueError, match="expected 4 rows"):
        layer.backward(np.ones((5, 2)))
    act = Tanh()
    act.forward(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"expected shape \(2, 2\), got \(2, 3\)"):
        act.backward(np.ones((2, 3)))
