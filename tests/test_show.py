"""`quizzer show DECK/CARD`: the card as a learner sees it, its answer and its last verification."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from quizzer.cards.loader import load_deck
from quizzer.cli import main
from quizzer.store import Store
from quizzer.verify.execution import execute
from quizzer.verify.runner import Job, cache_key, torch_version


def record(db: Path, deck: Path, card_id: str, key: str | None = None, verified_at="2026-03-01T09:30:00+0000") -> None:
    """Run a card's verifier in-process and cache its outcome as `quizzer verify` would."""
    loaded = load_deck(deck)
    job = Job(loaded, loaded.deck.card(card_id))
    outcome = execute(job.card, loaded.verifiers_root)
    with Store.open(db) as store:
        store.save_verification(
            job.key, key or cache_key(job), outcome.status, outcome.to_json(), torch_version(), verified_at, 0.01
        )


def show(*args: str):
    return CliRunner().invoke(main, ["show", *args], env={"COLUMNS": "100"})


def test_unverified_card_says_how_to_verify_it(authoring_project: Path):
    result = show("demo/sum-of-squares", "--db", str(authoring_project / "q.db"))

    assert result.exit_code == 0, result.output
    out = result.output
    assert "Authoring demo · demo/sum-of-squares" in out
    # math rendered for the terminal: no dollars, no backslash commands
    assert "$" not in out.split("Answer")[0].replace("$5", "")
    assert "\\vec" not in out and "\\norm" not in out
    assert "‖v‖² = ∑ᵢ vᵢ²" in out
    assert "Answer (numeric)" in out and "14" in out
    assert "Add the squares" in out
    assert "not verified yet — run quizzer verify decks/demo.toml::sum-of-squares" in out
    assert not (authoring_project / "q.db").exists(), "show only reads: it must not create a database"


def test_last_verification_with_status_date_torch_claims_and_notes(authoring_project: Path):
    db = authoring_project / "q.db"
    record(db, authoring_project / "decks" / "demo.toml", "sum-of-squares")

    out = show("demo/sum-of-squares", "--db", str(db)).output

    assert "✓ passed · 2026-03-01 09:30 · torch " + torch_version() in out
    assert "✓ equals the dot product v·v — 14" in out
    assert "Computed ‖v‖² = 14 for v = (1, 2, 3)." in out
    assert "stale" not in out


def test_a_changed_card_makes_the_verification_stale(authoring_project: Path):
    db = authoring_project / "q.db"
    record(db, authoring_project / "decks" / "demo.toml", "sum-of-squares")
    verifier = authoring_project / "verifiers" / "demo" / "sums.py"
    verifier.write_text(verifier.read_text() + "\n# edited\n")

    out = show("demo/sum-of-squares", "--db", str(db)).output

    assert "✓ passed" in out
    assert "stale: the card or its verifier changed; run quizzer verify decks/demo.toml::sum-of-squares" in out


def test_a_torch_upgrade_is_named_as_the_reason(authoring_project: Path):
    db = authoring_project / "q.db"
    deck = authoring_project / "decks" / "demo.toml"
    loaded = load_deck(deck)
    old = cache_key(Job(loaded, loaded.deck.card("sum-of-squares")), "1.0.0")
    record(db, deck, "sum-of-squares", key=old)
    with Store.open(db) as store:  # as if verified under torch 1.0.0
        store.db.execute("UPDATE verifications SET torch_version = '1.0.0'")
        store.db.conn.commit()

    out = show("demo/sum-of-squares", "--db", str(db)).output

    assert f"stale: verified with torch 1.0.0, now {torch_version()}" in out


def test_review_plain_says_why_a_card_is_stale_in_one_sentence(authoring_project: Path):
    """The line review's caution before a stale card: the reason once (it read 'changed since it was
    verified (the card or its verifier changed since)'), and a torch upgrade named as the reason."""
    db = authoring_project / "q.db"
    deck = authoring_project / "decks" / "demo.toml"
    record(db, deck, "sum-of-squares")
    verifier = authoring_project / "verifiers" / "demo" / "sums.py"
    verifier.write_text(verifier.read_text() + "\n# edited\n")

    def caution() -> list[str]:
        result = CliRunner().invoke(main, ["cram", "--plain", "--db", str(db), f"{deck}::sum-of-squares"], input="")
        return [line for line in result.output.splitlines() if line.startswith("! ")]

    assert caution() == ["! The card or its verifier changed since it was verified."]

    loaded = load_deck(deck)
    record(db, deck, "sum-of-squares", key=cache_key(Job(loaded, loaded.deck.card("sum-of-squares")), "1.0.0"))
    with Store.open(db) as store:  # as if verified under torch 1.0.0
        store.db.execute("UPDATE verifications SET torch_version = '1.0.0'")
        store.db.conn.commit()
    assert caution() == [f"! It was verified with torch 1.0.0; torch is now {torch_version()}."]


def test_failed_verification_shows_the_message(authoring_project: Path):
    deck = authoring_project / "decks" / "demo.toml"
    deck.write_text(deck.read_text().replace("value = 14", "value = 15"))
    db = authoring_project / "q.db"
    record(db, deck, "sum-of-squares")

    out = show("decks/demo.toml::sum-of-squares", "--db", str(db)).output

    assert "✗ failed" in out
    assert "the card says 15 but the verifier computed 14" in out


def test_a_timed_out_verification_is_not_verified_not_failed(authoring_project: Path):
    from quizzer.verify.execution import Outcome

    deck = authoring_project / "decks" / "demo.toml"
    db = authoring_project / "q.db"
    loaded = load_deck(deck)
    job = Job(loaded, loaded.deck.card("sum-of-squares"))
    outcome = Outcome("timeout", "timed out after 60 s and was stopped", duration=60.02)
    with Store.open(db) as store:
        when = "2026-03-01T09:30:00+0000"
        store.save_verification(job.key, cache_key(job), "timeout", outcome.to_json(), torch_version(), when, 60.02)

    out = show("decks/demo.toml::sum-of-squares", "--db", str(db)).output

    assert "⊘ timeout: not verified, no verdict on the stated answer" in out
    assert "timed out after 60 s and was stopped" in out and "✗" not in out


def test_choice_options_code_answers_and_cards_without_verifier(authoring_project: Path):
    db = str(authoring_project / "q.db")
    choice = show("demo/pick-largest", "--db", db).output
    assert "1 e³" in choice and "3 2³" in choice  # the options, numbered

    code = show("demo/snippet", "--db", db).output
    assert "Answer (code)" in code and "total = sum(range(5))" in code

    unchecked = show("demo/unchecked", "--db", db).output
    assert "Answer (boolean)" in unchecked and "True" in unchecked
    assert "no verifier: this card's answer is not checked by code" in unchecked


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("demo/sum-of-square", "did you mean 'sum-of-squares'?"),
        ("dmo/sum-of-squares", "did you mean 'demo'?"),
        ("demo", "names 4 cards"),
    ],
)
def test_a_target_that_is_not_one_card_is_a_usage_error(authoring_project: Path, target: str, message: str):
    result = show(target, "--db", str(authoring_project / "q.db"))
    assert result.exit_code == 2
    assert message in result.output


def test_bundled_card_is_shown_from_outside_a_deck_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from quizzer.cards.loader import deck_files
    from quizzer.paths import bundled_decks

    monkeypatch.chdir(tmp_path)
    files = list(deck_files([bundled_decks()]))
    if not files:
        pytest.skip("no bundled decks yet")
    loaded = load_deck(files[0])
    card = loaded.deck.cards[0]

    result = show(f"{loaded.deck.id}/{card.id}", "--db", str(tmp_path / "q.db"))

    assert result.exit_code == 0, result.output
    assert f"{loaded.deck.id}/{card.id}" in result.output
    assert f"run quizzer verify {loaded.deck.id}/{card.id}" in result.output


def test_show_and_export_do_not_import_torch(authoring_project: Path):
    import subprocess
    import sys

    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom quizzer.cli import main\n"
        "for args in (['show', 'demo/sum-of-squares'], ['export', 'anki', 'demo', '-o', 'x.apkg']):\n"
        "    r = CliRunner().invoke(main, [*args, '--db', 'q.db'])\n"
        "    assert r.exit_code == 0, r.output\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=authoring_project)
