"""Unit-test configuration: MXNet is optional, except where CI says it is required.

A test that needs MXNet either takes the ``mx`` fixture (the imported ``mxnet`` module) or is
marked ``@pytest.mark.needs_mxnet``. When ``import mxnet`` fails such a test is SKIPPED with the
reason, unless the environment sets ``COMPANION_REQUIRE_MXNET=1`` (the project's own CI does,
through ``./dev test``): then a missing MXNet FAILS the test, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
from types import ModuleType

import pytest

REQUIRE_ENV = "COMPANION_REQUIRE_MXNET"


def mxnet_required() -> bool:
    """True when ``COMPANION_REQUIRE_MXNET=1``: a missing MXNet is a test failure, not a skip."""
    value = os.environ.get(REQUIRE_ENV, "").strip()
    if value not in {"", "0", "1"}:
        raise ValueError(f"{REQUIRE_ENV} must be '0' or '1' (or unset), got {value!r}")
    return value == "1"


def load_mxnet() -> ModuleType:
    """Import mxnet, or skip the calling test (fail it when ``COMPANION_REQUIRE_MXNET=1``)."""
    try:
        import mxnet
    except ImportError as exc:  # also raised when sys.modules["mxnet"] is None
        reason = f"mxnet is not importable ({exc})"
        if mxnet_required():
            pytest.fail(f"{reason}, and {REQUIRE_ENV}=1 says this run needs it", pytrace=False)
        pytest.skip(f"{reason}: install mxnet 1.9.1 to run the MXNet parity tests")
    return mxnet


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"needs_mxnet: the test imports mxnet (skipped without it, a failure when {REQUIRE_ENV}=1)",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("needs_mxnet") is not None:
        load_mxnet()


@pytest.fixture
def mx() -> ModuleType:
    """The ``mxnet`` module (the test is skipped without it, or fails when it is required)."""
    return load_mxnet()
