"""One sitting of reviews: the day's queue, checking answers, grading, re-drill, undo, summary.

No UI and no clock: `today` and `now` are passed in, and the only I/O is the store. The plain
line-based review and the TUI both drive this same object:

    session = Session(store, decks, today, calendar=StudyDay(rollover_hour=4))
    while (item := session.current) is not None:
        verdict = session.answer(typed)                 # check only: nothing recorded yet
        session.grade(quality, now=..., typed=typed, verdict=verdict, ms=...)
    session.undo()                                      # any number of steps back
    session.summary()

The day. A study day starts at the rollover hour (4 am unless set otherwise, as in Anki), so an
answer at 1 am counts for the evening before. `grade(now=...)` rolls the sitting over to the new day
when `now` has passed the rollover: the queue is rebuilt with the new day's due cards and limits.

The queue: learning cards (lapsed, or in a q = 3 drill) and due reviews, oldest due first, then new
cards in deck order. Daily limits (per deck: the app's settings, else the deck file, else 20 new and
200 reviews; the command line's --new/--reviews override all) count what was already answered today,
so a second sitting the same day continues where the first stopped. The review limit covers due
reviews *and* learning cards left over from an earlier day (as in Anki's v3 scheduler), those first;
only the cards lapsed or drilling today are never limited. A card graded below 3, or drilling after
a 3, goes to the back of the queue until SM-2 is done with it for today.

Custom study (`CustomStudy`) is extra study beyond the day's queue: *cram* asks chosen cards (new
ones too) and logs each answer as "cram" without touching any schedule; *review ahead* asks the
reviews falling due in the next N days, scheduled by SM-2 as if due today.
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Literal, NamedTuple

from quizzer.cards import deckcache
from quizzer.core.sm2 import CardState
from quizzer.store import DayCount, ResetSince, Review, Store, StoredCard, card_list_fingerprint

if TYPE_CHECKING:  # the deck models are imported by the first card built, not by counting (`outlook`)
    from quizzer.cards.deck import Card, Deck
    from quizzer.cards.deckcache import DeckHeader
    from quizzer.core.checking import Verdict

DEFAULT_NEW_PER_DAY = 20
DEFAULT_REVIEWS_PER_DAY = 200
DEFAULT_ROLLOVER_HOUR = 4


@dataclass(frozen=True)
class StudyDay:
    """Which date a moment counts for: the day starts at `rollover_hour`, not at midnight.

    `fixed` pins every moment to one date (`--today`, for tests and demos): the day never rolls.
    """

    rollover_hour: int = DEFAULT_ROLLOVER_HOUR
    fixed: date | None = None

    def of(self, now: datetime) -> date:
        if self.fixed is not None:
            return self.fixed
        return (now - timedelta(hours=self.rollover_hour)).date()

    @classmethod
    def from_store(cls, store: Store, fixed: date | None = None) -> StudyDay:
        """The rollover hour set in the app's settings (else 4 am)."""
        hour = store.rollover_hour()
        return cls(DEFAULT_ROLLOVER_HOUR if hour is None else hour, fixed)


@dataclass(frozen=True)
class Limits:
    """Daily limits given by the caller (e.g. the command line); None defers to the settings, the deck, the default."""

    new_per_day: int | None = None
    reviews_per_day: int | None = None

    def for_deck(
        self, deck: Deck | DeckHeader, stored: tuple[int | None, int | None] = (None, None)
    ) -> tuple[int, int]:
        """(new, reviews) allowed per day in `deck`; `stored` is what the app's settings say for it."""
        new = _first_set(self.new_per_day, stored[0], deck.new_per_day, DEFAULT_NEW_PER_DAY)
        reviews = _first_set(self.reviews_per_day, stored[1], deck.reviews_per_day, DEFAULT_REVIEWS_PER_DAY)
        return new, reviews


def _first_set(*values: int | None) -> int:
    return next(value for value in values if value is not None)


@dataclass(frozen=True)
class CustomStudy:
    """Study beyond the day's queue (see the module docstring).

    `keys`: the cards to cram ("deck/card"; None: every card of the session's decks). `days`: how far
    review-ahead looks past today.
    """

    kind: Literal["cram", "ahead"]
    keys: frozenset[str] | None = None
    days: int = 7


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


def suggested_grade(*verdicts: Verdict) -> int | None:
    """The grade to offer after checked answers (one per part): 4 when every checked part is correct,
    1 when any is wrong, None when the learner must judge (self-graded, unread).

    A correct answer suggests 4, not 5: the checker cannot tell a perfect recall from a hesitant one.
    """
    from quizzer.cards.instance import overall

    return {"correct": 4, "incorrect": 1}.get(overall(dict(enumerate(verdicts))))


def check_answer(card: Card, typed: str) -> Verdict:
    """The checker's verdict on typed input to a single-answer card; a blank answer to a checkable card
    means "I don't know"."""
    from quizzer.cards.instance import fixed, grade

    part = card.parts[0]
    return grade(fixed(card, None), {part.id: typed})[part.id]


def outlook(
    store: Store, decks: Sequence[Deck | DeckHeader], today: date, limits: Limits = Limits()
) -> list[DeckOutlook]:
    """Per deck: due reviews, learning and new cards for today (what `quizzer due` shows), after the limits."""
    _check_unique(decks)
    result = []
    for deck in decks:
        sync_deck(store, deck)
        counts = store.counts(deck.id, today)
        queue = _deck_queue(store, deck, today, limits)
        learning = len(queue.learning) + len(queue.carried)
        result.append(
            DeckOutlook(deck.id, deck.title, len(queue.due), learning, len(queue.new), counts.due, counts.new)
        )
    return result


class _DeckQueue(NamedTuple):
    """One deck's part of the day's queue, after the limits."""

    learning: list[StoredCard]  # lapsed or drilling today: never limited
    carried: list[StoredCard]  # learning left from an earlier day: first call on the review limit
    due: list[StoredCard]
    new: list[StoredCard]


def _deck_queue(store: Store, deck: Deck | DeckHeader, today: date, limits: Limits) -> _DeckQueue:
    new_allowed, reviews_allowed = _allowances(store, deck, today, limits)
    carried = store.learning(deck.id, today, earlier=True)[:reviews_allowed]
    due = store.due_reviews(deck.id, today, reviews_allowed - len(carried))
    return _DeckQueue(store.learning(deck.id, today), carried, due, store.new_cards(deck.id, new_allowed))


@dataclass(frozen=True)
class Elsewhere:
    """What the day still holds in decks outside a sitting: "62 new cards in 8 other decks"."""

    due: int
    new: int
    decks: int

    def __str__(self) -> str:
        parts = [f"{self.due} due" * bool(self.due), f"{self.new} new" * bool(self.new)]
        cards = " and ".join(filter(None, parts))
        plural = "s" * (self.decks != 1)
        return f"{cards} card{'s' * (self.due + self.new != 1)} in {self.decks} other deck{plural}"


def waiting_elsewhere(store: Store, decks: Sequence[Deck], today: date) -> Elsewhere | None:
    """Due (learning included) and new cards still waiting today in `decks`, after the limits; None if none."""
    rows = [row for row in outlook(store, decks, today) if row.due + row.learning + row.new]
    if not rows:
        return None
    return Elsewhere(sum(row.due + row.learning for row in rows), sum(row.new for row in rows), len(rows))


def sync_deck(store: Store, deck: Deck | DeckHeader) -> None:
    """Make the store's card rows match the deck (see `Store.sync_deck`); cheap when nothing changed."""
    card_ids, renames, fingerprint = _card_ids(deck)
    if store.synced_fingerprint(deck.id) != fingerprint:
        store.sync_deck(deck.id, card_ids, renames)


def in_sync(store: Store, deck: Deck | DeckHeader) -> bool:
    """Whether the store's card rows match the deck already (`sync_deck` would write nothing)."""
    return store.synced_fingerprint(deck.id) == _card_ids(deck)[2]


_CARD_IDS: dict[int, tuple[tuple[str, ...], dict[str, list[str]], str]] = {}


def _card_ids(deck: Deck | DeckHeader) -> tuple[tuple[str, ...], dict[str, list[str]], str]:
    """The deck's card ids in order, their renames and fingerprint, computed once per (frozen) deck object.

    Listing and hashing 100k ids takes longer than building the whole queue. The entry is dropped when
    the deck object is collected, before its `id()` can be reused.
    """
    key = id(deck)
    if key not in _CARD_IDS:
        card_ids = deckcache.card_ids(deck)
        renames = deckcache.card_renames(deck)
        _CARD_IDS[key] = (card_ids, renames, card_list_fingerprint(card_ids, renames))
        weakref.finalize(deck, _CARD_IDS.pop, key, None)
    return _CARD_IDS[key]


def _allowances(store: Store, deck: Deck | DeckHeader, today: date, limits: Limits) -> tuple[int, int]:
    """(new, reviews) still allowed today, after what was already answered today.

    Answers to learning cards left from an earlier day ("carried") count as reviews.
    """
    new_limit, reviews_limit = limits.for_deck(deck, store.deck_limits(deck.id))
    answered = store.answered_on(today, deck.id)
    reviewed = answered["review"] + answered["carried"]
    return max(0, new_limit - answered["new"]), max(0, reviews_limit - reviewed)


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


def _check_unique(decks: Sequence[Deck | DeckHeader]) -> None:
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


class Suspension(NamedTuple):
    """A card suspended during a sitting, on its study day (an undoable step, like an answer)."""

    key: str
    day: date


class Session:
    """A sitting over `decks` starting on `today` (see the module docstring for the protocol).

    `calendar` says when the day rolls over (None: `today` for the whole sitting); `custom` makes it
    a custom-study sitting instead of the day's reviews.
    """

    def __init__(
        self,
        store: Store,
        decks: Sequence[Deck],
        today: date,
        limits: Limits = Limits(),
        *,
        calendar: StudyDay | None = None,
        custom: CustomStudy | None = None,
    ):
        _check_unique(decks)
        self.store = store
        self.today = today
        self.calendar = calendar
        self.custom = custom
        self._decks = list(decks)
        self._limits = limits
        self._queue: list[QueuedCard] = self._build_queue()
        self._undoable: list[tuple[Review | Suspension, QueuedCard]] = []  # each with the card it took from the queue

    @property
    def decks(self) -> list[Deck]:
        return list(self._decks)

    def _build_queue(self) -> list[QueuedCard]:
        if self.custom is not None:
            return self._custom_queue(self.custom)
        waiting: list[tuple[tuple, QueuedCard]] = []
        new: list[QueuedCard] = []
        for index, deck in enumerate(self._decks):
            sync_deck(self.store, deck)
            queue = _deck_queue(self.store, deck, self.today, self._limits)
            for stored in queue.carried + queue.learning + queue.due:
                item = _queued(deck, stored)
                if item:
                    due = min(stored.state.due, self.today)  # a drill's due date is its next interval's
                    waiting.append(((due, index, stored.position), item))
            new += filter(None, (_queued(deck, stored) for stored in queue.new))
        return [item for _, item in sorted(waiting, key=lambda pair: pair[0])] + new

    def _custom_queue(self, custom: CustomStudy) -> list[QueuedCard]:
        queue: list[QueuedCard] = []
        for deck in self._decks:
            sync_deck(self.store, deck)
            if custom.kind == "ahead":
                rows = self.store.due_ahead(deck.id, self.today, custom.days)
            else:
                rows = [
                    row
                    for row in self.store.deck_cards(deck.id)
                    if row.present and not row.suspended and (custom.keys is None or row.key in custom.keys)
                ]
            queue += filter(None, (_queued(deck, row) for row in rows))
        return queue

    def advance(self, now: datetime) -> bool:
        """Roll the sitting over to a new study day if `now` has reached it; True when it did.

        The day's queue is rebuilt for the new day (its due cards, its limits); a custom-study
        sitting keeps its cards. Called by `grade`; a front end may call it while idle.
        """
        if self.calendar is None:
            return False
        day = self.calendar.of(now)
        if day <= self.today:
            return False
        self.today = day
        if self.custom is None:
            self._queue = self._build_queue()
        return True

    @property
    def current(self) -> QueuedCard | None:
        return self._queue[0] if self._queue else None

    @property
    def remaining(self) -> int:
        """Cards left in the queue, counting a re-drilled card once per time it is still to be asked."""
        return len(self._queue)

    @property
    def can_undo(self) -> bool:
        return bool(self._undoable)

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
        self,
        quality: int,
        *,
        now: datetime,
        typed: str = "",
        verdict: Verdict | None = None,
        ms: int = 0,
        lock_wait: float | None = None,
        seed: int | None = None,
    ) -> Review:
        """Record the current card's grade (state and log in one transaction) and move on.

        A card SM-2 wants again today (q < 3, or a drill still below 4) goes to the back of the queue.
        If the store cannot record it (locked past `lock_wait`, see `Store.record_answer`), the
        session is unchanged and the same grade can be given again.
        `seed` names the instance of a parametric card that was asked (SM-2 schedules the card, not it).
        """
        item = self._require_current()
        if self.advance(now) and self.custom is None:
            self._queue = [item, *(other for other in self._queue if other.key != item.key)]
        answer = {
            "today": self.today,
            "now": now,
            "typed": typed,
            "verdict": verdict.status if verdict else "",
            "ms": ms,
            "lock_wait": lock_wait,
            "seed": seed,
        }
        if self.custom and self.custom.kind == "cram":
            review = self.store.record_cram(item.key, quality, **answer)
            again = quality < 3  # a cram answer schedules nothing: a miss is asked again in this sitting
        else:
            kind = "ahead" if self.custom else None
            review = self.store.record_answer(item.key, quality, kind=kind, **answer)
            again = review.after.is_due(self.today)
        self._undoable.append((review, item))
        self._queue.pop(0)
        if again:
            self._queue.append(item._replace(state=review.after))
        return review

    def suspend_current(self) -> QueuedCard:
        """Suspend the current card (as the browser does): it leaves this sitting; `undo` unsuspends it."""
        item = self._require_current()
        self.store.set_suspended(item.key, True)
        self._undoable.append((Suspension(item.key, self.today), item))
        self._queue = [other for other in self._queue if other.key != item.key]
        return item

    def drop_suspended(self) -> list[str]:
        """Take the cards suspended since the sitting began (say, in the browser) out of its queue; their keys."""
        suspended = self.store.suspended_keys([deck.id for deck in self._decks])
        gone = sorted({item.key for item in self._queue} & suspended)
        if gone:
            self._queue = [item for item in self._queue if item.key not in suspended]
        return gone

    def replace_deck(self, deck: Deck) -> None:
        """Use an edited version of a deck (same id): queued cards get their new text and keep their progress.

        A card whose id changed follows its `renamed_from`; a card no longer in the deck leaves the queue.
        """
        sync_deck(self.store, deck)
        self._decks = [deck if old.id == deck.id else old for old in self._decks]
        by_id = {card.id: card for card in deck.cards}
        by_id |= {old: card for card in deck.cards for old in card.renamed_from if old not in by_id}

        def updated(queue: list[QueuedCard]) -> list[QueuedCard]:
            kept = []
            for item in queue:
                card = by_id.get(item.card.id) if item.deck.id == deck.id else item.card
                if card is not None:
                    kept.append(item._replace(key=f"{item.deck.id}/{card.id}", deck=deck, card=card)
                                if item.deck.id == deck.id else item)  # fmt: skip
            return kept

        self._queue = updated(self._queue)
        self._undoable = [(step, next(iter(updated([item])), None)) for step, item in self._undoable]

    def undo(self) -> QueuedCard:
        """Take back the latest answer (or suspension) still standing: the card gets its exact previous
        state and is current again, first in the queue (its re-drill copy, if the answer queued one,
        leaves the queue), or, when the day has rolled over since, first in the new day's queue.

        A step keeps only the card it took from the queue, not a copy of the queue: with a large queue
        (a sitting over a whole collection), a copy per answer cost time and memory in proportion to it.

        Raises `IndexError` when there is nothing to undo, `StoreError` if another process has since
        answered that card, `ResetSince` if the card was reset since (that answer then leaves the undo
        stack, so the ones before it can still be undone).
        """
        if not self._undoable:
            raise IndexError("nothing to undo")
        step, undone = self._undoable[-1]
        if isinstance(step, Suspension):
            self.store.set_suspended(step.key, False)
        else:
            try:
                self.store.undo(step.id)
            except ResetSince:
                self._undoable.pop()  # out of reach for good: the answers before it may still be undone
                raise
        self._undoable.pop()
        if undone is None:  # its card left the deck since (`replace_deck`): nothing to ask again
            return self._require_current()
        rest = self._build_queue() if step.day != self.today and self.custom is None else self._queue
        self._queue = [undone, *(other for other in rest if other.key != undone.key)]
        return undone

    def summary(self) -> Summary:
        reviews = [step for step, _ in self._undoable if isinstance(step, Review)]
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
