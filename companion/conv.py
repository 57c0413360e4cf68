"""Convolution and pooling in NumPy: loops, matrix products, operation counts.

Reference implementations that the chapter 6 pages compare with the frameworks' layers:

```text
corr2d(x, k)                    # 2-D cross-correlation of one channel, no padding
im2col(x, (kh, kw), s, p)       # (c*kh*kw, oh*ow): one column per output position
conv2d_matmul(x, w, b, s, p)    # multi-channel convolution as one matrix product
toeplitz_matrix(k, (h, w))      # T with corr2d(x, k).ravel() == T @ x.ravel()
compose_kernels(k1, k2)         # one kernel doing what k1 then k2 do (1-D or 2-D)
conv2d_counted(x, w, b, s, p)   # forward pass counting its mults and adds
conv2d_backward_counted(x, w, dy, s, p)  # gradients, counted the same way
conv2d_cost(x_shape, w_shape, s, p)      # those counts and the memory, by formula
pool2d(x, size, s, p, mode)     # max, avg, min or softmax-weighted pooling
pool_output_size(n, k, s, p, ceil_mode)  # floor and ceil conventions
pool2d_cost(x_shape, size, s, p, mode)   # operations of a pooling layer, by formula
```

Shapes follow the frameworks: an image is ``(channels, height, width)``, a kernel bank
``(c_out, c_in, kh, kw)``; ``padding`` is the number of zeros added on *each* side (the
book's ``p_h`` is the total, ``2 * padding``). Counting convention: a sum of ``n``
products costs ``n`` multiplications and ``n - 1`` additions, adding the bias one more;
zeros of the padding are multiplied like any other entry, as a plain implementation
does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "OpCount",
    "corr2d",
    "im2col",
    "conv2d_matmul",
    "toeplitz_matrix",
    "compose_kernels",
    "conv2d_counted",
    "conv2d_backward_counted",
    "conv2d_cost",
    "pool2d",
    "pool_output_size",
    "pool2d_cost",
    "POOL_MODES",
]

POOL_MODES = ("max", "avg", "min", "softmax")


@dataclass(frozen=True)
class OpCount:
    """Numbers of scalar multiplications and additions.

    ```python
    from companion.conv import OpCount

    assert OpCount(2, 1) + OpCount(3, 3) == OpCount(mults=5, adds=4)
    ```
    """

    mults: int = 0
    adds: int = 0

    def __post_init__(self) -> None:
        for name in ("mults", "adds"):
            v = getattr(self, name)
            if not _is_int(v) or v < 0:
                raise ValueError(f"OpCount: expected a non-negative integer {name}, got {v!r}")

    def __add__(self, other: OpCount) -> OpCount:
        return OpCount(self.mults + other.mults, self.adds + other.adds)


# ---------------------------------------------------------------- validation helpers


def _array(name: str, x: object, ndim: int, what: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array {what}, got shape {a.shape}")
    return a


def _is_int(v: object) -> bool:
    """An int or NumPy integer; ``True`` and ``False`` are not sizes."""
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _pair(name: str, value: int | Sequence[int], minimum: int) -> tuple[int, int]:
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or any(not _is_int(v) or v < minimum for v in pair):
        raise ValueError(f"{name}: expected an int >= {minimum} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _out_size(name: str, size: int, kernel: int, stride: int, padding: int) -> int:
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise ValueError(
            f"{name}: input of size {size} (padding {padding}) is smaller than the kernel {kernel}"
        )
    return out


def _geometry(
    x_shape: Sequence[int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
) -> tuple[int, int]:
    return (
        _out_size("height", x_shape[-2], kernel[0], stride[0], padding[0]),
        _out_size("width", x_shape[-1], kernel[1], stride[1], padding[1]),
    )


def _check_bank(x: np.ndarray, w: np.ndarray) -> None:
    if w.shape[1] != x.shape[0]:
        raise ValueError(
            f"kernel bank (c_out, c_in, kh, kw) = {w.shape} expects {w.shape[1]} "
            f"input channels, got an input of shape {x.shape}"
        )


def _check_bias(b: object, c_out: int) -> np.ndarray:
    if b is None:
        return np.zeros(c_out)
    b = np.asarray(b, dtype=np.float64)
    if b.shape != (c_out,):
        raise ValueError(f"bias: expected shape ({c_out},), got {b.shape}")
    return b


def _pool_padding(padding: int | Sequence[int], window: tuple[int, int]) -> tuple[int, int]:
    """Check pooling padding: a window made of padding only has no value to pool."""
    pad = _pair("padding", padding, 0)
    if any(2 * p > k for p, k in zip(pad, window)):
        raise ValueError(
            f"padding: expected padding at most half the window {window[0]}x"
            f"{window[1]}, i.e. at most ({window[0] // 2}, {window[1] // 2}) per "
            f"side, got {padding!r}"
        )
    return pad


def _pad(x: np.ndarray, padding: tuple[int, int], value: float = 0.0) -> np.ndarray:
    ph, pw = padding
    return np.pad(x, ((0, 0), (ph, ph), (pw, pw)), constant_values=value)


# ---------------------------------------------------------------- convolution


def corr2d(x: object, k: object) -> np.ndarray:
    """2-D cross-correlation of a 2-D array with a 2-D kernel, no padding, stride 1.

    ```python
    import numpy as np
    from companion.conv import corr2d

    x = np.arange(9.0).reshape(3, 3)
    assert corr2d(x, np.array([[0.0, 1.0], [2.0, 3.0]])).tolist() == [[19.0, 25.0],
                                                                      [37.0, 43.0]]
    ```
    """
    x = _array("x", x, 2, "(height, width)")
    k = _array("k", k, 2, "(kh, kw)")
    oh, ow = _geometry(x.shape, k.shape, (1, 1), (0, 0))
    y = np.empty((oh, ow))
    for i in range(oh):
        for j in range(ow):
            y[i, j] = np.sum(x[i : i + k.shape[0], j : j + k.shape[1]] * k)
    return y


def im2col(
    x: object,
    kernel: int | Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
) -> np.ndarray:
    """Unfold ``x`` (c, h, w) into a (c*kh*kw, oh*ow) matrix, one column per window.

    Column ``i*ow + j`` holds window (i, j), channels first, then rows, then columns.

    ```python
    import numpy as np
    from companion.conv import im2col

    cols = im2col(np.arange(9.0).reshape(1, 3, 3), kernel=2)
    assert cols.shape == (4, 4) and cols[:, 0].tolist() == [0.0, 1.0, 3.0, 4.0]
    ```
    """
    x = _array("x", x, 3, "(channels, height, width)")
    kh, kw = _pair("kernel", kernel, 1)
    sh, sw = _pair("stride", stride, 1)
    pad = _pair("padding", padding, 0)
    oh, ow = _geometry(x.shape, (kh, kw), (sh, sw), pad)
    xp = _pad(x, pad)
    cols = np.empty((x.shape[0] * kh * kw, oh * ow))
    for i in range(oh):
        for j in range(ow):
            cols[:, i * ow + j] = xp[:, i * sh : i * sh + kh, j * sw : j * sw + kw].ravel()
    return cols


def conv2d_matmul(
    x: object,
    w: object,
    b: object = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
) -> np.ndarray:
    """Convolution (c, h, w) -> (c_out, oh, ow) as one product ``W @ im2col(x)``.

    ```python
    import numpy as np
    from companion.conv import conv2d_matmul, corr2d

    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(1, 5, 5)), rng.normal(size=(2, 1, 3, 3))
    y = conv2d_matmul(x, w, padding=1)
    assert y.shape == (2, 5, 5)
    assert np.allclose(conv2d_matmul(x, w)[1], corr2d(x[0], w[1, 0]))
    ```
    """
    x = _array("x", x, 3, "(channels, height, width)")
    w = _array("w", w, 4, "(c_out, c_in, kh, kw)")
    _check_bank(x, w)
    b = _check_bias(b, w.shape[0])
    oh, ow = _geometry(
        x.shape, w.shape[2:], _pair("stride", stride, 1), _pair("padding", padding, 0)
    )
    y = w.reshape(w.shape[0], -1) @ im2col(x, w.shape[2:], stride, padding) + b[:, None]
    return y.reshape(w.shape[0], oh, ow)


def toeplitz_matrix(k: object, input_shape: Sequence[int]) -> np.ndarray:
    """The doubly blocked Toeplitz matrix T: ``corr2d(x, k).ravel() == T @ x.ravel()``.

    T has shape (oh*ow, h*w); row ``i*ow + j`` holds the kernel at the offsets of window
    (i, j).

    ```python
    import numpy as np
    from companion.conv import corr2d, toeplitz_matrix

    x, k = np.arange(16.0).reshape(4, 4), np.array([[1.0, -1.0]])
    t = toeplitz_matrix(k, x.shape)
    assert t.shape == (12, 16) and np.allclose(t @ x.ravel(), corr2d(x, k).ravel())
    ```
    """
    k = _array("k", k, 2, "(kh, kw)")
    if len(input_shape) != 2:
        raise ValueError(f"input_shape: expected (height, width), got {tuple(input_shape)}")
    h, w = _pair("input_shape", tuple(input_shape), 1)
    oh, ow = _geometry((h, w), k.shape, (1, 1), (0, 0))
    t = np.zeros((oh * ow, h * w))
    for i in range(oh):
        for j in range(ow):
            block = np.zeros((h, w))
            block[i : i + k.shape[0], j : j + k.shape[1]] = k
            t[i * ow + j] = block.ravel()
    return t


def compose_kernels(k1: object, k2: object) -> np.ndarray:
    """The kernel of cross-correlating with ``k1``, then ``k2``: full convolution.

    Works for 1-D and 2-D kernels; the result has size ``k1 + k2 - 1`` along every axis.

    ```python
    import numpy as np
    from companion.conv import compose_kernels, corr2d

    k1, k2 = np.array([[1.0, 2.0]]), np.array([[1.0], [-1.0]])
    x = np.random.default_rng(0).normal(size=(5, 5))
    k = compose_kernels(k1, k2)
    assert k.shape == (2, 2) and np.allclose(corr2d(corr2d(x, k1), k2), corr2d(x, k))
    ```
    """
    a, b = np.asarray(k1, dtype=np.float64), np.asarray(k2, dtype=np.float64)
    if a.ndim not in (1, 2) or a.ndim != b.ndim:
        raise ValueError(f"expected two 1-D or two 2-D kernels, got shapes {a.shape} and {b.shape}")
    if a.size == 0 or b.size == 0:
        raise ValueError(f"expected non-empty kernels, got shapes {a.shape} and {b.shape}")
    a2, b2 = np.atleast_2d(a), np.atleast_2d(b)
    out = np.zeros((a2.shape[0] + b2.shape[0] - 1, a2.shape[1] + b2.shape[1] - 1))
    for p in range(a2.shape[0]):
        for q in range(a2.shape[1]):
            out[p : p + b2.shape[0], q : q + b2.shape[1]] += a2[p, q] * b2
    return out if a.ndim == 2 else out[0]


# ---------------------------------------------------------------- counted convolution


def conv2d_counted(
    x: object,
    w: object,
    b: object = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
) -> tuple[np.ndarray, OpCount]:
    """Forward convolution, one window at a time, counting its scalar operations.

    ```python
    import numpy as np
    from companion.conv import OpCount, conv2d_counted

    y, ops = conv2d_counted(np.ones((1, 3, 3)), np.ones((1, 1, 2, 2)), b=[0.5])
    assert y.shape == (1, 2, 2) and (y == 4.5).all()
    assert ops == OpCount(mults=16, adds=16)   # 4 windows x (4 mults, 3 adds + the bias)
    ```
    """
    x = _array("x", x, 3, "(channels, height, width)")
    w = _array("w", w, 4, "(c_out, c_in, kh, kw)")
    _check_bank(x, w)
    has_bias = b is not None
    b = _check_bias(b, w.shape[0])
    (sh, sw), pad = _pair("stride", stride, 1), _pair("padding", padding, 0)
    kh, kw = w.shape[2:]
    oh, ow = _geometry(x.shape, (kh, kw), (sh, sw), pad)
    xp = _pad(x, pad)
    y, mults, adds = np.empty((w.shape[0], oh, ow)), 0, 0
    for o in range(w.shape[0]):
        for i in range(oh):
            for j in range(ow):
                prod = xp[:, i * sh : i * sh + kh, j * sw : j * sw + kw] * w[o]
                mults += prod.size
                adds += prod.size - 1 + has_bias
                y[o, i, j] = prod.sum() + b[o]
    return y, OpCount(mults, adds)


def conv2d_backward_counted(
    x: object,
    w: object,
    dy: object,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, OpCount]:
    """Gradients (dx, dw, db) of a convolution given dy, counting mults and adds.

    An addition is counted only where a value is added to something already there: the
    contribution to a gradient entry is a copy.

    ```python
    import numpy as np
    from companion.conv import conv2d_backward_counted

    x, w = np.ones((1, 3, 3)), np.ones((1, 1, 2, 2))
    dx, dw, db, ops = conv2d_backward_counted(x, w, dy=np.ones((1, 2, 2)))
    assert dx[0].tolist() == [[1, 2, 1], [2, 4, 2], [1, 2, 1]] and db.tolist() == [4.0]
    assert dw.shape == w.shape and ops.mults == 32
    ```
    """
    x = _array("x", x, 3, "(channels, height, width)")
    w = _array("w", w, 4, "(c_out, c_in, kh, kw)")
    _check_bank(x, w)
    (sh, sw), (ph, pw) = _pair("stride", stride, 1), _pair("padding", padding, 0)
    kh, kw = w.shape[2:]
    oh, ow = _geometry(x.shape, (kh, kw), (sh, sw), (ph, pw))
    dy = _array("dy", dy, 3, "(c_out, oh, ow)")
    if dy.shape != (w.shape[0], oh, ow):
        raise ValueError(f"dy: expected shape {(w.shape[0], oh, ow)}, got {dy.shape}")
    xp = _pad(x, (ph, pw))
    dxp, touched = np.zeros_like(xp), np.zeros(xp.shape, dtype=bool)
    dw, mults, adds = np.zeros_like(w), 0, 0
    for o in range(w.shape[0]):
        for i in range(oh):
            for j in range(ow):
                win = (
                    slice(None),
                    slice(i * sh, i * sh + kh),
                    slice(j * sw, j * sw + kw),
                )
                dw[o] += dy[o, i, j] * xp[win]  # dL/dw: dy times the input window
                dxp[win] += dy[o, i, j] * w[o]  # dL/dx: dy spread over the window
                adds += w[o].size * (i + j > 0) + int(touched[win].sum())
                touched[win] = True
                mults += 2 * w[o].size
    db = dy.sum(axis=(1, 2))
    adds += w.shape[0] * (oh * ow - 1)
    dx = dxp[:, ph : ph + x.shape[1], pw : pw + x.shape[2]]
    return dx, dw, db, OpCount(mults, adds)


def conv2d_cost(
    x_shape: Sequence[int],
    w_shape: Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    bias: bool = True,
) -> dict[str, object]:
    """Operations and memory (in numbers of floats) of one convolution, by formula.

    Keys: ``forward`` and ``backward`` ([`OpCount`][], the convention of
    [`conv2d_counted`][]), ``out_shape``, and the float counts ``input``, ``params``,
    ``output`` (forward), ``saved`` (what backward needs from forward: input and
    weights) and ``grads`` (dy, dx, dw, db).

    ```python
    import numpy as np
    from companion.conv import conv2d_cost, conv2d_counted

    x, w = np.ones((2, 6, 6)), np.ones((3, 2, 3, 3))
    cost = conv2d_cost(x.shape, w.shape, stride=1, padding=1)
    assert cost["out_shape"] == (3, 6, 6) and cost["params"] == 3 * 2 * 9 + 3
    assert cost["forward"] == conv2d_counted(x, w, np.zeros(3), padding=1)[1]
    ```
    """
    if len(x_shape) != 3 or len(w_shape) != 4:
        raise ValueError(
            f"expected x_shape (c, h, w) and w_shape (c_out, c_in, kh, kw), got "
            f"{tuple(x_shape)} and {tuple(w_shape)}"
        )
    c, h, wd = (int(v) for v in x_shape)
    co, ci, kh, kw = (int(v) for v in w_shape)
    if min(c, h, wd, co, ci, kh, kw) < 1:
        raise ValueError(
            f"expected positive sizes, got x_shape {tuple(x_shape)} and w_shape {tuple(w_shape)}"
        )
    if ci != c:
        raise ValueError(f"w_shape {tuple(w_shape)} expects {ci} input channels, x_shape has {c}")
    (sh, sw), (ph, pw) = _pair("stride", stride, 1), _pair("padding", padding, 0)
    oh, ow = _geometry((h, wd), (kh, kw), (sh, sw), (ph, pw))
    n, window = co * oh * ow, ci * kh * kw
    forward = OpCount(n * window, n * (window - 1 + bias))
    th = (oh - 1) * sh + kh if kh >= sh else oh * kh  # padded rows any window touches
    tw = (ow - 1) * sw + kw if kw >= sw else ow * kw
    backward = OpCount(
        2 * n * window,
        co * window * (oh * ow - 1) + (n * window - ci * th * tw) + co * (oh * ow - 1),
    )
    params = co * window + co * bias
    return {
        "forward": forward,
        "backward": backward,
        "out_shape": (co, oh, ow),
        "input": c * h * wd,
        "params": params,
        "output": n,
        "saved": c * h * wd + co * window,
        "grads": n + c * h * wd + params,
    }


# ---------------------------------------------------------------- pooling


def pool_output_size(
    size: int,
    kernel: int,
    stride: int | None = None,
    padding: int = 0,
    ceil_mode: bool = False,
) -> int:
    """Pooling output length, PyTorch's rule; ``ceil_mode`` keeps a partial window.

    With ``ceil_mode`` the last window must still start inside the input or its left
    padding.

    ```python
    from companion.conv import pool_output_size

    assert pool_output_size(5, kernel=2) == 2
    assert pool_output_size(5, kernel=2, ceil_mode=True) == 3    # keeps a partial window
    ```
    """
    stride = kernel if stride is None else stride
    for name, v, lo in (
        ("size", size, 1),
        ("kernel", kernel, 1),
        ("stride", stride, 1),
        ("padding", padding, 0),
    ):
        if not _is_int(v) or v < lo:
            raise ValueError(f"{name}: expected an int >= {lo}, got {v!r}")
    if 2 * padding > kernel:
        raise ValueError(f"padding {padding} must be at most half the kernel {kernel}")
    span = size + 2 * padding - kernel
    if span < 0:
        raise ValueError(
            f"input of size {size} (padding {padding}) is smaller than the kernel {kernel}"
        )
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def pool2d(
    x: object,
    size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    mode: str = "max",
    beta: float = 1.0,
) -> np.ndarray:
    """Pool each channel of ``x`` (c, h, w) over windows; ``stride`` defaults to size.

    ``mode``: ``max``, ``min``, ``avg`` (padding zeros counted, the frameworks' default)
    or ``softmax``: ``sum(softmax(beta * window) * window)``, the average at
    ``beta = 0`` and the maximum as ``beta -> inf`` (padding entries get weight 0).
    ``padding`` is at most half the window, as in both frameworks.

    ```python
    import numpy as np
    from companion.conv import pool2d

    x = np.arange(16.0).reshape(1, 4, 4)
    assert pool2d(x, 2)[0].tolist() == [[5.0, 7.0], [13.0, 15.0]]
    assert pool2d(x, 2, mode="avg")[0].tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert np.allclose(pool2d(x, 2, mode="softmax", beta=0.0), pool2d(x, 2, mode="avg"))
    ```
    """
    x = _array("x", x, 3, "(channels, height, width)")
    if mode not in POOL_MODES:
        raise ValueError(f"mode: expected one of {POOL_MODES}, got {mode!r}")
    if not np.isfinite(beta):
        raise ValueError(f"beta: expected a finite number, got {beta}")
    kh, kw = _pair("size", size, 1)
    sh, sw = _pair("stride", (kh, kw) if stride is None else stride, 1)
    pad = _pool_padding(padding, (kh, kw))
    oh, ow = _geometry(x.shape, (kh, kw), (sh, sw), pad)
    fill = {"max": -np.inf, "min": np.inf, "avg": 0.0, "softmax": -np.inf}[mode]
    xp = _pad(x, pad, fill)
    y = np.empty((x.shape[0], oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, i * sh : i * sh + kh, j * sw : j * sw + kw].reshape(x.shape[0], -1)
            if mode == "max":
                y[:, i, j] = win.max(axis=1)
            elif mode == "min":
                y[:, i, j] = win.min(axis=1)
            elif mode == "avg":
                y[:, i, j] = win.mean(axis=1)
            else:
                z = beta * np.where(np.isfinite(win), win, 0.0)
                z = np.where(np.isfinite(win), z, -np.inf)
                e = np.exp(z - z.max(axis=1, keepdims=True))
                vals = np.where(np.isfinite(win), win, 0.0)
                y[:, i, j] = (e * vals).sum(axis=1) / e.sum(axis=1)
    return y


def pool2d_cost(
    x_shape: Sequence[int],
    size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    mode: str = "max",
) -> dict[str, int]:
    """Scalar operations of a pooling layer, by formula, for ``x_shape`` (c, h, w).

    Per window of ``n`` entries: max/min ``n - 1`` comparisons; avg ``n - 1`` additions
    and one multiplication (by ``1/n``); softmax (stabilised) ``n - 1`` comparisons for
    the maximum, ``n`` multiplications by ``beta`` and ``n`` subtractions, ``n``
    exponentials, ``2(n - 1)`` additions for the two sums, ``n`` multiplications by the
    weights and one division.
    Returns the counts for the whole layer and ``windows``, the number of windows.

    ```python
    from companion.conv import pool2d_cost

    cost = pool2d_cost((3, 4, 4), 2, mode="max")
    assert cost["windows"] == 12 and cost["comparisons"] == 12 * 3
    ```
    """
    if len(x_shape) != 3:
        raise ValueError(f"x_shape: expected (c, h, w), got {tuple(x_shape)}")
    if mode not in POOL_MODES:
        raise ValueError(f"mode: expected one of {POOL_MODES}, got {mode!r}")
    kh, kw = _pair("size", size, 1)
    sh, sw = _pair("stride", (kh, kw) if stride is None else stride, 1)
    pad = _pool_padding(padding, (kh, kw))
    oh, ow = _geometry(x_shape, (kh, kw), (sh, sw), pad)
    windows, n = int(x_shape[0]) * oh * ow, kh * kw
    per = {
        "max": dict(comparisons=n - 1),
        "min": dict(comparisons=n - 1),
        "avg": dict(adds=n - 1, mults=1),
        "softmax": dict(comparisons=n - 1, mults=2 * n, adds=n + 2 * (n - 1), exps=n, divisions=1),
    }[mode]
    cost = {k: 0 for k in ("comparisons", "adds", "mults", "exps", "divisions")}
    cost.update({k: v * windows for k, v in per.items()})
    cost["windows"] = windows
    return cost
