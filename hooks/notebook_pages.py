"""MkDocs hook: the notebook pages (mkdocs-jupyter, ``docs/exercise-1/*.py``) read like the rest.

mkdocs-jupyter renders code cells as ``<div class="highlight-ipynb"><pre>`` (no ``<code>``, so
Material adds no copy button), with ``In [n]:`` prompts, its own clipboard widget and unlabelled
outputs. :func:`restyle` rewrites a page's HTML into the site's own shapes: code cells become
``language-python highlight`` blocks and text outputs ``language-output`` blocks (Material's copy
button and the site's "Output" label and tint apply to both); prompts and the widget go.
"""

from __future__ import annotations

from bs4 import BeautifulSoup

_DROP = (".zeroclipboard-container", ".jp-InputPrompt", ".jp-OutputPrompt")


def _as_code_block(soup: BeautifulSoup, pre, language: str) -> None:
    """``<pre>…</pre>`` -> ``<div class="language-X highlight"><pre><code>…</code></pre></div>``."""
    code = soup.new_tag("code")
    for child in list(pre.contents):
        code.append(child.extract())
    pre.append(code)
    wrapper = soup.new_tag("div", attrs={"class": f"language-{language} highlight"})
    pre.wrap(wrapper)


def restyle(html: str) -> str:
    """The page's notebook cells in the site's code and output block shapes."""
    soup = BeautifulSoup(html, "html.parser")
    wrapper = soup.select_one(".jupyter-wrapper")
    if wrapper is None:
        return html
    for element in wrapper.select(", ".join(_DROP)):
        element.decompose()
    for cell in wrapper.select("div.highlight-ipynb"):
        pre = cell.find("pre")
        if pre is not None:
            _as_code_block(soup, pre, "python")
            cell.unwrap()
    for pre in wrapper.select('.jp-RenderedText[data-mime-type="text/plain"] > pre'):
        _as_code_block(soup, pre, "output")
    return str(soup)


def on_post_page(output: str, page, config) -> str:
    """Restyle the pages mkdocs-jupyter renders (their sources are ``.py`` or ``.ipynb``)."""
    if page.file.src_uri.endswith((".py", ".ipynb")):
        return restyle(output)
    return output
