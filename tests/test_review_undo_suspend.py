"""Undo in a sitting that crossed the 4 am rollover, and suspending the current card (undoable)."""

from datetime import timedelta

from test_daily import DAY, at, keys, make_deck, store  # noqa: F401  (store is a fixture)

from quizzer.review.session import Session, StudyDay

TOMORROW = DAY + timedelta(days=1)


def test_undo_after_the_rollover_gives_back_the_new_days_queue(store):  # noqa: F811
    deck = make_deck("d", 4, new_per_day=2)
    session = Session(store, [deck], DAY, calendar=StudyDay())
    session.grade(4, now=at(DAY, 23))  # c0, the evening before
    session.grade(4, now=at(TOMORROW, 9))  # c1, after 4 am: the new day's queue is c0 (due) and c2 (new)
    assert keys(session) == ["d/c0", "d/c2"]
    assert session.undo().key == "d/c1"
    assert keys(session) == ["d/c1", "d/c0", "d/c2"], "the new day's queue, not the evening's"
    assert store.card("d/c1").state.due is None
    assert session.undo().key == "d/c0", "the evening's answer is undone too"
    assert store.card("d/c0").state.due is None and session.today == TOMORROW
    assert keys(session) == ["d/c0", "d/c1"], "the new day's new cards, the undone one first"
    session.grade(4, now=at(TOMORROW, 9, 5))
    assert store.card("d/c0").state.due == TOMORROW + timedelta(days=1), "graded on the new day"


def test_suspending_the_current_card_takes_it_out_and_undo_brings_it_back(store):  # noqa: F811
    session = Session(store, [make_deck("d", 3)], DAY)
    session.grade(4, now=at(DAY, 9))
    assert session.suspend_current().key == "d/c1"
    assert keys(session) == ["d/c2"] and store.card("d/c1").suspended
    assert session.summary().answers == 1, "a suspension is not an answer"
    assert session.undo().key == "d/c1"
    assert keys(session) == ["d/c1", "d/c2"] and not store.card("d/c1").suspended
    assert session.undo().key == "d/c0" and store.card("d/c0").state.due is None


def test_a_drilled_card_suspended_leaves_the_sitting_entirely(store):  # noqa: F811
    session = Session(store, [make_deck("d", 2)], DAY)
    session.grade(1, now=at(DAY, 9))  # c0 lapses: asked again at the end
    session.skip()  # c0 current again, c1 behind it
    assert keys(session) == ["d/c0", "d/c1"]
    session.suspend_current()
    assert keys(session) == ["d/c1"]
