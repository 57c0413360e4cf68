"""Test configuration: every python block of the Markdown pages in docs/ is a test (see pagerun)."""

import os
import warnings

os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings("ignore", category=DeprecationWarning, module="mxnet")

pytest_plugins = ["pagerun.pytest_plugin"]
