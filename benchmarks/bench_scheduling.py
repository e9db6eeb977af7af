"""Scheduling benchmark: building the day's queue and recording one answer, quizzer beside Anki.

A state of 100,000 cards (a quarter new, the rest scheduled with due dates from a month overdue to a
year ahead, 0.2% of them learning) and 1,000,000 review-log rows, built once in quizzer and once in an
Anki collection. Then both sides are timed interleaved (a quizzer sample, an Anki sample, and so on),
so that a load spike on a shared machine hits both alike. Prints the median and p95 of

- building the day's queue: quizzer `Session(store, decks, today)` (deck sync check, daily-limit
  counts, learning, due reviews and new cards, in queue order) against Anki `get_queued_cards` after
  its cache is dropped (switching decks away and back); default limits of 20 new and 200 reviews;
- recording one answer: quizzer `Store.record_answer` (read state, SM-2, state update + log row, one
  commit) against Anki `answer_card` (state + revlog, one commit), after `WARM_UP_ANSWERS` untimed
  answers on each side.

Equal durability by default: quizzer commits with `synchronous=full` (its setting: an fsync per
answer, so an acknowledged answer survives a power cut), as Anki does. `--synchronous normal` times
quizzer without the fsync, for comparison. The other settings that differ are printed (Anki holds its
collection with `locking_mode=exclusive` and a 40 MB page cache; quizzer shares its file with other
processes, so it cannot lock it exclusively).

What one timed answer does, and what differs: quizzer takes the write lock, reads the card's row by
key, computes SM-2, inserts the log row, updates the card and commits. Anki's `answer_card` reads the
card by id, checks it against the next states that `get_queued_cards` computed before the timer
started (that call and `build_answer`, about 0.1 ms, are untimed), writes the card and the revlog row,
keeps undo information, updates its queue and commits. Before the timer each side has read the card it
answers, as when it was shown: Anki answers the head of its queue, a card `get_queued_cards` has just
read; quizzer answers a random card after `Store.prefetch`, which its review screens call when they
show a card (it reads the card's row through the writing connection). Both fsync once per answer
(strace: one fdatasync, resp. fsync, per answer); Anki, holding its file exclusively, takes no file
locks, where quizzer's shared WAL takes six `fcntl` locks per answer.

    pip install anki          # the `bench` extra; without it, only quizzer is timed
    python benchmarks/bench_scheduling.py [--cards 100000] [--reviews 1000000] [--decks 1]
                                          [--synchronous full|normal] [--anki-site DIR]

Targets (issue 11, medians): the day's queue <= 0.5x Anki; one answer <= 1.0x Anki at equal
durability. Budgets (DESIGN.md): queue < 10 ms. A figure script, not a timed test.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from quizzer.cards.deck import Deck
from quizzer.core.sm2 import CardState
from quizzer.review.session import Session
from quizzer.store import (  # the log's encoders: 1M rows written in bulk, as the store would write them
    _INSERT_REVIEW,
    _KIND_CODES,
    _VERDICT_CODES,
    Store,
    _day_number,
    _time_columns,
)

TODAY = date(2024, 3, 1)
NOW = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
SEED = 20240301
WARM_UP_ANSWERS = 200
"""Answers given on both sides, interleaved and untimed, before the timed ones. The build leaves quizzer's
WAL truncated to nothing (the 1M-row bulk load is checkpointed), while Anki's has grown during the queue
phase (its deck switches are commits); until quizzer's WAL has been through one checkpoint (about 125
answers of 8 pages), each of its commits also grows the file, so its fsync commits the file system's
journal as well. Timed from the start, the first quarter of 1,000 answers measured 0.92 ms against Anki's
0.58 (1.6x), the other three 0.36/0.32, 0.88/0.95 and 0.63/0.63 (load 12). After the warm-up both sides
answer with a WAL in its steady state, as in the rest of a sitting."""


def synthetic_states(count: int, rng: random.Random) -> list[CardState]:
    """Deck-ordered states: a quarter new (at the end, as in a deck being worked through), the rest seen.

    A few seen cards (0.2%) are learning: lapsed yesterday or left in an unfinished drill.
    """
    states = []
    for position in range(count):
        if position >= count * 3 // 4:
            states.append(CardState())
        elif rng.random() < 0.002:
            drill = rng.random() < 0.5
            due = TODAY + timedelta(days=rng.randint(1, 6)) if drill else TODAY - timedelta(days=1)
            states.append(CardState(rng.randint(1300, 2800), 3 if drill else 0, 6 if drill else 0, due, drill))
        else:
            repetitions = rng.randint(1, 10)
            interval = rng.randint(1, 400)
            due = TODAY + timedelta(days=rng.randint(-30, 365))
            states.append(CardState(rng.randint(1300, 3100), repetitions, interval, due))
    return states


def make_decks(total: int, decks: int) -> list[Deck]:
    per_deck = total // decks
    return [
        Deck.model_validate(
            {
                "id": f"deck-{d}",
                "title": f"Deck {d}",
                "cards": [
                    {
                        "id": f"card-{i}",
                        "prompt": f"What is {i} + {i}?",
                        "explanation": "Addition.",
                        "answer": {"kind": "numeric", "value": 2 * i},
                    }
                    for i in range(per_deck)
                ],
            }
        )
        for d in range(decks)
    ]


def build_quizzer(path: Path, decks: list[Deck], states: list[CardState], reviews: int, rng: random.Random) -> Store:
    store = Store.open(path)
    for deck in decks:
        store.sync_deck(deck.id, [card.id for card in deck.cards])
    keys = [f"{deck.id}/{card.id}" for deck in decks for card in deck.cards]
    seen = [(key, state) for key, state in zip(keys, states, strict=True) if state.due is not None]
    conn = store.db.conn
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "UPDATE cards SET phase = ?, ef_thousandths = ?, repetitions = ?, interval = ?, due = ?, drill = ?"
        " WHERE key = ?",
        (
            (s.phase, s.ef_thousandths, s.repetitions, s.interval, s.due.isoformat(), int(s.drill), key)
            for key, s in seen
        ),
    )
    ids = dict(conn.execute("SELECT key, id FROM cards"))
    seen_ids = [ids[key] for key, _ in seen]
    conn.executemany(
        f"{_INSERT_REVIEW.partition(' VALUES')[0]} VALUES (?, ?, ?, ?, ?, ?, '', ?, 2500, 2500, 1, 2, 1, 6, ?, ?,"
        " 0, 0, 4000, NULL, 0, NULL)",
        (_log_row(seen_ids, rng) for _ in range(reviews)),
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return store


def _log_row(seen_ids: list[int], rng: random.Random) -> tuple:
    """One scheduled review of a seen card on a day of the last two years, in the log's columns (migration 7)."""
    day = TODAY - timedelta(days=rng.randint(1, 730))
    time, offset = _time_columns(
        datetime(day.year, day.month, day.day, 9, tzinfo=UTC).isoformat(timespec="milliseconds")
    )
    number = _day_number(day)
    kind, verdict = _KIND_CODES["review"], _VERDICT_CODES["correct"]
    return (
        seen_ids[rng.randrange(len(seen_ids))],
        time,
        offset,
        number,
        kind,
        rng.choice((1, 3, 4, 4, 5)),
        verdict,
        number,
        number + 6,
    )


def build_anki(folder: Path, states: list[CardState], reviews: int, rng: random.Random):
    """The same population in an Anki collection (one deck, default limits 20 new / 200 reviews), opened."""
    import sqlite3

    import anki.collection  # before anki.cards, which cannot be imported first (circular import)

    Collection = anki.collection.Collection

    path = folder / "collection.anki2"
    col = Collection(str(path))
    note = col.new_note(col.models.by_name("Basic"))
    note["Front"], note["Back"] = "seed", "seed"
    col.add_note(note, 1)
    col.close()

    conn = sqlite3.connect(path)
    (crt,) = conn.execute("SELECT crt FROM col").fetchone()
    crt -= 800 * 86400  # collection created long ago: due days of overdue cards stay positive
    conn.execute("UPDATE col SET crt = ?", (crt,))
    today = (int(time.time()) - crt) // 86400
    (template,) = conn.execute("SELECT mid FROM notes").fetchall()
    base = 1_600_000_000_000
    conn.executemany(
        "INSERT INTO notes VALUES (?, ?, ?, 0, -1, '', ?, ?, 0, 0, '')",
        ((base + i, f"g{i}", template[0], f"What is {i} + {i}?\x1f{2 * i}", f"{i} + {i}") for i in range(len(states))),
    )
    conn.executemany(
        "INSERT INTO cards VALUES (?, ?, 1, 0, 0, -1, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, '{}')",
        (_anki_card(base + i, i, state, today) for i, state in enumerate(states)),
    )
    seen = [base + i for i, state in enumerate(states) if state.due is not None]
    conn.executemany(
        "INSERT INTO revlog VALUES (?, ?, -1, ?, 6, 1, 2500, 4000, 1)",
        ((base + n, seen[rng.randrange(len(seen))], rng.choice((1, 3, 3, 4))) for n in range(reviews)),
    )
    conn.commit()
    conn.close()

    col = Collection(str(path))
    col.set_config("newCardsIgnoreReviewLimit", True)  # as in quizzer: 20 new on top of 200 reviews
    return col


class QuizzerSide:
    """One timed quizzer operation per call, on the store built by `build_quizzer`."""

    def __init__(self, store: Store, decks: list[Deck], rng: random.Random):
        self.store, self.decks, self.rng = store, decks, rng
        self.keys = [f"{deck.id}/{card.id}" for deck in decks for card in deck.cards]
        started = time.perf_counter()
        self.queued = Session(store, decks, TODAY).remaining  # first for these deck objects: lists their ids
        self.first = time.perf_counter() - started

    def queue(self) -> float:
        started = time.perf_counter()
        Session(self.store, self.decks, TODAY)
        return time.perf_counter() - started

    def answer(self) -> float:
        key = self.keys[self.rng.randrange(len(self.keys))]
        quality = self.rng.choice((3, 4, 5))
        self.store.prefetch(key)  # the card was shown: see the module docstring
        started = time.perf_counter()
        self.store.record_answer(key, quality, today=TODAY, now=NOW, typed="42", verdict="correct", ms=3000)
        return time.perf_counter() - started

    def settings(self) -> str:
        return _pragmas(lambda sql: self.store.db.execute(sql).fetchone()[0]) + ", locking_mode=normal (shared)"


class AnkiSide:
    """One timed Anki operation per call: the queue rebuilt from scratch, or `answer_card`."""

    def __init__(self, col):
        from anki.buildinfo import version

        self.col, self.version = col, version
        self.elsewhere = col.decks.id("elsewhere")
        self.queued = 0
        self.queue()  # warm, as quizzer's first build is set apart

    def queue(self) -> float:
        self.col.decks.select(self.elsewhere)
        self.col.decks.select(1)  # switching decks drops Anki's cached queue
        started = time.perf_counter()
        queued = self.col.sched.get_queued_cards(fetch_limit=1)
        elapsed = time.perf_counter() - started
        self.queued = queued.new_count + queued.learning_count + queued.review_count
        return elapsed

    def lift_limits(self) -> None:
        """Before the answers: 1,000 answers need more than today's 220 queued cards (quizzer answers any card)."""
        config = self.col.decks.config_dict_for_deck_id(1)
        config["new"]["perDay"] = config["rev"]["perDay"] = 9999  # Anki's largest accepted limit
        self.col.decks.update_config(config)

    def answer(self) -> float | None:
        from anki.cards import Card
        from anki.scheduler_pb2 import CardAnswer

        queued = self.col.sched.get_queued_cards(fetch_limit=1)
        if not queued.cards:
            return None
        card = Card(self.col)
        card._load_from_backend_card(queued.cards[0].card)
        card.start_timer()
        answer = self.col.sched.build_answer(card=card, states=queued.cards[0].states, rating=CardAnswer.GOOD)
        started = time.perf_counter()
        self.col.sched.answer_card(answer)
        return time.perf_counter() - started

    def settings(self) -> str:
        locking = self.col.db.scalar("pragma locking_mode")
        return _pragmas(self.col.db.scalar) + f", locking_mode={locking}"


def _pragmas(scalar) -> str:
    synchronous = {0: "off", 1: "normal", 2: "full", 3: "extra"}[scalar("pragma synchronous")]
    return (
        f"synchronous={synchronous}, journal_mode={scalar('pragma journal_mode')},"
        f" cache_size={scalar('pragma cache_size')}"
    )


def interleaved(sides: list, operation: str, count: int) -> list[list[float]]:
    """`count` samples of `operation` from each side, taken in turn, the first side alternating (A B, B A, ...).

    Alternating who goes first keeps either side from always paying for the other's leftovers (an
    fsync right after the other's fsync, a cache the other just evicted).
    """
    samples: list[list[float]] = [[] for _ in sides]
    order = list(range(len(sides)))
    for _ in range(count):
        for index in order:
            elapsed = getattr(sides[index], operation)()
            if elapsed is not None:
                samples[index].append(elapsed)
        order.reverse()
    return samples


def _anki_card(card_id: int, position: int, state: CardState, today: int) -> tuple:
    """(id, nid, type, queue, due, ivl, factor, reps) of an Anki card in the same state."""
    if state.due is None:
        return card_id, card_id, 0, 0, position, 0, 0, 0
    due = today + (state.due - TODAY).days
    return card_id, card_id, 2, 2, max(due, 0), max(state.interval, 1), state.ef_thousandths, state.repetitions + 1


def describe(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"median {statistics.median(ms):8.3f} ms   p95 {p95:8.3f} ms   (n={len(ms)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--reviews", type=int, default=1_000_000, help="review-log rows")
    parser.add_argument("--decks", type=int, default=1, help="split the cards over this many decks")
    parser.add_argument("--repeats", type=int, default=200, help="queue builds timed per side")
    parser.add_argument("--answers", type=int, default=1000, help="answers timed per side")
    parser.add_argument("--anki-site", type=Path, help="a folder holding the anki package (appended to sys.path)")
    parser.add_argument(
        "--synchronous",
        choices=("full", "normal"),
        default="full",
        help="quizzer's PRAGMA synchronous: full (its setting, as Anki's: equal durability) or normal",
    )
    args = parser.parse_args()
    if args.anki_site:
        sys.path.append(str(args.anki_site))
    try:
        import anki  # noqa: F401
    except ImportError:
        anki = None

    rng = random.Random(SEED)
    states = synthetic_states(args.cards, rng)
    decks = make_decks(args.cards, args.decks)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        store = build_quizzer(Path(folder) / "quizzer.db", decks, states, args.reviews, rng)
        store.db.execute(f"PRAGMA synchronous = {args.synchronous}")
        print(f"{args.cards:,} cards in {args.decks} deck(s), {args.reviews:,} log rows")
        print(f"  quizzer built in {time.perf_counter() - started:.0f} s")
        sides: list = [QuizzerSide(store, decks, rng)]
        if anki is None:
            print("anki: not importable (pip install anki, or --anki-site DIR): quizzer alone")
        else:
            started = time.perf_counter()
            sides.append(AnkiSide(build_anki(Path(folder), states, args.reviews, rng)))
            print(f"  anki {sides[1].version} built in {time.perf_counter() - started:.0f} s (one deck, v3 scheduler)")
        names = ["quizzer", f"anki {sides[1].version}" if len(sides) > 1 else ""][: len(sides)]
        for name, side in zip(names, sides, strict=True):
            print(f"  {name}: {side.settings()}")
        first = sides[0].first * 1000
        print(f"  quizzer's first queue build for fresh deck objects (lists their card ids): {first:.1f} ms")

        queues = interleaved(sides, "queue", args.repeats)
        for side in sides[1:]:
            side.lift_limits()
        interleaved(sides, "answer", WARM_UP_ANSWERS)
        answers = interleaved(sides, "answer", args.answers)
        print(f"\n{'':28}{'quizzer':52}{'anki' if len(sides) > 1 else ''}")
        rows = [(f"day's queue ({sides[0].queued} cards)", queues), ("record one answer", answers)]
        for label, (ours, *theirs) in rows:
            print(f"  {label:26}{describe(ours):52}{describe(theirs[0]) if theirs else ''}")
        if len(sides) > 1:
            print(f"  (anki's queue: {sides[1].queued} cards)")
            for label, target, (ours, theirs) in (("queue", 0.5, queues), ("answer", 1.0, answers)):
                ratio = statistics.median(ours) / statistics.median(theirs)
                verdict = "met" if ratio <= target else "NOT met"
                print(f"  {label}: quizzer median / anki median = {ratio:.2f}x (target <= {target}x: {verdict})")
        for side in sides:
            if isinstance(side, AnkiSide):
                side.col.close()
        store.close()


if __name__ == "__main__":
    main()
