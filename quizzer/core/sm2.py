"""SM-2, the SuperMemo-2 scheduling algorithm, as pure functions on a frozen card state.

The reading (DESIGN.md part 5) follows the open-spaced-repetition `sm-2` package, the most careful
public implementation, which itself follows Wozniak's 1987 description:

- quality q ∈ 0..5; a card starts with EF = 2.5, n = 0 repetitions, interval 0, never reviewed;
- q ≥ 3: EF' = max(1.3, EF + 0.1 − (5−q)(0.08 + 0.02(5−q))); n += 1; the interval is 1 day when
  n = 1, 6 days when n = 2, else ceil(I_prev × EF') with the EF *just updated*; due = today + I;
- q = 3 additionally starts a same-session drill: the card is asked again until it scores ≥ 4, and
  those drill answers change nothing (not EF, not n, not the interval or due date already set);
- q < 3: n = 0, EF unchanged, interval 0 and due today, so it is asked again in this session; that
  next answer is an ordinary repetition from n = 0 (q ≥ 3 → n = 1, I = 1, due tomorrow).

Two deliberate departures from the package: the due date is `today + I` (the package adds I to the
previous due date, which lets an overdue card come back already overdue), and intervals are capped
at `MAX_INTERVAL` so that a due date is always a representable date (no learner ever reaches it).

EF is kept in integer thousandths: every quantity in the EF update is a multiple of 0.001, so the
arithmetic is exact, whereas binary floats drift (2.5 + 5 × 0.1 != 3.0) and a drifted EF moves a
`ceil` across an integer, i.e. a whole day. `today` is always passed in: nothing here reads a clock.
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from typing import Literal, NamedTuple

INITIAL_EF = 2500
"""EF of a new card, in thousandths (2.5)."""
MIN_EF = 1300
"""The EF floor, in thousandths (1.3): below it intervals would grow too slowly to ever leave a hard card."""
MAX_INTERVAL = 36_500
"""A hundred years, in days: far beyond any learner, and small enough that `today + interval` is a date."""

QUALITY_MEANINGS = {
    5: "perfect response",
    4: "correct response after a hesitation",
    3: "correct response recalled with serious difficulty",
    2: "incorrect response; where the correct one seemed easy to recall",
    1: "incorrect response; the correct one remembered",
    0: "complete blackout",
}
"""Wozniak's wording of the six grades, shown to learners before they grade themselves."""

Phase = Literal["new", "learning", "review"]


class CardState(NamedTuple):
    """Where one card stands: what SM-2 needs to schedule its next answer.

    `due is None` means never answered. `drill` is set by a q = 3 answer until a drill answer ≥ 4.
    Immutable; a NamedTuple rather than a frozen dataclass, which costs twice as much to construct (every
    answer builds one, and the store's rows share them).
    """

    ef_thousandths: int = INITIAL_EF
    repetitions: int = 0
    interval: int = 0
    due: date | None = None
    drill: bool = False

    @property
    def ef(self) -> Fraction:
        return Fraction(self.ef_thousandths, 1000)

    @property
    def phase(self) -> Phase:
        """new: never answered; learning: to be asked again today (drill or lapse); review: scheduled."""
        if self.due is None:
            return "new"
        if self.drill or self.repetitions == 0:
            return "learning"
        return "review"

    def is_due(self, today: date) -> bool:
        return self.drill or (self.due is not None and self.due <= today)


NEW_CARD = CardState()


def check_quality(quality: int) -> int:
    if isinstance(quality, bool) or not isinstance(quality, int) or not 0 <= quality <= 5:
        raise ValueError(f"quality must be an integer from 0 to 5, not {quality!r}")
    return quality


def next_ef(ef_thousandths: int, quality: int) -> int:
    """EF' = max(1.3, EF + 0.1 − (5−q)(0.08 + 0.02(5−q))), all in thousandths."""
    return _next_ef(ef_thousandths, check_quality(quality))


def _next_ef(ef_thousandths: int, quality: int) -> int:
    miss = 5 - quality
    return max(MIN_EF, ef_thousandths + 100 - miss * (80 + 20 * miss))


def next_interval(previous_interval: int, repetitions: int, ef_thousandths: int) -> int:
    """Interval after the `repetitions`-th successful answer in a row, given the EF just updated."""
    if repetitions == 1:
        return 1
    if repetitions == 2:
        return 6
    ceiling = -(-previous_interval * ef_thousandths // 1000)  # exact ceil(I × EF) on integers
    return min(MAX_INTERVAL, ceiling)


def review(state: CardState, quality: int, today: date) -> CardState:
    """The state after answering `state` with `quality` on `today` (see the module docstring).

    Runs on every answer: the state is unpacked once and new states are built positionally (a
    NamedTuple's `_replace` or keyword arguments cost several times as much), quality checked once.
    """
    check_quality(quality)
    ef, repetitions, interval, due, drill = state
    if drill:
        return CardState(ef, repetitions, interval, due, False) if quality >= 4 else state
    if quality < 3:
        return CardState(ef, 0, 0, today, False)
    ef = _next_ef(ef, quality)
    repetitions += 1
    interval = next_interval(interval, repetitions, ef)
    return CardState(ef, repetitions, interval, today + timedelta(interval), quality == 3)
