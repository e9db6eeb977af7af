"""One sitting of reviews: the day's queue, checking answers, grading, re-drill, undo, summary.

No UI and no clock: `today` and `now` are passed in, and the only I/O is the store. The plain
line-based review and the TUI both drive this same object:

    session = Session(store, decks, today)
    while (item := session.current) is not None:
        verdict = session.answer(typed)                 # check only: nothing recorded yet
        session.grade(quality, now=..., typed=typed, verdict=verdict, ms=...)
    session.undo()                                      # any number of steps back
    session.summary()

The queue: learning cards (lapsed, or in a q = 3 drill) and due reviews, oldest due first, then new
cards in deck order. Daily limits (20 new, 200 reviews unless the deck or the caller says otherwise)
count what was already answered today, so a second sitting the same day continues where the first
stopped. A card graded below 3, or drilling after a 3, goes to the back of the queue until SM-2 is
done with it for today.
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from quizzer.checking import Verdict
from quizzer.deck import CHECKABLE_KINDS, Card, Deck
from quizzer.sm2 import CardState
from quizzer.store import DayCount, Review, Store, StoredCard, card_list_fingerprint

DEFAULT_NEW_PER_DAY = 20
DEFAULT_REVIEWS_PER_DAY = 200


@dataclass(frozen=True)
class Limits:
    """Daily limits given by the caller (e.g. the command line); None defers to the deck, then the default."""

    new_per_day: int | None = None
    reviews_per_day: int | None = None

    def for_deck(self, deck: Deck) -> tuple[int, int]:
        """(new, reviews) allowed per day in `deck`."""
        new = _first_set(self.new_per_day, deck.new_per_day, DEFAULT_NEW_PER_DAY)
        reviews = _first_set(self.reviews_per_day, deck.reviews_per_day, DEFAULT_REVIEWS_PER_DAY)
        return new, reviews


def _first_set(*values: int | None) -> int:
    return next(value for value in values if value is not None)


class QueuedCard(NamedTuple):
    """A card waiting in the session, with its state as of its last answer (a NamedTuple: built by the thousand)."""

    key: str
    deck: Deck
    card: Card
    state: CardState


@dataclass(frozen=True)
class DeckOutlook:
    """What a deck holds for today: counts after the daily limits, and the totals before them."""

    deck: str
    title: str
    due: int
    learning: int
    new: int
    due_total: int
    new_total: int


@dataclass(frozen=True)
class Summary:
    """What the sitting did, counted from the answers that stand (undone ones are gone)."""

    answers: int
    cards: int
    new: int
    reviews: int
    again: int
    correct: int
    qualities: dict[int, int]
    seconds: float
    remaining: int


def suggested_grade(verdict: Verdict) -> int | None:
    """The grade to offer after a checked answer; None when the learner must judge (self-graded, unread).

    A correct answer suggests 4, not 5: the checker cannot tell a perfect recall from a hesitant one.
    """
    return {"correct": 4, "incorrect": 1}.get(verdict.status)


def check_answer(card: Card, typed: str) -> Verdict:
    """The checker's verdict on typed input; a blank answer to a checkable card means "I don't know"."""
    if not typed.strip() and card.answer.kind in CHECKABLE_KINDS:
        return Verdict("incorrect", "", "no answer given")
    try:
        return card.answer.check(typed)
    except Exception as error:  # any input, however odd, gets a verdict instead of a crash
        return Verdict("unparsable", typed.strip(), f"cannot check this answer: {error}")


def outlook(store: Store, decks: Sequence[Deck], today: date, limits: Limits = Limits()) -> list[DeckOutlook]:
    """Per deck: due reviews, learning and new cards for today (what `quizzer due` shows)."""
    _check_unique(decks)
    result = []
    for deck in decks:
        sync_deck(store, deck)
        counts = store.counts(deck.id, today)
        new_allowed, reviews_allowed = _allowances(store, deck, today, limits)
        due, new = min(counts.due, reviews_allowed), min(counts.new, new_allowed)
        result.append(DeckOutlook(deck.id, deck.title, due, counts.learning, new, counts.due, counts.new))
    return result


def sync_deck(store: Store, deck: Deck) -> None:
    """Make the store's card rows match the deck (see `Store.sync_deck`); cheap when nothing changed."""
    card_ids, fingerprint = _card_ids(deck)
    if store.synced_fingerprint(deck.id) != fingerprint:
        store.sync_deck(deck.id, card_ids)


_CARD_IDS: dict[int, tuple[tuple[str, ...], str]] = {}


def _card_ids(deck: Deck) -> tuple[tuple[str, ...], str]:
    """The deck's card ids in order and their fingerprint, computed once per (frozen) deck object.

    Listing and hashing 100k ids takes longer than building the whole queue. The entry is dropped when
    the deck object is collected, before its `id()` can be reused.
    """
    key = id(deck)
    if key not in _CARD_IDS:
        card_ids = tuple(card.id for card in deck.cards)
        _CARD_IDS[key] = (card_ids, card_list_fingerprint(card_ids))
        weakref.finalize(deck, _CARD_IDS.pop, key, None)
    return _CARD_IDS[key]


def _allowances(store: Store, deck: Deck, today: date, limits: Limits) -> tuple[int, int]:
    """(new, reviews) still allowed today, after what was already answered today."""
    new_limit, reviews_limit = limits.for_deck(deck)
    answered = store.answered_on(today, deck.id)
    return max(0, new_limit - answered["new"]), max(0, reviews_limit - answered["review"])


def _queued(deck: Deck, stored: StoredCard) -> QueuedCard | None:
    """The stored card with its deck card, found by position (synced from this deck's order) in O(1).

    None if the row was synced from another version of the deck (another process, an edited file).
    """
    card = deck.cards[stored.position] if stored.position < len(deck.cards) else None
    if card is None or card.id != stored.card:
        return None
    return QueuedCard(stored.key, deck, card, stored.state)


class DuplicateDeckId(ValueError):
    """Two deck files share an id: their cards' progress would mix."""


def _check_unique(decks: Sequence[Deck]) -> None:
    ids = Counter(deck.id for deck in decks)
    clashes = sorted(deck_id for deck_id, count in ids.items() if count > 1)
    if clashes:
        raise DuplicateDeckId(f"deck id {', '.join(clashes)} is used by more than one deck file; rename one")


@dataclass(frozen=True)
class Statistics:
    """Reviews per day (every day of the window, zeros included), retention, and the forecast."""

    history: list[DayCount]
    retention_recent: tuple[int, int]
    retention_all: tuple[int, int]
    forecast: dict[date, int]


RECENT_DAYS = 30


def statistics(store: Store, today: date, days: int, decks: Sequence[str] | None = None) -> Statistics:
    """What `quizzer stats` shows, over the decks named (default: every deck in the store).

    Retention is the share of scheduled reviews recalled (q ≥ 3), recent (30 days) and all time.
    """
    since = today - timedelta(days=days - 1)
    answered = {count.day: count for count in store.reviews_per_day(since, decks)}
    history = [answered.get(day, DayCount(day, 0, 0)) for day in (since + timedelta(days=i) for i in range(days))]
    recent = store.retention(today - timedelta(days=RECENT_DAYS - 1), decks)
    return Statistics(history, recent, store.retention(date.min, decks), store.forecast(today, days, decks))


class Session:
    """A sitting over `decks` on `today` (see the module docstring for the protocol)."""

    def __init__(self, store: Store, decks: Sequence[Deck], today: date, limits: Limits = Limits()):
        _check_unique(decks)
        self.store = store
        self.today = today
        self._decks = list(decks)
        self._queue: list[QueuedCard] = self._build_queue(limits)
        self._answers: list[tuple[Review, list[QueuedCard]]] = []  # each with the queue it was given from

    def _build_queue(self, limits: Limits) -> list[QueuedCard]:
        waiting: list[tuple[tuple, QueuedCard]] = []
        new: list[QueuedCard] = []
        for index, deck in enumerate(self._decks):
            sync_deck(self.store, deck)
            new_allowed, reviews_allowed = _allowances(self.store, deck, self.today, limits)
            for stored in self.store.learning(deck.id) + self.store.due_reviews(deck.id, self.today, reviews_allowed):
                item = _queued(deck, stored)
                if item:
                    due = min(stored.state.due, self.today)  # a drill's due date is its next interval's
                    waiting.append(((due, index, stored.position), item))
            new += filter(None, (_queued(deck, stored) for stored in self.store.new_cards(deck.id, new_allowed)))
        return [item for _, item in sorted(waiting, key=lambda pair: pair[0])] + new

    @property
    def current(self) -> QueuedCard | None:
        return self._queue[0] if self._queue else None

    @property
    def remaining(self) -> int:
        """Cards left in the queue, counting a re-drilled card once per time it is still to be asked."""
        return len(self._queue)

    @property
    def can_undo(self) -> bool:
        return bool(self._answers)

    def answer(self, typed: str) -> Verdict:
        """Check `typed` against the current card; records nothing (grading does)."""
        return check_answer(self._require_current().card, typed)

    def skip(self) -> QueuedCard | None:
        """Put the current card at the back of the queue without recording anything; returns the new current card.

        (Added for the TUI's skip key.) The card stays due: skipping only changes the order of this sitting.
        """
        if self._queue:
            self._queue.append(self._queue.pop(0))
        return self.current

    def grade(
        self, quality: int, *, now: datetime, typed: str = "", verdict: Verdict | None = None, ms: int = 0
    ) -> Review:
        """Record the current card's grade (state and log in one transaction) and move on.

        A card SM-2 wants again today (q < 3, or a drill still below 4) goes to the back of the queue.
        """
        item = self._require_current()
        review = self.store.record_answer(
            item.key,
            quality,
            today=self.today,
            now=now,
            typed=typed,
            verdict=verdict.status if verdict else "",
            ms=ms,
        )
        self._answers.append((review, list(self._queue)))
        self._queue.pop(0)
        if review.after.is_due(self.today):
            self._queue.append(item._replace(state=review.after))
        return review

    def undo(self) -> QueuedCard:
        """Take back the latest answer still standing: the card gets its exact previous state and is current again.

        Raises `IndexError` when there is nothing to undo, `StoreError` if another process has since
        answered that card.
        """
        if not self._answers:
            raise IndexError("nothing to undo")
        review, queue = self._answers[-1]
        self.store.undo(review.id)
        self._answers.pop()
        self._queue = queue
        return self._queue[0]

    def summary(self) -> Summary:
        reviews = [review for review, _ in self._answers]
        kinds = Counter(review.kind for review in reviews)
        return Summary(
            answers=len(reviews),
            cards=len({review.key for review in reviews}),
            new=kinds["new"],
            reviews=kinds["review"],
            again=sum(review.quality < 3 for review in reviews),
            correct=sum(review.verdict == "correct" for review in reviews),
            qualities=dict(sorted(Counter(review.quality for review in reviews).items())),
            seconds=sum(review.ms for review in reviews) / 1000,
            remaining=self.remaining,
        )

    def _require_current(self) -> QueuedCard:
        if not self._queue:
            raise IndexError("the session's queue is empty")
        return self._queue[0]
