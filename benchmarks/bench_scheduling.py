"""Scheduling benchmark: building the day's queue and recording one answer, on a large synthetic state.

A state of 100,000 cards (a quarter new, the rest scheduled with due dates from a month overdue to a
year ahead, 0.2% of them learning) and 1,000,000 review-log rows. Prints the median and p95 of

- building the day's queue: `Session(store, decks, today)` (deck sync check, daily-limit counts,
  learning, due reviews and new cards, in queue order), default limits of 20 new and 200 reviews;
- recording one answer: `Store.record_answer` (read state, SM-2, state update + log row, commit).

Where the `anki` package can be imported (install it, or pass `--anki-site DIR` holding it), the same
collection is built in Anki and timed the same way: the queue is rebuilt by `get_queued_cards` after
its cache is dropped (switching decks away and back), the answer is `answer_card` (state + revlog).
Anki commits with `synchronous=full` (an fsync per answer); quizzer with `normal` (safe against a
killed process, not a power cut): `--synchronous full` times quizzer under Anki's setting.

    python benchmarks/bench_scheduling.py [--cards 100000] [--reviews 1000000] [--decks 1]
                                          [--anki-site DIR] [--synchronous normal|full]

Budgets (DESIGN.md): queue < 10 ms, answer < 0.3 ms. A figure script, not a timed test.
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

from quizzer.deck import Deck
from quizzer.session import Session
from quizzer.sm2 import CardState
from quizzer.store import Store

TODAY = date(2024, 3, 1)
NOW = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
SEED = 20240301


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
    conn.executemany(
        "INSERT INTO reviews (time, day, key, deck, kind, quality, typed, verdict, ef_before, ef_after,"
        " repetitions_before, repetitions_after, interval_before, interval_after, due_before, due_after,"
        " drill_before, drill_after, ms, undone) VALUES (?, ?, ?, ?, 'review', ?, '', 'correct', 2500, 2500,"
        " 1, 2, 1, 6, ?, ?, 0, 0, ?, 0)",
        (_log_row(seen, rng) for _ in range(reviews)),
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return store


def _log_row(seen: list[tuple[str, CardState]], rng: random.Random) -> tuple:
    key, _ = seen[rng.randrange(len(seen))]
    day = TODAY - timedelta(days=rng.randint(1, 730))
    when = datetime(day.year, day.month, day.day, 9, tzinfo=UTC).isoformat(timespec="milliseconds")
    due = (day + timedelta(days=6)).isoformat()
    return when, day.isoformat(), key, key.partition("/")[0], rng.choice((1, 3, 4, 4, 5)), day.isoformat(), due, 4000


def time_quizzer(store: Store, decks: list[Deck], repeats: int, answers: int, rng: random.Random) -> dict:
    started = time.perf_counter()
    Session(store, decks, TODAY)  # first for these deck objects: lists and hashes their card ids once
    first = time.perf_counter() - started
    queue_times = []
    for _ in range(repeats):
        started = time.perf_counter()
        session = Session(store, decks, TODAY)
        queue_times.append(time.perf_counter() - started)
    queued = session.remaining
    keys = [f"{deck.id}/{card.id}" for deck in decks for card in deck.cards]
    answer_times = []
    for _ in range(answers):
        key = keys[rng.randrange(len(keys))]
        started = time.perf_counter()
        store.record_answer(key, rng.choice((3, 4, 5)), today=TODAY, now=NOW, typed="42", verdict="correct", ms=3000)
        answer_times.append(time.perf_counter() - started)
    return {"queue": queue_times, "answer": answer_times, "queued": queued, "first": first}


def build_and_time_anki(
    folder: Path, states: list[CardState], reviews: int, repeats: int, answers: int, rng: random.Random
) -> dict:
    """The same population in an Anki collection (one deck, default limits 20 new / 200 reviews)."""
    import sqlite3

    import anki.collection  # before anki.cards, which cannot be imported first (circular import)
    from anki.cards import Card
    from anki.scheduler_pb2 import CardAnswer

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
    elsewhere = col.decks.id("elsewhere")
    queue_times = []
    for _ in range(repeats + 1):
        col.decks.select(elsewhere)
        col.decks.select(1)  # switching decks drops Anki's cached queue
        started = time.perf_counter()
        queued = col.sched.get_queued_cards(fetch_limit=1)
        queue_times.append(time.perf_counter() - started)
    queue_size = queued.new_count + queued.learning_count + queued.review_count
    answer_times = []
    for _ in range(answers):
        queued = col.sched.get_queued_cards(fetch_limit=1)
        if not queued.cards:
            break
        card = Card(col)
        card._load_from_backend_card(queued.cards[0].card)
        card.start_timer()
        answer = col.sched.build_answer(card=card, states=queued.cards[0].states, rating=CardAnswer.GOOD)
        started = time.perf_counter()
        col.sched.answer_card(answer)
        answer_times.append(time.perf_counter() - started)
    col.close()
    return {"queue": queue_times[1:], "answer": answer_times, "queued": queue_size}


def _anki_card(card_id: int, position: int, state: CardState, today: int) -> tuple:
    """(id, nid, type, queue, due, ivl, factor, reps) of an Anki card in the same state."""
    if state.due is None:
        return card_id, card_id, 0, 0, position, 0, 0, 0
    due = today + (state.due - TODAY).days
    return card_id, card_id, 2, 2, max(due, 0), max(state.interval, 1), state.ef_thousandths, state.repetitions + 1


def describe(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"median {statistics.median(ms):7.3f} ms   p95 {p95:7.3f} ms   (n={len(ms)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--reviews", type=int, default=1_000_000, help="review-log rows")
    parser.add_argument("--decks", type=int, default=1, help="split the cards over this many decks")
    parser.add_argument("--repeats", type=int, default=200, help="queue builds timed")
    parser.add_argument("--answers", type=int, default=2000, help="answers timed")
    parser.add_argument("--anki-site", type=Path, help="a folder holding the anki package (appended to sys.path)")
    parser.add_argument(
        "--synchronous",
        choices=("normal", "full"),
        default="normal",
        help="quizzer's PRAGMA synchronous: normal (its setting) or full (an fsync per answer, as Anki does)",
    )
    args = parser.parse_args()
    if args.anki_site:
        sys.path.append(str(args.anki_site))

    rng = random.Random(SEED)
    states = synthetic_states(args.cards, rng)
    decks = make_decks(args.cards, args.decks)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        store = build_quizzer(Path(folder) / "quizzer.db", decks, states, args.reviews, rng)
        built = time.perf_counter() - started
        print(f"quizzer: {args.cards:,} cards in {args.decks} deck(s), {args.reviews:,} log rows ({built:.0f} s)")
        store.db.conn.execute(f"PRAGMA synchronous = {args.synchronous}")
        ours = time_quizzer(store, decks, args.repeats, args.answers, rng)
        store.close()
        print(f"  day's queue ({ours['queued']} cards)  {describe(ours['queue'])}   budget 10 ms")
        print(f"    first build for freshly loaded deck objects (lists their card ids): {ours['first'] * 1000:.1f} ms")
        sync = f"synchronous={args.synchronous}"
        print(f"  record one answer          {describe(ours['answer'])}   budget 0.3 ms ({sync})")

        try:
            import anki  # noqa: F401
        except ImportError:
            print("anki: not importable (pip install anki, or --anki-site DIR): comparison skipped")
            return
        from anki.buildinfo import version

        theirs = build_and_time_anki(Path(folder), states, args.reviews, args.repeats, args.answers, rng)
        print(f"anki {version}: same population, one deck, v3 scheduler, its own synchronous=full")
        print(f"  day's queue ({theirs['queued']} cards)  {describe(theirs['queue'])}")
        print(f"  answer_card                {describe(theirs['answer'])}")
        for name in ("queue", "answer"):
            ratio = statistics.median(theirs[name]) / statistics.median(ours[name])
            print(f"  {name}: anki median / quizzer median = {ratio:.1f}×")


if __name__ == "__main__":
    main()
