"""Parsed decks cached by file content, so a 100,000-card collection is not re-parsed by every command.

Parsing and validating TOML costs about 50 µs a card; `quizzer due` and the app's start-up need only
each deck's header and card ids. After a deck file is parsed, `remember` writes its validated cards
to `deck-cache/` beside the state database (one file per deck path, replaced when the deck changes):
a JSON header line (the deck's fields, its card ids, the SHA-256 of the deck text, a fingerprint of
the deck models' source) and then one line of JSON per card. `lookup` returns a `Deck` whose `cards`
is a `LazyCards`: card ids at once, each `Card` validated from its line the first time it is used
(so a session of 200 cards builds 200 cards, not 100,000), then kept. `header` reads the header line
alone into a `DeckHeader`, plain data: the deck models (pydantic) are not even imported, so the app's
first frame (the decks screen's counts) is drawn without them.

Invalidation: an entry is used only when the deck text hashes to the same digest and the models'
source (deck.py and the modules its validation runs) is unchanged; anything else, or any entry that
does not read back cleanly, is a miss and the file is parsed again. The cache is an optimisation:
every failure to read or write it is silent. A card is validated by pydantic when materialised, so a
tampered entry can at worst hold other *valid* cards, the trust the state database already has.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quizzer.core import jsontext

if TYPE_CHECKING:
    from quizzer.cards.deck import Card, Deck

FORMAT = "quizzer deck cache 3"
MODEL_SOURCES = (
    "cards/deck.py",
    "cards/deckcache.py",
    "cards/deckfiles.py",
    "cards/loader.py",  # its bounds run before validation (integer range, control characters): an entry skips them
    "core/checking.py",
    "core/safetext.py",  # the loader's control-character refusal is defined there (`CONTROL`)
    "core/templates.py",
    "core/tensor_formula.py",
)
"""Modules whose code decides what a valid card is (paths in the package): a change to any of them invalidates
every entry."""


class LazyCards(Sequence["Card"]):
    """A deck's cards, validated one by one from their cached JSON the first time each is used."""

    __slots__ = ("ids", "verifiers", "renames", "_body", "_lines", "_cards", "_index")

    def __init__(
        self, ids: tuple[str, ...], body: bytes | None, renames: dict[str, list[str]], verifiers: tuple[str | None, ...]
    ):
        self.ids = ids
        self.verifiers = verifiers  # each card's `verifier` reference, by position: badges need no card built
        self.renames = renames  # card id → the ids it was renamed from (`renamed_from`)
        self._body = body  # one JSON line per card, split on the first card asked for; None: ids only
        self._lines: list[bytes] | None = None
        self._cards: list[Card | None] = [None] * len(ids)
        self._index: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        card = self._cards[index]
        if card is None:
            if self._lines is None:
                if self._body is None:
                    raise LookupError("this deck was loaded with ids_only=True: its cards cannot be built")
                self._lines, self._body = self._body.split(b"\n"), b""
            from quizzer.cards.deck import Card  # the models: imported by the first card built

            card = Card.model_validate_json(self._lines[index])
            self._cards[index] = card
            self._lines[index] = b""  # the card holds it now
        return card

    def __iter__(self) -> Iterator[Card]:
        return (self[i] for i in range(len(self)))

    def position(self, card_id: str) -> int | None:
        """Where the card with this id sits, without building any card."""
        if self._index is None:
            self._index = {card_id: i for i, card_id in enumerate(self.ids)}
        return self._index.get(card_id)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Sequence)
            and len(other) == len(self)
            and all(a == b for a, b in zip(self, other, strict=True))
        )

    __hash__ = None


def card_ids(deck: Deck | DeckHeader) -> tuple[str, ...]:
    """The deck's card ids in order, without building cards when they are lazy."""
    cards = deck.cards
    return cards.ids if isinstance(cards, LazyCards) else tuple(card.id for card in cards)


def card_verifiers(deck: Deck | DeckHeader) -> dict[str, str | None]:
    """Card id → its verifier reference (None for a card without one), without building cards when lazy."""
    cards = deck.cards
    if isinstance(cards, LazyCards):
        return dict(zip(cards.ids, cards.verifiers, strict=True))
    return {card.id: card.verifier for card in cards}


def card_renames(deck: Deck | DeckHeader) -> dict[str, list[str]]:
    """Card id → the ids it had before (`renamed_from`), for cards that have any, without building cards."""
    cards = deck.cards
    if isinstance(cards, LazyCards):
        return cards.renames
    return {card.id: list(card.renamed_from) for card in cards if card.renamed_from}


def find_card(deck: Deck, card_id: str) -> Card:
    """`deck.card(card_id)` in O(1) for a cached deck (KeyError if absent)."""
    cards = deck.cards
    if isinstance(cards, LazyCards):
        position = cards.position(card_id)
        if position is None:
            raise KeyError(card_id)
        return cards[position]
    return deck.card(card_id)


def cache_folder() -> Path:
    """`deck-cache/` beside the default state database."""
    from quizzer.paths import default_db

    return default_db().parent / "deck-cache"


@functools.cache
def _models_fingerprint() -> str:
    digest = hashlib.sha256(FORMAT.encode())
    package = Path(__file__).resolve().parents[1]
    for name in MODEL_SOURCES:
        with contextlib.suppress(OSError):
            digest.update(name.encode() + b"\0" + (package / name).read_bytes())
    return digest.hexdigest()


def _entry(path: Path, folder: Path | None) -> Path:
    name = hashlib.sha256(str(path.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return (folder or cache_folder()) / f"{name}.deck"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True, eq=False)
class DeckHeader:
    """A cached deck's own fields, unvalidated, and its cards by id (`LazyCards`, ids only).

    What counting and listing a deck needs (`session.outlook`, the badges: `id`, `title`, the daily
    limits, `card_ids`, `card_renames`, `card_verifiers`), read without the deck models; `deck()`
    validates the fields into a `Deck`. The entry was written from a validated deck, so only the
    types of the fields read here are checked again.
    """

    fields: dict[str, Any]
    cards: LazyCards

    @property
    def id(self) -> str:
        return self.fields["id"]

    @property
    def title(self) -> str:
        return self.fields["title"]

    @property
    def new_per_day(self) -> int | None:
        return self.fields.get("new_per_day")

    @property
    def reviews_per_day(self) -> int | None:
        return self.fields.get("reviews_per_day")

    def deck(self) -> Deck:
        """The validated `Deck` with these cards (pydantic's `ValueError` if the fields do not validate)."""
        from quizzer.cards.deck import Deck

        return Deck.model_validate({**self.fields, "cards": []}).model_copy(update={"cards": self.cards})


def header(path: Path, text: str, folder: Path | None = None, *, ids_only: bool = False) -> DeckHeader | None:
    """The cached header of the deck parsed from exactly `text`, or None (a miss).

    `ids_only`: the header line alone (a 100,000-card collection's card lines are 30 MB): the deck's
    cards can be counted and listed by id (`card_ids`), not built. Else the card lines are read too.
    """
    try:
        with _entry(path, folder).open("rb") as entry:
            line = jsontext.loads(entry.readline())
            body = None if ids_only else entry.read()  # one copy of the lines, split when a card is needed
        if line.get("format") != FORMAT or line.get("models") != _models_fingerprint():
            return None
        if line.get("content") != _digest(text):
            return None
        ids = tuple(line["ids"])
        renames, verifiers = line["renames"], tuple(line["verifiers"])
        if len(verifiers) != len(ids) or not {*map(type, verifiers)} <= {str, type(None)}:
            return None
        if not isinstance(renames, dict) or not all(isinstance(v, list) for v in renames.values()):
            return None
        if not {*map(type, ids)} <= {str}:
            return None
        if body is not None and body.count(b"\n") + bool(body) != len(ids):
            return None
        fields = line["deck"]
        if not isinstance(fields, dict) or "cards" in fields or not _counting_fields_typed(fields):
            return None
        return DeckHeader(fields, LazyCards(ids, body, renames, verifiers))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _counting_fields_typed(fields: dict[str, Any]) -> bool:
    """The fields a `DeckHeader` hands out unvalidated have the types the model gives them."""
    limits = (fields.get("new_per_day"), fields.get("reviews_per_day"))
    return (
        isinstance(fields.get("id"), str)
        and isinstance(fields.get("title"), str)
        and all(limit is None or (type(limit) is int and limit >= 0) for limit in limits)
    )


def lookup(path: Path, text: str, folder: Path | None = None, *, ids_only: bool = False) -> Deck | None:
    """The cached deck parsed from exactly `text`, validated, or None (a miss).

    `ids_only`: from the header line alone (see `header`): the cards can be counted, not built.
    """
    cached = header(path, text, folder, ids_only=ids_only)
    if cached is None:
        return None
    try:
        return cached.deck()  # the header is small: validate it again
    except ValueError:
        return None


def remember(path: Path, text: str, deck: Deck, folder: Path | None = None) -> None:
    """Write the entry for `path` (parsed from `text`); silently nothing if the folder is not writable."""
    if isinstance(deck.cards, LazyCards):
        return
    target = _entry(path, folder)
    header = {
        "format": FORMAT,
        "models": _models_fingerprint(),
        "content": _digest(text),
        "deck": deck.model_dump(mode="json", exclude={"cards"}),
        "ids": [card.id for card in deck.cards],
        "renames": card_renames(deck),
        "verifiers": [card.verifier for card in deck.cards],
    }
    lines = [json.dumps(header, ensure_ascii=False).encode()] + [card.model_dump_json().encode() for card in deck.cards]
    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(b"\n".join(lines))
        os.replace(temporary, target)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
