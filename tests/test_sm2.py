import math
from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quizzer.core.sm2 import MAX_INTERVAL, MIN_EF, NEW_CARD, CardState, next_ef, review

DAY = date(2024, 3, 1)


def schedule(grades, start=DAY):
    """Answer each grade on the day the card is due; return the states after each answer."""
    state, today, states = NEW_CARD, start, []
    for grade in grades:
        state = review(state, grade, today)
        states.append(state)
        today = state.due
    return states


@pytest.mark.parametrize(
    ("grades", "intervals", "efs"),
    [
        ([5] * 6, [1, 6, 17, 50, 150, 465], ["2.6", "2.7", "2.8", "2.9", "3", "3.1"]),
        ([4] * 6, [1, 6, 15, 38, 95, 238], ["2.5"] * 6),
        ([5, 5, 5, 0, 5, 5, 5], [1, 6, 17, 0, 1, 6, 19], ["2.6", "2.7", "2.8", "2.8", "2.9", "3", "3.1"]),
    ],
)
def test_golden_vectors_from_the_design(grades, intervals, efs):
    states = schedule(grades)
    assert [s.interval for s in states] == intervals
    assert [s.ef for s in states] == [Fraction(ef) for ef in efs]


def test_due_date_is_today_plus_interval():
    state = review(CardState(2500, 2, 6, DAY), 4, DAY + timedelta(days=10))
    assert state.interval == 15
    assert state.due == DAY + timedelta(days=25)


def test_a_lapse_restarts_from_zero_keeping_ef_and_is_due_today():
    before = CardState(2800, 3, 17, DAY)
    after = review(before, 1, DAY)
    assert after == CardState(2800, 0, 0, DAY)
    assert after.phase == "learning" and after.is_due(DAY)
    again = review(after, 4, DAY)
    assert (again.repetitions, again.interval, again.due) == (1, 1, DAY + timedelta(days=1))


def test_quality_3_schedules_once_then_drills_until_4():
    after = review(CardState(2500, 2, 6, DAY), 3, DAY)
    assert (after.ef_thousandths, after.repetitions, after.interval, after.drill) == (2360, 3, 15, True)
    assert after.phase == "learning" and after.is_due(DAY)
    for grade in (0, 1, 2, 3):
        assert review(after, grade, DAY) == after, "drill answers below 4 change nothing"
    done = review(after, 4, DAY)
    assert done == CardState(2360, 3, 15, DAY + timedelta(days=15))
    assert done.phase == "review" and not done.is_due(DAY)


def test_quality_3_on_a_new_card_is_due_tomorrow_after_the_drill():
    drilled = review(review(NEW_CARD, 3, DAY), 5, DAY)
    assert drilled == CardState(2360, 1, 1, DAY + timedelta(days=1))


@pytest.mark.parametrize("bad", [-1, 6, 2.5, "4", True, None])
def test_quality_outside_0_to_5_is_refused(bad):
    with pytest.raises(ValueError, match="quality"):
        review(NEW_CARD, bad, DAY)


# ---------------------------------------------------------------- properties

grades = st.lists(st.integers(0, 5), max_size=60)


def reachable_states(draw_grades, start=DAY):
    """All states along a run of answers, each given on the card's due date (or today when due today)."""
    state, today = NEW_CARD, start
    yield state
    for grade in draw_grades:
        state = review(state, grade, today)
        yield state
        if state.due > today:
            today = state.due


@given(grades)
def test_ef_never_below_the_floor(run):
    assert all(s.ef_thousandths >= MIN_EF for s in reachable_states(run))


@given(grades, st.integers(MIN_EF, 4000))
def test_quality_4_never_changes_ef(run, ef):
    assert next_ef(ef, 4) == ef
    for state in reachable_states(run):
        assert review(state, 4, state.due or DAY).ef_thousandths == state.ef_thousandths


@given(grades, st.integers(0, 2))
def test_quality_below_3_resets_repetitions_and_keeps_ef(run, grade):
    for state in reachable_states(run):
        if state.drill:
            continue
        after = review(state, grade, DAY)
        assert after.repetitions == 0 and after.ef_thousandths == state.ef_thousandths


@given(grades)
def test_intervals_are_whole_days_at_least_one_after_a_success(run):
    for before, after in zip(reachable_states(run), list(reachable_states(run))[1:], strict=False):
        assert isinstance(after.interval, int)
        if after.repetitions > 0:
            assert 1 <= after.interval <= MAX_INTERVAL
        if not before.drill and after.repetitions == 0:
            assert after.interval == 0


@given(st.lists(st.integers(3, 5), min_size=1, max_size=200))
def test_intervals_stay_exact_after_many_reviews(run):
    """Against a reference in `Fraction`s, written from the formulas rather than from the module."""
    ef, interval, repetitions, drill = Fraction(5, 2), 0, 0, False
    state, today = NEW_CARD, DAY
    for grade in run:
        state = review(state, grade, today)
        if drill:
            drill = grade < 4
        else:
            miss = 5 - grade
            ef = max(Fraction(13, 10), ef + Fraction(1, 10) - miss * (Fraction(8, 100) + Fraction(2, 100) * miss))
            repetitions += 1
            interval = {1: 1, 2: 6}.get(repetitions) or min(MAX_INTERVAL, math.ceil(interval * ef))
            drill = grade == 3
        assert (state.ef, state.repetitions, state.interval, state.drill) == (ef, repetitions, interval, drill)
