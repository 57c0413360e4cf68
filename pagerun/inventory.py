"""Count the python code blocks a reader sees, by rendering a page the way the site does.

This is deliberately independent of ``pagerun.parse``: it uses Python-Markdown with the
extensions and settings of ``mkdocs.yml``, so a fence the test parser missed (say, one nested
somewhere it does not look) still shows up here and the counts disagree.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import markdown

ROOT = Path(__file__).resolve().parent.parent
_PYTHON_BLOCK = re.compile(r'<(?:div|pre)[^>]*class="language-(?:python|py|python3)[ "]')


@lru_cache(maxsize=1)
def _site_markdown_config() -> tuple[list, dict]:
    from mkdocs.config import load_config

    cfg = load_config(str(ROOT / "mkdocs.yml"))
    return cfg["markdown_extensions"], cfg["mdx_configs"]


def rendered_python_blocks(path: Path | str) -> int:
    """Number of python code blocks in the HTML the site's Markdown configuration makes of a
    page."""
    extensions, configs = _site_markdown_config()
    md = markdown.Markdown(extensions=extensions, extension_configs=configs)
    html = md.convert(Path(path).read_text(encoding="utf-8"))
    return len(_PYTHON_BLOCK.findall(html))
