"""The deck cache: parsed decks reused by file content, invalidated on any change, cards built lazily."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from quizzer import deckcache
from quizzer.deckcache import LazyCards, card_ids, card_renames, card_verifiers, find_card
from quizzer.loader import DeckError, deck_files, lint, load_deck
from quizzer.paths import bundled_decks


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("QUIZZER_HOME", str(tmp_path / "home"))
    return tmp_path / "home" / "deck-cache"


def _copy_bundled(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "project" / "decks"
    shutil.copytree(bundled_decks(), folder)
    shutil.copytree(bundled_decks().parent / "verifiers", tmp_path / "project" / "verifiers")
    return list(deck_files([folder]))


def test_a_cached_deck_equals_the_parsed_one(tmp_path, cache):
    for path in _copy_bundled(tmp_path):
        parsed = load_deck(path)
        assert not isinstance(parsed.deck.cards, LazyCards)  # first load: parsed, then remembered
        again = load_deck(path)
        assert isinstance(again.deck.cards, LazyCards)
        assert card_ids(again.deck) == tuple(c.id for c in parsed.deck.cards)
        assert card_renames(again.deck) == card_renames(parsed.deck)
        assert card_verifiers(again.deck) == card_verifiers(parsed.deck)
        assert list(again.deck.cards) == list(parsed.deck.cards)
        assert again.deck.model_dump(exclude={"cards"}) == parsed.deck.model_dump(exclude={"cards"})
    assert len(list(cache.iterdir())) == len(list(deck_files([tmp_path / "project" / "decks"])))


def test_renamed_cards_keep_their_old_ids_through_the_cache(tmp_path, cache):
    path = _copy_bundled(tmp_path)[0]
    text = path.read_text()
    first_id = load_deck(path).deck.cards[0].id
    path.write_text(text.replace(f'id = "{first_id}"', f'id = "{first_id}-v2"\nrenamed_from = ["{first_id}"]', 1))
    load_deck(path)
    cached = load_deck(path, check_verifiers=False).deck
    assert isinstance(cached.cards, LazyCards)
    assert card_renames(cached) == {f"{first_id}-v2": [first_id]}


def test_cards_are_built_only_when_used(tmp_path, cache):
    path = _copy_bundled(tmp_path)[0]
    load_deck(path)
    deck = load_deck(path, check_verifiers=False).deck
    cards = deck.cards
    assert all(built is None for built in cards._cards)
    last = card_ids(deck)[-1]
    assert find_card(deck, last).id == last
    assert sum(built is not None for built in cards._cards) == 1
    with pytest.raises(KeyError):
        find_card(deck, "no-such-card")


def test_an_edited_deck_is_parsed_again(tmp_path, cache):
    path = _copy_bundled(tmp_path)[0]
    load_deck(path)
    text = path.read_text()
    path.write_text(text.replace('title = "', 'title = "Edited ', 1))
    edited = load_deck(path)
    assert edited.deck.title.startswith("Edited ")
    assert not isinstance(edited.deck.cards, LazyCards)
    path.write_text(text.replace("[[cards]]", "[[cards]]\nbogus = 1", 1))
    with pytest.raises(DeckError, match="unknown key 'bogus'"):  # a broken edit is reported, never hidden
        load_deck(path)
    assert lint(path)


def test_a_cached_deck_still_has_its_verifier_references_checked(tmp_path, cache):
    path = _copy_bundled(tmp_path)[0]
    load_deck(path)
    shutil.rmtree(tmp_path / "project" / "verifiers")
    with pytest.raises(DeckError, match="does not exist"):
        load_deck(path)
    assert isinstance(load_deck(path, check_verifiers=False).deck.cards, LazyCards)


@pytest.mark.parametrize("damage", [b"", b"not json\n", b'{"format": "quizzer deck cache 3"}\n'])
def test_a_damaged_entry_is_a_miss(tmp_path, cache, damage):
    path = _copy_bundled(tmp_path)[0]
    expected = list(load_deck(path).deck.cards)
    (entry,) = cache.iterdir()
    entry.write_bytes(damage)
    loaded = load_deck(path)
    assert not isinstance(loaded.deck.cards, LazyCards) and list(loaded.deck.cards) == expected


def test_an_entry_for_other_models_is_a_miss(tmp_path, cache, monkeypatch):
    path = _copy_bundled(tmp_path)[0]
    load_deck(path)
    monkeypatch.setattr(deckcache, "_models_fingerprint", lambda: "another quizzer")
    assert not isinstance(load_deck(path).deck.cards, LazyCards)


def test_an_unwritable_cache_folder_changes_nothing(tmp_path, cache):
    path = _copy_bundled(tmp_path)[0]
    cache.parent.mkdir(parents=True)
    cache.write_text("a file where the folder should be")
    assert load_deck(path).deck.cards
    assert not isinstance(load_deck(path).deck.cards, LazyCards)
