"""Answers in parts, figures and demonstrated facts: judged by `quizzer verify` with the learner's checkers."""

import textwrap
from pathlib import Path

import pytest

from quizzer.cards.deck import Card
from quizzer.cards.loader import lint, load_deck
from quizzer.verifier import Result
from quizzer.verify.execution import decide, execute, judge

FIXTURE = Path(__file__).parent / "fixtures" / "vdata" / "decks" / "vdata.toml"


@pytest.fixture(scope="module")
def loaded():
    return load_deck(FIXTURE)


def card_of(loaded, card_id: str) -> Card:
    return loaded.deck.card(card_id)


def with_part_value(card: Card, part_id: str, value) -> Card:
    """The card with one part's stated value changed (what an audit's edit of the deck does)."""
    parts = [
        p.model_copy(update={"answer": p.answer.model_copy(update={"value": value})}) if p.id == part_id else p
        for p in card.parts
    ]
    return card.model_copy(update={"declared_parts": parts})


def test_single_answer_card_is_one_part_named_answer(loaded):
    [part] = card_of(loaded, "view-shape").parts
    assert (part.id, part.answer.kind) == ("answer", "shape")


def test_every_part_is_judged_and_figures_are_kept(loaded):
    outcome = execute(card_of(loaded, "dropout-scaling"), loaded.verifiers_root)
    assert outcome.status == "passed", outcome.message + outcome.traceback
    assert {k: v["status"] for k, v in outcome.parts.items()} == {
        "c": "passed",
        "kept": "passed",
        "proof": "self-graded",
    }
    assert outcome.figures["mean_ratio"]["text"] == f"{outcome.figures['mean_ratio']['value']:.3f}"
    assert outcome.missing_figures == []


@pytest.mark.parametrize(("part_id", "wrong"), [("c", "1/p"), ("c", "1 - p"), ("kept", 0.5)])
def test_a_wrong_stated_part_fails_and_names_the_part(loaded, part_id, wrong):
    card = card_of(loaded, "dropout-scaling")
    outcome = execute(card, loaded.verifiers_root)
    decided = decide(with_part_value(card, part_id, wrong), outcome)
    assert decided.status == "failed"
    assert decided.message.startswith(f"part '{part_id}': the card says")
    assert decided.parts[part_id]["status"] == "failed"
    assert any(line.startswith(f"✗ part {part_id}") for line in decided.details())


def test_a_parts_card_with_a_missing_part_value_is_an_error(loaded):
    card = card_of(loaded, "dropout-scaling")
    r = Result()
    r.part("c", "1/(1-p)")
    r.claim("something measured", True)
    outcome = judge(card, r)
    assert outcome.status == "error"
    assert "part 'kept': the verifier returned no value for a numeric part" in outcome.message


def test_a_value_for_an_unknown_part_or_r_value_on_a_parts_card_is_an_error(loaded):
    card = card_of(loaded, "dropout-scaling")
    r = Result()
    r.part("cc", "1/(1-p)")
    assert "part 'cc'" in judge(card, r).message
    r = Result(value=3)
    assert "not r.value" in judge(card, r).message


def test_demonstrated_is_its_own_status_and_still_fails_on_a_wrong_value(loaded):
    card = card_of(loaded, "view-shape")
    outcome = execute(card, loaded.verifiers_root)
    assert outcome.status == "demonstrated" and outcome.ok and not outcome.verified
    wrong = card.model_copy(update={"answer": card.answer.model_copy(update={"value": [2, 4, 3]})})
    assert decide(wrong, outcome).status == "failed"


def test_a_cited_figure_the_verifier_does_not_produce_fails_strict_only(loaded):
    card = card_of(loaded, "dropout-scaling")
    r = Result()
    r.part("c", "1/(1-p)")
    r.part("kept", 0.75)
    r.figure("trials", 10)
    outcome = judge(card, r)
    assert outcome.status == "passed"
    assert outcome.missing_figures == ["mean_ratio"]
    assert "mean_ratio" in outcome.strict_failure()


def test_figure_names_and_values_are_checked_by_the_api():
    r = Result()
    with pytest.raises(ValueError, match="identifier"):
        r.figure("mean ratio", 1.0)
    r.figure("x", 1)
    with pytest.raises(ValueError, match="twice"):
        r.figure("x", 2)
    with pytest.raises(ValueError, match="at most 200"):
        r.figure("wide", 1, "{:>5000}")


def test_a_non_finite_figure_fails_verification_instead_of_raising(loaded):
    """A measurement that diverges (a changed world) is a failed verification, not a verifier crash."""
    card = card_of(loaded, "dropout-scaling")
    r = Result()
    r.part("c", "1/(1-p)")
    r.part("kept", 0.75)
    r.figure("trials", float("inf"))
    r.figure("mean_ratio", float("nan"), "{:.3f}")
    assert r.figures["mean_ratio"].text == "nan"
    assert [c.holds for c in r.claims] == [False, False]
    assert judge(card, r).status == "failed"


def test_lint_places_part_problems_at_their_line(deck_dir):
    path = deck_dir(
        """
        id = "d"
        title = "D"
        [[cards]]
        id = "a"
        prompt = "p"
        explanation = "e"
        [[cards.parts]]
        id = "x"
        label = "X"
        answer = { kind = "numeric", value = 1 }
        [[cards.parts]]
        id = "y"
        label = "Y"
        answer = { kind = "numeric", value = "one" }
        """
    )
    [problem] = lint(path)
    assert problem.line == 14 and "cards.0.parts.1.answer.value" in problem.message


def test_a_card_needs_exactly_one_of_answer_and_parts(deck_dir):
    base = """
        id = "d"
        title = "D"
        [[cards]]
        id = "a"
        prompt = "p"
        explanation = "e"
        """
    assert "exactly one of `answer` or `parts`" in str(lint(deck_dir(base)))
    both = base + textwrap.dedent(
        """
        answer = { kind = "numeric", value = 1 }
        [[cards.parts]]
        id = "x"
        label = "X"
        answer = { kind = "numeric", value = 1 }
        """
    )
    assert "exactly one of `answer` or `parts`" in str(lint(deck_dir(both)))


def test_duplicate_part_ids_are_refused(deck_dir):
    part = '[[cards.parts]]\nid = "x"\nlabel = "X"\nanswer = { kind = "numeric", value = 1 }\n'
    path = deck_dir('id = "d"\ntitle = "D"\n[[cards]]\nid = "a"\nprompt = "p"\nexplanation = "e"\n' + part + part)
    assert "part id(s) x used twice" in str(lint(path))


def test_verify_strict_fails_a_card_citing_a_figure_never_produced(tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    shutil.copytree(FIXTURE.parent.parent, tmp_path / "project")
    scaling = tmp_path / "project" / "verifiers" / "scaling.py"
    scaling.write_text(scaling.read_text().replace('r.figure("mean_ratio", ratio, "{:.3f}")', '"mean_ratio"'))
    deck = tmp_path / "project" / "decks" / "vdata.toml"
    env = {**os.environ, "QUIZZER_DB": str(tmp_path / "state.db"), "COLUMNS": "200"}

    def verify(*flags):
        command = [sys.executable, "-m", "quizzer", "verify", *flags, f"{deck}::dropout-scaling"]
        return subprocess.run(command, capture_output=True, text=True, env=env)

    lenient = verify()
    assert lenient.returncode == 0, lenient.stdout + lenient.stderr
    strict = verify("--strict")
    assert strict.returncode == 1
    assert "FAIL vdata/dropout-scaling (cached) the card cites {{ mean_ratio }}" in strict.stdout


def test_strict_summary_counts_a_card_failed_for_a_missing_figure_as_failed_not_verified(loaded):
    import io

    from rich.console import Console

    from quizzer.verify.reporting import Row, VerifyReport

    card = card_of(loaded, "dropout-scaling")
    r = Result()
    r.part("c", "1/(1-p)")
    r.part("kept", 0.75)
    r.figure("trials", 10)
    row = Row("vdata", card.id, str(FIXTURE), 1, card.verifier or "", False, judge(card, r))
    console = Console(file=io.StringIO(), width=200)
    report = VerifyReport([], strict=True, console=console)
    report.rows.append(row)
    assert report.summary_line() == "1 card: 0 verified, [red]1 failed[/]"
    report.print_summary()
    assert "│ vdata │     1 │      0 │            0 │      1 │" in console.file.getvalue()
