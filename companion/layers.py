"""NumPy layers with explicit forward and backward passes: linear, tanh, mean squared error.

Conventions (those of PyTorch): a batch is a 2-D array ``(N, features)``; a linear layer holds
``W`` of shape ``(out, in)`` and ``b`` of shape ``(out,)`` and computes ``x @ W.T + b``.
``forward`` caches what ``backward`` needs; ``backward(grad_out)`` returns the gradient with
respect to the layer's input and stores parameter gradients in ``grads``.

```python
import numpy as np
from companion.layers import Linear

layer = Linear(3, 2, rng=np.random.default_rng(0))
assert layer.forward(np.ones((4, 3))).shape == (4, 2)
```
"""

from __future__ import annotations

import numpy as np


def _check_2d(name: str, x: np.ndarray, features: int | None = None) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or (features is not None and x.shape[1] != features):
        expected = f"(N, {features})" if features is not None else "(N, features)"
        raise ValueError(f"{name}: expected an array of shape {expected}, got shape {x.shape}")
    return x


class Linear:
    """Fully connected layer ``y = x W^T + b``.

    ```python
    import numpy as np
    from companion.layers import Linear

    layer = Linear(3, 2, weight=np.ones((2, 3)), bias=[0.5, -0.5])
    y = layer.forward(np.ones((4, 3)))
    assert y.shape == (4, 2) and (y[:, 0] == 3.5).all()
    dx = layer.backward(np.ones((4, 2)))       # gradient w.r.t. the input
    assert dx.shape == (4, 3) and layer.grads["b"].tolist() == [4.0, 4.0]
    ```
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        rng: np.random.Generator | None = None,
        weight: np.ndarray | None = None,
        bias: np.ndarray | None = None,
    ):
        if in_features <= 0 or out_features <= 0:
            raise ValueError(
                f"Linear: sizes must be positive, got in={in_features}, out={out_features}"
            )
        rng = rng if rng is not None else np.random.default_rng(0)
        bound = 1.0 / np.sqrt(in_features)  # PyTorch's default range
        self.params = {
            "W": rng.uniform(-bound, bound, (out_features, in_features))
            if weight is None
            else np.array(weight, float),
            "b": np.zeros(out_features) if bias is None else np.array(bias, float),
        }
        if self.params["W"].shape != (out_features, in_features):
            raise ValueError(
                f"Linear: weight must have shape {(out_features, in_features)}, got "
                f"{self.params['W'].shape}"
            )
        if self.params["b"].shape != (out_features,):
            raise ValueError(
                f"Linear: bias must have shape {(out_features,)}, got {self.params['b'].shape}"
            )
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = _check_2d("Linear.forward", x, self.params["W"].shape[1])
        self._x = x
        return x @ self.params["W"].T + self.params["b"]

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        if self._x is None:
            raise RuntimeError("Linear.backward called before forward")
        grad_out = _check_2d("Linear.backward", grad_out, self.params["W"].shape[0])
        if grad_out.shape[0] != self._x.shape[0]:
            raise ValueError(
                f"Linear.backward: expected {self._x.shape[0]} rows like the input, got "
                f"{grad_out.shape[0]}"
            )
        self.grads["W"] = grad_out.T @ self._x
        self.grads["b"] = grad_out.sum(axis=0)
        return grad_out @ self.params["W"]


class Tanh:
    """Element-wise ``tanh``; its derivative is ``1 - tanh^2``.

    ```python
    import numpy as np
    from companion.layers import Tanh

    act = Tanh()
    y = act.forward(np.zeros((1, 2)))
    assert (y == 0.0).all()                              # tanh(0) = 0
    assert (act.backward(np.ones((1, 2))) == 1.0).all()   # tanh'(0) = 1
    ```
    """

    params: dict = {}
    grads: dict = {}

    def __init__(self) -> None:
        self._y: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._y = np.tanh(_check_2d("Tanh.forward", x))
        return self._y

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        if self._y is None:
            raise RuntimeError("Tanh.backward called before forward")
        grad_out = np.asarray(grad_out, dtype=np.float64)
        if grad_out.shape != self._y.shape:
            raise ValueError(f"Tanh.backward: expected shape {self._y.shape}, got {grad_out.shape}")
        return grad_out * (1.0 - self._y**2)


class MSELoss:
    """Mean squared error over every element: ``mean((y - t)^2)``, as ``torch.nn.MSELoss()``.

    ```python
    import numpy as np
    from companion.layers import MSELoss

    loss = MSELoss()
    assert loss.forward(np.array([[1.0, 3.0]]), np.array([[0.0, 1.0]])) == 2.5
    assert loss.backward().tolist() == [[1.0, 2.0]]      # 2 (y - t) / n
    ```
    """

    def __init__(self) -> None:
        self._diff: np.ndarray | None = None

    def forward(self, y: np.ndarray, t: np.ndarray) -> float:
        y, t = np.asarray(y, dtype=np.float64), np.asarray(t, dtype=np.float64)
        if y.shape != t.shape:
            raise ValueError(
                f"MSELoss: prediction shape {y.shape} and target shape {t.shape} must be equal"
            )
        self._diff = y - t
        return float(np.mean(self._diff**2))

    def backward(self) -> np.ndarray:
        if self._diff is None:
            raise RuntimeError("MSELoss.backward called before forward")
        return 2.0 * self._diff / self._diff.size


class Sequential:
    """Layers applied in order; ``backward`` runs them in reverse.

    ```python
    import numpy as np
    from companion.layers import Linear, MSELoss, Sequential, Tanh

    rng = np.random.default_rng(0)
    net, loss = Sequential(Linear(2, 4, rng=rng), Tanh(), Linear(4, 1, rng=rng)), MSELoss()
    x, t = rng.normal(size=(8, 2)), rng.normal(size=(8, 1))
    before = loss.forward(net.forward(x), t)
    net.backward(loss.backward())
    net.sgd_step(lr=0.1)
    assert loss.forward(net.forward(x), t) < before
    ```
    """

    def __init__(self, *layers) -> None:
        bad = [
            i
            for i, layer in enumerate(layers)
            if not (hasattr(layer, "forward") and hasattr(layer, "backward"))
        ]
        if bad:
            raise ValueError(
                f"Sequential: expected layers with forward and backward methods, "
                f"got {type(layers[bad[0]]).__name__} at position {bad[0]}"
            )
        self.layers = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out

    def sgd_step(self, lr: float) -> None:
        """Plain gradient descent on every parameter: ``p -= lr * grad``."""
        if lr <= 0:
            raise ValueError(f"sgd_step: learning rate must be positive, got {lr}")
        for layer in self.layers:
            for name, p in layer.params.items():
                p -= lr * layer.grads[name]
