"""hooks/exercises.py: the exercise index is read off the pages, so it cannot claim an answer,
a Correction or a parity check that a page does not have."""

import re
from pathlib import Path

from hooks import exercises

ROOT = Path(__file__).resolve().parent.parent

PAGE = """# 4.1 A section

Intro.

## Exercise 4.1.1 — answered

The answer is two words long and then some.

!!! failure "Correction: the draft says three"

    It is two.

```python
print("## Exercise 4.1.2 — inside a fence, not a heading")
```

## Exercise 4.1.2 — a heading with no answer

## Exercise 4.1.3 — answered with code

The code below says so, in words too.
"""


def rows_of(pages: dict[str, str], parity=None):
    return {r.item: r for r in exercises.book_rows(pages, parity or {})}


def test_a_book_exercise_is_found_with_its_answer_and_corrections():
    rows = rows_of({"d2l/ch4/4-1.md": PAGE})
    first = rows["4.1.1"]
    assert first.answered and first.section.anchor.startswith("exercise-411")
    assert first.section.corrections == ["the draft says three"]
    assert not rows["4.1.2"].answered  # heading only
    assert rows["4.1.3"].answered and not rows["4.1.3"].section.corrections


def test_an_exercise_no_page_covers_is_not_answered():
    rows = rows_of({"d2l/ch4/4-1.md": PAGE})
    assert rows["4.1.4"].section is None and not rows["4.1.4"].answered
    assert rows_of({})["4.2.1"].section is None  # a missing page


def test_parity_is_a_comparison_that_ran_under_the_heading():
    line = PAGE.splitlines().index("```python")
    rows = rows_of({"d2l/ch4/4-1.md": PAGE}, {"d2l/ch4/4-1.md": {line}})
    assert rows["4.1.1"].parity and not rows["4.1.3"].parity


def test_an_exam_question_is_its_pages_heading():
    page = "# Adam\n\n## Exercise 2.1 — the rules\n\nThe update rules are these five words.\n"
    rows = exercises.exam_rows({"exams/adam.md": page}, {})
    rows = [r for r in rows if r.item.startswith("Exercise 2.")]
    assert [r.answered for r in rows] == [True, False, False, False, False]


def test_the_index_shows_what_is_missing():
    rows = exercises.book_rows({"d2l/ch4/4-1.md": PAGE}, {})
    text = exercises.index_markdown(rows, lambda page, anchor: f"{page}#{anchor}")
    assert "**not answered**" in text and "(heading without an answer)" in text
    assert "| D2L 4 | 2 of " in text


def test_the_site_and_readme_state_the_coverage_the_pages_have():
    rows = exercises.all_rows(ROOT / "docs", {})
    sentence = exercises.coverage_sentence(rows)
    readme = re.sub(r"\s+", " ", (ROOT / "README.md").read_text(encoding="utf-8"))
    assert sentence in readme
    assert "<!-- coverage -->" in (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    assert all(r.answered for r in rows), [r.item for r in rows if not r.answered]


def test_a_restated_question_comment_or_admonition_title_is_not_an_answer():
    for body in ("*Compute the derivative of the tanh.*", "<!-- TODO: answer to be written -->",
                 '!!! note "Not answered yet"'):  # fmt: skip
        page = f"# x\n\n## Exercise 4.1.1 — t\n\n{body}\n"
        assert not rows_of({"d2l/x.md": page})["4.1.1"].answered, body


def test_an_exam_prefix_matches_its_own_question_only():
    assert exercises.heading_for("Question 1", "Question 1 — gradients")
    assert not exercises.heading_for("Question 1", "Question 10 — other")
    assert not exercises.heading_for("Question 1", "Question 1.1 — a sub-question")
    assert exercises.heading_for("1.", "1. What is a receptive field?")


def test_a_norm_in_a_heading_does_not_break_the_table():
    assert exercises._cell(r"$\|w\|^2$ or |x|") == r"$\Vert w\Vert ^2$ or \|x\|"
