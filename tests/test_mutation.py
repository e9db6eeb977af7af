"""Mutation test over the bundled decks: a verifier that cannot fail is a bug.

Every card with a value answer is verified once; then each perturbed version of its answer
(another number, the other boolean, another option, a changed shape or formula) must make the
verification fail. Re-deciding the stored outcome is equivalent to re-running the verifier
because a verifier never sees its card's answer (its `Context` holds only the id and, for a
code card, the snippet), so what it computes cannot depend on what the deck states.
"""

from __future__ import annotations

import pytest

from quizzer.cards.deck import Answer, Card
from quizzer.cards.loader import deck_files, load_deck
from quizzer.paths import bundled_decks
from quizzer.verify.execution import OK_STATUSES, decide
from quizzer.verify.runner import Job, verify

CARDS = [
    (loaded, card)
    for loaded in (load_deck(path) for path in deck_files([bundled_decks()]))
    for card in loaded.deck.cards
    if any(part.checkable for part in card.parts)
]


def answer_mutants(answer: Answer) -> list[Answer]:
    match answer.kind:
        case "numeric":
            step = max(1.0, 3 * answer.tolerance, abs(answer.value) * 0.25)
            values = [answer.value + step, answer.value - step, -answer.value if answer.value else 1.0]
            changes = [{"value": v} for v in values]
        case "boolean":
            changes = [{"value": not answer.value}]
        case "choice":
            changes = [{"value": option} for option in answer.options if option != answer.value]
        case "shape":
            shape = list(answer.value)
            changes = [{"value": shape[:i] + [d + 1] + shape[i + 1 :]} for i, d in enumerate(shape)]
            changes += [{"value": shape + [1]}, {"value": shape[:-1]}]
        case "expression":
            first = answer.variables[0]
            changes = [
                {"value": f"({answer.value}) * 1.1"},
                {"value": f"({answer.value}) + 0.05"},
                {"value": f"({answer.value}) + 0.2 * {first}"},
                {"value": " * ".join(answer.variables)},
            ]
            changes = [c for c in changes if not answer.check(c["value"]).correct]  # not a mutant if equivalent
        case "tensor":
            changes = [{"value": f"({answer.value}) * 1.1"}, {"value": f"({answer.value}) + 0.01"}]
        case _:
            changes = []
    return [answer.model_copy(update=change) for change in changes]


def mutants(card: Card) -> list[tuple[str, Card]]:
    """(what changed, the card with one checkable part's answer changed), for every checkable part;
    for a parametric card, every checkable part of every worked example (the stated answers it has)."""
    if card.parametric:
        return [mutant for number in range(len(card.examples)) for mutant in _example_mutants(card, number)]
    if card.declared_parts is None:
        return [(m.display(), card.model_copy(update={"answer": m})) for m in answer_mutants(card.answer)]
    out = []
    for i, part in enumerate(card.parts):
        for m in answer_mutants(part.answer):
            parts = list(card.declared_parts)
            parts[i] = part.model_copy(update={"answer": m})
            out.append((f"part {part.id} = {m.display()}", card.model_copy(update={"declared_parts": parts})))
    return out


def _example_mutants(card: Card, number: int) -> list[tuple[str, Card]]:
    example, out = card.examples[number], []
    for part in card.parts_of(example):
        for m in answer_mutants(part.answer):
            stated = (
                {"answer": m.value}
                if card.declared_parts is None
                else {"parts": {**(example.parts or {}), part.id: m.value}}
            )
            examples = list(card.examples)
            examples[number] = example.model_copy(update=stated)
            out.append(
                (
                    f"worked example #{number + 1}: {part.id} = {m.display()}",
                    card.model_copy(update={"examples": examples}),
                )
            )
    return out


@pytest.fixture(scope="module")
def outcomes():
    results = verify([Job(loaded, card) for loaded, card in CARDS], None, timeout=120)
    return {v.job.key: v.outcome for v in results}


@pytest.mark.parametrize("loaded,card", CARDS, ids=[f"{loaded.deck.id}/{card.id}" for loaded, card in CARDS])
def test_perturbed_answer_fails_verification(outcomes, loaded, card):
    outcome = outcomes[f"{loaded.deck.id}/{card.id}"]
    assert outcome.status in OK_STATUSES, f"the stated answer does not verify: {outcome.message}"
    for changed, mutant in mutants(card):
        mutated = decide(mutant, outcome)
        assert mutated.status == "failed", (
            f"{loaded.deck.id}/{card.id}: changing the answer to {changed} "
            f"still verifies ({mutated.status}): this verifier cannot fail"
        )


def test_there_are_value_cards_to_mutate():
    assert len(CARDS) >= 20, "the bundled decks should check most answers by value"


def test_every_checkable_part_has_mutants():
    for loaded, card in CARDS:
        for part in card.parts:
            if part.checkable:
                assert answer_mutants(part.answer), f"{loaded.deck.id}/{card.id}: part {part.id} has no mutant"
