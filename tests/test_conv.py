"""Tests of companion.conv against PyTorch's own convolution and pooling."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from companion import conv

GEOMETRIES = [  # c, h, w, c_out, kh, kw, stride, padding
    (2, 7, 6, 3, 3, 2, 1, 0),
    (2, 7, 6, 3, 3, 2, 2, 1),
    (1, 9, 9, 2, 1, 1, 3, 0),
    (3, 8, 8, 2, 3, 3, 2, 2),
]


def _torch_conv(x, w, b, stride, padding, dy=None):
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    y = F.conv2d(xt[None], wt, bt, stride=stride, padding=padding)[0]
    if dy is not None:
        y.backward(torch.tensor(dy))
    return y.detach().numpy(), xt.grad, wt.grad, bt.grad


def _saved_for_backward(x, w, b, stride, padding):
    """Number of floats PyTorch's conv2d keeps for its backward pass."""
    numels = []
    xt = torch.tensor(x[None], requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(
        lambda t: numels.append(t.numel()) or t, lambda t: t
    ):
        F.conv2d(xt, wt, bt, stride=stride, padding=padding)
    return sum(numels)


@pytest.mark.parametrize("c,h,w,co,kh,kw,s,p", GEOMETRIES)
def test_forward_backward_and_counts_match_torch_and_formula(c, h, w, co, kh, kw, s, p):
    rng = np.random.default_rng(0)
    x, wb, b = (
        rng.normal(size=(c, h, w)),
        rng.normal(size=(co, c, kh, kw)),
        rng.normal(size=co),
    )
    y, fwd = conv.conv2d_counted(x, wb, b, s, p)
    dy = rng.normal(size=y.shape)
    yt, dxt, dwt, dbt = _torch_conv(x, wb, b, s, p, dy)
    np.testing.assert_allclose(y, yt, atol=1e-12)
    np.testing.assert_allclose(conv.conv2d_matmul(x, wb, b, s, p), yt, atol=1e-12)
    dx, dw, db, bwd = conv.conv2d_backward_counted(x, wb, dy, s, p)
    np.testing.assert_allclose(dx, dxt.numpy(), atol=1e-12)
    np.testing.assert_allclose(dw, dwt.numpy(), atol=1e-12)
    np.testing.assert_allclose(db, dbt.numpy(), atol=1e-12)
    cost = conv.conv2d_cost(x.shape, wb.shape, s, p)
    assert cost["forward"] == fwd and cost["backward"] == bwd
    assert cost["out_shape"] == y.shape
    assert cost["forward"].mults == co * y.shape[1] * y.shape[2] * c * kh * kw
    assert cost["saved"] == _saved_for_backward(x, wb, b, s, p) == x.size + wb.size
    assert cost["grads"] == dy.size + dx.size + dw.size + db.size


def test_forward_without_bias_counts_one_addition_less_per_output():
    x, w = np.ones((1, 4, 4)), np.ones((2, 1, 2, 2))
    _, with_b = conv.conv2d_counted(x, w, np.zeros(2))
    _, no_b = conv.conv2d_counted(x, w)
    assert with_b.adds - no_b.adds == 2 * 3 * 3
    assert conv.conv2d_cost(x.shape, w.shape, bias=False)["forward"] == no_b


def test_corr2d_book_example_and_toeplitz_and_im2col():
    x = np.arange(9.0).reshape(3, 3)
    k = np.arange(4.0).reshape(2, 2)
    np.testing.assert_array_equal(conv.corr2d(x, k), [[19, 25], [37, 43]])
    t = conv.toeplitz_matrix(k, x.shape)
    assert t.shape == (4, 9)
    np.testing.assert_array_equal(t @ x.ravel(), [19, 25, 37, 43])
    cols = conv.im2col(x[None], 2)
    np.testing.assert_array_equal(k.ravel() @ cols, [19, 25, 37, 43])


def test_compose_kernels_1d_and_2d():
    rng = np.random.default_rng(1)
    x, k1, k2 = (
        rng.normal(size=(1, 9, 8)),
        rng.normal(size=(2, 3)),
        rng.normal(size=(3, 2)),
    )
    k = conv.compose_kernels(k1, k2)
    assert k.shape == (4, 4)
    two = conv.corr2d(conv.corr2d(x[0], k1), k2)
    np.testing.assert_allclose(two, conv.corr2d(x[0], k), atol=1e-12)
    np.testing.assert_allclose(
        conv.compose_kernels([1, 2], [1, -1, 3]), np.convolve([1, 2], [1, -1, 3])
    )


@pytest.mark.parametrize("n,k,s,p", [(7, 2, 2, 0), (6, 3, 2, 1), (5, 2, 2, 1), (8, 3, 3, 1)])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool_output_size_matches_torch(n, k, s, p, ceil_mode):
    got = F.max_pool2d(torch.zeros(1, 1, n, n), k, s, p, ceil_mode=ceil_mode).shape[-1]
    assert conv.pool_output_size(n, k, s, p, ceil_mode) == got


def test_pool2d_modes():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 6, 6))
    xt = torch.tensor(x)[None]
    np.testing.assert_allclose(conv.pool2d(x, 3, 2, 1, "max"), F.max_pool2d(xt, 3, 2, 1)[0])
    np.testing.assert_allclose(conv.pool2d(x, 3, 2, 1, "avg"), F.avg_pool2d(xt, 3, 2, 1)[0])
    np.testing.assert_allclose(conv.pool2d(x, 2, mode="min"), -F.max_pool2d(-xt, 2)[0])
    np.testing.assert_allclose(
        conv.pool2d(x, 2, mode="softmax", beta=0.0),
        conv.pool2d(x, 2, mode="avg"),
        atol=1e-12,
    )
    np.testing.assert_allclose(
        conv.pool2d(x, 3, 1, 1, mode="softmax", beta=1e4),
        conv.pool2d(x, 3, 1, 1, mode="max"),
        atol=1e-3,
    )


@pytest.mark.parametrize("mode", ["max", "avg", "softmax"])
def test_pool2d_padding_of_half_the_window_matches_torch(mode):
    x = np.random.default_rng(3).normal(size=(2, 5, 4))
    xt = torch.tensor(x)[None]
    y = conv.pool2d(x, 2, 2, 1, mode, beta=0.0)
    assert np.isfinite(y).all()
    if mode == "max":
        np.testing.assert_allclose(y, F.max_pool2d(xt, 2, 2, 1)[0])
    else:  # softmax at beta 0 is the average over the real entries only
        want = F.avg_pool2d(xt, 2, 2, 1, count_include_pad=mode == "avg")[0]
        np.testing.assert_allclose(y, want, atol=1e-12)


def test_pool2d_cost():
    cost = conv.pool2d_cost((3, 4, 4), 2, mode="max")
    assert cost["windows"] == 12 and cost["comparisons"] == 36 and cost["adds"] == 0
    soft = conv.pool2d_cost((3, 4, 4), 2, mode="softmax")
    assert soft["exps"] == 48 and soft["divisions"] == 12


@pytest.mark.parametrize("size,stride,padding", [(3, 2, 1), ((3, 2), 1, (1, 0))])
def test_pool2d_cost_avg_with_padding_counts_every_window(size, stride, padding):
    x = np.ones((2, 6, 5))
    windows = conv.pool2d(x, size, stride, padding, "avg").size
    got = F.avg_pool2d(torch.tensor(x)[None], size, stride, padding).numel()
    assert windows == got
    n = 9 if size == 3 else 6
    cost = conv.pool2d_cost(x.shape, size, stride, padding, "avg")
    assert cost == dict(
        comparisons=0,
        adds=windows * (n - 1),
        mults=windows,
        exps=0,
        divisions=0,
        windows=windows,
    )


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: conv.corr2d(np.ones((2, 2, 2)), np.ones((2, 2))),
            "expected a 2-D array",
        ),
        (
            lambda: conv.corr2d(np.ones((2, 2)), np.ones((3, 3))),
            "smaller than the kernel",
        ),
        (
            lambda: conv.im2col(np.ones((1, 4, 4)), 2, stride=0),
            "stride: expected an int >= 1",
        ),
        (
            lambda: conv.conv2d_matmul(np.ones((2, 4, 4)), np.ones((1, 3, 2, 2))),
            "expects 3 input",
        ),
        (
            lambda: conv.conv2d_counted(np.ones((1, 4, 4)), np.ones((2, 1, 2, 2)), np.ones(3)),
            r"bias: expected shape \(2,\)",
        ),
        (
            lambda: conv.conv2d_backward_counted(
                np.ones((1, 4, 4)), np.ones((1, 1, 2, 2)), np.ones((1, 2, 2))
            ),
            "dy: expected shape",
        ),
        (lambda: conv.toeplitz_matrix(np.ones((2, 2)), (4, 4, 1)), "input_shape"),
        (
            lambda: conv.compose_kernels(np.ones(2), np.ones((2, 2))),
            "two 1-D or two 2-D",
        ),
        (lambda: conv.conv2d_cost((1, 4), (1, 1, 2, 2)), "x_shape"),
        (lambda: conv.conv2d_cost((1, 4, 4), (1, 2, 2, 2)), "expects 2 input channels"),
        (
            lambda: conv.pool2d(np.ones((1, 4, 4)), 2, mode="median"),
            "mode: expected one of",
        ),
        (
            lambda: conv.pool2d(np.ones((1, 4, 4)), 2, mode="softmax", beta=np.inf),
            "beta",
        ),
        (lambda: conv.pool_output_size(4, 2, padding=2), "at most half the kernel"),
        (lambda: conv.pool_output_size(0, 2), "size: expected an int >= 1"),
        (lambda: conv.pool2d_cost((4, 4), 2), "x_shape"),
        (
            lambda: conv.pool2d(np.ones((1, 4, 4)), 2, 2, 2),
            r"padding at most half the window 2x2, i.e. at most \(1, 1\)",
        ),
        (
            lambda: conv.pool2d(np.ones((1, 4, 4)), 2, 2, 2, mode="softmax"),
            "padding at most half the window",
        ),
        (
            lambda: conv.pool2d(np.ones((1, 4, 4)), (3, 1), 1, (1, 1)),
            r"padding at most half the window 3x1, i.e. at most \(1, 0\)",
        ),
        (
            lambda: conv.pool2d_cost((1, 4, 4), 2, 2, 2, mode="avg"),
            "padding at most half the window",
        ),
        (
            lambda: conv.im2col(np.ones((1, 4, 4)), 2, stride=True),
            "stride: expected an int >= 1 or a pair of them, got True",
        ),
        (lambda: conv.pool2d(np.ones((1, 4, 4)), (2, True)), "size: expected an int"),
        (
            lambda: conv.conv2d_cost((1, 4, 4), (1, 1, 2, 2), padding=False),
            "padding: expected an int >= 0",
        ),
        (lambda: conv.pool_output_size(4, True), "kernel: expected an int >= 1"),
    ],
)
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
