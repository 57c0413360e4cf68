"""hooks/search_text.py: search snippets show math as text, with no LaTeX delimiters left."""

import json

import pytest

from hooks import search_text


@pytest.mark.parametrize(
    "tex, text",
    [
        (r"d/2", "d/2"),
        (r"\mathbf{W}^\top x", "W^⊤ x"),
        (r"\frac{\partial L}{\partial w}", "(∂ L)/(∂ w)"),
        (r"\frac{1}{1+e^{-x}}", "1/(1+e^(-x))"),
        (r"a &amp; b \\ \{c\}", "a b (c)"),
        (r"\sigma(\lambda \eta)", "σ(λ η)"),
        (r"\tfrac{1}{\sqrt{d}}", "1/(√d)"),
        (r"\log p \quad \text{and} \quad \operatorname{softmax}(z)", "log p and softmax(z)"),
        (r"a \le b \approx c", "a ≤ b ≈ c"),
    ],
)
def test_plain(tex, text):
    assert search_text.plain(tex) == text


def test_only_math_spans_change():
    text = r"the draft uses \(p\) and \[\frac{a}{b}\] in code print('\n') \mathbf"
    assert search_text.plain_math(text) == r"the draft uses p and a/b in code print('\n') \mathbf"


def test_rewrite_index_leaves_no_delimiters(tmp_path):
    index = tmp_path / "search_index.json"
    docs = [
        {"location": "a/", "title": r"A \(d/2\) bottleneck", "text": r"with \(\eta = 0.5\)"},
        {"location": "b/", "title": "Plain", "text": "no math"},
    ]
    index.write_text(json.dumps({"config": {}, "docs": docs}))
    assert search_text.rewrite_index(index) == 1
    out = json.loads(index.read_text())["docs"]
    assert out[0] == {"location": "a/", "title": "A d/2 bottleneck", "text": "with η = 0.5"}
    assert out[1] == docs[1]


def test_notebook_pages_have_their_dollar_math_rewritten(tmp_path):
    index = tmp_path / "search_index.json"
    docs = [
        {
            "location": "exercise-1/nb/",
            "title": "Step",
            "text": r"$\partial L/\partial y$ costs $5",
        },
        {"location": "d2l/page/", "title": "Code", "text": r'print("$\eta$")'},
    ]
    index.write_text(json.dumps({"config": {}, "docs": docs}))
    assert search_text.rewrite_index(index, ("exercise-1/",)) == 1
    out = json.loads(index.read_text())["docs"]
    assert out[0]["text"] == "∂ L/∂ y costs $5"
    assert out[1] == docs[1]
