"""The verify runner: each way a verifier can behave gets its own clear status; the run finishes."""

from pathlib import Path

import pytest

from quizzer.deck import Card
from quizzer.execution import execute
from quizzer.loader import load_deck
from quizzer.runner import Job, cache_key, verify

FIXTURE = Path(__file__).parent / "fixtures" / "verify"


@pytest.fixture(scope="module")
def outcomes():
    loaded = load_deck(FIXTURE / "decks" / "fixture.toml")
    results = verify([Job(loaded, card) for card in loaded.deck.cards], None, workers=2, timeout=3, memory_mb=1024)
    return {v.job.card.id: v.outcome for v in results}


@pytest.mark.parametrize(
    "card,status,message",
    [
        ("passes", "passed", ""),
        ("wrong-value", "failed", "the card says 10 but the verifier computed 11"),
        ("raises", "error", "the verifier raised an exception"),
        ("hangs", "timeout", "timed out after 3 s and was stopped"),
        ("segfaults", "crashed", "signal 11"),
        ("exhausts-memory", "out-of-memory", "the verifier exceeded the memory cap of 1024 MB"),
        ("noisy", "passed", ""),
        ("not-a-result", "error", "the verifier returned int, not a quizzer.verifier.Result"),
        ("no-value", "error", "the verifier returned no value for a numeric card"),
        ("failing-claim", "failed", "claim failed: measured spread is small (0.3 ≥ 0.1)"),
        ("uses-torch", "passed", ""),
        ("no-verifier", "unverified", "no verifier: this card's answer is not checked by code"),
    ],
)
def test_each_behaviour_has_its_own_status(outcomes, card, status, message):
    assert (outcomes[card].status, outcomes[card].message) == (status, message)


def test_exception_shows_the_verifiers_own_traceback(outcomes):
    traceback = outcomes["raises"].traceback
    assert traceback.startswith("Traceback (most recent call last):\n  File ")
    assert "behaviours.py" in traceback and "KeyError: 'missing'" in traceback
    assert "quizzer/execution.py" not in traceback


def test_noise_is_captured_not_lost(outcomes):
    assert outcomes["noisy"].output.startswith("noise 0\nmore noise 0\n")
    assert "more characters" in outcomes["noisy"].output  # trimmed, not unbounded


def test_notes_and_value_travel_back(outcomes):
    assert outcomes["passes"].notes == ["0+1+2+3+4 = 10"]
    assert (outcomes["passes"].value, outcomes["passes"].computed, outcomes["passes"].expected) == (10, "10", "10")


def test_verifier_outside_the_root_is_refused(tmp_path):
    root = tmp_path / "verifiers"
    root.mkdir()
    (tmp_path / "outside.py").write_text(
        "from quizzer.verifier import Result\ndef verify():\n    return Result(value=1)\n"
    )
    card = Card.model_validate(
        {
            "id": "x",
            "prompt": "?",
            "explanation": ".",
            "verifier": "../outside.py",
            "answer": {"kind": "numeric", "value": 1},
        }
    )
    outcome = execute(card, root)
    assert outcome.status == "error" and "resolves outside" in outcome.traceback


def test_cache_key_follows_card_verifier_and_local_imports(tmp_path):
    root = tmp_path / "verifiers"
    (root / "pkg").mkdir(parents=True)
    (root / "helpers_for_test.py").write_text("X = 1\n")
    (root / "pkg" / "v.py").write_text("import helpers_for_test\ndef verify():\n    pass\n")
    deck = tmp_path / "decks" / "d.toml"
    deck.parent.mkdir()
    deck.write_text(
        'id = "d"\ntitle = "D"\n[[cards]]\nid = "c"\nprompt = "?"\nexplanation = "."\n'
        'verifier = "pkg/v.py"\nanswer = { kind = "numeric", value = 1 }\n'
    )
    job = Job(load_deck(deck), load_deck(deck).deck.cards[0])
    first = cache_key(job, "2.13.0")
    assert cache_key(job, "2.13.0") == first
    assert cache_key(job, "2.14.0") != first
    (root / "helpers_for_test.py").write_text("X = 2\n")
    second = cache_key(job, "2.13.0")
    assert second != first
    edited = Job(job.loaded, job.card.model_copy(update={"prompt": "edited?"}))
    assert cache_key(edited, "2.13.0") != second
