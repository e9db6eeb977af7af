"""The deck cache: parsed decks reused by file content, invalidated on any change, cards built lazily."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quizzer.cards import deckcache
from quizzer.cards.deckcache import DeckHeader, LazyCards, card_ids, card_renames, card_verifiers, find_card
from quizzer.cards.deckfiles import load_header
from quizzer.cards.loader import DeckError, deck_files, lint, load_deck, select
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


def test_ids_only_reads_the_header_and_never_builds_a_card(tmp_path, cache):
    path = _copy_bundled(tmp_path)[0]
    full = load_deck(path).deck
    deck = load_deck(path, check_verifiers=False, ids_only=True).deck
    assert card_ids(deck) == tuple(c.id for c in full.cards) and len(deck.cards) == len(full.cards)
    assert card_renames(deck) == card_renames(full) and card_verifiers(deck) == card_verifiers(full)
    with pytest.raises(LookupError, match="ids_only"):
        deck.cards[0]


def test_a_header_lists_the_deck_without_the_models_and_builds_it_on_demand(tmp_path, cache):
    path = _copy_bundled(tmp_path)[0]
    assert load_header(path) is None  # nothing cached yet: the loader parses it
    full = load_deck(path).deck
    header = load_header(path).deck
    assert isinstance(header, DeckHeader) and header.id == full.id and header.title == full.title
    assert card_ids(header) == card_ids(full) and card_verifiers(header) == card_verifiers(full)
    with pytest.raises(LookupError, match="ids_only"):
        header.cards[0]
    assert header.deck().model_dump(exclude={"cards"}) == full.model_dump(exclude={"cards"})


@pytest.mark.parametrize("field, value", [("id", 7), ("title", None), ("new_per_day", -1), ("reviews_per_day", "9")])
def test_a_header_whose_counting_fields_are_mistyped_is_a_miss(tmp_path, cache, field, value):
    """The header's fields are handed out unvalidated (no models on the first frame): their types are checked."""
    path = _copy_bundled(tmp_path)[0]
    load_deck(path)
    (entry,) = cache.iterdir()
    first, rest = entry.read_bytes().split(b"\n", 1)
    line = json.loads(first)
    line["deck"][field] = value
    entry.write_bytes(json.dumps(line).encode() + b"\n" + rest)
    assert load_header(path) is None
    assert not isinstance(load_deck(path).deck.cards, LazyCards)  # and the loader parses the file again


def test_ids_only_sees_an_edit_of_the_same_size(tmp_path, cache):
    """Keyed by content, not by size or time: swapping two letters of a card id is a miss."""
    path = _copy_bundled(tmp_path)[0]
    first = load_deck(path).deck.cards[0].id
    stat = path.stat()
    swapped = first[1] + first[0] + first[2:]
    path.write_text(path.read_text().replace(f'id = "{first}"', f'id = "{swapped}"', 1))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    assert card_ids(load_deck(path, check_verifiers=False, ids_only=True).deck)[0] == swapped


def test_a_card_target_beside_its_whole_ids_only_deck(tmp_path, cache):
    path = _copy_bundled(tmp_path)[0]
    first = load_deck(path).deck.cards[0].id
    ((loaded, cards),) = select([str(path), f"{path}::{first}"], path.parent, ids_only=True, check_verifiers=False)
    assert len(cards) == len(loaded.deck.cards)  # the whole deck, the card in it


def test_the_app_command_builds_no_card_of_a_cached_deck(tmp_path, cache, monkeypatch):
    """`quizzer review DECK` only names the files for the app; checking verifier references built every
    card (8 s before the first frame on 100,000 cached cards)."""
    from quizzer import cli

    paths = _copy_bundled(tmp_path)
    for path in paths:
        load_deck(path)

    def refuse(*_):
        raise AssertionError("a card was built")

    monkeypatch.setattr(LazyCards, "__getitem__", refuse)
    assert cli._app_deck_files(tuple(map(str, paths))) == tuple(paths)


def test_the_app_command_reads_no_deck_named_by_path(tmp_path):
    """Folders and deck files go to the app as they are (it loads them in its worker, broken ones too):
    parsing them first, or only importing the parser, came before the first frame (0.4 s on 100k cards)."""
    paths = _copy_bundled(tmp_path)
    broken = tmp_path / "broken.toml"
    broken.write_text("id = [unclosed\n")
    missing = tmp_path / "missing.toml"
    targets = [str(paths[0].parent), str(paths[0]), str(broken), str(missing)]
    probe = (
        "import json, sys\n"
        "from quizzer import cli\n"
        f"files = cli._app_deck_files({targets!r})\n"
        "print(json.dumps([str(f) for f in files]))\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'pydantic' or m == 'quizzer.cards.loader')))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=300)
    files, imported = result.stdout.splitlines()
    assert json.loads(files) == [*map(str, paths), str(broken), str(missing)]  # each file once, in order
    assert json.loads(imported) == []


def test_the_app_command_still_resolves_deck_ids(tmp_path, monkeypatch):
    """A deck id needs the decks read: that path still goes through the one resolver."""
    from quizzer import cli

    paths = _copy_bundled(tmp_path)
    monkeypatch.setattr(cli, "default_decks", lambda: paths[0].parent)
    deck_id = load_deck(paths[0]).deck.id
    assert cli._app_deck_files((deck_id,)) == (paths[0],)


STATES = st.lists(st.tuples(st.integers(0, 5), st.integers(-3, 3)), max_size=12)  # (grade, day offset) answers


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cards=st.integers(1, 30),
    answers=st.dictionaries(st.integers(0, 29), STATES, max_size=15),
    limits=st.tuples(st.none() | st.integers(0, 5), st.none() | st.integers(0, 5)),
    renamed=st.booleans(),
)
def test_due_counts_from_the_ids_only_path_equal_the_full_load(
    tmp_path_factory, monkeypatch, cards, answers, limits, renamed
):
    """`quizzer due`'s fast path (cached ids only) and the app's first frame (the cached header, no models)
    count exactly what the parsed deck counts."""
    from datetime import UTC, date, datetime, timedelta

    from quizzer.review.session import Limits, outlook
    from quizzer.store import Store

    folder = tmp_path_factory.mktemp("due")
    monkeypatch.setenv("QUIZZER_HOME", str(folder / "home"))
    path = folder / "d.toml"
    lines = ['id = "d"\ntitle = "D"\nnew_per_day = 3\n']
    for i in range(cards):
        history = f'renamed_from = ["old{i}"]\n' if renamed and i % 2 else ""
        answer = f'answer = {{ kind = "numeric", value = {i} }}'
        lines.append(f'\n[[cards]]\nid = "c{i}"\n{history}prompt = "{i}?"\nexplanation = "."\n{answer}\n')
    path.write_text("".join(lines))
    today = date(2024, 3, 1)
    counts = []
    # The first load parses and remembers; the others read the header only.
    for source in ("parsed", "ids only", "header"):
        if source == "header":
            listed = load_header(path)
            assert listed is not None
            deck = listed.deck
            assert isinstance(deck, DeckHeader)
        else:
            deck = load_deck(path, check_verifiers=False, ids_only=source == "ids only").deck
            assert isinstance(deck.cards, LazyCards) == (source == "ids only")
        with Store.open(folder / f"state-{source}.db") as store:
            outlook(store, [deck], today)  # syncs the cards
            for index, history in sorted(answers.items()):
                for grade, offset in history:
                    if index < cards:
                        day = today + timedelta(days=offset)
                        store.record_answer(f"d/c{index}", grade, today=day, now=datetime(2024, 3, 1, 9, tzinfo=UTC))
            counts.append(outlook(store, [deck], today, Limits(*limits)))
    assert counts[0] == counts[1] == counts[2]


def test_the_models_fingerprint_reads_every_model_source():
    """A source missing from the fingerprint (a module moved) would let a cache outlive a change of the format."""
    package = Path(deckcache.__file__).resolve().parents[1]
    assert [name for name in deckcache.MODEL_SOURCES if not (package / name).is_file()] == []


def test_a_change_to_the_loaders_checks_invalidates_every_entry(monkeypatch):
    """A cached deck skips the loader's checks before validation (integer bounds, control characters): with
    loader.py outside the fingerprint, a deck cached before such a check was added kept loading after it."""
    loader_source = Path(deckcache.__file__).resolve().parent / "loader.py"
    before = deckcache._models_fingerprint.__wrapped__()
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: b"changed" if self == loader_source else real(self))
    assert deckcache._models_fingerprint.__wrapped__() != before
