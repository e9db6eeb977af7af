import gc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from quizzer.cards.deck import Deck
from quizzer.cards.loader import load_deck
from quizzer.core.checking import Verdict
from quizzer.review import session as session_module
from quizzer.review.session import (
    CustomStudy,
    DuplicateDeckId,
    Elsewhere,
    Limits,
    Session,
    StudyDay,
    check_answer,
    outlook,
    statistics,
    suggested_grade,
    waiting_elsewhere,
)
from quizzer.store import Store, StoredCard, StoreError

DAY = date(2024, 3, 1)
NOW = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
FIXTURES = Path(__file__).parent / "fixtures"


def make_deck(deck_id, count, **settings):
    cards = [
        {"id": f"c{i}", "prompt": f"{i} + {i}?", "explanation": "sums", "answer": {"kind": "numeric", "value": 2 * i}}
        for i in range(count)
    ]
    return Deck.model_validate({"id": deck_id, "title": deck_id.title(), "cards": cards, **settings})


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "q.db") as opened:
        yield opened


def keys(session):
    """The queue's keys in order, without consuming it."""
    return [item.key for item in session._queue]


def grade_all(session, quality=4):
    while session.current is not None:
        session.grade(quality, now=NOW)


# ---------------------------------------------------------------- the day's queue


def test_queue_puts_due_reviews_oldest_first_then_new_cards_in_deck_order(store):
    alpha, beta = make_deck("alpha", 4), make_deck("beta", 3)
    store.sync_deck("alpha", [c.id for c in alpha.cards])
    store.sync_deck("beta", [c.id for c in beta.cards])
    for key, day in [("alpha/c2", DAY - timedelta(days=2)), ("beta/c1", DAY - timedelta(days=5)), ("alpha/c0", DAY)]:
        store.record_answer(key, 4, today=day - timedelta(days=1), now=NOW)  # due `day`
    session = Session(store, [alpha, beta], DAY)
    assert keys(session) == ["beta/c1", "alpha/c2", "alpha/c0", "alpha/c1", "alpha/c3", "beta/c0", "beta/c2"]
    assert session.current.card.id == "c1" and session.current.deck is beta


def test_learning_cards_from_an_earlier_day_come_back_with_the_due_ones(store):
    deck = make_deck("d", 3)
    store.sync_deck("d", [c.id for c in deck.cards])
    store.record_answer("d/c2", 1, today=DAY - timedelta(days=3), now=NOW)  # lapsed, never re-asked
    store.record_answer("d/c1", 3, today=DAY - timedelta(days=1), now=NOW)  # drill left unfinished
    assert keys(Session(store, [deck], DAY)) == ["d/c2", "d/c1", "d/c0"]


def test_daily_limits_default_per_deck_and_from_the_caller(store):
    big, small = make_deck("big", 30), make_deck("small", 10, new_per_day=3)
    session = Session(store, [big, small], DAY)
    assert session.remaining == 20 + 3
    assert Session(store, [big, small], DAY, Limits(new_per_day=5)).remaining == 10


def test_review_limit_caps_due_reviews(store):
    deck = make_deck("d", 10, reviews_per_day=4)
    store.sync_deck("d", [c.id for c in deck.cards])
    for card in deck.cards:
        store.record_answer(f"d/{card.id}", 4, today=DAY - timedelta(days=1), now=NOW)
    assert Session(store, [deck], DAY).remaining == 4
    assert Session(store, [deck], DAY, Limits(reviews_per_day=7)).remaining == 7


def test_a_second_sitting_the_same_day_continues_within_the_limits(store):
    deck = make_deck("d", 10, new_per_day=4)
    first = Session(store, [deck], DAY)
    first.grade(4, now=NOW)
    first.grade(5, now=NOW)
    second = Session(store, [deck], DAY)
    assert keys(second) == ["d/c2", "d/c3"]
    grade_all(second)
    assert Session(store, [deck], DAY).current is None
    assert Session(store, [deck], DAY + timedelta(days=1)).remaining == 4 + 4  # 4 due reviews, 4 new


def test_duplicate_deck_ids_are_refused(store):
    with pytest.raises(DuplicateDeckId, match="alpha"):
        Session(store, [make_deck("alpha", 1), make_deck("alpha", 2)], DAY)


def test_a_card_removed_from_its_deck_leaves_the_queue_and_returns_with_its_history(store):
    full = make_deck("d", 3)
    session = Session(store, [full], DAY)
    session.grade(5, now=NOW)
    state = store.card("d/c0").state
    trimmed = Deck.model_validate({**full.model_dump(), "cards": [c.model_dump() for c in full.cards[1:]]})
    tomorrow = DAY + timedelta(days=1)
    assert "d/c0" not in keys(Session(store, [trimmed], tomorrow))
    back = Session(store, [full], tomorrow)
    assert keys(back)[0] == "d/c0" and back.current.state == state


# ---------------------------------------------------------------- answering, grading, re-drill


def test_answer_checks_without_recording(store):
    session = Session(store, [make_deck("d", 2)], DAY)
    assert session.answer("0").status == "correct"
    assert session.answer("7").status == "incorrect"
    assert store.db.execute("SELECT count(*) FROM reviews").fetchone()[0] == 0
    assert session.current.key == "d/c0"


def test_grade_records_and_moves_on(store):
    session = Session(store, [make_deck("d", 2)], DAY)
    verdict = session.answer("0")
    review = session.grade(5, now=NOW, typed="0", verdict=verdict, ms=900)
    assert (review.key, review.verdict, review.typed, review.ms) == ("d/c0", "correct", "0", 900)
    assert session.current.key == "d/c1"
    assert store.card("d/c0").state.due == DAY + timedelta(days=1)


def test_quality_3_is_drilled_until_4_and_the_drill_changes_nothing_else(store):
    session = Session(store, [make_deck("d", 2)], DAY)
    first = session.grade(3, now=NOW)
    assert keys(session) == ["d/c1", "d/c0"]
    session.grade(4, now=NOW)
    assert session.current.key == "d/c0" and session.current.state.drill
    session.grade(2, now=NOW)
    assert keys(session) == ["d/c0"], "a drill below 4 comes back"
    assert store.card("d/c0").state == first.after
    session.grade(4, now=NOW)
    assert session.current is None
    final = store.card("d/c0").state
    assert not final.drill and (final.ef, final.repetitions, final.due) == (
        first.after.ef,
        first.after.repetitions,
        first.after.due,
    )


def test_quality_below_3_comes_back_and_restarts_from_zero(store):
    deck = make_deck("d", 1)
    store.sync_deck("d", ["c0"])
    store.record_answer("d/c0", 5, today=DAY - timedelta(days=7), now=NOW)
    store.record_answer("d/c0", 5, today=DAY - timedelta(days=6), now=NOW)  # n = 2, due in 6 days: today
    session = Session(store, [deck], DAY)
    lapse = session.grade(1, now=NOW)
    assert (lapse.after.repetitions, lapse.after.due, lapse.after.ef) == (0, DAY, lapse.before.ef)
    assert session.current.key == "d/c0"
    relearned = session.grade(4, now=NOW)
    assert (relearned.kind, relearned.after.repetitions, relearned.after.interval) == ("learning", 1, 1)
    assert session.current is None


# ---------------------------------------------------------------- undo and summary


def test_undo_is_multi_step_and_restores_exact_states_queue_and_summary(store):
    session = Session(store, [make_deck("d", 3)], DAY)
    before = {key: store.card(key) for key in ("d/c0", "d/c1", "d/c2")}
    queue = keys(session)
    session.grade(3, now=NOW)
    session.grade(1, now=NOW)
    session.grade(5, now=NOW)
    assert session.summary().answers == 3
    assert session.undo().key == "d/c2"
    assert session.undo().key == "d/c1"
    assert session.undo().key == "d/c0"
    assert not session.can_undo
    with pytest.raises(IndexError):
        session.undo()
    assert {key: store.card(key) for key in before} == before
    assert keys(session) == queue and session.summary().answers == 0
    assert store.answered_on(DAY, "d") == {}


def test_undo_refuses_when_another_process_answered_the_card_since(store, tmp_path):
    session = Session(store, [make_deck("d", 1)], DAY)
    session.grade(1, now=NOW)
    with Store.open(tmp_path / "q.db") as other:
        other.record_answer("d/c0", 4, today=DAY, now=NOW)
    with pytest.raises(StoreError):
        session.undo()
    assert session.can_undo


def test_summary_counts_the_sitting(store):
    deck = make_deck("d", 3)
    store.sync_deck("d", [c.id for c in deck.cards])
    store.record_answer("d/c2", 4, today=DAY - timedelta(days=1), now=NOW)
    session = Session(store, [deck], DAY)
    session.grade(5, now=NOW, verdict=Verdict("correct"), ms=1500)  # the review of c2
    session.grade(1, now=NOW, verdict=Verdict("incorrect"), ms=500)
    session.grade(4, now=NOW, ms=1000)
    session.grade(4, now=NOW)
    summary = session.summary()
    assert (summary.answers, summary.cards, summary.new, summary.reviews, summary.again) == (4, 3, 2, 1, 1)
    assert (summary.correct, summary.seconds, summary.remaining) == (1, 3.0, 0)
    assert summary.qualities == {1: 1, 4: 2, 5: 1}


# ---------------------------------------------------------------- checking helpers


def test_suggested_grade():
    assert suggested_grade(Verdict("correct")) == 4
    assert suggested_grade(Verdict("incorrect")) == 1
    assert suggested_grade(Verdict("unparsable")) is None
    assert suggested_grade(Verdict("self-graded")) is None


def test_check_answer_blank_reveals_and_odd_input_never_raises():
    deck = load_deck(FIXTURES / "scheduling-decks" / "alpha.toml").deck
    for card in deck.cards:
        blank = check_answer(card, "")
        expected = "self-graded" if card.answer.kind in ("code", "text") else "incorrect"
        assert blank.status == expected
        for odd in ("(" * 500, "9" * 5000, "2**2**2**2**2**2", "\x00", "torch.Size(", "1/0"):
            verdict = card.answer.check(odd)  # raises if the checker crashes: no catch-all here
            assert verdict.status == expected.replace("incorrect", "unparsable"), (card.answer.kind, odd, verdict)
            assert verdict.message and not verdict.message.startswith("cannot check")
            assert check_answer(card, odd) == verdict


# ---------------------------------------------------------------- outlook and statistics


def test_outlook_counts_after_limits(store):
    deck = make_deck("d", 30, new_per_day=5)
    store.sync_deck("d", [c.id for c in deck.cards])
    store.record_answer("d/c0", 4, today=DAY - timedelta(days=1), now=NOW)
    store.record_answer("d/c1", 1, today=DAY, now=NOW)
    [row] = outlook(store, [deck], DAY)
    assert (row.due, row.learning, row.new, row.due_total, row.new_total) == (1, 1, 4, 1, 28)
    assert row.new == 4, "one new card was already introduced today"


def test_statistics_fill_every_day(store):
    store.record_answer("d/a", 4, today=DAY - timedelta(days=2), now=NOW)
    store.record_answer("d/a", 1, today=DAY, now=NOW)
    report = statistics(store, DAY, 3)
    assert [(c.day, c.reviews, c.passed) for c in report.history] == [
        (DAY - timedelta(days=2), 1, 1),
        (DAY - timedelta(days=1), 0, 0),
        (DAY, 1, 0),
    ]
    assert report.retention_recent == (0, 1) and report.retention_all == (0, 1)
    assert list(report.forecast) == [DAY, DAY + timedelta(days=1), DAY + timedelta(days=2)]


def test_a_deck_synced_by_another_process_in_another_version_is_synced_back(store):
    deck = make_deck("d", 3)
    assert keys(Session(store, [deck], DAY)) == ["d/c0", "d/c1", "d/c2"]
    store.sync_deck("d", ["c2", "c1"])  # e.g. `quizzer due` on an edited deck file, in another process
    assert keys(Session(store, [deck], DAY)) == ["d/c0", "d/c1", "d/c2"]


def test_card_ids_are_listed_once_per_deck_object_and_forgotten_with_it(store):
    deck = make_deck("d", 3)
    Session(store, [deck], DAY)
    key = id(deck)
    assert key in session_module._CARD_IDS
    del deck
    gc.collect()
    assert key not in session_module._CARD_IDS


def test_skip_moves_the_current_card_back_without_recording(store):
    session = Session(store, [make_deck("d", 3)], DAY)
    assert session.skip().key == "d/c1"
    assert keys(session) == ["d/c1", "d/c2", "d/c0"]
    assert store.db.execute("SELECT count(*) FROM reviews").fetchone()[0] == 0


# ---------------------------------------------------------------- pinned after mutation testing (issue 16)


def test_reviews_answered_earlier_today_use_up_the_review_allowance(store):
    deck = make_deck("d", 4, reviews_per_day=3)
    store.sync_deck("d", [c.id for c in deck.cards])
    for i in range(4):
        store.record_answer(f"d/c{i}", 4, today=DAY - timedelta(days=1), now=NOW)  # all due today
    first = Session(store, [deck], DAY)
    assert first.remaining == 3
    first.grade(4, now=NOW)
    first.grade(4, now=NOW)
    assert Session(store, [deck], DAY).remaining == 1, "two of today's three reviews are used"


def test_the_apps_review_limit_for_a_deck_comes_before_the_deck_files():
    deck = make_deck("d", 1, new_per_day=7, reviews_per_day=9)
    assert Limits().for_deck(deck, (None, 5)) == (7, 5)
    assert Limits().for_deck(deck, (3, None)) == (3, 9)
    assert Limits(reviews_per_day=2).for_deck(deck, (None, 5)) == (7, 2)


def test_duplicate_deck_ids_are_all_named():
    decks = [make_deck("b", 1), make_deck("a", 1), make_deck("b", 1), make_deck("a", 1)]
    with pytest.raises(DuplicateDeckId) as raised:
        outlook(None, decks, DAY)
    assert str(raised.value) == "deck id a, b is used by more than one deck file; rename one"


def test_a_stored_row_from_another_version_of_the_deck_is_not_queued():
    deck = make_deck("d", 2)
    row = StoredCard("d/c1", "d", "c1", 1, True, False, None, None)
    assert session_module._queued(deck, row).card.id == "c1"
    assert session_module._queued(deck, row._replace(position=2)) is None  # past the end
    assert session_module._queued(deck, row._replace(position=0)) is None  # another card sits there


def test_outlook_rows_name_their_deck(store):
    [row] = outlook(store, [make_deck("dice", 1)], DAY)
    assert (row.deck, row.title) == ("dice", "Dice")


def test_an_unchanged_deck_is_not_synced_again(store, monkeypatch):
    deck = make_deck("d", 3)
    session_module.sync_deck(store, deck)
    calls = []
    monkeypatch.setattr(store, "sync_deck", lambda *args: calls.append(args))
    session_module.sync_deck(store, deck)
    assert calls == []


def test_statistics_cover_the_named_decks_and_a_30_day_window(store):
    a, b = make_deck("a", 3), make_deck("b", 1)
    store.sync_deck("a", [c.id for c in a.cards])
    store.sync_deck("b", [c.id for c in b.cards])
    store.record_answer("a/c0", 4, today=DAY - timedelta(days=60), now=NOW)
    store.record_answer("a/c0", 1, today=DAY - timedelta(days=29), now=NOW)  # inside the 30 days
    store.record_answer("a/c1", 4, today=DAY - timedelta(days=31), now=NOW)
    store.record_answer("a/c1", 4, today=DAY - timedelta(days=30), now=NOW)  # just outside
    store.record_answer("b/c0", 4, today=DAY - timedelta(days=1), now=NOW)
    store.record_answer("b/c0", 4, today=DAY, now=NOW)
    only_a = statistics(store, DAY, 7, ["a"])
    assert only_a.retention_recent == (0, 1) and only_a.retention_all == (1, 2)
    assert sum(day.reviews for day in only_a.history) == 0
    only_b = statistics(store, DAY, 7, ["b"])
    assert sum(only_b.forecast.values()) == 1, "b's card falls due this week"
    both = statistics(store, DAY, 7)
    assert both.retention_recent == (1, 2) and sum(day.reviews for day in both.history) == 2
    assert sum(both.forecast.values()) == sum(only_a.forecast.values()) + 1


@pytest.mark.parametrize(
    "waiting,shown",
    [
        (Elsewhere(2, 1, 1), "2 due and 1 new cards in 1 other deck"),
        (Elsewhere(1, 1, 3), "1 due and 1 new cards in 3 other decks"),
        (Elsewhere(2, 0, 1), "2 due cards in 1 other deck"),
        (Elsewhere(1, 0, 1), "1 due card in 1 other deck"),
        (Elsewhere(0, 1, 2), "1 new card in 2 other decks"),
    ],
)
def test_what_waits_elsewhere_is_said_in_words(waiting, shown):
    assert str(waiting) == shown


def test_learning_and_due_cards_elsewhere_are_counted_together(store):
    learning_and_new, new_only = make_deck("a", 3), make_deck("b", 2)
    store.sync_deck("a", [c.id for c in learning_and_new.cards])
    store.record_answer("a/c0", 1, today=DAY, now=NOW)  # lapsed today: learning
    store.record_answer("a/c1", 4, today=DAY - timedelta(days=1), now=NOW)  # due today
    assert waiting_elsewhere(store, [learning_and_new], DAY) == Elsewhere(2, 1, 1)
    only_learning = make_deck("c", 1)
    store.sync_deck("c", ["c0"])
    store.record_answer("c/c0", 1, today=DAY, now=NOW)
    assert waiting_elsewhere(store, [only_learning, new_only], DAY) == Elsewhere(1, 2, 2)


def test_an_empty_session_says_so():
    session = Session.__new__(Session)
    session._queue, session._undoable = [], []
    with pytest.raises(IndexError, match="^the session's queue is empty$"):
        session.grade(4, now=NOW)
    with pytest.raises(IndexError, match="^nothing to undo$"):
        session.undo()


def test_a_sitting_on_the_same_day_does_not_roll_over(store):
    session = Session(store, [make_deck("d", 2)], DAY, calendar=StudyDay(rollover_hour=4))
    assert session.advance(datetime(2024, 3, 1, 23, 0, tzinfo=UTC)) is False
    assert session.advance(datetime(2024, 3, 2, 5, 0, tzinfo=UTC)) is True and session.today == DAY + timedelta(days=1)


def test_a_grade_without_typed_text_or_verdict_logs_empty_strings(store):
    session = Session(store, [make_deck("d", 1)], DAY)
    review = session.grade(4, now=NOW)
    assert (review.typed, review.verdict) == ("", "")


def test_in_cram_a_three_is_not_asked_again_and_summaries_count_below_three(store):
    deck = make_deck("d", 2)
    cram = Session(store, [deck], DAY, custom=CustomStudy("cram"))
    cram.grade(3, now=NOW)
    cram.grade(2, now=NOW)
    assert keys(cram) == ["d/c1"], "only the 2 comes back"
    cram.grade(5, now=NOW)
    assert cram.summary().again == 1


def test_a_fixed_day_survives_reading_the_rollover_from_the_store(store):
    assert StudyDay.from_store(store, fixed=DAY) == StudyDay(4, DAY)
    assert StudyDay.from_store(store, fixed=DAY).of(datetime(2030, 1, 1, tzinfo=UTC)) == DAY


def test_a_deck_whose_counts_would_cancel_out_still_waits(store):
    learning_and_new, learning_and_due = make_deck("e", 2), make_deck("f", 2)
    store.sync_deck("e", ["c0", "c1"])
    store.record_answer("e/c0", 1, today=DAY, now=NOW)  # 1 learning, 1 new
    store.sync_deck("f", ["c0", "c1"])
    store.record_answer("f/c0", 1, today=DAY, now=NOW)  # 1 learning
    store.record_answer("f/c1", 4, today=DAY - timedelta(days=1), now=NOW)  # 1 due, no new
    assert waiting_elsewhere(store, [learning_and_new, learning_and_due], DAY) == Elsewhere(3, 1, 2)


def test_without_a_calendar_a_sitting_never_advances(store):
    session = Session(store, [make_deck("d", 1)], DAY)
    assert session.advance(datetime(2030, 1, 1, tzinfo=UTC)) is False and session.today == DAY


def test_a_rename_alone_changes_what_is_synced(store, monkeypatch):
    deck = make_deck("d", 2)
    session_module.sync_deck(store, deck)
    cards = [card.model_dump() for card in deck.cards]
    cards[1]["renamed_from"] = ["old-c1"]
    renamed = Deck.model_validate({"id": "d", "title": "D", "cards": cards})
    calls = []
    monkeypatch.setattr(store, "sync_deck", lambda *args: calls.append(args))
    session_module.sync_deck(store, renamed)
    assert calls == [("d", ("c0", "c1"), {"c1": ["old-c1"]})]


def test_an_edited_deck_replaces_the_queued_cards_keeping_progress(store):
    deck, other = make_deck("d", 3), make_deck("o", 3)  # o/c2: an id the edited d no longer has
    session = Session(store, [deck, other], DAY)
    session.grade(1, now=NOW)  # d/c0 lapses: asked again at the end
    cards = [card.model_dump() for card in deck.cards]
    cards[0]["prompt"] = "edited?"
    cards[1] = {**cards[1], "id": "c1-new", "renamed_from": ["c1"]}
    del cards[2]
    edited = Deck.model_validate({"id": "d", "title": "D", "cards": cards})
    session.replace_deck(edited)
    assert keys(session) == ["d/c1-new", "o/c0", "o/c1", "o/c2", "d/c0"], "c2 left d; c1 follows its rename"
    assert session._queue[4].card.prompt == "edited?" and session._queue[4].deck is edited
    assert session._queue[1].deck is other and session.decks == [edited, other]
    assert store.card("d/c1-new") is not None
    session.undo()
    assert keys(session) == ["d/c0", "d/c1-new", "o/c0", "o/c1", "o/c2"] and session.current.card.prompt == "edited?"
