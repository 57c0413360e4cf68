"""companion.autodiff: gradients against torch.autograd and finite differences, fan-out, traces,
bad input."""

import math

import pytest
import torch

from companion.autodiff import Value, forward_trace, reverse_trace

# Each expression is written once and evaluated with both engines: `ops` supplies the functions.
EXPRESSIONS = {
    "poly": lambda a, b, ops: a * a * b - 3 * a / b + 2 - b,
    "fan_out_center": lambda a, b, ops: (lambda w: (w + b) * (w * b) + w)(a**2 / ops.log(a)),
    "exp_tanh": lambda a, b, ops: ops.exp(-a * 0.5) * ops.tanh(a - b) + (2 / b) ** 3,
    "sigmoid_relu": lambda a, b, ops: (
        ops.sigmoid(a * b - 4) + ops.relu(a - b) * ops.relu(b - 0.5 * a)
    ),
    "pow_sqrt": lambda a, b, ops: (a**2 + b**2) ** 0.5 - a**-1.5 + ops.log(a * b + 1),
}
POINTS = [(3.0, 5.0), (1.3, 0.7), (2.2, 1.3)]  # away from the kinks of relu


class EngineOps:
    exp = staticmethod(lambda v: v.exp())
    log = staticmethod(lambda v: v.log())
    tanh = staticmethod(lambda v: v.tanh())
    sigmoid = staticmethod(lambda v: v.sigmoid())
    relu = staticmethod(lambda v: v.relu())


class TorchOps:
    exp, log, tanh, sigmoid, relu = torch.exp, torch.log, torch.tanh, torch.sigmoid, torch.relu


class FloatOps:
    exp, log, tanh = math.exp, math.log, math.tanh
    sigmoid = staticmethod(lambda v: 1 / (1 + math.exp(-v)))
    relu = staticmethod(lambda v: max(v, 0.0))


def engine_grad(f, a0, b0):
    a, b = Value(a0, name="a"), Value(b0, name="b")
    out = f(a, b, EngineOps)
    out.backward()
    return out.data, a.grad, b.grad


@pytest.mark.parametrize("name", EXPRESSIONS)
@pytest.mark.parametrize("point", POINTS)
def test_matches_torch_autograd(name, point):
    f = EXPRESSIONS[name]
    value, ga, gb = engine_grad(f, *point)
    a, b = (torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in point)
    out = f(a, b, TorchOps)
    out.backward()
    assert value == pytest.approx(out.item(), rel=1e-12)
    assert ga == pytest.approx(a.grad.item(), rel=1e-10, abs=1e-12)
    assert gb == pytest.approx(b.grad.item(), rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("name", EXPRESSIONS)
@pytest.mark.parametrize("point", POINTS)
def test_matches_finite_differences(name, point):
    f = EXPRESSIONS[name]
    _, ga, gb = engine_grad(f, *point)
    h, (a0, b0) = 1e-6, point
    fd_a = (f(a0 + h, b0, FloatOps) - f(a0 - h, b0, FloatOps)) / (2 * h)
    fd_b = (f(a0, b0 + h, FloatOps) - f(a0, b0 - h, FloatOps)) / (2 * h)
    assert ga == pytest.approx(fd_a, rel=1e-6, abs=1e-7)
    assert gb == pytest.approx(fd_b, rel=1e-6, abs=1e-7)


def test_fan_out_accumulates_every_use():
    x = Value(2.0, name="x")
    y = x * x * x + x  # x is used four times: d/dx = 3x^2 + 1 = 13
    y.backward()
    assert x.grad == 13.0
    assert len(x.contributions) == 4
    assert sum(added for _, _, added in x.contributions) == x.grad


def test_backward_twice_does_not_accumulate():
    x = Value(1.5)
    y = x.exp() * x
    y.backward()
    first = x.grad
    y.backward()
    assert x.grad == first == pytest.approx(math.exp(1.5) * 2.5)


def test_relu_at_zero_has_zero_derivative_like_torch():
    x = Value(0.0)
    x.relu().backward()
    t = torch.tensor(0.0, requires_grad=True)
    torch.relu(t).backward()
    assert x.grad == t.grad.item() == 0.0


def test_sigmoid_is_stable_for_large_inputs():
    assert Value(-800.0).sigmoid().data == 0.0
    assert Value(800.0).sigmoid().data == 1.0


def test_deep_chain_does_not_hit_the_recursion_limit():
    x = Value(0.5)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001**5000)


def test_traces_list_nodes_in_order_with_names():
    x, c = Value(3.0, name="x"), Value(5.0, name="c")
    w = (x**2 / x.log()).named("w")
    y = ((w + c) * (w * c) + w).named("y")
    forward = forward_trace(y)
    assert forward.splitlines()[0].split() == ["node", "op", "inputs", "value"]
    assert forward.splitlines()[1].split() == ["x", "input", "3.0000"]
    assert forward.splitlines()[-1].split()[0] == "y"
    with pytest.raises(ValueError, match="backward"):
        reverse_trace(y)
    y.backward()
    reverse = reverse_trace(y)
    lines = reverse.splitlines()
    assert lines[1].split()[:2] == ["y", "1.0000"]
    w_row = next(i for i, line in enumerate(lines) if line.startswith("w "))
    # w has three uses (fan-out): three lines, and the first carries the summed adjoint
    assert lines[w_row].split()[1] == f"{w.grad:.4f}"
    assert all(line.startswith(" ") for line in lines[w_row + 1 : w_row + 3])
    assert x.grad == pytest.approx(321.1560210317538)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: Value(-1.0).log(), ValueError, "positive"),
        (lambda: Value(0.0).log(), ValueError, "positive"),
        (lambda: Value(1.0) / Value(0.0), ValueError, "nonzero"),
        (lambda: Value(-2.0) ** 0.5, ValueError, "not a real"),
        (lambda: Value(0.0) ** -1, ValueError, "not a real"),
        (lambda: Value(1000.0).exp(), ValueError, "709.78"),
        (lambda: Value(float("nan")), ValueError, "finite"),
        (lambda: Value("3"), TypeError, "real number"),
        (lambda: Value(True), TypeError, "real number"),
        (lambda: Value(2.0) + "a", TypeError, "real number"),
        (lambda: Value(2.0) ** Value(2.0), TypeError, "exponent"),
    ],
)
def test_bad_input_raises_clear_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()
