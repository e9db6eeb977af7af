"""Card search, shared by the browser and `quizzer cram --search`: `attention tag:rnn deck:cnn is:due`.

Words match anywhere in a card's id, prompt, explanation, source, tags and answer; `tag:` and `deck:`
match prefixes; `is:` takes one of `STATES`. Every part must match. An unknown `is:` state is an
error naming the known ones, not a filter silently ignored.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from quizzer.cards.deck import Card, Deck
from quizzer.core.sm2 import NEW_CARD
from quizzer.store import Store, StoredCard

STATES = ("due", "new", "learning", "review", "suspended", "absent")


class SearchError(ValueError):
    """A search that cannot mean anything (the message says why and what would)."""


@dataclass(frozen=True)
class Query:
    words: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    decks: tuple[str, ...] = ()
    states: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Query:
        """The query in `text`; `SearchError` for an unknown `is:` state."""
        try:
            tokens = shlex.split(text)
        except ValueError:
            tokens = text.split()
        words, tags, decks, states = [], [], [], []
        for token in tokens:
            name, sep, value = token.partition(":")
            value = value.lower()
            if sep and name in ("tag", "t") and value:
                tags.append(value)
            elif sep and name in ("deck", "d") and value:
                decks.append(value)
            elif sep and name == "is":
                if value not in STATES:
                    raise SearchError(f"unknown filter is:{value}; use one of " + ", ".join(f"is:{s}" for s in STATES))
                states.append(value)
            else:
                words.append(token.lower())
        return cls(tuple(words), tuple(tags), tuple(decks), tuple(states))

    def matches(self, deck_id: str, card: Card, stored: StoredCard | None, today: date) -> bool:
        """Whether card `card` of deck `deck_id`, with its row in the store (None: never synced), matches."""
        if self.decks and not any(deck_id.lower().startswith(d) for d in self.decks):
            return False
        card_tags = [tag.lower() for tag in card.tags]
        if not all(any(tag.startswith(wanted) for tag in card_tags) for wanted in self.tags):
            return False
        state = stored.state if stored else NEW_CARD
        suspended = bool(stored and stored.suspended)
        for wanted in self.states:
            if wanted == "suspended" and not suspended:
                return False
            if wanted == "due" and not (state.is_due(today) and state.phase != "new"):
                return False
            if wanted in ("new", "learning", "review") and state.phase != wanted:
                return False
            if wanted == "absent" and (stored is None or stored.present):
                return False
        text = card_text(f"{deck_id}/{card.id}", card)
        return all(word in text for word in self.words)


def card_text(key: str, card: Card) -> str:
    """What words are searched in, lower-cased."""
    answers = [f"{part.label} {part.answer.display()}" for part in card.parts]
    return "\n".join([key, card.prompt, card.explanation, card.source, " ".join(card.tags), *answers]).lower()


def matching_keys(store: Store, chosen: Iterable[tuple[Deck, Sequence[Card]]], query: Query, today: date) -> list[str]:
    """Keys ("deck/card") of the chosen cards that match `query`, in deck order (what `quizzer cram` drills)."""
    keys = []
    for deck, cards in chosen:
        stored = {row.card: row for row in store.deck_cards(deck.id)}
        keys += [f"{deck.id}/{card.id}" for card in cards if query.matches(deck.id, card, stored.get(card.id), today)]
    return keys
