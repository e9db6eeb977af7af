"""Pilot tests of daily use in the app: settings, custom study, the day rolling over while it runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from test_tui import DECKS, SIZE, TODAY, async_test, card_state, make_app, rows, seed, settle

from quizzer.session import Limits
from quizzer.store import Store


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@async_test
async def test_settings_screen_saves_the_rollover_hour_and_deck_limits(tmp_path):
    from quizzer.tui.app import QuizzerApp
    from quizzer.tui.screens.settings import SettingsScreen

    db = tmp_path / "q.db"
    app = QuizzerApp(db, [DECKS], auto_verify=False, bundled=DECKS, clock=Clock(datetime(2025, 3, 3, 5, tzinfo=UTC)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        assert app.focused.id == "rollover"
        await pilot.press("6")
        screen.query_one("#new--basics").value = "1"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, SettingsScreen)
        assert app.calendar.rollover_hour == 6 and app.today == TODAY - timedelta(days=1), "5 am is before 6"
        assert app.screen.outlooks[0].new == 1
    with Store.open(db) as store:
        assert store.rollover_hour() == 6 and store.deck_limits("basics") == (1, None)


@async_test
async def test_settings_refuse_a_bad_hour_and_save_nothing(tmp_path):
    from quizzer.tui.screens.settings import SettingsScreen

    db = tmp_path / "q.db"
    async with make_app(db).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await pilot.pause()
        screen = pilot.app.screen
        await pilot.press("2", "5")
        screen.query_one("#new--basics").value = "3"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(pilot.app.screen, SettingsScreen)
        assert "hour from 0 to 23" in str(screen.query_one("#settings-error").render())
    with Store.open(db) as store:
        assert store.rollover_hour() is None and store.deck_limits("basics") == (None, None)


@async_test
async def test_a_deck_with_nothing_due_offers_custom_study_and_cram_changes_no_schedule(tmp_path):
    from quizzer.tui.screens.custom import CustomStudyScreen
    from quizzer.tui.screens.review import ReviewScreen

    db = tmp_path / "q.db"
    seed(db)
    before = card_state(db, "basics/sum")
    async with make_app(db, limits=Limits(new_per_day=0, reviews_per_day=0)).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(pilot.app.screen, CustomStudyScreen), "offered instead of 'nothing to review'"
        await pilot.press(*"tag:arith", "enter")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, ReviewScreen) and screen.item.key == "basics/sum"
        assert screen.title == "Basics · cram"
        await pilot.press("1", "0", "enter")
        await pilot.press("5")
        await pilot.pause()
    assert card_state(db, "basics/sum") == before
    assert rows(db, "SELECT kind, quality FROM reviews WHERE key = 'basics/sum' AND day = ?", TODAY.isoformat()) == [
        ("cram", 5)
    ]


@async_test
async def test_review_ahead_from_the_custom_study_dialog(tmp_path):
    from quizzer.tui.screens.custom import CustomStudyScreen
    from quizzer.tui.screens.review import ReviewScreen

    db = tmp_path / "q.db"
    with Store.open(db) as store:
        store.sync_deck("basics", ["sum"])
        store.record_answer("basics/sum", 5, today=TODAY, now=datetime(2025, 3, 3, tzinfo=UTC))  # due tomorrow
    async with make_app(db, limits=Limits(new_per_day=0)).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(pilot.app.screen, CustomStudyScreen)
        pilot.app.screen.query_one("#ahead-days").value = "2"
        await pilot.click("#ahead")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ReviewScreen) and pilot.app.screen.item.key == "basics/sum"


@async_test
async def test_the_day_rolls_over_inside_the_running_app(tmp_path):
    from quizzer.tui.app import QuizzerApp
    from quizzer.tui.screens.review import ReviewScreen

    db = tmp_path / "q.db"
    seed(db)  # basics/sum due on TODAY
    clock = Clock(datetime(2025, 3, 2, 23, 0, tzinfo=UTC))  # the evening before
    app = QuizzerApp(db, [DECKS], clock=clock, limits=Limits(new_per_day=0), auto_verify=False, bundled=DECKS)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.outlooks[0].due == 0
        clock.now = datetime(2025, 3, 3, 3, 59, tzinfo=UTC)
        app.check_day()
        await pilot.pause()
        assert app.screen.outlooks[0].due == 0, "before 4 am it is still the day before"
        clock.now = datetime(2025, 3, 3, 4, 1, tzinfo=UTC)
        app.check_day()
        await pilot.pause()
        assert app.today == TODAY and app.screen.outlooks[0].due == 1
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen) and app.screen.item.key == "basics/sum"
