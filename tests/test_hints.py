"""No input hint, placeholder or help text gives a card's answer away (issue 12.6).

The scan is semantic, not textual: every fragment of every text a learner sees before answering is
handed to the card's own checker, and none may be judged correct. Choice and boolean cards are left
out on purpose: their hint lists every option alike, which is the question, not its answer.
"""

from __future__ import annotations

import re

import pytest

from quizzer.cards.deck import NumericAnswer
from quizzer.cards.loader import deck_files, load_deck
from quizzer.paths import bundled_decks
from quizzer.review.hints import input_hint
from quizzer.review.tui.screens.help import ANSWERING, GUIDE

FIXTURES = bundled_decks().parent / "tests" / "fixtures" / "tui" / "decks"


def cards(folder):
    for path in deck_files([folder]):
        yield from load_deck(path, check_verifiers=False).deck.cards


BUNDLED = list(cards(bundled_decks()))
SCANNED_KINDS = ("numeric", "expression", "shape", "tensor")


def fragments(text: str) -> set[str]:
    """The text, its clauses, its words, and every number, tuple or bracketed group in it."""
    pieces = {text}
    pieces |= set(re.split(r"[;:·,]|\bor\b|\be\.g\.|—", text))
    pieces |= set(text.split())
    pieces |= set(re.findall(r"[-+]?\d[\d._]*(?:[eE][-+]?\d+)?(?:\s*/\s*\d+)?%?", text))
    pieces |= set(re.findall(r"(?:torch\.Size)?[(\[][^()\[\]]*[)\]]\)?", text))
    return {p.strip(" .`*") for p in pieces if p.strip(" .`*")}


def leaks(answer, texts) -> list[str]:
    """The fragments of `texts` that `answer`'s own checker would mark correct."""
    found = []
    for text in texts:
        for fragment in fragments(text):
            try:
                verdict = answer.check(fragment)
            except Exception:
                continue
            if verdict.correct:
                found.append(fragment)
    return found


def seen_before_answering(answer) -> list[str]:
    """The placeholder, the help screen's answering guidance, and what the checker says about an
    unreadable answer. (Not the grade scale "0–5" or key names: they say nothing about an answer.)"""
    junk = answer.check("¿?")
    return [input_hint(answer), ANSWERING, junk.message]


SCANNED = [(card, part) for card in BUNDLED for part in card.parts if part.answer.kind in SCANNED_KINDS]


@pytest.mark.parametrize(("card", "part"), SCANNED, ids=[f"{c.id}:{p.id}" for c, p in SCANNED])
def test_no_bundled_answer_is_in_a_hint_or_help_text(card, part):
    assert leaks(part.answer, seen_before_answering(part.answer) + [part.label]) == []


def test_the_scan_catches_the_old_formula_placeholder():
    """The expression placeholder used to be literally the stacked-dropout answer."""
    either = next(c for c in cards(FIXTURES) if c.id == "either")
    assert leaks(either.answer, ["a formula, e.g. 1 - (1-p1)*(1-p2)"]) == ["1 - (1-p1)*(1-p2)"]
    assert leaks(either.answer, seen_before_answering(either.answer)) == []


@pytest.mark.parametrize("old", ["a number: 42, 4.2e1, 3/4 or 75%"])
def test_the_scan_catches_an_example_number_that_is_the_answer(old):
    double = next(c for c in cards(FIXTURES) if c.id == "double")  # answer 42
    assert "42" in leaks(double.answer, [old]) and "4.2e1" in leaks(double.answer, [old])


def test_hints_name_syntax_not_values():
    """No digit in any hint: an example value could be some card's answer, and choosing one per card
    to dodge it would leak by the choice itself. Only the card's own variable names appear."""
    for card in BUNDLED:
        for part in card.parts:
            if part.answer.kind == "choice":
                continue  # its hint numbers every option alike (tested below)
            hint = input_hint(part.answer)
            assert not re.search(r"\d", re.sub(r"[A-Za-z_]\w*", "", hint)), (card.id, hint)
    assert not re.search(r"\d", ANSWERING), ANSWERING


@pytest.mark.parametrize("value", [0, 1, 2, 3, 4, 5])
def test_the_grade_scale_in_the_help_is_not_taken_for_an_answer(value):
    """The help's "grade yourself 0–5" says nothing about a card's answer: only its answering guidance
    is scanned (scanning the whole help made small numeric answers look leaked)."""
    answer = NumericAnswer(kind="numeric", value=value)
    assert leaks(answer, seen_before_answering(answer)) == []
    assert str(value) in GUIDE.format(answering=ANSWERING, grades="")  # the digits are there all the same


def test_a_unit_that_quotes_the_value_stays_out_of_the_hint():
    """A bundled receptive-field card's unit read "pixels (112×112)": it is shown only with the answer."""
    answer = NumericAnswer(kind="numeric", value=112, unit="pixels (112×112)")
    assert leaks(answer, [answer.unit]) == ["112"]
    assert leaks(answer, [input_hint(answer)]) == []


def test_a_choice_hint_lists_every_option_alike():
    answer = next(p.answer for c in cards(FIXTURES) for p in c.parts if p.answer.kind == "choice")
    assert input_hint(answer).startswith("1. relu · 2. sigmoid · 3. tanh — ")


def test_a_tensor_hint_lists_the_cards_variables_and_their_shapes():
    from quizzer.core import tensor_formula

    hint = tensor_formula.variables_hint(["delta2", "h1", "W2", "lam"], {"delta2": (3, 5), "lam": ()})
    assert hint.startswith("formula in delta2 (3×5), h1, W2, lam (scalar)")
