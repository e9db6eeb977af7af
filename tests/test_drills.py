"""The drills deck: every parametric card passes on its worked example and fails when the world changes."""

import json
import subprocess
import sys
from pathlib import Path

from quizzer.cards.loader import deck_files, load_deck
from quizzer.paths import bundled_decks

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(__file__).parent / "fixtures" / "drills_world_mutations.py"


def test_every_drill_is_parametric_with_a_worked_example():
    deck = load_deck(ROOT / "decks" / "drills.toml").deck
    assert len(deck.cards) >= 12
    assert all(card.params and card.examples for card in deck.cards)


def test_parametric_cards_live_in_the_drills_deck():
    """test_world_mutation.py leaves parametric cards to this file, which changes the world of drills.toml's."""
    parametric = {
        f"{loaded.deck.id}/{card.id}"
        for loaded in (load_deck(path) for path in deck_files([bundled_decks()]))
        for card in loaded.deck.cards
        if card.parametric
    }
    assert parametric and {key.split("/")[0] for key in parametric} == {"drills"}


def test_every_drill_fails_in_a_changed_world():
    """One process (one torch import) runs each worked example as torch is and in each changed world."""
    done = subprocess.run([sys.executable, str(SCRIPT), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    deck = load_deck(ROOT / "decks" / "drills.toml").deck
    real = {row["card"]: row["passed"] for row in rows if row["world"] == "torch as it is"}
    assert real == {card.id: True for card in deck.cards}
    changed = [row for row in rows if row["world"] != "torch as it is"]
    assert {row["card"] for row in changed} == set(real), "every drill needs at least one changed world"
    assert [row for row in changed if row["passed"]] == []
