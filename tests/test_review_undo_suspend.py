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


def test_undo_takes_back_the_redrill_copy_and_keeps_the_rest_of_the_queue_as_it_stands(store):  # noqa: F811
    session = Session(store, [make_deck("d", 3)], DAY)
    session.grade(1, now=at(DAY, 9))  # c0 lapses: queued again at the end
    assert keys(session) == ["d/c1", "d/c2", "d/c0"]
    session.skip()  # c1 to the back: a change of order made after the answer
    assert session.undo().key == "d/c0"
    assert keys(session) == ["d/c0", "d/c2", "d/c1"], "c0 once, first; the skip stands"
    assert store.card("d/c0").state.due is None


def test_an_undo_step_does_not_hold_a_copy_of_the_queue(store):  # noqa: F811
    """A sitting over a whole collection: what the undo stack keeps must not grow with the queue's length."""
    import tracemalloc

    cards, answers = 20_000, 10
    session = Session(store, [make_deck("d", cards, new_per_day=cards)], DAY)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for minute in range(answers):
            session.grade(4, now=at(DAY, 9, minute))
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    copies = answers * cards * 8  # bytes of one list of the queue's pointers per answer
    assert grown < copies / 10, f"{grown} bytes kept for {answers} answers: about a copy of the queue per answer"
