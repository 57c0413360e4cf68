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
