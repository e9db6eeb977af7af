"""decks/schema.json is generated from the models; a stale copy fails here."""

from pathlib import Path

from quizzer.cards.deck import json_schema

DECKS = Path(__file__).resolve().parent.parent / "decks"


def test_schema_file_is_current():
    assert (DECKS / "schema.json").read_text() == json_schema(), "regenerate: quizzer schema > decks/schema.json"


def test_every_bundled_deck_declares_the_schema():
    for deck in DECKS.glob("*.toml"):
        assert deck.read_text().startswith("#:schema ./schema.json"), (
            f"{deck}: first line must be #:schema ./schema.json"
        )
