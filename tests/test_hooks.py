import re

import markdown

from hooks.api_links import api_index, link_api
from hooks.exercises import heading_anchor
from pagerun.inventory import _site_markdown_config


def test_heading_anchor_uses_an_explicit_id():
    assert heading_anchor("Question 4 — why batch norm regularizes {#why-bn}") == (
        "Question 4 — why batch norm regularizes",
        "why-bn",
    )


def test_heading_anchor_slugifies_otherwise():
    assert heading_anchor("Exercise 4.6.1 — Changing the rates") == (
        "Exercise 4.6.1 — Changing the rates",
        "exercise-461-changing-the-rates",
    )


# --------------------------------------------------------------------------- API links

PAGE = """
Run it over seeds with `companion.seeds.over_seeds(run)`; `seeds` is a parameter here.

```python
from companion import parity
from companion.seeds import over_seeds, table as seed_table
from collections import Counter as table

stats = over_seeds(lambda s: float(s), seeds=range(5))
parity.compare  # first use of compare
parity.compare  # second use: not linked again
```

Then `parity.assert_close` and `over_seeds` again, and `Counter`.
"""


def _links(page_html: str) -> list[tuple[str, str]]:
    found = re.findall(r'<autoref identifier="([^"]+)">(.*?)</autoref>', page_html, re.S)
    return [(ident, re.sub(r"<[^>]+>", "", inner)) for ident, inner in found]


def test_api_index_lists_modules_and_public_objects():
    index = api_index()
    assert {"companion.seeds", "companion.seeds.over_seeds", "companion.parity.compare"} <= index
    assert not any(p.rsplit(".", 1)[-1].startswith("_") for p in index)


def test_first_use_of_each_companion_name_links_to_its_entry():
    extensions, configs = _site_markdown_config()
    page_html = markdown.Markdown(extensions=extensions, extension_configs=configs).convert(PAGE)
    assert _links(link_api(page_html)) == [
        ("companion.seeds.over_seeds", "companion.seeds.over_seeds(run)"),  # prose, first
        ("companion.parity", "parity"),
        ("companion.seeds", "companion.seeds"),
        ("companion.seeds.table", "table"),  # imported under another name
        ("companion.parity.compare", "compare"),
        ("companion.parity.assert_close", "parity.assert_close"),
    ]


def test_pages_without_companion_are_unchanged():
    page_html = '<p><code>table</code></p><div class="language-python highlight"><pre>x</pre></div>'
    assert link_api(page_html) == page_html


def test_headings_links_output_blocks_and_collapsible_titles_are_left_alone():
    page = """
## Using `seeds.over_seeds` of companion

??? note "About `sizing.count_macs`"
    Body.

[`sizing.dense_params`](#x) is a link already.

```output
sizing.count_params
```

Then `sizing.count_macs`, `seeds.over_seeds` and `sizing.dense_params`, linked here.
"""
    extensions, configs = _site_markdown_config()
    page_html = markdown.Markdown(extensions=extensions, extension_configs=configs).convert(page)
    linked = link_api(page_html)
    heading = re.search(r"<h2\b.*?</h2>", page_html, re.S).group(0)
    summary = re.search(r"<summary\b.*?</summary>", page_html, re.S).group(0)
    assert heading in linked and summary in linked  # anchors and the toggle unchanged
    assert _links(linked) == [
        ("companion.sizing.count_macs", "sizing.count_macs"),
        ("companion.seeds.over_seeds", "seeds.over_seeds"),
        ("companion.sizing.dense_params", "sizing.dense_params"),
    ]


def test_a_wide_figure_is_marked_so_that_it_scrolls_on_a_phone():
    from hooks.pages import figure_classes

    assert figure_classes('<svg width="712.5pt" height="250pt">') == (
        "companion-figure companion-figure--wide"
    )
    assert figure_classes('<svg width="385.8pt" height="238pt">') == "companion-figure"
    assert figure_classes("<svg viewBox='0 0 10 10'>") == "companion-figure"


def test_a_figure_is_an_svg_file_beside_the_page_shown_at_its_own_size(tmp_path):
    from hooks.pages import figure_img, write_figure

    svg = '<svg width="385.8pt" height="238pt" xmlns="http://www.w3.org/2000/svg"></svg>'
    name = write_figure(svg, tmp_path, "d2l/ch6/6-6-lenet/index.html", 0)
    written = tmp_path / "d2l/ch6/6-6-lenet" / name
    assert name == "figure-1.svg" and written.read_text().endswith(svg)
    assert written.read_text().startswith("<?xml")
    img = figure_img(svg, name, 0)
    assert img.startswith('<img src="figure-1.svg"') and 'width="514" height="317"' in img
    assert "width=" not in figure_img("<svg viewBox='0 0 1 1'>", "figure-2.svg", 1)


def test_a_figure_s_alt_text_is_its_description_escaped():
    from hooks.pages import figure_img

    svg = "<svg><dc:description>Loss (legend: a &lt; b, &quot;c&quot;)</dc:description></svg>"
    assert 'alt="Figure 3: Loss (legend: a &lt; b, &quot;c&quot;)"' in figure_img(svg, "f", 2)
    plain = figure_img("<svg></svg>", "f", 0)  # no axes: matplotlib writes no description
    assert 'alt="Figure 1: the plot drawn by the code above"' in plain
