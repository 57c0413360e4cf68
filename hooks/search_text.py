"""MkDocs hook: search results show mathematics as text, not as LaTeX source.

The search plugin indexes a page's text with its math as written (``\\(\\mathbf{W}^\\top x\\)``),
and the result snippets show that raw. After the build this hook rewrites
``search/search_index.json``: each ``\\(...\\)`` and ``\\[...\\]`` span becomes plain text
(``W^⊤ x``): delimiters dropped, Greek letters and common symbols as Unicode, ``\\frac{a}{b}`` as
``a/b``, font and spacing commands removed. Only math spans change; code and prose stay as
they are.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

MATH = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)
DOLLAR_MATH = re.compile(r"\$\$(.+?)\$\$|\$(?!\s)([^$\n]+?)(?<!\s)\$", re.S)  # notebook pages
SYMBOLS = {
    **{
        name: chr(code)
        for name, code in [
            ("alpha", 945), ("beta", 946), ("gamma", 947), ("delta", 948), ("epsilon", 1013),
            ("varepsilon", 949), ("zeta", 950), ("eta", 951), ("theta", 952), ("iota", 953),
            ("kappa", 954), ("lambda", 955), ("mu", 956), ("nu", 957), ("xi", 958),
            ("pi", 960), ("rho", 961), ("sigma", 963), ("tau", 964), ("phi", 981),
            ("varphi", 966), ("chi", 967), ("psi", 968), ("omega", 969), ("Gamma", 915),
            ("Delta", 916), ("Theta", 920), ("Lambda", 923), ("Sigma", 931), ("Phi", 934),
            ("Omega", 937),
        ]
    },  # fmt: skip
    "partial": "∂", "nabla": "∇", "times": "×", "cdot": "·", "top": "⊤", "sum": "Σ",
    "prod": "Π", "approx": "≈", "in": "∈", "to": "→", "rightarrow": "→", "leftarrow": "←",
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "pm": "±",
    "sim": "~", "infty": "∞", "odot": "⊙", "mid": "|", "ell": "ℓ", "dots": "…",
    "ldots": "…", "cdots": "⋯", "star": "⋆", "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈",
    "rceil": "⌉", "sqrt": "√", "propto": "∝", "circ": "∘", "equiv": "≡",
}  # fmt: skip
SPACING = {"quad": " ", "qquad": " ", ",": " ", ";": " ", "!": "", " ": " "}
FRAC = re.compile(r"\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}")
SCRIPT = re.compile(r"([\^_])\{([^{}]*)\}")  # e^{-x}
WRAPPED = re.compile(r"\\(?![dt]?frac\b)([A-Za-z]+)\{([^{}]*)\}")  # \\sqrt{d}, \\mathbf{W}
COMMAND = re.compile(r"\\([A-Za-z]+|[,;! ])")


def plain(tex: str) -> str:
    """LaTeX math as plain text: ``\\frac{\\partial L}{\\partial w}`` -> ``∂ L/∂ w``."""
    previous = None
    while previous != tex:  # innermost groups first
        previous = tex
        tex = WRAPPED.sub(lambda m: _command(m.group(1)) + m.group(2), tex)
        tex = SCRIPT.sub(lambda m: m.group(1) + _grouped(m.group(2)), tex)
        tex = FRAC.sub(lambda m: f"{_grouped(m.group(1))}/{_grouped(m.group(2))}", tex)
    tex = tex.replace("&amp;", "&").replace("\\\\", " ").replace("\\{", "(").replace("\\}", ")")
    text = COMMAND.sub(lambda m: _command(m.group(1)), tex).replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", text.replace("&", " ").replace("\\\\", " ")).strip()


_DROPPED = {
    "mathbf", "mathrm", "mathcal", "mathbb", "boldsymbol", "text", "textbf", "operatorname",
    "hat", "vec", "bar", "tilde", "left", "right", "big", "Big", "bigg", "Bigg", "begin",
    "end", "displaystyle", "limits",
}  # fmt: skip


def _grouped(text: str) -> str:
    """A fraction's part or a script: in parentheses when it is more than one symbol."""
    return text if len(text.strip()) <= 1 or re.fullmatch(r"\\?\w+", text.strip()) else f"({text})"


def _command(name: str) -> str:
    return SYMBOLS.get(name, SPACING.get(name, "" if name in _DROPPED else name))


def plain_math(text: str, dollars: bool = False) -> str:
    """``text`` with every ``\\(...\\)`` and ``\\[...\\]`` span replaced by :func:`plain`;
    with ``dollars``, ``$...$`` and ``$$...$$`` spans too (the notebook pages' math)."""
    pattern = DOLLAR_MATH if dollars else MATH
    return pattern.sub(lambda m: plain(m.group(1) or m.group(2)), text)


def rewrite_index(path: Path, dollar_pages: tuple[str, ...] = ()) -> int:
    """Rewrite a search_index.json in place; return how many entries changed. Entries whose
    location starts with one of ``dollar_pages`` have their math in dollars."""
    index = json.loads(path.read_text(encoding="utf-8"))
    changed = 0
    for doc in index["docs"]:
        dollars = doc.get("location", "").startswith(dollar_pages) if dollar_pages else False
        new = {key: plain_math(doc[key], dollars) for key in ("title", "text") if key in doc}
        changed += any(new[key] != doc[key] for key in new)
        doc.update(new)
    path.write_text(json.dumps(index, ensure_ascii=False), encoding="utf-8")
    return changed


def notebook_prefixes(config) -> tuple[str, ...]:
    """The site folders of the pages mkdocs-jupyter renders (``include: ["exercise-1/*.py"]``)."""
    plugin = config["plugins"].get("mkdocs-jupyter")
    include = plugin.config.get("include", []) if plugin else []
    return tuple(pattern.split("*")[0] for pattern in include)


def on_post_build(config) -> None:
    index = Path(config["site_dir"]) / "search" / "search_index.json"
    if index.exists():
        rewrite_index(index, notebook_prefixes(config))
