"""The public API of ``companion``: every function and class has a runnable docstring example.

The examples themselves are run by pytest-markdown-docs (``./dev test``:
``pytest --markdown-docs companion README.md CONTRIBUTING.md``); this file checks that none is
missing and that each one is where that plugin finds it.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import companion

FENCE = re.compile(r"^```python\n.*?^```$", re.S | re.M)


def public_api() -> dict[str, object]:
    """``{"module.name": object}`` for every public function and class defined in companion."""
    api = {}
    for info in pkgutil.iter_modules(companion.__path__):
        module = importlib.import_module(f"companion.{info.name}")
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj) or inspect.isclass(obj):
                api[f"{info.name}.{name}"] = obj
    return api


def test_public_api_is_found():
    api = public_api()
    assert len(api) > 100, sorted(api)
    assert {"parity.compare", "seeds.over_seeds", "sizing.count_macs"} <= set(api)


@pytest.mark.parametrize("name", sorted(public_api()))
def test_every_public_object_has_a_runnable_example(name):
    from pytest_markdown_docs.plugin import get_docstring_start_line

    obj = public_api()[name]
    doc = inspect.getdoc(obj) or ""
    assert FENCE.search(doc), f"companion.{name}: no ```python example in its docstring"
    # pytest-markdown-docs skips, without a word, a docstring it cannot place in the source
    assert get_docstring_start_line(obj) is not None, f"companion.{name}: example not collectable"
