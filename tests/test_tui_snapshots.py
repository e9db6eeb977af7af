"""SVG snapshots of every screen at fixed sizes (pytest-textual-snapshot; `--snapshot-update` to accept).

Same determinism as the pilot tests: fixed day and clock, fixture decks, cached verification
records written by the test (fixed dates and torch version), no background verification.
"""

from __future__ import annotations

from datetime import timedelta

from test_tui import NOW, TODAY, make_app, record_verifications, seed, settle
from textual.widgets import Input

from quizzer.review.session import Limits
from quizzer.store import Store

WIDE = (100, 30)
NARROW = (80, 24)


def history(db) -> None:
    """Three weeks of answers, so the statistics and the browser have something to show."""
    seed(db)
    with Store.open(db) as store:
        store.sync_deck("extra", ["double", "snippet"])
        for days_ago, key, quality in [
            (20, "basics/convex", 5), (20, "basics/either", 4), (19, "basics/convex", 4),
            (19, "basics/either", 2), (18, "basics/either", 4), (14, "basics/convex", 3),
            (13, "extra/double", 5), (12, "extra/double", 5), (6, "extra/double", 4),
            (5, "basics/either", 5), (4, "basics/activation", 1), (4, "basics/activation", 4),
        ]:  # fmt: skip
            day = TODAY - timedelta(days=days_ago)
            store.record_answer(key, quality, today=day, now=NOW - timedelta(days=days_ago), typed="x", verdict="")
        store.set_suspended("extra/snippet", True)


def steady(pilot) -> None:
    """A solid cursor: a blinking one would make the snapshot depend on timing."""
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False


async def scrolled_still(pilot) -> None:
    """Until no scroll offset changes across a refresh: a revealed card scrolls to its verdict as the layout
    above it settles, and a snapshot taken halfway showed the card 3 rows off (about 1 run in 5)."""
    previous = None
    for _ in range(50):  # the reveal follows the layout for at most 8 refreshes
        offsets = [(widget.scroll_x, widget.scroll_y) for widget in pilot.app.screen.query("*")]
        if offsets == previous:
            return
        previous = offsets
        await pilot.pause()
    raise AssertionError("the screen kept scrolling")


def run(*keys: str):
    async def before(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        steady(pilot)
        await pilot.pause()
        await scrolled_still(pilot)

    return before


def test_decks_screen(snap_compare, tmp_path):
    db = tmp_path / "q.db"
    seed(db)
    record_verifications(db)
    assert snap_compare(make_app(db), terminal_size=WIDE, run_before=run())


def test_decks_screen_narrow(snap_compare, tmp_path):
    db = tmp_path / "q.db"
    seed(db)
    record_verifications(db)
    assert snap_compare(make_app(db), terminal_size=NARROW, run_before=run())


def test_decks_screen_nothing_due(snap_compare, tmp_path):
    db = tmp_path / "q.db"
    seed(db)
    with Store.open(db) as store:
        store.record_answer("basics/sum", 5, today=TODAY, now=NOW)  # next due in 6 days
    assert snap_compare(make_app(db, limits=Limits(new_per_day=0)), terminal_size=WIDE, run_before=run())


def test_review_prompt(snap_compare, tmp_path):
    db = tmp_path / "q.db"
    seed(db)
    record_verifications(db)
    assert snap_compare(make_app(db), terminal_size=WIDE, run_before=run("enter", "1", "2"))


def test_review_revealed_with_verification(snap_compare, tmp_path):
    db = tmp_path / "q.db"
    seed(db)
    record_verifications(db)
    assert snap_compare(make_app(db), terminal_size=WIDE, run_before=run("enter", "1", "0", "enter"))


def test_review_revealed_narrow(snap_compare, tmp_path):
    db = tmp_path / "q.db"
    seed(db)
    record_verifications(db)
    keys = ("enter", "1", "0", "enter", "4", "(", "2", ",", "3", ")", "enter")  # a wrong shape, stale badge
    assert snap_compare(make_app(db), terminal_size=NARROW, run_before=run(*keys))


def test_review_disputed_card_before_answering(snap_compare, tmp_path):
    db = tmp_path / "q.db"
    record_verifications(db)  # extra/double: the card says 42, its verifier computed 41
    assert snap_compare(make_app(db), terminal_size=NARROW, run_before=run("down", "enter"))


def test_review_choice_card(snap_compare, tmp_path):
    db = tmp_path / "q.db"
    assert snap_compare(make_app(db), terminal_size=NARROW, run_before=run("enter", "ctrl+n", "ctrl+n"))


def test_session_summary(snap_compare, tmp_path):
    db = tmp_path / "q.db"
    seed(db)
    keys = ("enter", "1", "0", "enter", "3", "enter", "0", "1", "0", "enter", "5", "escape")
    assert snap_compare(make_app(db, limits=Limits(new_per_day=1)), terminal_size=WIDE, run_before=run(*keys))


def test_statistics(snap_compare, tmp_path):
    db = tmp_path / "q.db"
    history(db)
    assert snap_compare(make_app(db), terminal_size=WIDE, run_before=run("s"))


def test_browser(snap_compare, tmp_path):
    db = tmp_path / "q.db"
    history(db)
    record_verifications(db)
    keys = ("b", "down", "down", "down", "down")  # the first down leaves the search box for the list
    assert snap_compare(make_app(db), terminal_size=WIDE, run_before=run(*keys))


def test_browser_narrow(snap_compare, tmp_path):
    db = tmp_path / "q.db"
    history(db)
    keys = ("b", "down", "down", "down", "down", "down")
    assert snap_compare(make_app(db), terminal_size=NARROW, run_before=run(*keys))


def test_help(snap_compare, tmp_path):
    db = tmp_path / "q.db"
    assert snap_compare(make_app(db), terminal_size=WIDE, run_before=run("f1"))
