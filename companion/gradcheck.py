"""Finite-difference gradient checks, framework-free: autograd vs central differences.

``numerical_gradient(f, x)`` differentiates any function from a NumPy array to a number
(it may build MXNet or PyTorch tensors inside); ``relative_error`` compares two
gradients:

```text
g_num = numerical_gradient(lambda w: loss_of(w), w0)
assert relative_error(g_autograd, g_num) < 1e-6
```

Use float64 inside ``f``: in float32 the rounding error of a difference quotient with
``eps = 1e-6`` is about 1e-7 / 1e-6 = 10 %.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np


def _as_number(value: Any) -> float:
    """The value of ``f`` as a float; one-entry arrays (NumPy, MXNet, torch) too."""
    try:
        if not hasattr(value, "shape"):
            value = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"expected f to return a number, got {value!r}") from err
    shape = tuple(value.shape)
    if math.prod(shape) != 1:
        raise ValueError(
            f"expected f to return a scalar (shape () or one entry), got shape {shape}"
        )
    if hasattr(value, "item"):
        return float(value.item())
    if hasattr(value, "asscalar"):  # MXNet NDArray
        return float(value.asscalar())
    return float(value)


def numerical_gradient(
    f: Callable[[np.ndarray], Any], x: np.ndarray, eps: float = 1e-6
) -> np.ndarray:
    """Central differences ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` for each x_i.

    ``f`` gets a fresh copy of the shifted point each time, so it may change its input.

    ```python
    import numpy as np
    from companion.gradcheck import numerical_gradient

    w = np.array([1.0, -2.0, 0.5])
    g = numerical_gradient(lambda v: (v**2).sum(), w)   # d/dw sum(w^2) = 2w
    assert np.allclose(g, 2 * w, atol=1e-6)
    ```
    """
    x = np.asarray(x)
    if x.dtype != np.float64:
        raise ValueError(f"expected a float64 array (finite differences need it), got {x.dtype}")
    if x.size == 0:
        raise ValueError(f"expected a non-empty array, got shape {x.shape}")
    if not eps > 0:
        raise ValueError(f"expected eps > 0, got {eps}")
    grad = np.zeros_like(x)
    flat, g = x.copy().reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = _as_number(f(flat.reshape(x.shape).copy()))
        flat[i] = old - eps
        down = _as_number(f(flat.reshape(x.shape).copy()))
        flat[i] = old
        g[i] = (up - down) / (2 * eps)
    return grad


def relative_error(a: Any, b: Any) -> float:
    """``max|a - b| / max(max|a|, max|b|, 1e-12)``; a, b non-empty, of one shape.

    ```python
    import numpy as np
    from companion.gradcheck import relative_error

    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert abs(relative_error([1.0, 2.0], [1.0, 2.2]) - 0.2 / 2.2) < 1e-12
    ```
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"expected arrays of the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        raise ValueError(f"expected non-empty arrays, got shape {a.shape}")
    scale = max(float(np.abs(a).max()), float(np.abs(b).max()), 1e-12)
    return float(np.abs(a - b).max()) / scale
