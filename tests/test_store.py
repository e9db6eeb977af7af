import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from quizzer import store as store_module
from quizzer.core.sm2 import NEW_CARD, CardState
from quizzer.store import Store, StoreError

DAY = date(2024, 3, 1)
NOW = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "state" / "quizzer.db") as opened:
        yield opened


def answer(store, key, quality, today=DAY, **kwargs):
    return store.record_answer(key, quality, today=today, now=NOW, **kwargs)


# ---------------------------------------------------------------- opening and schema


def test_open_creates_folders_wal_busy_timeout_and_the_schema(tmp_path):
    path = tmp_path / "a" / "b" / "q.db"
    with Store.open(path) as store:
        assert path.exists()
        assert store.schema_version == len(store_module.MIGRATIONS)
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        reads, writes = store._conn, store.db.conn  # SQLite waits 5 s for a lock on reads, never on writes
        assert [conn.execute("PRAGMA busy_timeout").fetchone()[0] for conn in (reads, writes)] == [5000, 0]
        assert [conn.execute("PRAGMA synchronous").fetchone()[0] for conn in (reads, writes)] == [2, 2]  # FULL
        assert {"cards", "reviews", "decks", "verifications"} <= set(store.db.table_names())


def test_default_location_follows_quizzer_home(tmp_path, monkeypatch):
    monkeypatch.setenv("QUIZZER_HOME", str(tmp_path / "home"))
    with Store.open() as store:
        assert store.path == tmp_path / "home" / "quizzer.db"
    assert (tmp_path / "home" / "quizzer.db").exists()


def test_migrations_apply_in_order_once(tmp_path, monkeypatch):
    path = tmp_path / "q.db"
    Store.open(path).close()
    calls = []

    def add_note_column(db):
        calls.append("note")
        db.execute("ALTER TABLE cards ADD COLUMN note TEXT")

    monkeypatch.setattr(store_module, "MIGRATIONS", [*store_module.MIGRATIONS, add_note_column])
    for _ in range(2):
        with Store.open(path) as store:
            assert store.schema_version == len(store_module.MIGRATIONS)
            assert "note" in store.db["cards"].columns_dict
    assert calls == ["note"]


def test_a_newer_schema_is_refused_with_a_clear_error(tmp_path):
    path = tmp_path / "q.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="schema version 99, newer"):
        Store.open(path)


def test_verifications_table_is_exactly_as_agreed(store):
    columns = {c.name: c.type for c in store.db["verifications"].columns}
    assert columns == {
        "key": "TEXT",
        "cache_key": "TEXT",
        "status": "TEXT",
        "outcome": "TEXT",
        "torch_version": "TEXT",
        "verified_at": "TEXT",
        "duration": "REAL",
    }
    assert store.db["verifications"].pks == ["key"]


def test_save_verification_upserts_and_reads_back(store):
    assert store.verification("cnn/rf") is None
    store.save_verification("cnn/rf", "abc", "failed", '{"claims": []}', "2.4.0", "2024-03-01T09:30:00", 1.5)
    store.save_verification("cnn/rf", "def", "verified", '{"claims": [1]}', "2.4.1", "2024-03-02T09:30:00", 0.25)
    store.save_verification("cnn/other", "ghi", "unverified", "{}", "", "2024-03-02T09:31:00", 0.0)
    record = store.verification("cnn/rf")
    assert (record.cache_key, record.status, record.duration) == ("def", "verified", 0.25)
    assert record.outcome == '{"claims": [1]}'
    assert set(store.verifications()) == {"cnn/rf", "cnn/other"}
    assert store.verifications()["cnn/other"].status == "unverified"


def test_a_database_from_the_first_schema_is_migrated_in_place(tmp_path, monkeypatch):
    path = tmp_path / "q.db"
    monkeypatch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:1])
    with Store.open(path) as old:
        old.sync_deck("d", ["a"])
    monkeypatch.undo()
    conn = sqlite3.connect(path)  # an answer as the first schema logged it (text key, deck, ISO dates)
    conn.execute(
        "INSERT INTO reviews (time, day, key, deck, kind, quality, typed, verdict, ef_before, ef_after,"
        " repetitions_before, repetitions_after, interval_before, interval_after, due_before, due_after,"
        " drill_before, drill_after, ms, previous_review) VALUES ('2024-03-01T09:30:00.000+00:00', '2024-03-01',"
        " 'd/a', 'd', 'new', 5, '', '', 2500, 2600, 0, 1, 0, 1, NULL, '2024-03-02', 0, 0, 1200, NULL)"
    )
    conn.execute(
        "UPDATE cards SET phase = 'review', ef_thousandths = 2600, repetitions = 1, interval = 1,"
        " due = '2024-03-02', last_review = 1"
    )
    conn.commit()
    conn.close()
    with Store.open(path) as store:
        assert store.schema_version == len(store_module.MIGRATIONS)
        assert store.card("d/a").state.repetitions == 1
        assert [(review.quality, review.seed, review.time) for review in store.history("d/a")] == [
            (5, None, "2024-03-01T09:30:00.000+00:00")
        ]
        assert store.trusted_projects() == []


# ---------------------------------------------------------------- decks and the queue


def test_sync_adds_new_cards_in_deck_order_and_is_a_no_op_when_unchanged(store):
    assert store.sync_deck("d", ["c", "a", "b"]) is True
    assert store.sync_deck("d", ["c", "a", "b"]) is False
    assert [c.card for c in store.new_cards("d", 10)] == ["c", "a", "b"]
    assert [c.card for c in store.new_cards("d", 2)] == ["c", "a"]
    assert store.card("d/a").state == NEW_CARD


def test_a_vanished_card_keeps_its_history_and_returns_with_it(store):
    store.sync_deck("d", ["a", "b"])
    answer(store, "d/a", 5)
    kept = store.card("d/a")
    store.sync_deck("d", ["b"])
    assert not store.card("d/a").present
    assert store.learning("d") == [] and store.due_reviews("d", DAY + timedelta(days=30), 10) == []
    assert store.counts("d", DAY).new == 1
    store.sync_deck("d", ["b", "a"])
    back = store.card("d/a")
    assert back.present and back.state == kept.state and back.last_review == kept.last_review
    assert back.position == 1


def test_due_reviews_oldest_first_then_deck_order_within_the_limit(store):
    store.sync_deck("d", ["a", "b", "c", "e"])
    for key, first_day in [("d/a", DAY), ("d/b", DAY - timedelta(days=3)), ("d/c", DAY - timedelta(days=3))]:
        answer(store, key, 4, today=first_day)  # due the next day
    answer(store, "d/e", 4, today=DAY + timedelta(days=5))
    due = store.due_reviews("d", DAY + timedelta(days=1), 10)
    assert [c.card for c in due] == ["b", "c", "a"]
    assert [c.card for c in store.due_reviews("d", DAY + timedelta(days=1), 2)] == ["b", "c"]
    assert store.counts("d", DAY + timedelta(days=1)).due == 3


def test_learning_holds_lapsed_and_drilling_cards(store):
    store.sync_deck("d", ["a", "b", "c"])
    answer(store, "d/a", 1)
    answer(store, "d/b", 3)
    answer(store, "d/c", 4)
    assert [c.card for c in store.learning("d")] == ["a", "b"]
    assert store.counts("d", DAY) == store_module.DeckCounts("d", due=0, learning=2, new=0)


def test_suspended_cards_are_never_queued(store):
    store.sync_deck("d", ["a", "b"])
    store.set_suspended("d/a", True)
    assert [c.card for c in store.new_cards("d", 10)] == ["b"]
    store.set_suspended("d/a", False)
    assert [c.card for c in store.new_cards("d", 10)] == ["a", "b"]


@pytest.mark.parametrize("method", ["due_reviews", "learning", "new_cards", "history"])
def test_queue_and_history_queries_read_an_index_not_the_table(store, monkeypatch, method):
    plans = []
    real_execute = store._conn.execute

    class Spy:
        def execute(self, sql, params=()):
            if sql.startswith("SELECT"):
                plans.extend(row[-1] for row in real_execute("EXPLAIN QUERY PLAN " + sql, params))
            return real_execute(sql, params)

    monkeypatch.setattr(store, "_conn", Spy())
    args = {"due_reviews": ("d", DAY, 5), "learning": ("d",), "new_cards": ("d", 5), "history": ("d/a",)}[method]
    getattr(store, method)(*args)
    if method == "history":  # the card's answers by its index, each joined to the card row by its integer key
        assert any("USING INDEX reviews_card" in plan for plan in plans), plans
        assert not any(plan.startswith("SCAN") for plan in plans), plans
    else:
        assert plans and all("USING INDEX cards_queue" in plan for plan in plans), plans
    assert not any("TEMP B-TREE" in plan for plan in plans), plans


# ---------------------------------------------------------------- answers and undo


def test_an_answer_updates_the_state_and_appends_the_log(store):
    store.sync_deck("d", ["a"])
    review = answer(store, "d/a", 5, typed="112", verdict="correct", ms=1234)
    after = CardState(2600, 1, 1, DAY + timedelta(days=1))
    assert (review.before, review.after, review.kind) == (NEW_CARD, after, "new")
    assert store.card("d/a").state == after and store.card("d/a").last_review == review.id
    logged = store.review(review.id)
    assert logged == review
    assert (logged.typed, logged.verdict, logged.ms) == ("112", "correct", 1234)
    assert logged.time == "2024-03-01T09:30:00.000+00:00"
    second = answer(store, "d/a", 4, today=DAY + timedelta(days=1))
    assert (second.kind, second.previous_review, second.before) == ("review", review.id, after)


_OFFSETS = st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59))


@given(
    moment=st.datetimes(
        timezones=st.none() | st.timezones() | st.builds(timezone, _OFFSETS),
        allow_imaginary=False,
    )
)
@example(datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))))  # UTC is before year 1: kept as text
@example(datetime(9999, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-1))))
@example(datetime(9999, 12, 31, 23, 59, 59, 999999))
def test_an_answer_s_time_columns_are_those_its_text_reads_back_from(moment):
    """`_answer_time` encodes `now` without parsing its text back: the same columns as `_time_columns` of the text,
    for naive moments, zones, and offsets of whole seconds or with a fraction (kept as text)."""
    text, *columns = store_module._answer_time(moment)
    assert text == moment.isoformat(timespec="milliseconds")
    assert tuple(columns) == store_module._time_columns(text)
    offset = moment.utcoffset()
    try:  # the columns by datetime arithmetic, independently of the store's integer arithmetic
        utc = moment.replace(tzinfo=None) - (offset or timedelta())
        ms = (utc - datetime(1970, 1, 1)) // timedelta(milliseconds=1)
        expected = (ms, None if offset is None else offset // timedelta(seconds=1))
    except OverflowError:
        expected = (text, None)
    if offset is not None and offset % timedelta(seconds=1):
        expected = (text, None)
    assert tuple(columns) == expected


@pytest.mark.parametrize(
    "now",
    [
        datetime(2024, 3, 1, 9, 30, 12, 345678, tzinfo=ZoneInfo("Asia/Kathmandu")),  # +05:45
        datetime(2024, 3, 1, 9, 30, 12, 999999),  # naive
        datetime(1969, 12, 31, 23, 59, 59, 999500, tzinfo=timezone(timedelta(hours=-3, seconds=-7))),
        datetime(2024, 3, 1, 9, 30, tzinfo=timezone(timedelta(seconds=30, microseconds=5))),  # kept as text
    ],
)
def test_an_answer_s_time_reads_back_as_it_was_given(store, now):
    store.sync_deck("d", ["a"])
    review = store.record_answer("d/a", 4, today=DAY, now=now)
    assert review.time == now.isoformat(timespec="milliseconds")
    assert store.review(review.id) == review
    assert store.history("d/a") == [review]


def test_a_card_never_synced_can_still_be_answered(store):
    review = answer(store, "loose/card", 4)
    assert store.card("loose/card").deck == "loose"
    assert review.deck == "loose"


def test_a_failed_answer_leaves_neither_state_nor_log(store, monkeypatch):
    store.sync_deck("d", ["a"])
    monkeypatch.setattr(store_module, "_UPDATE_STATE", "UPDATE no_such_table SET x = ?")
    with pytest.raises(sqlite3.OperationalError):
        answer(store, "d/a", 5)
    assert store.db.execute("SELECT count(*) FROM reviews").fetchone()[0] == 0
    assert store.card("d/a").state == NEW_CARD


def test_invalid_quality_is_refused_before_anything_is_written(store):
    store.sync_deck("d", ["a"])
    with pytest.raises(ValueError):
        answer(store, "d/a", 7)
    assert store.db.execute("SELECT count(*) FROM reviews").fetchone()[0] == 0


def test_undo_restores_the_exact_previous_state_step_by_step(store):
    store.sync_deck("d", ["a"])
    states = [store.card("d/a")]
    reviews = []
    for quality, day in [(5, DAY), (3, DAY + timedelta(days=1)), (4, DAY + timedelta(days=1)), (1, DAY + timedelta(7))]:
        reviews.append(answer(store, "d/a", quality, today=day))
        states.append(store.card("d/a"))
    for review, previous in zip(reversed(reviews), reversed(states[:-1]), strict=True):
        assert store.undo(review.id) == previous
        assert store.review(review.id).undone
    assert store.card("d/a") == states[0]
    assert store.db.execute("SELECT count(*) FROM reviews").fetchone()[0] == 4, "the log keeps undone rows"
    assert store.answered_on(DAY, "d") == {}


def test_undo_refuses_out_of_order_and_twice(store):
    store.sync_deck("d", ["a"])
    first = answer(store, "d/a", 5)
    second = answer(store, "d/a", 1)
    with pytest.raises(StoreError, match="answered again since"):
        store.undo(first.id)
    store.undo(second.id)
    with pytest.raises(StoreError, match="already undone"):
        store.undo(second.id)
    with pytest.raises(StoreError, match="not in the log"):
        store.undo(12345)


def test_answered_on_counts_by_kind_for_daily_limits(store):
    store.sync_deck("d", ["a", "b", "c"])
    answer(store, "d/a", 4)
    answer(store, "d/b", 3)
    answer(store, "d/b", 5)
    answer(store, "d/c", 1)
    answer(store, "d/c", 4)
    answer(store, "d/a", 4, today=DAY + timedelta(days=1))
    assert store.answered_on(DAY, "d") == {"new": 3, "drill": 1, "learning": 1}
    assert store.answered_on(DAY + timedelta(days=1), "d") == {"review": 1}
    assert store.answered_on(DAY, "other") == {}


def test_statistics_queries(store):
    store.sync_deck("d", ["a", "b"])
    answer(store, "d/a", 4)
    answer(store, "d/b", 4)
    answer(store, "d/a", 1, today=DAY + timedelta(days=1))
    answer(store, "d/b", 5, today=DAY + timedelta(days=1))
    per_day = store.reviews_per_day(DAY)
    assert [(c.day, c.reviews, c.passed) for c in per_day] == [(DAY, 2, 2), (DAY + timedelta(days=1), 2, 1)]
    assert store.retention(DAY) == (1, 2)
    assert store.retention(DAY, decks=["other"]) == (0, 0)
    forecast = store.forecast(DAY + timedelta(days=2), 7)
    assert forecast[DAY + timedelta(days=7)] == 1 and sum(forecast.values()) == 1


# ---------------------------------------------------------------- prefetch: the card being shown


def _read_syscalls() -> int:
    """Read system calls this process has made so far (pread included): what a page-cache miss costs."""
    line = next(line for line in Path("/proc/self/io").read_text().splitlines() if line.startswith("syscr:"))
    return int(line.split()[1])


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="counts read system calls in /proc/self/io")
def test_prefetch_puts_the_shown_cards_pages_in_the_writers_cache(tmp_path):
    """The answer to a prefetched card reads fewer pages from the file than the same answer without it."""
    built = tmp_path / "built.db"
    ids = [f"c{n}" for n in range(3000)]  # card rows and key index spread over many pages
    with Store.open(built) as store:
        store.sync_deck("d", ids)
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    reads = {}
    for prefetched in (False, True):
        path = tmp_path / f"{prefetched}.db"
        shutil.copy(built, path)
        with Store.open(path) as store:  # a fresh writer, its cache then warmed by an answer far away
            answer(store, "d/c0", 4)
            if prefetched:
                store.prefetch("d/c2999")
            before = _read_syscalls()
            answer(store, "d/c2999", 4)
            reads[prefetched] = _read_syscalls() - before
    assert reads[True] < reads[False], reads


def test_prefetch_holds_no_lock_or_snapshot_and_creates_nothing(store):
    store.sync_deck("d", ["a"])
    store.prefetch("d/a")
    store.prefetch("d/not-synced")
    assert not store.db.conn.in_transaction
    other = sqlite3.connect(store.path, isolation_level=None)
    try:  # a read left open would pin its snapshot: the WAL could not be checkpointed and truncated
        busy, _, _ = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0
    finally:
        other.close()
    assert [row[0] for row in store.db.execute("SELECT key FROM cards")] == ["d/a"]


# ---------------------------------------------------------------- crashes and concurrency

ANSWER_LOOP = textwrap.dedent(
    """
    import sys
    from datetime import date, datetime, timezone
    from quizzer.store import Store

    store = Store.open(sys.argv[1])
    name, count = sys.argv[2], int(sys.argv[3])
    store.sync_deck(name, [f"c{i}" for i in range(50)])
    for i in range(count):
        review = store.record_answer(
            f"{name}/c{i % 50}", 4 + i % 2, today=date(2024, 3, 1), now=datetime.now(timezone.utc), typed=str(i)
        )
        print("ack", review.id, flush=True)
    """
)


def run_answer_loop(db, name, count):
    return subprocess.Popen(
        [sys.executable, "-c", ANSWER_LOOP, str(db), name, str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkill_mid_run_keeps_the_file_sound_and_every_acknowledged_answer(tmp_path):
    db = tmp_path / "q.db"
    Store.open(db).close()
    process = run_answer_loop(db, "d", 100_000)
    acknowledged = []
    for line in process.stdout:
        acknowledged.append(int(line.split()[1]))
        if len(acknowledged) == 300:
            break
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    with Store.open(db) as store:
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        logged = {row[0] for row in store.db.execute("SELECT id FROM reviews")}
        assert set(acknowledged) <= logged
        # state and log moved together: every card's last review is the newest logged answer to it
        mismatched = store.db.execute(
            "SELECT count(*) FROM cards WHERE last_review IS NOT (SELECT max(id) FROM reviews WHERE card = cards.id)"
        ).fetchone()[0]
        assert mismatched == 0


def test_two_processes_answering_at_once_lose_nothing(tmp_path):
    db = tmp_path / "q.db"
    Store.open(db).close()
    processes = [run_answer_loop(db, "shared", 300) for _ in range(2)]
    outputs = [process.communicate(timeout=120) for process in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert out.count("ack") == 300
    with Store.open(db) as store:
        assert store.db.execute("SELECT count(*) FROM reviews").fetchone()[0] == 600
        # both processes answered the same 50 cards: no answer overwrote another's state
        total = store.db.execute("SELECT sum(repetitions) FROM cards WHERE deck = 'shared'").fetchone()[0]
        assert total == 600


def test_the_log_records_the_instance_and_knows_which_were_seen(store):
    store.sync_deck("d", ["p"])
    store.record_answer("d/p", 4, today=DAY, now=NOW, seed=7)
    undone = store.record_answer("d/p", 2, today=DAY, now=NOW, seed=9)
    store.record_answer("d/p", 5, today=DAY, now=NOW, seed=None)
    assert store.review(undone.id).seed == 9
    assert store.seen_instances("d/p") == [7, 9]
    store.undo(store.history("d/p")[-1].id)
    store.undo(undone.id)
    assert store.seen_instances("d/p") == [7]
