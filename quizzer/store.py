"""The state database: each card's SM-2 state, the review log and cached verification results.

One SQLite file (WAL) that several processes may use at once: a review in the terminal, the TUI,
`quizzer verify`. A `Store` holds two connections to it: one for reads, on which SQLite waits up to
5 s for a lock, and one for writes, on which it never waits (busy timeout 0: `_begin_immediate`
waits between attempts). Every write runs in one `BEGIN IMMEDIATE` transaction, so an answer's
state update and its log row land together or not at all, and a writer waits for the lock instead
of failing on a stale snapshot. `synchronous=FULL`: each commit is fsynced, so an acknowledged
answer survives a power cut, not only a killed process (a learner answers seconds apart; the fsync
costs a fraction of a millisecond to a few, as Anki's does, see benchmarks/bench_scheduling.py).

The file is hostile input too. Before its first write a `Store` runs `PRAGMA quick_check` once
(about 1 s per 200 MB, a few ms for a real collection), and a store found damaged — by that check
or by any statement failing with SQLITE_CORRUPT/NOTADB — refuses every later write: quizzer never
writes into a damaged file. `explain_failure` turns any fault (damaged, read-only, disk full,
locked, newer schema) into one sentence saying what is wrong and what to do.

Progress is keyed by "deck-id/card-id" (`cards.key`); each card row also has an integer id
(`cards.id`), which is all a review-log row repeats of its card, so the log stays small (migration
7) and a renamed card takes its history along by changing one row. A card that disappears from its
deck file keeps its row (`present = 0`) and its log, and returns with both. The review log is
append-only in spirit: an undo never deletes its row but sets `undone = 1` and restores the state
saved in the row itself; every query of the log skips undone rows.

Rows become objects in one place only: the "rows ↔ objects" section at the end of this file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import stat
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cached_property, lru_cache
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, NamedTuple

from quizzer.core import sm2
from quizzer.core.sm2 import CardState

if TYPE_CHECKING:
    from sqlite_utils import Database

BUSY_TIMEOUT_SECONDS = 5.0


class StoreError(Exception):
    """A state database that cannot be used as asked (the message says why and what to do)."""


class DamagedDatabase(StoreError):
    """The file failed SQLite's integrity check or a read hit a damaged page: nothing is written to it."""


_DAMAGE_CODES = ("SQLITE_CORRUPT", "SQLITE_NOTADB")


def is_damage(error: BaseException) -> bool:
    """A SQLite error that means the file itself is damaged (not locked, full or read-only)."""
    return isinstance(error, DamagedDatabase) or (
        isinstance(error, sqlite3.DatabaseError)
        and (getattr(error, "sqlite_errorname", "") or "").startswith(_DAMAGE_CODES)
    )


def is_busy(error: BaseException) -> bool:
    """The database stayed locked by another connection past the busy timeout."""
    name = getattr(error, "sqlite_errorname", "") or ""
    return isinstance(error, sqlite3.OperationalError) and name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))


def _connect(path: Path, busy_timeout: float, opened: list[sqlite3.Connection]) -> sqlite3.Connection:
    """A connection to the state database (autocommit, usable from any thread, fsync on every commit),
    appended to `opened` so that a failed `Store.open` closes it."""
    conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
    opened.append(conn)
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def _refuse_special_file(path: Path) -> None:
    """Raise `StoreError` for a FIFO, socket or device at `path`: SQLite read /dev/zero as an empty database
    and failed with 'disk I/O error; check the disk', and a block device would be written as one."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):  # a folder has its own sentence (explain_failure)
        raise StoreError(
            f"the state database {path} is not a regular file (a FIFO, socket or device); use another --db"
        )


def _refuse_foreign(conn: sqlite3.Connection, path: Path) -> None:
    """Raise `StoreError` for an SQLite file of another program: schema version 0 (never migrated by
    quizzer) yet holding tables. quizzer used to add its tables to it and switch it to WAL mode."""
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version != 0:
        return
    tables = [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!' LIMIT 4"
        )
    ]
    if tables:
        shown = ", ".join(str(name)[:40] for name in tables[:3]) + (", …" if len(tables) > 3 else "")
        raise StoreError(
            f"{path} is an SQLite database of another program (tables {shown}), not quizzer's state;"
            " quizzer wrote nothing to it — use another --db"
        )


def explain_failure(path: Path | str, error: BaseException) -> str:
    """One sentence for a fault of the state database at `path`: what is wrong and what to do."""
    path = Path(path)
    name = getattr(error, "sqlite_errorname", "") or ""
    if isinstance(error, StoreError) and not isinstance(error, DamagedDatabase):
        return str(error)
    if is_damage(error):
        detail = str(error) if isinstance(error, DamagedDatabase) else f"SQLite: {error}"
        return (
            f"the state database {path} is damaged ({detail}); quizzer wrote nothing to it — move it aside"
            f" (mv {path} {path}.damaged) to start afresh, or salvage it with `sqlite3 {path} .recover`"
        )
    if name.startswith("SQLITE_READONLY") or (name.startswith("SQLITE_CANTOPEN") and _read_only(path)):
        return (
            f"the state database {path} is read-only (SQLite needs to write it and create {path.name}-wal and"
            f" {path.name}-shm beside it); make it and its folder writable, or use another --db"
        )
    if name.startswith("SQLITE_FULL") or (name.startswith("SQLITE_IOERR") and _disk_full(path)):
        return f"the disk holding the state database {path} is full; free some space and try again"
    if is_busy(error):
        return (
            f"the state database {path} stayed locked by another program (another quizzer?) for"
            f" {BUSY_TIMEOUT_SECONDS:g} s; finish or close the other one and try again"
        )
    if name.startswith("SQLITE_CANTOPEN"):
        return f"cannot open the state database {path}: its folder does not exist or is not a folder; use another --db"
    if isinstance(error, FileExistsError | NotADirectoryError):
        return f"cannot create the state database {path}: a file stands where its folder should be; use another --db"
    if isinstance(error, OSError):
        return f"cannot create the state database {path}: {error.strerror or error}; use another --db"
    return f"the state database {path} failed ({error}); check the disk, or use another --db"


def _read_only(path: Path) -> bool:
    """SQLite could not open the file: because it, or the folder its -wal/-shm files go into, is read-only?"""
    folder = path.parent
    existing = path if path.exists() else folder
    return existing.exists() and not (os.access(existing, os.W_OK) and os.access(folder, os.W_OK))


def _disk_full(path: Path) -> bool:
    """An I/O error on a disk with under 1 MiB free is a full disk (SQLite reports ENOSPC only as IOERR)."""
    try:
        return shutil.disk_usage(path.parent).free < 1 << 20
    except OSError:
        return False


class ResetSince(StoreError):
    """The card was reset after the answer being undone: that answer can no longer be taken back."""


class StoredCard(NamedTuple):
    """A card's row: where it sits in its deck and its scheduling state.

    Immutable like the other records, but a NamedTuple: the day's queue builds thousands of these,
    and a frozen dataclass costs three times as much to construct.
    """

    key: str
    deck: str
    card: str
    position: int
    present: bool
    suspended: bool
    state: CardState
    last_review: int | None


class Review(NamedTuple):
    """One answer in the log, with the card's state before and after it (what undo restores).

    A NamedTuple like `StoredCard`: every answer builds one, and a frozen dataclass of these fifteen
    fields costs three times as much to construct.
    """

    id: int
    time: str
    day: date
    key: str
    deck: str
    kind: str
    quality: int
    typed: str
    verdict: str
    before: CardState
    after: CardState
    ms: int
    previous_review: int | None = None
    undone: bool = False
    seed: int | None = None  # the instance of a parametric card that was asked (its pool seed)


@dataclass(frozen=True)
class VerificationRecord:
    """The cached outcome of running one card's verifier (written by the verify runner)."""

    key: str
    cache_key: str
    status: str
    outcome: str
    torch_version: str
    verified_at: str
    duration: float


@dataclass(frozen=True)
class DeckCounts:
    """Cards of one deck by what they need today, before daily limits."""

    deck: str
    due: int
    learning: int
    new: int


@dataclass(frozen=True)
class DayCount:
    day: date
    reviews: int
    passed: int


def answer_kind(before: CardState) -> str:
    """How an answer counts against daily limits: new, review, or learning/drill (never limited)."""
    return "drill" if before.drill else before.phase


class Store:
    """The state database. Open with `Store.open(path)`; use as a context manager to close it."""

    def __init__(self, path: Path, conn: sqlite3.Connection, writer: sqlite3.Connection):
        self.path = path
        self._conn = conn  # reads: SQLite waits up to BUSY_TIMEOUT_SECONDS for a lock
        self._writer = writer  # every transaction (`_write`): busy timeout 0, the wait is in `_begin_immediate`
        self._integrity: DamagedDatabase | bool = False  # False: not checked yet; True: passed

    @cached_property
    def db(self) -> Database:
        """sqlite-utils over the writing connection, for migrations and upserts.

        Imported on first use only: sqlite-utils imports numpy and dateutil (about 0.1 s), which the
        review app's start-up budget (0.5 s) cannot afford and which reading and answering never need.
        """
        from sqlite_utils import Database

        return Database(self._writer, execute_plugins=False)

    @classmethod
    def open(cls, path: Path | str | None = None) -> Store:
        """Open (creating it and its folder if needed) and migrate; default `quizzer.paths.default_db()`."""
        if path is None:
            from quizzer.paths import default_db

            path = default_db()
        path = Path(path).expanduser()
        _refuse_special_file(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        opened: list[sqlite3.Connection] = []
        try:
            conn = _connect(path, BUSY_TIMEOUT_SECONDS, opened)
            _refuse_foreign(conn, path)  # before WAL mode, which rewrites the file's header
            conn.execute("PRAGMA journal_mode = WAL")
            store = cls(path, conn, _connect(path, 0, opened))
            store._migrate()
        except BaseException:
            for connection in opened:
                connection.close()
            raise
        return store

    def check_integrity(self) -> None:
        """`PRAGMA quick_check` once per store (writes call it first); raises `DamagedDatabase` if it fails.

        Linear in the file size (0.9 s for 100k cards and 1M log rows, milliseconds for a real one),
        so it runs before the first write rather than on every open: reading commands never pay it,
        and the app runs it in its loading worker.
        """
        if self._integrity is True:
            return
        if self._integrity is False:
            try:
                rows = self._conn.execute("PRAGMA quick_check(1)").fetchall()
            except sqlite3.DatabaseError as error:
                if not is_damage(error):
                    raise
                rows = [(str(error),)]
            if rows == [("ok",)]:
                self._integrity = True
                return
            first = " ".join(str(rows[0][0]).replace("*** in database main ***", "").split())
            self._integrity = DamagedDatabase(f"integrity check: {first[:100]}")
        raise self._integrity

    def close(self) -> None:
        self._writer.close()
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, lock_wait: float | None = None) -> _Transaction:
        """One IMMEDIATE transaction (`with self._write() as conn:`): takes the write lock up front, waiting
        up to `lock_wait` seconds (default `BUSY_TIMEOUT_SECONDS`) for another writer; commits at the end
        of the block, rolls back if it raises.

        Never on a damaged file: the integrity check runs before the first write, and an error that
        says the file is damaged marks the store so that no later write is attempted.
        """
        return _Transaction(self, BUSY_TIMEOUT_SECONDS if lock_wait is None else lock_wait)

    def _refuse_damaged(self, error: BaseException) -> None:
        """If `error` says the file is damaged, mark the store so and raise `DamagedDatabase` from it."""
        if is_damage(error):
            self._integrity = DamagedDatabase(f"SQLite: {error}")
            raise self._integrity from error

    def _begin_immediate(self, timeout: float) -> None:
        """Take the write lock, waiting up to `timeout` seconds for another writer to finish.

        The wait happens here, between attempts, not in SQLite's busy handler (the writing connection's
        busy timeout is 0): that handler holds the connection's mutex while it sleeps, so a grade waiting
        in a worker thread would freeze the UI thread's next write for the whole timeout. (It used to be
        the reading connection too, switched to a busy timeout of 0 and back around every write: two
        PRAGMA statements, which SQLite prepares afresh each time, on every answer.)
        """
        deadline = None  # set at the first refusal: an answer that gets the lock at once reads no clock
        delay = 0.001
        while True:
            try:
                self._writer.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not is_busy(error):
                    raise
                now = time.monotonic()
                if deadline is None:
                    deadline = now + timeout
                if now + delay > deadline:
                    raise
            time.sleep(delay)
            delay = min(2 * delay, 0.05)

    # ------------------------------------------------------------------ schema

    @property
    def schema_version(self) -> int:
        return self._conn.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        if self.schema_version == len(MIGRATIONS):
            return
        self._refuse_newer(self.schema_version)  # before taking the write lock: a newer file may be read-only
        with self._write() as conn:
            (version,) = conn.execute("PRAGMA user_version").fetchone()  # again, under the lock: another
            self._refuse_newer(version)  # process may have migrated
            for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
                migration(self.db)
                conn.execute(f"PRAGMA user_version = {number}")

    def _refuse_newer(self, version: int) -> None:
        if version > len(MIGRATIONS):
            raise StoreError(
                f"the state database {self.path} has schema version {version}, newer than this quizzer knows "
                f"({len(MIGRATIONS)}); upgrade quizzer or use another --db"
            )

    # ------------------------------------------------------------------ decks

    def sync_deck(self, deck: str, card_ids: Sequence[str], renames: Mapping[str, Sequence[str]] | None = None) -> bool:
        """Record which cards a deck holds and in what order; False when nothing changed since last time.

        New cards get a row (state: new), so the day's queue is a pure index query. Cards no longer in
        the deck are only marked absent: their state and log stay, and come back with them. `renames`
        maps a card id to its earlier ids (`renamed_from`): an earlier id's state and history move to
        the card, unless the card has answers of its own already.
        """
        fingerprint = card_list_fingerprint(card_ids, renames)
        if self.synced_fingerprint(deck) == fingerprint:
            return False
        with self._write() as conn:
            for card_id, old_ids in (renames or {}).items():
                for old_id in old_ids:
                    self._move_history(conn, deck, old_id, card_id)
            conn.execute("UPDATE cards SET present = 0 WHERE deck = ? AND present = 1", (deck,))
            conn.executemany(
                "INSERT INTO cards (key, deck, card, position) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET position = excluded.position, present = 1",
                ((f"{deck}/{card}", deck, card, position) for position, card in enumerate(card_ids)),
            )
            conn.execute(
                "INSERT INTO decks (id, fingerprint) VALUES (?, ?)"
                " ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint",
                (deck, fingerprint),
            )
        return True

    @staticmethod
    def _move_history(conn: sqlite3.Connection, deck: str, old_id: str, card_id: str) -> None:
        """Give card `card_id` the row and answers of its earlier id (inside `sync_deck`'s transaction)."""
        old, new = f"{deck}/{old_id}", f"{deck}/{card_id}"
        if old == new or conn.execute("SELECT 1 FROM cards WHERE key = ?", (old,)).fetchone() is None:
            return
        if conn.execute(f"SELECT 1 FROM reviews WHERE card = ({_CARD_ID}) LIMIT 1", (new,)).fetchone():
            return  # the card has history under its new id already: never mix two histories
        conn.execute("DELETE FROM cards WHERE key = ?", (new,))
        conn.execute("UPDATE cards SET key = ?, card = ? WHERE key = ?", (new, card_id, old))  # its log follows
        conn.execute("DELETE FROM verifications WHERE key = ?", (old,))

    def absent_with_history(self, deck: str, card_ids: Sequence[str]) -> dict[str, int]:
        """Card ids of `deck` with answers in the log that are not among `card_ids`, with their answer counts."""
        rows = self._conn.execute(
            "SELECT cards.card, count(*) FROM cards JOIN reviews ON reviews.card = cards.id"
            " WHERE cards.deck = ? AND reviews.undone = 0 GROUP BY cards.id",
            (deck,),
        )
        present = set(card_ids)
        return {card: count for card, count in rows if card not in present}

    def synced_fingerprint(self, deck: str) -> str | None:
        """`card_list_fingerprint` of the card list last synced for `deck`, by any process."""
        row = self._conn.execute("SELECT fingerprint FROM decks WHERE id = ?", (deck,)).fetchone()
        return row[0] if row else None

    # ------------------------------------------------------------------ cards

    def card(self, key: str) -> StoredCard | None:
        row = self._conn.execute(f"SELECT {_CARD_COLUMNS} FROM cards WHERE key = ?", (key,)).fetchone()
        return _card_from_row(row) if row else None

    def set_suspended(self, key: str, suspended: bool) -> None:
        """A suspended card keeps its state but is never queued."""
        with self._write() as conn:
            conn.execute("UPDATE cards SET suspended = ? WHERE key = ?", (int(suspended), key))

    def suspended_keys(self, decks: Sequence[str]) -> set[str]:
        """Keys of the suspended cards of these decks."""
        where, params = _deck_filter(decks)
        return {key for (key,) in self._conn.execute(f"SELECT key FROM cards WHERE suspended = 1{where}", params)}

    def due_reviews(self, deck: str, today: date, limit: int) -> list[StoredCard]:
        """Scheduled cards due by `today`, oldest due first (then deck order), at most `limit`."""
        return self._cards(
            "phase = 'review' AND due <= ? ORDER BY due, position LIMIT ?", (deck, today.isoformat(), limit)
        )

    def learning(self, deck: str, today: date | None = None, *, earlier: bool = False) -> list[StoredCard]:
        """Cards to be asked again before their interval starts: lapsed (q < 3) or in a q = 3 drill.

        With `today`: only those last answered today, or (`earlier=True`) only those left over from an
        earlier day, which count against the review limit (oldest due first).
        """
        if today is None:
            return self._cards("phase = 'learning' ORDER BY due, position", (deck,))
        operator = "<" if earlier else ">="
        return self._cards(
            f"phase = 'learning' AND coalesce(({_LAST_ANSWER_DAY}), {_BEFORE_ANY_DAY}) {operator} ?"
            " ORDER BY due, position",
            (deck, _day_number(today)),
        )

    def due_ahead(self, deck: str, today: date, days: int) -> list[StoredCard]:
        """Scheduled cards falling due in the `days` days after `today`, soonest first: review-ahead."""
        last = today + timedelta(days=days)
        return self._cards(
            "phase = 'review' AND due > ? AND due <= ? ORDER BY due, position",
            (deck, today.isoformat(), last.isoformat()),
        )

    def new_cards(self, deck: str, limit: int) -> list[StoredCard]:
        """Never-answered cards in deck order, at most `limit`."""
        return self._cards("phase = 'new' AND due IS NULL ORDER BY position LIMIT ?", (deck, limit))

    def _cards(self, condition: str, params: tuple) -> list[StoredCard]:
        rows = self._conn.execute(
            f"SELECT {_CARD_COLUMNS} FROM cards WHERE deck = ? AND present = 1 AND suspended = 0 AND {condition}",
            params,
        )
        return [_card_from_row(row) for row in rows]

    def counts(self, deck: str, today: date) -> DeckCounts:
        """Due reviews, learning and new cards of a present deck, counted in the index, before limits."""
        phases = dict(
            self._conn.execute(
                "SELECT phase, count(*) FROM cards WHERE deck = ? AND present = 1 AND suspended = 0"
                " AND phase IN ('new', 'learning') GROUP BY phase",
                (deck,),
            ).fetchall()
        )
        (due,) = self._conn.execute(
            "SELECT count(*) FROM cards WHERE deck = ? AND present = 1 AND suspended = 0"
            " AND phase = 'review' AND due <= ?",
            (deck, today.isoformat()),
        ).fetchone()
        return DeckCounts(deck, due, phases.get("learning", 0), phases.get("new", 0))

    # ------------------------------------------------------------------ answers

    def record_answer(
        self,
        key: str,
        quality: int,
        *,
        today: date,
        now: datetime,
        typed: str = "",
        verdict: str = "",
        ms: int = 0,
        kind: str | None = None,
        lock_wait: float | None = None,
        seed: int | None = None,
    ) -> Review:
        """Schedule the card with SM-2 and append the answer to the log, in one durable transaction.

        The state is read under the write lock, so two processes answering the same card at once
        apply both answers in turn rather than one overwriting the other. `kind` overrides how the
        answer is logged ("ahead" for review-ahead; default: from the card's phase, `answer_kind`).
        `lock_wait`: seconds to wait for another writer (default `BUSY_TIMEOUT_SECONDS`); past it,
        `sqlite3.OperationalError` (`is_busy`) and nothing is recorded.
        `seed` is the instance of a parametric card that was asked, so the review can be reproduced.
        """
        sm2.check_quality(quality)
        with self._write(lock_wait) as conn:
            row = conn.execute(_SELECT_ANSWERED, (key,)).fetchone()
            if row is None:  # a card never synced (e.g. answered through the API): start its row now
                deck, _, card_id = key.partition("/")
                conn.execute("INSERT INTO cards (key, deck, card) VALUES (?, ?, ?)", (key, deck, card_id))
                row = conn.execute(_SELECT_ANSWERED, (key,)).fetchone()
            row_id, deck, last_review, *columns = row
            before = _state(*columns)
            after = sm2.review(before, quality, today)
            review = _log(conn, row_id, key, deck, last_review, kind or answer_kind(before), quality, before, after,
                          today, now, typed, verdict, ms, seed)  # fmt: skip
            conn.execute(_UPDATE_STATE, (*_state_columns(after), review.id, row_id))
        return review

    def record_cram(
        self,
        key: str,
        quality: int,
        *,
        today: date,
        now: datetime,
        typed: str = "",
        verdict: str = "",
        ms: int = 0,
        lock_wait: float | None = None,
        seed: int | None = None,
    ) -> Review:
        """Log a custom-study (cram) answer, kind "cram": the card's schedule and row are left untouched."""
        sm2.check_quality(quality)
        with self._write(lock_wait) as conn:
            row = conn.execute(_SELECT_ANSWERED, (key,)).fetchone()
            if row is None:
                raise StoreError(f"{key} is not in the state database; review its deck once first")
            row_id, deck, last_review, *columns = row
            state = _state(*columns)
            return _log(conn, row_id, key, deck, last_review, "cram", quality, state, state,
                        today, now, typed, verdict, ms, seed)  # fmt: skip

    def undo(self, review_id: int) -> StoredCard:
        """Restore the exact state before answer `review_id` and mark that answer undone.

        Only a card's latest answer can be undone, so undoing in another order (or an answer that
        another process has since followed with its own) is refused rather than losing an answer.
        """
        with self._write() as conn:
            row = conn.execute(f"{_SELECT_REVIEWS} WHERE reviews.id = ?", (review_id,)).fetchone()
            review = _review_from_row(row) if row else None
            if review is None or review.undone:
                raise StoreError(f"answer {review_id} is not in the log or is already undone")
            row_id, card = _read_card(conn, review.key)
            if review.kind == "cram":  # changed no schedule: there is nothing to restore
                conn.execute("UPDATE reviews SET undone = 1 WHERE id = ?", (review_id,))
                return card
            if card.last_review is None:
                raise ResetSince(f"{review.key} was reset since that answer, so the answer stays in its history")
            if card.last_review != review_id:
                raise StoreError(f"{review.key} has been answered again since; undo that answer first")
            conn.execute(_UPDATE_STATE, (*_state_columns(review.before), review.previous_review, row_id))
            conn.execute("UPDATE reviews SET undone = 1 WHERE id = ?", (review_id,))
        return self.card(review.key)

    def prefetch(self, key: str) -> None:
        """Read card `key`'s row through the writing connection: front ends call it when they show the card,
        so that its answer, seconds later, finds the card's pages in that connection's page cache rather
        than reading them from the file inside the answer's transaction (Anki's answer likewise finds its
        card in the cache its queue has just read). Advisory: it reads, outside any transaction, and
        leaves every error (a damaged or locked file) to the answer, which reports it.
        """
        with contextlib.suppress(sqlite3.Error):
            self._writer.execute(_SELECT_ANSWERED, (key,)).fetchall()

    def seen_instances(self, key: str) -> list[int]:
        """Seeds of the instances of parametric card `key` answered so far, oldest answer first (one per
        answer; undone answers left out): what `instance.pick` needs to prefer an unseen instance."""
        rows = self._conn.execute(
            f"SELECT instance_seed FROM reviews WHERE card = ({_CARD_ID}) AND undone = 0 AND instance_seed IS NOT NULL"
            " ORDER BY id",
            (key,),
        )
        return [seed for (seed,) in rows]

    def review(self, review_id: int) -> Review | None:
        row = self._conn.execute(f"{_SELECT_REVIEWS} WHERE reviews.id = ?", (review_id,)).fetchone()
        return _review_from_row(row) if row else None

    def answered_on(self, day: date, deck: str) -> Counter[str]:
        """Answers given on `day` to a deck's cards, by kind (new, review, learning, drill, cram, ahead).

        "carried" counts, among the learning and drill answers, the cards left over from an earlier day
        (their previous answer was before `day`): those count against the review limit.
        """
        rows = self._conn.execute(
            "SELECT kind, count(*) FROM reviews JOIN cards ON cards.id = reviews.card"
            " WHERE day = ? AND deck = ? AND undone = 0 GROUP BY kind",
            (_day_number(day), deck),
        )
        counts = Counter({_kind(code): count for code, count in rows})
        (carried,) = self._conn.execute(
            "SELECT count(*) FROM reviews AS r JOIN cards AS c ON c.id = r.card"
            " JOIN reviews AS p ON p.id = r.previous_review"
            f" WHERE r.day = ? AND c.deck = ? AND r.undone = 0 AND r.kind IN ({_KIND_CODES['learning']},"
            f" {_KIND_CODES['drill']}) AND p.day < r.day",
            (_day_number(day), deck),
        ).fetchone()
        if carried:
            counts["carried"] = carried
        return counts

    # ------------------------------------------------------------------ statistics

    def reviews_per_day(self, since: date, decks: Sequence[str] | None = None) -> list[DayCount]:
        """Answers per day from `since` on, with how many of them were passed (q ≥ 3)."""
        log, where, params = _log_of(decks)
        rows = self._conn.execute(
            f"SELECT day, count(*), sum(quality >= 3) FROM {log} WHERE day >= ? AND undone = 0{where}"
            " GROUP BY day ORDER BY day",
            (_day_number(since), *params),
        )
        return [DayCount(_day(day), count, passed) for day, count, passed in rows]

    def retention(self, since: date, decks: Sequence[str] | None = None) -> tuple[int, int]:
        """(passed, answered) over scheduled reviews since `since`: how often a due card was recalled."""
        log, where, params = _log_of(decks)
        passed, total = self._conn.execute(
            f"SELECT coalesce(sum(quality >= 3), 0), count(*) FROM {log}"
            f" WHERE day >= ? AND kind = {_KIND_CODES['review']} AND undone = 0{where}",
            (_day_number(since), *params),
        ).fetchone()
        return passed, total

    def forecast(self, today: date, days: int, decks: Sequence[str] | None = None) -> dict[date, int]:
        """Scheduled reviews falling due on each of the next `days` days (overdue ones count today)."""
        where, params = _deck_filter(decks)
        rows = self._conn.execute(
            "SELECT max(due, ?) AS day, count(*) FROM cards"
            f" WHERE phase = 'review' AND present = 1 AND suspended = 0 AND due < ?{where} GROUP BY day",
            (today.isoformat(), (today + timedelta(days=days)).isoformat(), *params),
        )
        by_day = {date.fromisoformat(day): count for day, count in rows}
        return {today + timedelta(days=i): by_day.get(today + timedelta(days=i), 0) for i in range(days)}

    # ------------------------------------------------------------------ verifications

    def save_verification(
        self,
        key: str,
        cache_key: str,
        status: str,
        outcome_json: str,
        torch_version: str,
        verified_at: str,
        duration: float,
    ) -> None:
        """Insert or replace the cached verification of card `key` ("deck-id/card-id")."""
        record = VerificationRecord(key, cache_key, status, outcome_json, torch_version, verified_at, duration)
        with self._write():
            self.db["verifications"].upsert(_verification_columns(record), pk="key")

    def verification(self, key: str) -> VerificationRecord | None:
        row = self._conn.execute(f"SELECT {_VERIFICATION_COLUMNS} FROM verifications WHERE key = ?", (key,)).fetchone()
        return _verification_from_row(row) if row else None

    def verifications(self) -> dict[str, VerificationRecord]:
        rows = self._conn.execute(f"SELECT {_VERIFICATION_COLUMNS} FROM verifications")
        return {record.key: record for record in map(_verification_from_row, rows)}

    # ------------------------------------------------------------------ TUI: browser, statistics, trust, settings
    # (added for the Textual app, quizzer/review/tui/; settings live in migration 2, the trusted projects in 5)

    def deck_cards(self, deck: str) -> list[StoredCard]:
        """Every card row of a deck (suspended and absent ones too), in deck order: the browser's list."""
        rows = self._conn.execute(
            f"SELECT {_CARD_COLUMNS} FROM cards WHERE deck = ? ORDER BY present DESC, position", (deck,)
        )
        return [_card_from_row(row) for row in rows]

    def history(self, key: str) -> list[Review]:
        """A card's answers that stand (undone ones left out), oldest first."""
        rows = self._conn.execute(
            f"{_SELECT_REVIEWS} WHERE reviews.card = ({_CARD_ID}) AND undone = 0 ORDER BY reviews.id", (key,)
        )
        return [_review_from_row(row) for row in rows]

    def reset_card(self, key: str) -> None:
        """Put a card back to new (EF 2.5, no repetitions, not due); its answers stay in the log.

        The card's last answer can no longer be undone afterwards (undo only restores a card's latest answer).
        """
        with self._write() as conn:
            found = conn.execute(_CARD_ID, (key,)).fetchone()
            if found is not None:
                conn.execute(_UPDATE_STATE, (*_state_columns(sm2.NEW_CARD), None, *found))

    def next_due(self, today: date, decks: Sequence[str] | None = None) -> date | None:
        """The first day after `today` on which a scheduled review falls due (for "next review in 3 days")."""
        where, params = _deck_filter(decks)
        (day,) = self._conn.execute(
            f"SELECT min(due) FROM cards WHERE phase = 'review' AND present = 1 AND suspended = 0 AND due > ?{where}",
            (today.isoformat(), *params),
        ).fetchone()
        return date.fromisoformat(day) if day else None

    def ease_factors(self, decks: Sequence[str] | None = None) -> list[int]:
        """EF (thousandths) of every answered, present, unsuspended card: the EF distribution."""
        where, params = _deck_filter(decks)
        rows = self._conn.execute(
            f"SELECT ef_thousandths FROM cards WHERE phase != 'new' AND present = 1 AND suspended = 0{where}",
            params,
        )
        return [ef for (ef,) in rows]

    def retention_by_interval(self, since: date, decks: Sequence[str] | None = None) -> list[tuple[int, int, int]]:
        """(interval before the answer, passed, answered) over scheduled reviews since `since`, by interval."""
        log, where, params = _log_of(decks)
        rows = self._conn.execute(
            f"SELECT interval_before, coalesce(sum(quality >= 3), 0), count(*) FROM {log}"
            f" WHERE day >= ? AND kind = {_KIND_CODES['review']} AND undone = 0{where}"
            " GROUP BY interval_before ORDER BY 1",
            (_day_number(since), *params),
        )
        return [(interval, passed, total) for interval, passed, total in rows]

    def trusted_projects(self) -> list[str]:
        """Deck projects whose verifiers the app may run on its own (`quizzer trust`, `quizzer verify`).

        Each names exactly one project folder, never the folders below it (see `quizzer.verify.trust`).
        """
        # a path that is not text (written by another program) trusts nothing; it was a TypeError in `quizzer trust`
        query = "SELECT path FROM trusted_projects WHERE typeof(path) = 'text' ORDER BY path"
        return [path for (path,) in self._conn.execute(query)]

    def trust_project(self, path: Path | str, *, now: datetime | None = None) -> bool:
        """Record a project folder (resolved) as trusted; False when it already was."""
        resolved = str(Path(path).expanduser().resolve())
        added = (now or datetime.now().astimezone()).isoformat(timespec="seconds")
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO trusted_projects (path, added_at) VALUES (?, ?) ON CONFLICT (path) DO NOTHING",
                (resolved, added),
            )
        return cursor.rowcount > 0

    def deck_limits(self, deck: str) -> tuple[int | None, int | None]:
        """(new, reviews) per day set for `deck` in the app's settings; None where it defers to the deck file."""
        row = self._conn.execute(
            "SELECT new_per_day, reviews_per_day FROM deck_limits WHERE deck = ?", (deck,)
        ).fetchone()
        return tuple(_limit(value) for value in row) if row else (None, None)  # type: ignore[return-value]

    def set_deck_limits(self, deck: str, new_per_day: int | None, reviews_per_day: int | None) -> None:
        """Override a deck file's daily limits (None: use the deck file's, else the default)."""
        for value in (new_per_day, reviews_per_day):
            if value is not None and _limit(value) is None:
                raise StoreError(f"a daily limit is a whole number from 0 to {MAX_DAILY_LIMIT}, not {value!r}")
        with self._write() as conn:
            conn.execute(
                "INSERT INTO deck_limits (deck, new_per_day, reviews_per_day) VALUES (?, ?, ?) ON CONFLICT (deck)"
                " DO UPDATE SET new_per_day = excluded.new_per_day, reviews_per_day = excluded.reviews_per_day",
                (deck, new_per_day, reviews_per_day),
            )

    def rollover_hour(self) -> int | None:
        """The hour (0-23) at which a new study day starts, if set; a damaged value reads as unset."""
        value = self.setting(ROLLOVER_SETTING)
        return int(value) if value is not None and len(value) <= 2 and value.isdecimal() and int(value) < 24 else None

    def set_rollover_hour(self, hour: int | None) -> None:
        """Set the hour the study day starts at; None goes back to the default."""
        if hour is None:
            with self._write() as conn:
                conn.execute("DELETE FROM settings WHERE name = ?", (ROLLOVER_SETTING,))
            return
        if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour < 24:
            raise StoreError(f"the day's rollover hour is a whole number from 0 to 23, not {hour!r}")
        self.set_setting(ROLLOVER_SETTING, str(hour))

    def distrust_project(self, path: Path | str) -> bool:
        """Forget a trusted project (as given, and resolved); False when it was not trusted."""
        given = Path(path).expanduser()
        names = {str(given.absolute()), str(given.resolve())}
        with self._write() as conn:
            cursor = conn.execute(
                f"DELETE FROM trusted_projects WHERE path IN ({', '.join('?' * len(names))})", tuple(names)
            )
        return cursor.rowcount > 0

    def setting(self, name: str) -> str | None:
        row = self._conn.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def set_setting(self, name: str, value: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO settings (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    # ------------------------------------------------------------------ import (quizzer import anki)

    def carry_over(self, key: str, state: CardState, suspended: bool, answers: Sequence[Review]) -> bool:
        """Give a card progress brought from elsewhere: its state, suspension and past answers, in one transaction.

        Refused (False) when the card already has answers, a schedule or a suspension here: an import never
        overwrites what was decided in quizzer, so importing the same package twice changes nothing the second time.
        """
        deck, _, card_id = key.partition("/")
        with self._write() as conn:
            found = _read_card(conn, key)
            if found is not None:
                row_id, existing = found
                answered = conn.execute("SELECT 1 FROM reviews WHERE card = ? LIMIT 1", (row_id,)).fetchone()
                if answered or existing.state != sm2.NEW_CARD or existing.suspended:
                    return False
            else:
                row_id = conn.execute(
                    "INSERT INTO cards (key, deck, card) VALUES (?, ?, ?)", (key, deck, card_id)
                ).lastrowid
            previous = None
            for review in answers:
                columns = _review_columns(review._replace(previous_review=previous), row_id)
                previous = conn.execute(_INSERT_REVIEW, columns).lastrowid
            conn.execute(_UPDATE_STATE, (*_state_columns(state), previous, row_id))
            conn.execute("UPDATE cards SET suspended = ? WHERE id = ?", (int(suspended), row_id))
        return True

    def merge_verifications(self, records: Sequence[VerificationRecord]) -> int:
        """Add cached verifications from elsewhere (`--cache-file`) where newer than ours; how many were taken.

        Safe whatever their age: the runner uses a record only when its cache key matches the card now.
        """
        mine = self.verifications()
        newer = [r for r in records if r.key not in mine or r.verified_at > mine[r.key].verified_at]
        if newer:
            with self._write():
                self.db["verifications"].upsert_all([_verification_columns(r) for r in newer], pk="key")
        return len(newer)


class _Transaction:
    """`Store._write`'s context manager: a class rather than a generator, as every answer runs one."""

    __slots__ = ("_store", "_lock_wait")

    def __init__(self, store: Store, lock_wait: float):
        self._store, self._lock_wait = store, lock_wait

    def __enter__(self) -> sqlite3.Connection:
        store = self._store
        if store._integrity is not True:  # checked once: passed
            store.check_integrity()
        try:
            store._begin_immediate(self._lock_wait)
        except sqlite3.DatabaseError as error:
            store._refuse_damaged(error)
            raise
        return store._writer

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: object) -> None:
        store, writer = self._store, self._store._writer
        try:
            if error is None:
                writer.execute("COMMIT")
            elif writer.in_transaction:
                writer.execute("ROLLBACK")
        except sqlite3.DatabaseError as failure:
            store._refuse_damaged(failure)
            raise
        if error is not None:
            store._refuse_damaged(error)  # otherwise `error` goes on as it was


def card_list_fingerprint(card_ids: Sequence[str], renames: Mapping[str, Sequence[str]] | None = None) -> str:
    """Identifies a deck's card ids in their order (and renames): an unchanged fingerprint means nothing to sync."""
    moved = [f"{old}>{card}" for card, olds in sorted((renames or {}).items()) for old in olds]
    return hashlib.sha1("\n".join([*card_ids, *moved]).encode()).hexdigest()


def _deck_filter(decks: Sequence[str] | None) -> tuple[str, tuple[str, ...]]:
    if decks is None:
        return "", ()
    return f" AND deck IN ({', '.join('?' * len(decks))})", tuple(decks)


def _log_of(decks: Sequence[str] | None) -> tuple[str, str, tuple[str, ...]]:
    """(FROM clause, filter, parameters) of the answers to these decks' cards (all answers: no join)."""
    where, params = _deck_filter(decks)
    return ("reviews JOIN cards ON cards.id = reviews.card" if decks is not None else "reviews"), where, params


# ---------------------------------------------------------------------- migrations


_CARD_DEFAULTS = {
    "position": 0,
    "present": 1,
    "suspended": 0,
    "phase": "new",
    "ef_thousandths": sm2.INITIAL_EF,
    "repetitions": 0,
    "interval": 0,
    "drill": 0,
}


def _initial_schema(db: Database) -> None:
    db["cards"].create(
        {
            "key": str,  # "deck-id/card-id"
            "deck": str,
            "card": str,
            "position": int,  # order in the deck file: new cards are introduced in this order
            "present": int,  # 0 once the card has left its deck file (history kept)
            "suspended": int,
            "phase": str,  # new | learning | review, derived from the state for the queue index
            "ef_thousandths": int,
            "repetitions": int,
            "interval": int,
            "due": str,  # ISO date, NULL while new
            "drill": int,
            "last_review": int,  # reviews.id of the latest answer not undone
        },
        pk="key",
        not_null=_CARD_DEFAULTS.keys() | {"deck", "card"},
        defaults=_CARD_DEFAULTS,
    )
    # The day's queue reads only this index, and only the slice it needs (never 100k rows).
    db.execute("CREATE INDEX cards_queue ON cards (deck, phase, due, position) WHERE present = 1 AND suspended = 0")
    db["reviews"].create(
        {
            "id": int,
            "time": str,  # ISO timestamp with offset
            "day": str,  # the learner's date of the sitting: daily limits and statistics count by it
            "key": str,
            "deck": str,
            "kind": str,  # new | learning | drill | review (the card's phase before the answer)
            "quality": int,
            "typed": str,
            "verdict": str,
            "ef_before": int,
            "ef_after": int,
            "repetitions_before": int,
            "repetitions_after": int,
            "interval_before": int,
            "interval_after": int,
            "due_before": str,
            "due_after": str,
            "drill_before": int,
            "drill_after": int,
            "ms": int,
            "previous_review": int,  # the card's last_review before this answer: what undo puts back
            "undone": int,
        },
        pk="id",
        not_null={"time", "day", "key", "deck", "kind", "quality", "undone"},
        defaults={"undone": 0},
    )
    db.execute("CREATE INDEX reviews_day ON reviews (day, deck)")
    db["decks"].create({"id": str, "fingerprint": str}, pk="id")
    db["verifications"].create(
        {
            "key": str,
            "cache_key": str,
            "status": str,
            "outcome": str,  # JSON
            "torch_version": str,
            "verified_at": str,  # ISO timestamp
            "duration": float,
        },
        pk="key",
    )


def _trust_and_settings(db: Database) -> None:
    """Migration 2 (for the TUI): directories trusted to run verifiers, and small user settings (theme)."""
    db["trusted_dirs"].create({"path": str, "added_at": str}, pk="path")
    db["settings"].create({"name": str, "value": str}, pk="name")


def _history_index(db: Database) -> None:
    """A card's history (`Store.history`) without scanning a million-row log."""
    db.execute("CREATE INDEX reviews_key ON reviews (key)")


def _deck_limits(db: Database) -> None:
    """Per-deck daily limits set in the app (NULL: the deck file's, else the default)."""
    db["deck_limits"].create({"deck": str, "new_per_day": int, "reviews_per_day": int}, pk="deck")


def _trust_names_projects(db: Database) -> None:
    """Migration 5: trust names one deck project, no longer a folder tree (`trusted_dirs` → `trusted_projects`).

    A `decks/` folder (what `quizzer verify` used to record) becomes its project; any other folder
    stays the one project it names, so a folder that merely contained projects now trusts none.
    """
    db["trusted_projects"].create({"path": str, "added_at": str}, pk="path")
    for path, added_at in db.execute("SELECT path, added_at FROM trusted_dirs").fetchall():
        folder = PurePath(path)
        project = folder.parent if folder.name == "decks" else folder
        db.execute("INSERT OR IGNORE INTO trusted_projects (path, added_at) VALUES (?, ?)", (str(project), added_at))
    db["trusted_dirs"].drop()


def _instance_seed(db: Database) -> None:
    """Migration 6: which instance of a parametric card an answer was given to (NULL for a fixed card)."""
    db["reviews"].add_column("instance_seed", int)


_CARDS_V7 = """CREATE TABLE cards_v7 (
   id INTEGER PRIMARY KEY,  -- what the log refers to: an explicit key, so VACUUM never renumbers it
   key TEXT NOT NULL UNIQUE,  -- "deck-id/card-id"
   deck TEXT NOT NULL,
   card TEXT NOT NULL,
   position INTEGER NOT NULL DEFAULT 0,
   present INTEGER NOT NULL DEFAULT 1,
   suspended INTEGER NOT NULL DEFAULT 0,
   phase TEXT NOT NULL DEFAULT 'new',
   ef_thousandths INTEGER NOT NULL DEFAULT 2500,
   repetitions INTEGER NOT NULL DEFAULT 0,
   interval INTEGER NOT NULL DEFAULT 0,
   due TEXT,
   drill INTEGER NOT NULL DEFAULT 0,
   last_review INTEGER
)"""
_REVIEWS_V7 = """CREATE TABLE reviews_v7 (
   id INTEGER PRIMARY KEY,
   card INTEGER NOT NULL,  -- cards.id
   time INTEGER NOT NULL,  -- milliseconds since 1970-01-01 UTC (text only for a legacy value that would not round-trip)
   utc_offset INTEGER,  -- seconds east of UTC on the clock that gave `time`; NULL for a naive time
   day INTEGER NOT NULL,  -- the learner's date of the sitting, days since 1970-01-01: limits and statistics count by it
   kind INTEGER NOT NULL,  -- index into _KINDS: new | learning | drill | review | cram | ahead
   quality INTEGER NOT NULL,
   typed TEXT,
   verdict INTEGER,  -- index into _VERDICTS (text for any other verdict)
   ef_before INTEGER,
   ef_after INTEGER,
   repetitions_before INTEGER,
   repetitions_after INTEGER,
   interval_before INTEGER,
   interval_after INTEGER,
   due_before INTEGER,  -- days since 1970-01-01, NULL while new
   due_after INTEGER,
   drill_before INTEGER,
   drill_after INTEGER,
   ms INTEGER,
   previous_review INTEGER,  -- the card's last_review before this answer: what undo puts back
   undone INTEGER NOT NULL DEFAULT 0,
   instance_seed INTEGER
)"""
_CARD_FIELDS = "key, deck, card, position, present, suspended, phase, ef_thousandths, repetitions, interval, due, drill"


def _compact_review_log(db: Database) -> None:
    """Migration 7: a log row names its card by `cards.id` and holds times, days and kinds as numbers.

    It was 162 bytes a row (the deck and "deck/card" repeated in the row and in two text indexes, ISO
    text for times and dates); Anki's revlog is 65. Cards get an explicit integer id (their rowid,
    kept); a log row whose card has no row (a hand-edited file) gets an absent card row, so every answer
    is kept. Values are converted by the encoders of the rows ↔ objects section; a value that would
    not read back unchanged is kept as it was. The index on the deck is gone with the deck column; the
    day index and the card index (history) remain.
    """
    conn = db.conn
    conn.create_function("quizzer_time", 1, lambda text: _time_columns(text)[0], deterministic=True)
    conn.create_function("quizzer_offset", 1, lambda text: _time_columns(text)[1], deterministic=True)
    conn.create_function("quizzer_day", 1, _legacy_day, deterministic=True)
    conn.create_function("quizzer_kind", 1, lambda kind: _KIND_CODES.get(kind, kind), deterministic=True)
    conn.create_function("quizzer_verdict", 1, lambda verdict: _VERDICT_CODES.get(verdict, verdict), deterministic=True)
    conn.execute(
        "INSERT OR IGNORE INTO cards (key, deck, card, present)"
        " SELECT key, deck, substr(key, length(deck) + 2), 0 FROM reviews GROUP BY key"
    )
    conn.execute(_CARDS_V7)
    conn.execute(
        f"INSERT INTO cards_v7 (id, {_CARD_FIELDS}, last_review) SELECT rowid, {_CARD_FIELDS}, last_review"
        " FROM cards ORDER BY rowid"
    )
    conn.execute(_REVIEWS_V7)
    pairs = ", ".join(f"{name}_before, {name}_after" for name in ("ef", "repetitions", "interval", "due", "drill"))
    conn.execute(
        f"INSERT INTO reviews_v7 (id, card, time, utc_offset, day, kind, quality, typed, verdict, {pairs},"
        " ms, previous_review, undone, instance_seed)"
        " SELECT r.id, c.id, quizzer_time(r.time), quizzer_offset(r.time), quizzer_day(r.day), quizzer_kind(r.kind),"
        " r.quality, r.typed, quizzer_verdict(r.verdict), r.ef_before, r.ef_after, r.repetitions_before,"
        " r.repetitions_after, r.interval_before, r.interval_after, quizzer_day(r.due_before),"
        " quizzer_day(r.due_after), r.drill_before, r.drill_after, r.ms, r.previous_review, r.undone,"
        " r.instance_seed FROM reviews AS r JOIN cards_v7 AS c ON c.key = r.key ORDER BY r.id"
    )
    for table in ("reviews", "cards"):
        conn.execute(f"DROP TABLE {table}")
        conn.execute(f"ALTER TABLE {table}_v7 RENAME TO {table}")
    conn.execute("CREATE INDEX cards_queue ON cards (deck, phase, due, position) WHERE present = 1 AND suspended = 0")
    conn.execute("CREATE INDEX reviews_card ON reviews (card)")  # a card's history
    conn.execute("CREATE INDEX reviews_day ON reviews (day)")  # the day's answers (limits), statistics since a day
    conn.execute(_review_log_view())


def _review_log_view() -> str:
    """`review_log`: the log as a person reads it in `sqlite3` (key, deck, ISO dates, kind and verdict words).

    Generated from the vocabularies of the rows ↔ objects section; a migration that appends to them
    recreates it. Quizzer itself never reads it: objects come from `_review_from_row`.
    """

    def words(column: str, vocabulary: Sequence[str]) -> str:
        cases = " ".join(f"WHEN {code} THEN '{word}'" for code, word in enumerate(vocabulary))
        return f"CASE {column} {cases} ELSE {column} END"

    def iso_day(column: str) -> str:
        return f"CASE typeof({column}) WHEN 'integer' THEN date({column} * 86400, 'unixepoch') ELSE {column} END"

    states = ", ".join(
        f"{iso_day(column) + ' AS ' + column if name == 'due' else column}"
        for name in _STATE_PAIRS
        for column in (f"{name}_before", f"{name}_after")
    )
    return (
        "CREATE VIEW review_log AS SELECT reviews.id, cards.key, cards.deck,"
        " CASE typeof(time) WHEN 'integer' THEN strftime('%Y-%m-%dT%H:%M:%fZ', time / 1000.0, 'unixepoch')"
        f" ELSE time END AS time_utc, utc_offset, {iso_day('day')} AS day, {words('kind', _KINDS)} AS kind, quality,"
        f" typed, {words('verdict', _VERDICTS)} AS verdict, {states}, ms, previous_review, undone, instance_seed"
        " FROM reviews JOIN cards ON cards.id = reviews.card"
    )


MIGRATIONS: list[Callable[[Database], None]] = [
    _initial_schema,
    _trust_and_settings,
    _history_index,
    _deck_limits,
    _trust_names_projects,
    _instance_seed,
    _compact_review_log,
]
"""Applied in order, each in the transaction that bumps `PRAGMA user_version`; append, never edit."""


# ---------------------------------------------------------------------- rows ↔ objects

_CARD_COLUMNS = (
    "key, deck, card, position, present, suspended, ef_thousandths, repetitions, interval, due, drill, last_review"
)
_CARD_ID = "SELECT id FROM cards WHERE key = ?"
_SELECT_CARD = f"SELECT id, {_CARD_COLUMNS} FROM cards WHERE key = ?"
_SELECT_ANSWERED = (
    "SELECT id, deck, last_review, ef_thousandths, repetitions, interval, due, drill FROM cards WHERE key = ?"
)
"""What an answer reads of its card: the row id, what its `Review` repeats, and the state (`_state`'s arguments)."""
_UPDATE_STATE = (
    "UPDATE cards SET phase = ?, ef_thousandths = ?, repetitions = ?, interval = ?, due = ?, drill = ?,"
    " last_review = ? WHERE id = ?"
)
_STATE_PAIRS = ("ef", "repetitions", "interval", "due", "drill")
_LOGGED_COLUMNS = (
    "time, utc_offset, day, kind, quality, typed, verdict, "
    + ", ".join(f"{name}_before, {name}_after" for name in _STATE_PAIRS)
    + ", ms, previous_review, undone, instance_seed"
)
_SELECT_REVIEWS = (
    f"SELECT reviews.id, cards.key, cards.deck, {_LOGGED_COLUMNS} FROM reviews JOIN cards ON cards.id = reviews.card"
)
_INSERT_REVIEW = "INSERT INTO reviews (card, {}) VALUES (?, {})".format(
    _LOGGED_COLUMNS, ", ".join("?" * (_LOGGED_COLUMNS.count(",") + 1))
)
_KINDS = ("review", "new", "learning", "drill", "cram", "ahead")
"""How an answer counts (`Review.kind`), stored as its index here: append, never reorder."""
_KIND_CODES = {kind: code for code, kind in enumerate(_KINDS)}
_VERDICTS = ("", "correct", "incorrect", "self-graded", "unparsable")
"""The checker's verdicts (`quizzer.core.checking.Status`), stored as their index; any other verdict is kept as text."""
_VERDICT_CODES = {verdict: code for code, verdict in enumerate(_VERDICTS)}
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = _EPOCH.replace(tzinfo=UTC)
_FIRST_MS = (datetime.min - _EPOCH) // timedelta(milliseconds=1)
_LAST_MS = (datetime.max - _EPOCH) // timedelta(milliseconds=1)
_MILLISECOND = timedelta(milliseconds=1)
_BEFORE_ANY_DAY = date.min.toordinal() - _EPOCH_ORDINAL - 1
_VERIFICATION_COLUMNS = "key, cache_key, status, outcome, torch_version, verified_at, duration"
_LAST_ANSWER_DAY = "SELECT day FROM reviews WHERE reviews.id = cards.last_review"
ROLLOVER_SETTING = "day.rollover_hour"
MAX_DAILY_LIMIT = 100_000


def _limit(value: object) -> int | None:
    """A stored daily limit, or None when unset or not a sane whole number (a hand-edited database)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAILY_LIMIT:
        return None
    return value


def _state_columns(state: CardState) -> tuple:
    """phase, ef_thousandths, repetitions, interval, due, drill: as `_UPDATE_STATE` expects them."""
    due = state.due.isoformat() if state.due else None
    return state.phase, state.ef_thousandths, state.repetitions, state.interval, due, int(state.drill)


@lru_cache(maxsize=1 << 16)
def _state(ef: int, repetitions: int, interval: int, due: str | None, drill: int) -> CardState:
    """Shared instances (a state is immutable and many cards share one): building the queue is mostly this."""
    return CardState(ef, repetitions, interval, date.fromisoformat(due) if due else None, bool(drill))


@lru_cache(maxsize=1 << 12)
def _logged_state(ef: int, repetitions: int, interval: int, due: int | str | None, drill: int) -> CardState:
    """A state as a log row holds it (its due date a day number), shared like `_state`'s."""
    return CardState(ef, repetitions, interval, None if due is None else _day(due), bool(drill))


def _read_card(conn: sqlite3.Connection, key: str) -> tuple[int, StoredCard] | None:
    """A card's row id (what the log refers to) and its row, or None when it has no row."""
    row = conn.execute(_SELECT_CARD, (key,)).fetchone()
    return (row[0], _card_from_row(row[1:])) if row else None


def _card_from_row(row: Sequence) -> StoredCard:
    key, deck, card, position, present, suspended, *state, last_review = row
    return StoredCard(key, deck, card, position, bool(present), bool(suspended), _state(*state), last_review)


def _day_number(day: date) -> int:
    """A date as the log stores it: days since 1970-01-01."""
    return day.toordinal() - _EPOCH_ORDINAL


def _day(value: int | str) -> date:
    """A stored day back to a date (text: a legacy value kept as it was, read as ISO)."""
    return date.fromordinal(value + _EPOCH_ORDINAL) if isinstance(value, int) else date.fromisoformat(value)


def _legacy_day(text: str | None) -> int | str | None:
    """An ISO date of a schema-6 log row as a day number; anything that is not one exactly stays as it was."""
    try:
        day = date.fromisoformat(text)
    except (TypeError, ValueError):
        return text
    return _day_number(day) if day.isoformat() == text else text


def _time_columns(time: str) -> tuple[int | str, int | None]:
    """`Review.time` (ISO, to the millisecond) as (ms since 1970-01-01 UTC, UTC offset in seconds or None).

    A text that would not read back unchanged (`_time_text`) is kept as text, with no offset.
    """
    try:
        ms, seconds = _moment_columns(datetime.fromisoformat(time))
    except (TypeError, ValueError, OverflowError):
        return time, None
    return (ms, seconds) if _time_text(ms, seconds) == time else (time, None)


def _answer_time(now: datetime) -> tuple[str, int | str, int | None]:
    """`Review.time` of an answer given at `now` and its two columns: `(text, *_time_columns(text))`, without
    parsing the text back or formatting it again to check (the hot path of every answer).

    The text is `now`'s own ISO form, truncated to the millisecond, so it reads back unchanged whenever the
    offset is whole seconds; `tests/test_store.py` checks the equality for any datetime.
    """
    text = now.isoformat(timespec="milliseconds")
    try:
        return (text, *_moment_columns(now))
    except (ValueError, OverflowError):
        return text, text, None


def _moment_columns(moment: datetime) -> tuple[int, int | None]:
    """(ms since 1970-01-01 UTC, UTC offset in whole seconds, None for a naive moment), the millisecond
    truncated; ValueError for an offset with a fraction of a second, OverflowError for a moment whose UTC
    time is outside the calendar (years 1 to 9999). One subtraction of the epoch (a timedelta never
    overflows here), floored to the millisecond."""
    offset = moment.utcoffset()
    if offset is None:
        seconds = None
        ms = (moment - _EPOCH) // _MILLISECOND
    elif offset.microseconds:
        raise ValueError(f"a UTC offset of {offset} is not whole seconds")
    else:
        seconds = offset.days * 86400 + offset.seconds
        ms = (moment - _EPOCH_UTC) // _MILLISECOND
    if not _FIRST_MS <= ms <= _LAST_MS:
        raise OverflowError(f"{moment} is outside the calendar in UTC")
    return ms, seconds


def _time_text(ms: int | str, offset: int | None) -> str:
    """The inverse of `_time_columns`; a damaged value comes back as its text, never as an exception."""
    if not isinstance(ms, int):
        return str(ms)
    try:
        if offset is None:
            return (_EPOCH + ms * _MILLISECOND).isoformat(timespec="milliseconds")
        zone = timezone(timedelta(seconds=offset))
        return (
            (_EPOCH + ms * _MILLISECOND + timedelta(seconds=offset))
            .replace(tzinfo=zone)
            .isoformat(timespec="milliseconds")
        )
    except (TypeError, ValueError, OverflowError):
        return str(ms)


def _kind(code: int | str) -> str:
    return _KINDS[code] if isinstance(code, int) and 0 <= code < len(_KINDS) else str(code)


def _verdict(code: int | str | None) -> str:
    if isinstance(code, int):
        return _VERDICTS[code] if 0 <= code < len(_VERDICTS) else str(code)
    return code or ""


def _review_columns(review: Review, row_id: int) -> tuple:
    """The values of `_INSERT_REVIEW` for `review`, an answer to card row `row_id` (its id is not stored)."""
    return _log_columns(row_id, *_time_columns(review.time), review.day, review.kind, review.quality, review.typed,
                        review.verdict, review.before, review.after, review.ms, review.previous_review,
                        review.undone, review.seed)  # fmt: skip


def _log_columns(
    row_id: int,
    time: int | str,
    offset: int | None,
    day: date,
    kind: str,
    quality: int,
    typed: str,
    verdict: str,
    before: CardState,
    after: CardState,
    ms: int,
    previous_review: int | None,
    undone: bool,
    seed: int | None,
) -> tuple:
    """The values of `_INSERT_REVIEW` for the fields of a `Review` (`time`, `offset` as `_time_columns` encodes
    them): the one place that knows a log row's columns. `_log` encodes an answer with it before the answer's
    id, and so its `Review`, exists; `_review_columns` a `Review` brought from elsewhere."""
    ef_before, repetitions_before, interval_before, due_before, drill_before = before
    ef_after, repetitions_after, interval_after, due_after, drill_after = after
    return (
        row_id, time, offset, day.toordinal() - _EPOCH_ORDINAL, _KIND_CODES.get(kind, kind), quality, typed,
        _VERDICT_CODES.get(verdict, verdict), ef_before, ef_after, repetitions_before, repetitions_after,
        interval_before, interval_after,
        None if due_before is None else due_before.toordinal() - _EPOCH_ORDINAL,
        None if due_after is None else due_after.toordinal() - _EPOCH_ORDINAL,
        int(drill_before), int(drill_after), ms, previous_review, int(undone), seed,
    )  # fmt: skip


def _log(
    conn: sqlite3.Connection,
    row_id: int,
    key: str,
    deck: str,
    previous_review: int | None,
    kind: str,
    quality: int,
    before: CardState,
    after: CardState,
    today: date,
    now: datetime,
    typed: str,
    verdict: str,
    ms: int,
    seed: int | None,
) -> Review:
    """Append one answer to card row `row_id` (`before` its state, `after` the state it leaves, `previous_review`
    its last answer) to the log inside the caller's transaction, and return it as a `Review`:
    `record_answer` and `record_cram` differ only around it. The row is `_log_columns`'."""
    time, ms_utc, offset = _answer_time(now)
    ms = int(ms)
    columns = _log_columns(row_id, ms_utc, offset, today, kind, quality, typed, verdict, before, after, ms,
                           previous_review, False, seed)  # fmt: skip
    return Review(conn.execute(_INSERT_REVIEW, columns).lastrowid, time, today, key, deck, kind, quality, typed,
                  verdict, before, after, ms, previous_review, False, seed)  # fmt: skip


def _review_from_row(row: Sequence) -> Review:
    """A row of `_SELECT_REVIEWS` as a `Review`."""
    id_, key, deck, time, offset, day, kind, quality, typed, verdict, *pairs = row[:20]
    ms, previous_review, undone, seed = row[20:]
    before, after = _logged_state(*pairs[0::2]), _logged_state(*pairs[1::2])
    head = (id_, _time_text(time, offset), _day(day), key, deck, _kind(kind), quality, typed or "", _verdict(verdict))
    return Review(*head, before, after, ms or 0, previous_review, bool(undone), seed)


def _verification_from_row(row: Sequence) -> VerificationRecord:
    return VerificationRecord(*row)


def _verification_columns(record: VerificationRecord) -> dict:
    return {name: getattr(record, name) for name in _VERIFICATION_COLUMNS.split(", ")}
