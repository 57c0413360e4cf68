"""Test configuration: every python block of the Markdown pages in docs/ is a test (see pagerun)."""

import os
import warnings

from pagerun import kernels

# Before anything imports torch or mxnet: the kernel set ./dev chose, or the pinned one when
# pytest is run directly (the variables are read once, at import of the libraries).
kernels.apply()
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ["COMPANION_OFFLINE"] = "1"  # no test downloads anything: loaders fail with their message
warnings.filterwarnings("ignore", category=DeprecationWarning, module="mxnet")

pytest_plugins = ["pagerun.pytest_plugin"]


def pytest_addoption(parser):
    """The browser stage's options (tests/test_browser.py)."""
    group = parser.getgroup("browser", "browser tests of the built site")
    group.addoption("--browser-site", help="built site to test in chromium (enables them)")
    group.addoption("--browser-screenshots", help="folder for the suite's screenshots")


def pytest_configure(config):
    """Register the marker of the browser stage."""
    config.addinivalue_line("markers", "browser: needs the built site and chromium")


def pytest_collection_modifyitems(config, items):
    """Browser tests run only in their stage (--browser-site), after the site is built."""
    if config.getoption("--browser-site"):
        return
    kept = [item for item in items if "browser" not in item.keywords]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
