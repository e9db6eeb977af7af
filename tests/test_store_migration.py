"""Migration 7, the compact review log: a database at schema version 6 keeps its whole history.

tests/fixtures/state-v6.sql was written through the store of commit d60bda3 (schema 6) by
tests/fixtures/make_state_v6.py: answers on clocks in three time zones and a naive one, an undo, a
cram answer, review-ahead, instance seeds, a reset, a card gone from its deck, a card never synced, an
imported card, a verification, a trusted project, settings. state-v6-observed.json is what `observe`
read from it with that commit's store.
"""

import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from quizzer import store as store_module
from quizzer.store import ResetSince, Store

FIXTURES = Path(__file__).parent / "fixtures"
D = date(2024, 3, 1)


def observe(s: Store) -> dict:
    """Everything the store reads back from the log (the same function produced the golden file)."""
    out = {}
    for key in ["algebra/sum", "algebra/product", "algebra/old-name", "algebra/gone", "loose/card", "imported/carried"]:
        out[key] = [repr(s.card(key)), [repr(r) for r in s.history(key)], s.seen_instances(key)]
    out["reviews"] = [repr(s.review(i)) for i in range(1, 16)]
    out["answered"] = [
        dict(s.answered_on(D + timedelta(d), deck)) for d in range(0, 7) for deck in ("algebra", "loose", "imported")
    ]
    out["stats"] = [
        repr(s.reviews_per_day(date(2024, 1, 1))),
        s.retention(date(2024, 1, 1)),
        s.retention(date(2024, 1, 1), ["imported"]),
        s.retention_by_interval(date(2024, 1, 1)),
        repr(s.reviews_per_day(date(2024, 1, 1), ["algebra"])),
    ]
    out["absent"] = s.absent_with_history("algebra", ["sum", "product"])
    out["learning"] = [repr(s.learning("algebra", D, earlier=e)) for e in (False, True)]
    return json.loads(json.dumps(out, default=str))


@pytest.fixture
def migrated(tmp_path):
    path = tmp_path / "q.db"
    conn = sqlite3.connect(path)
    conn.executescript((FIXTURES / "state-v6.sql").read_text())
    conn.close()
    with Store.open(path) as store:
        yield store


def test_every_answer_reads_back_exactly_as_schema_6_read_it(migrated):
    assert migrated.schema_version == len(store_module.MIGRATIONS) == 7
    assert observe(migrated) == json.loads((FIXTURES / "state-v6-observed.json").read_text())


def test_the_log_repeats_no_card_text_and_keeps_two_indexes(migrated):
    columns = {row[1] for row in migrated.db.execute("PRAGMA table_info(reviews)")}
    assert "card" in columns and not columns & {"key", "deck"}
    indexes = {row[1] for row in migrated.db.execute("PRAGMA index_list(reviews)")}
    assert indexes == {"reviews_card", "reviews_day"}


def test_undo_rename_seeds_and_new_answers_work_on_a_migrated_history(migrated):
    store = migrated
    assert store.undo(4).state == store.history("algebra/product")[-1].after  # back to after answer 3
    with pytest.raises(ResetSince):
        store.undo(10)  # the last answer to "gone", which was reset before the migration
    kept = store.history("algebra/old-name")
    store.sync_deck("algebra", ["sum", "product", "new-name"], renames={"new-name": ["old-name"]})
    moved = store.history("algebra/new-name")
    assert [(r.id, r.time, r.quality, r.seed) for r in moved] == [(r.id, r.time, r.quality, r.seed) for r in kept]
    assert store.history("algebra/old-name") == [] and store.seen_instances("algebra/new-name") == [7, 9]
    now = datetime(2024, 3, 8, 9, 0, tzinfo=UTC)
    answer = store.record_answer("algebra/sum", 4, today=D + timedelta(7), now=now, seed=3)
    assert answer.previous_review == 2 and store.review(answer.id) == answer
    assert store.verification("algebra/sum").cache_key == "ck1"
    assert store.trusted_projects() == ["/projects/course"] and store.rollover_hour() == 4
    assert store.deck_limits("algebra") == (5, 50)


def test_legacy_values_that_are_not_quizzer_s_own_are_kept_as_they_were(tmp_path):
    path = tmp_path / "q.db"
    conn = sqlite3.connect(path)
    conn.executescript((FIXTURES / "state-v6.sql").read_text())
    conn.execute(  # a hand-edited row: odd time and words, and a card that has no card row
        "INSERT INTO reviews (id, time, day, key, deck, kind, quality, typed, verdict, undone)"
        " VALUES (99, 'yesterday', '2024-03-01', 'other/odd', 'other', 'mystery', 4, 'x', 'partial', 0)"
    )
    conn.commit()
    conn.close()
    with Store.open(path) as store:
        odd = store.review(99)
        assert (odd.time, odd.kind, odd.verdict) == ("yesterday", "mystery", "partial")
        assert (odd.key, odd.deck) == ("other/odd", "other")
        assert not store.card("other/odd").present  # given an absent card row: never queued, history kept


def test_the_review_log_view_reads_like_the_objects(migrated):
    store = migrated
    store.sync_deck("v", ["c"])
    now = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    for kind in store_module._KINDS:
        for verdict in store_module._VERDICTS:
            store.record_answer("v/c", 4, today=D, now=now, kind=kind, verdict=verdict)
    objects = [store.review(id_) for (id_,) in store.db.execute("SELECT id FROM reviews ORDER BY id")]
    view = store.db.execute("SELECT key, day, kind, verdict, due_after FROM review_log ORDER BY id").fetchall()
    assert view == [(r.key, r.day.isoformat(), r.kind, r.verdict, r.after.due.isoformat()) for r in objects]
