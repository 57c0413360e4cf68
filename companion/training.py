"""Training loops for PyTorch and MXNet with per-epoch history; seeding; the CPU/full scale switch."""

from __future__ import annotations

import os

SCALE_ENV = "COMPANION_SCALE"


def full_scale() -> bool:
    """True when ``COMPANION_SCALE=full``: experiments run at the book's scale instead of CPU scale."""
    value = os.environ.get(SCALE_ENV, "cpu").strip().lower()
    if value not in {"cpu", "full"}:
        raise ValueError(f"{SCALE_ENV} must be 'cpu' or 'full', got {value!r}")
    return value == "full"
