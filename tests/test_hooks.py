from hooks.pages import _heading_anchor


def test_heading_anchor_uses_an_explicit_id():
    assert _heading_anchor("Question 4 — why batch norm regularizes {#why-bn}") == (
        "Question 4 — why batch norm regularizes", "why-bn")


def test_heading_anchor_slugifies_otherwise():
    assert _heading_anchor("Exercise 4.6.1 — Changing the rates") == (
        "Exercise 4.6.1 — Changing the rates", "exercise-461-changing-the-rates")
