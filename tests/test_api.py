"""The public API of ``companion``: every function and class has a runnable docstring example.

The examples themselves are run by pytest-markdown-docs (``./dev test``:
``pytest --markdown-docs companion README.md CONTRIBUTING.md``); this file checks that none is
missing, that each one checks something, and that each one is where that plugin finds it.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import companion

FENCE = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)
CHECKS = re.compile(r"^\s*assert\b|\bprint\(", re.M)


def public_api() -> dict[str, object]:
    """``{"module.name": object}`` for every public function and class defined in companion.

    Anything callable that a module defines counts, not only what ``def`` and ``class`` make: a
    public function wrapped by ``functools.lru_cache`` (or another callable wrapper) is listed
    too, so the tests below fail on it rather than pass it over."""
    api = {}
    for info in pkgutil.iter_modules(companion.__path__):
        module = importlib.import_module(f"companion.{info.name}")
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isclass(obj) or inspect.isroutine(obj) or callable(obj):
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
    # pytest-markdown-docs collects the docstrings of functions and classes only: the example of
    # anything else (an lru_cache wrapper, a partial, a callable instance) would never run
    assert inspect.isfunction(obj) or inspect.isclass(obj), (
        f"companion.{name} is a {type(obj).__name__}, whose docstring pytest-markdown-docs does "
        "not collect: define it with def or class (cache inside it instead)"
    )
    # its own docstring: inspect.getdoc would fall back on a base class's
    doc = inspect.cleandoc(obj.__doc__ or "")
    fences = FENCE.findall(doc)
    assert fences, f"companion.{name}: no ```python example in its docstring"
    assert any(CHECKS.search(body) for body in fences), (
        f"companion.{name}: its example neither asserts nor prints what it computes"
    )
    # pytest-markdown-docs skips, without a word, a docstring it cannot place in the source
    assert get_docstring_start_line(obj) is not None, f"companion.{name}: example not collectable"
