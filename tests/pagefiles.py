"""The page file that the tests of the page machinery write (tests import it by name)."""

from __future__ import annotations

from pathlib import Path


def write_page(directory: Path, text: str) -> Path:
    """``text`` as ``directory/page.md`` (UTF-8); its path."""
    path = directory / "page.md"
    path.write_text(text, encoding="utf-8")
    return path
