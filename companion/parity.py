"""MXNet <-> PyTorch parity: compare a Gluon original with its PyTorch port numerically.

Every comparison appends a record to :data:`RECORDS` (the site's parity report is built from
them) and raises :class:`ParityError` when a difference exceeds its tolerance.
"""

from __future__ import annotations

from typing import Any

import numpy as np

RECORDS: list[dict] = []


class ParityError(AssertionError):
    """A port differs from the original by more than the tolerance."""


def to_numpy(value: Any) -> np.ndarray:
    """An MXNet NDArray, torch tensor, numpy array or number as a float64 numpy array."""
    if hasattr(value, "asnumpy"):
        value = value.asnumpy()
    elif hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def assert_close(name: str, what: str, mxnet_value: Any, torch_value: Any, tol: float = 1e-5) -> float:
    """Check that two results agree within ``tol`` (max abs difference); record and return the difference."""
    a, b = to_numpy(mxnet_value), to_numpy(torch_value)
    if a.shape != b.shape and a.size == b.size == 1:
        a, b = a.reshape(()), b.reshape(())
    if a.shape != b.shape:
        raise ParityError(f"{name}: {what}: shapes differ, MXNet {a.shape} vs PyTorch {b.shape}")
    max_abs = float(np.max(np.abs(a - b))) if a.size else 0.0
    scale = float(np.max(np.abs(a))) if a.size else 0.0
    passed = max_abs <= tol
    RECORDS.append(
        {"name": name, "what": what, "max_abs": max_abs, "max_rel": max_abs / scale if scale else 0.0,
         "tolerance": tol, "passed": passed}
    )
    if not passed:
        raise ParityError(f"{name}: {what}: max abs difference {max_abs:.3g} exceeds tolerance {tol:.0e}")
    return max_abs
