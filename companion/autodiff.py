"""A small reverse-mode automatic differentiation engine for scalars, with printable traces.

In the style of micrograd: every operation computes its forward value and defines, right next
to it, a backward closure that multiplies the output's adjoint by the local partial derivative
and adds it to each input's adjoint. [`Value.backward`][] runs the closures in reverse
topological order. Each addition to an adjoint is recorded, so that [`forward_trace`][] and
[`reverse_trace`][] can show the evaluation and the accumulation (fan-out) step by step.

```python
from companion.autodiff import Value, reverse_trace

x = Value(3.0, name="x")
y = (x * x + x).named("y")
y.backward()
assert x.grad == 7.0      # dy/dx = 2x + 1
rows = reverse_trace(y).splitlines()     # x is used three times: once by y, twice by x * x
assert [r.split()[-1] for r in rows[3:]] == ["1.0000", "3.0000", "3.0000"]
```
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real

Number = int | float


class Value:
    """A scalar node of a computational graph: its value, its adjoint ``grad`` and how it was made.

    ```python
    from companion.autodiff import Value

    x = Value(3.0, name="x")
    y = x * x + x            # dy/dx = 2x + 1
    y.backward()
    assert x.grad == 7.0
    ```
    """

    def __init__(
        self, data: Number, name: str = "", _children: tuple[Value, ...] = (), _op: str = ""
    ):
        if isinstance(data, bool) or not isinstance(data, Real):
            raise TypeError(
                f"Value needs a real number (int or float), got {type(data).__name__}: {data!r}"
            )
        if not math.isfinite(data):
            raise ValueError(f"Value needs a finite number, got {data}")
        self.data = float(data)
        self.grad = 0.0
        self.name = name
        self.op = _op
        self.inputs = _children
        self.contributions: list[tuple[Value, float, float]] = []  # (use, local partial, added)
        self._backward: Callable[[], None] = lambda: None

    def __repr__(self) -> str:
        name = f", name={self.name!r}" if self.name else ""
        return f"Value({self.data:.6g}{name}, grad={self.grad:.6g})"

    def named(self, name: str) -> Value:
        """Give this node a name for the traces; returns the node itself."""
        self.name = name
        return self

    def _add_grad(self, use: Value, local: float) -> None:
        """Chain rule for one edge: adjoint += d(use)/d(self) * adjoint(use), recorded for the
        trace."""
        added = local * use.grad
        self.grad += added
        self.contributions.append((use, local, added))

    @staticmethod
    def _lift(other: Value | Number) -> Value:
        if isinstance(other, Value):
            return other
        return Value(other, name=f"{other:g}" if isinstance(other, Real) else "", _op="const")

    # --- operations: forward value, then the backward closure ----------------------------------
    def __add__(self, other: Value | Number) -> Value:
        other = self._lift(other)
        out = Value(self.data + other.data, _children=(self, other), _op="+")

        def _backward() -> None:
            self._add_grad(out, 1.0)
            other._add_grad(out, 1.0)

        out._backward = _backward
        return out

    def __mul__(self, other: Value | Number) -> Value:
        other = self._lift(other)
        out = Value(self.data * other.data, _children=(self, other), _op="*")

        def _backward() -> None:
            self._add_grad(out, other.data)
            other._add_grad(out, self.data)

        out._backward = _backward
        return out

    def __truediv__(self, other: Value | Number) -> Value:
        other = self._lift(other)
        if other.data == 0.0:
            raise ValueError(
                f"division needs a nonzero denominator, got {other.data} "
                f"({other.name or 'unnamed'})"
            )
        out = Value(self.data / other.data, _children=(self, other), _op="/")

        def _backward() -> None:
            self._add_grad(out, 1.0 / other.data)
            other._add_grad(out, -self.data / other.data**2)

        out._backward = _backward
        return out

    def __pow__(self, k: Number) -> Value:
        if isinstance(k, bool) or not isinstance(k, Real):
            raise TypeError(f"the exponent must be a constant int or float, got {type(k).__name__}")
        if self.data == 0.0 and k < 0 or self.data < 0.0 and not float(k).is_integer():
            raise ValueError(f"x**{k} is not a real number for x = {self.data}")
        out = Value(self.data**k, _children=(self,), _op=f"**{k:g}")

        def _backward() -> None:
            self._add_grad(out, k * self.data ** (k - 1))

        out._backward = _backward
        return out

    def exp(self) -> Value:
        if self.data > 709.78:
            raise ValueError(f"exp overflows a float for inputs above 709.78, got {self.data}")
        out = Value(math.exp(self.data), _children=(self,), _op="exp")

        def _backward() -> None:
            self._add_grad(out, out.data)

        out._backward = _backward
        return out

    def log(self) -> Value:
        if self.data <= 0.0:
            raise ValueError(f"log needs a positive input, got {self.data}")
        out = Value(math.log(self.data), _children=(self,), _op="log")

        def _backward() -> None:
            self._add_grad(out, 1.0 / self.data)

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        out = Value(math.tanh(self.data), _children=(self,), _op="tanh")

        def _backward() -> None:
            self._add_grad(out, 1.0 - out.data**2)

        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        z = math.exp(-abs(self.data))  # stable for large |x|
        s = 1.0 / (1.0 + z) if self.data >= 0 else z / (1.0 + z)
        out = Value(s, _children=(self,), _op="sigmoid")

        def _backward() -> None:
            self._add_grad(out, s * (1.0 - s))

        out._backward = _backward
        return out

    def relu(self) -> Value:
        out = Value(max(self.data, 0.0), _children=(self,), _op="relu")

        def _backward() -> None:
            self._add_grad(out, 1.0 if self.data > 0 else 0.0)  # 0 at x = 0, as in PyTorch

        out._backward = _backward
        return out

    def __sub__(self, other: Value | Number) -> Value:
        other = self._lift(other)
        out = Value(self.data - other.data, _children=(self, other), _op="-")

        def _backward() -> None:
            self._add_grad(out, 1.0)
            other._add_grad(out, -1.0)

        out._backward = _backward
        return out

    def __neg__(self) -> Value:
        out = Value(-self.data, _children=(self,), _op="neg")

        def _backward() -> None:
            self._add_grad(out, -1.0)

        out._backward = _backward
        return out

    # --- the same operations with a plain number on the left ------------------------------------
    def __radd__(self, other: Number) -> Value:
        return self + other

    def __rmul__(self, other: Number) -> Value:
        return self * other

    def __rsub__(self, other: Number) -> Value:
        return self._lift(other) - self

    def __rtruediv__(self, other: Number) -> Value:
        return self._lift(other) / self

    # --- reverse mode -----------------------------------------------------------------------------
    def topological_order(self) -> list[Value]:
        """Every node this one depends on, inputs before the nodes that use them (evaluation
        order)."""
        order: list[Value] = []
        seen: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:  # iterative depth-first search: deep graphs do not hit the recursion limit
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend(
                    (child, False) for child in reversed(node.inputs) if id(child) not in seen
                )
        return order

    def backward(self) -> None:
        """Set every adjoint d(self)/d(node) in the graph (previous adjoints are reset, not
        accumulated)."""
        order = self.topological_order()
        for node in order:
            node.grad = 0.0
            node.contributions = []
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


def _names(order: list[Value]) -> dict[int, str]:
    """Display names: the node's own name, else t1, t2, ... in evaluation order."""
    names, k = {}, 0
    for node in order:
        if not node.name:
            k += 1
        names[id(node)] = node.name or f"t{k}"
    return names


def _check_trace_args(output: Value, digits: int) -> None:
    if not isinstance(output, Value):
        raise ValueError(
            f"expected a companion.autodiff.Value, got {type(output).__name__}: {output!r}"
        )
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ValueError(f"expected an integer number of digits >= 0, got {digits!r}")


def forward_trace(output: Value, digits: int = 4) -> str:
    """The forward (evaluation) trace of ``output`` as a text table: node, operation, inputs, value.

    ```python
    from companion.autodiff import Value, forward_trace

    x = Value(2.0, name="x")
    y = (x * x).named("y")
    assert forward_trace(y).splitlines()[-1].split() == ["y", "*", "x,", "x", "4.0000"]
    ```
    """
    _check_trace_args(output, digits)
    order = output.topological_order()
    names = _names(order)
    rows = [("node", "op", "inputs", "value")]
    for node in order:
        rows.append(
            (
                names[id(node)],
                node.op or "input",
                ", ".join(names[id(c)] for c in node.inputs),
                f"{node.data:.{digits}f}",
            )
        )
    return _table(rows)


def reverse_trace(output: Value, digits: int = 4) -> str:
    """The reverse trace after ``output.backward()``: each node's adjoint as a sum over its uses.

    One line per use: ``local partial x adjoint of the use = contribution``; a node used several
    times (fan-out) has several lines, and its adjoint is their sum.

    ```python
    from companion.autodiff import Value, reverse_trace

    x = Value(2.0, name="x")
    y = (x * x).named("y")
    y.backward()
    rows = reverse_trace(y).splitlines()
    # x is used twice: two lines, each adding 2 to its adjoint 4
    assert x.grad == 4.0 and [r.split()[-1] for r in rows[2:]] == ["2.0000", "2.0000"]
    ```
    """
    _check_trace_args(output, digits)
    order = output.topological_order()
    if output.grad != 1.0 or any(not n.contributions for n in order[:-1]):
        raise ValueError("reverse_trace needs output.backward() to have been called on this output")
    names = _names(order)
    f = f".{digits}f"
    rows = [("node", "adjoint", "use", "∂use/∂node", "× adjoint(use)", "= contribution")]
    rows.append((names[id(output)], f"{output.grad:{f}}", "(output)", "", "", ""))
    for node in reversed(order[:-1]):
        for i, (use, local, added) in enumerate(node.contributions):
            rows.append(
                (
                    names[id(node)] if i == 0 else "",
                    f"{node.grad:{f}}" if i == 0 else "",
                    names[id(use)],
                    f"{local:{f}}",
                    f"{use.grad:{f}}",
                    f"{added:{f}}",
                )
            )
    return _table(rows)


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows
    )
