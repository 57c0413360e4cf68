import re

import numpy as np
import pytest

from companion.gradcheck import numerical_gradient, relative_error


def test_gradient_of_a_quadratic_form():
    rng = np.random.RandomState(0)
    A = rng.randn(4, 4)
    x = rng.randn(4)
    g = numerical_gradient(lambda v: v @ A @ v, x)
    assert relative_error(g, (A + A.T) @ x) < 1e-8


def test_matrix_input_keeps_its_shape_and_is_not_modified():
    x = np.arange(6, dtype=np.float64).reshape(2, 3)
    before = x.copy()
    g = numerical_gradient(lambda m: (m**2).sum(), x)
    assert g.shape == (2, 3) and np.allclose(g, 2 * before)
    assert np.array_equal(x, before)


def test_f_may_change_its_input_in_place():
    def squares_then_clobber(v):
        value = (v**2).sum()
        v[...] = 0.0
        return value

    x = np.array([[1.0, -2.0], [3.0, 0.5]])
    before = x.copy()
    g = numerical_gradient(squares_then_clobber, x)
    assert np.allclose(g, 2 * before) and np.array_equal(x, before)


@pytest.mark.parametrize(
    "value",
    [
        lambda v: v.sum(keepdims=True),  # shape (1,)
        lambda v: np.array(v.sum()),  # shape ()
        lambda v: float(v.sum()),
        lambda v: [v.sum()],
    ],
)
def test_f_may_return_any_one_entry_value(value):
    assert np.allclose(numerical_gradient(value, np.ones(3)), 1.0)


def test_relative_error():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert abs(relative_error([1.0, 2.0], [1.0, 2.2]) - 0.2 / 2.2) < 1e-12
    assert relative_error([0.0], [0.0]) == 0.0
    assert relative_error(3.0, 3.0) == 0.0


def test_bad_inputs():
    with pytest.raises(ValueError, match="float64"):
        numerical_gradient(lambda v: v.sum(), np.ones(3, dtype=np.float32))
    with pytest.raises(ValueError, match="non-empty"):
        numerical_gradient(lambda v: v.sum(), np.ones(0))
    with pytest.raises(ValueError, match="eps > 0"):
        numerical_gradient(lambda v: v.sum(), np.ones(3), eps=0.0)
    with pytest.raises(ValueError, match=r"same shape, got \(2,\) and \(3,\)"):
        relative_error(np.ones(2), np.ones(3))


@pytest.mark.parametrize(
    "f, shape",
    [
        (lambda v: 2 * v, r"\(3,\)"),
        (lambda v: np.outer(v, v), r"\(3, 3\)"),
        (lambda v: v[:0], r"\(0,\)"),
    ],
)
def test_non_scalar_f_is_rejected_with_its_shape(f, shape):
    with pytest.raises(ValueError, match=rf"f to return a scalar .* got shape {shape}"):
        numerical_gradient(f, np.ones(3))


def test_non_numeric_f_is_rejected():
    with pytest.raises(ValueError, match="f to return a number"):
        numerical_gradient(lambda v: "loss", np.ones(3))


@pytest.mark.parametrize("a, b", [([], []), (np.ones((2, 0)), np.ones((2, 0)))])
def test_relative_error_rejects_empty_arrays(a, b):
    shape = re.escape(str(np.shape(a)))
    with pytest.raises(ValueError, match=rf"non-empty arrays, got shape {shape}"):
        relative_error(a, b)
