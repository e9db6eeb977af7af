"""What one review asks and grades: fixed cards, variants from the pool, disputed parts, the pick."""

from __future__ import annotations

from quizzer.cards.deck import Card
from quizzer.cards.instance import fixed, grade, overall, pick, variant

PARTS_CARD = Card.model_validate(
    {
        "id": "dropout",
        "prompt": "Scale {{ p }}?",
        "explanation": "Measured {{ ratio }}.",
        "parts": [
            {"id": "c", "label": "c at p = {{ p }}", "answer": {"kind": "numeric", "value": 2}},
            {"id": "why", "label": "Why", "answer": {"kind": "text", "value": "E[cx] = x"}},
        ],
        "params": {"p": {"min": 0.1, "max": 0.5, "step": 0.1}},
        "examples": [{"params": {"p": 0.5}, "parts": {"c": 2}}],
    }
)


def entry(seed, c, status="passed", p=0.2):
    message = "" if status == "passed" else "the cross-check disagreed"
    figures = {"ratio": {"value": 1.0, "text": "1.00"}}
    return {"seed": seed, "params": {"p": p}, "parts": {"c": {"value": c}}, "figures": figures, "status": status,
            "message": message}  # fmt: skip


def test_a_variant_is_asked_with_its_parameters_and_graded_against_its_computed_value():
    instance = variant(PARTS_CARD, entry(7, 1.25))
    assert instance.seed == 7 and instance.render(PARTS_CARD.prompt) == "Scale 0.2?"
    assert instance.render(instance.parts[0].label) == "c at p = 0.2" and instance.render("{{ ratio }}") == "1.00"
    verdicts = grade(instance, {"c": "1.25"})
    assert verdicts["c"].correct and verdicts["why"].status == "self-graded"
    assert grade(instance, {"c": "2"})["c"].status == "incorrect"  # the worked example's answer is not this one's
    assert overall(grade(instance, {"c": "5/4"})) == "correct"


def test_an_instance_that_failed_verification_is_not_graded_against():
    instance = variant(PARTS_CARD, entry(3, 9.0, status="failed"))
    assert instance.disputed == {"c": "the cross-check disagreed"}
    assert grade(instance, {"c": "9"})["c"].status == "self-graded"


def test_pick_prefers_unseen_verified_entries_then_the_longest_ago_seen():
    pool = [entry(1, 1.0), entry(2, 1.0, status="failed"), entry(3, 1.0), entry(4, 1.0)]
    assert pick(pool, [])["seed"] == 1
    assert pick(pool, [1])["seed"] == 3  # 2 failed verification: skipped
    assert pick(pool, [1, 3])["seed"] == 4
    assert pick(pool, [3, 4, 1])["seed"] == 3  # all seen: the one seen longest ago
    assert pick(pool, [1, 4, 3, 1])["seed"] == 4  # seen order counts the latest sighting
    assert pick([entry(2, 1.0, status="failed")], [])["seed"] == 2  # nothing verified left
    assert pick([], []) is None


def test_ten_picks_in_a_row_are_ten_different_instances():
    pool = [entry(seed, 1.0) for seed in range(32)]
    seen: list[int] = []
    for _ in range(10):
        seen.append(pick(pool, seen)["seed"])
    assert len(set(seen)) == 10


def test_a_fixed_card_disputes_a_part_whose_computed_value_disagrees():
    card = PARTS_CARD.model_copy(update={"params": {}, "examples": []})

    class Outcome:
        status = "failed"
        parts = {"c": {"status": "failed", "computed": "3", "value": 3}}
        figures = {}

        def part_value(self, part_id):
            return self.parts.get(part_id, {}).get("value")

    instance = fixed(card, Outcome())
    assert instance.disputed == {"c": "the verifier computed 3"}
    assert grade(instance, {"c": "2"})["c"].status == "self-graded"
    assert fixed(card, None).disputed == {}


FIGURE_CARD = Card.model_validate(
    {
        "id": "tanh",
        "prompt": "Loss?",
        "explanation": "Measured {{ loss }} after {{ steps:d }} steps.",
        "answer": {"kind": "numeric", "value": 1},
    }
)


def test_a_figure_without_a_value_says_why():
    """‹not yet verified› was shown for a figure that a verified verifier simply did not produce."""
    from quizzer.core import templates
    from quizzer.verify.execution import Outcome

    steps = {"steps": {"value": 40, "text": "40"}}
    assert (
        fixed(FIGURE_CARD, None).render(FIGURE_CARD.explanation)
        == f"Measured {templates.MISSING} after {templates.MISSING} steps."
    )
    for status, missing in [
        ("passed", templates.NOT_PRODUCED),
        ("demonstrated", templates.NOT_PRODUCED),
        ("failed", templates.NOT_MEASURED),
        ("error", templates.NOT_MEASURED),
        ("timeout", templates.NOT_MEASURED),
        ("unverified", templates.MISSING),
    ]:
        posed = fixed(FIGURE_CARD, Outcome(status, figures=steps))
        assert posed.render(FIGURE_CARD.explanation) == f"Measured {missing} after 40 steps.", status
    assert len({templates.MISSING, templates.NOT_PRODUCED, templates.NOT_MEASURED}) == 3
    failed_variant = variant(PARTS_CARD, {**entry(1, 2.0, status="failed"), "figures": {}})
    assert failed_variant.render("{{ ratio }}") == templates.NOT_MEASURED
    assert variant(PARTS_CARD, {**entry(1, 2.0), "figures": {}}).render("{{ ratio }}") == templates.NOT_PRODUCED
