"""The key bar (`KeyFooter`), one widget drawing the screen's keys: what each key does with the mouse."""

from __future__ import annotations

import pytest
from test_tui import async_test, make_app, seed, settle
from textual.app import App
from textual.binding import Binding

from quizzer.review.tui.widgets.footer import KeyFooter


def key_named(app, description):
    (key,) = [key for key in app.screen.query_one(KeyFooter).keys if key.description == description]
    return key


async def click_key(pilot, description) -> None:
    key = key_named(pilot.app, description)
    await pilot.click(KeyFooter, offset=(key.x + key.width // 2, 0))
    await pilot.pause()


@pytest.mark.parametrize("size", [(100, 30), (60, 20)])
@async_test
async def test_clicking_a_key_runs_it_on_every_screen(tmp_path, size):
    from quizzer.review.tui.screens.browser import BrowserScreen
    from quizzer.review.tui.screens.decks import DecksScreen
    from quizzer.review.tui.screens.help import HelpScreen
    from quizzer.review.tui.screens.review import ReviewScreen
    from quizzer.review.tui.screens.stats import StatsScreen
    from quizzer.review.tui.screens.summary import SummaryScreen

    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for description, kind in (("Browse", BrowserScreen), ("Stats", StatsScreen)):
            await click_key(pilot, description)
            await settle(pilot)
            assert isinstance(app.screen, kind), (description, app.screen)
            if kind is BrowserScreen:  # in the search box Escape goes to the list first, and the bar says so
                await click_key(pilot, "To the list")
                await settle(pilot)
            await click_key(pilot, "Back")
            await settle(pilot)
            assert isinstance(app.screen, DecksScreen), (description, app.screen)
        await click_key(pilot, "Help")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await settle(pilot)
        await click_key(pilot, "Review")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen) and app.screen.item.key == "basics/sum"
        await pilot.press("1", "0", "enter")
        await pilot.pause()
        assert app.screen.revealed and "Grade" in [key.description for key in app.screen.query_one(KeyFooter).keys]
        await pilot.press("4")
        await pilot.pause()
        await click_key(pilot, "End")
        await settle(pilot)
        assert isinstance(app.screen, SummaryScreen)
        if size[0] >= KeyFooter.NARROW:
            await click_key(pilot, "palette")
            await settle(pilot)
            assert app.screen.__class__.__name__ == "CommandPalette"


class Keys(App):
    BINDINGS = [
        Binding("x", "run('x')", "Ex", tooltip="Runs x"),
        Binding("y", "run('y')", "Why"),
        Binding("z", "off", "Off"),
        Binding("w", "hidden", "Hidden"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.ran: list[str] = []
        self.bells = 0
        self.hide_why = False

    def compose(self):
        yield KeyFooter()

    def action_run(self, what: str) -> None:
        self.ran.append(what)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "off":
            return None  # shown, disabled
        hidden = action == "hidden" or (action == "run" and parameters == ("y",) and self.hide_why)
        return not hidden

    def bell(self) -> None:
        self.bells += 1


def backgrounds(bar, key) -> set:
    return {segment.style.bgcolor for segment in bar.render_line(0).crop(key.x, key.right)}


@async_test
async def test_a_disabled_key_rings_the_hovered_key_is_highlighted_with_its_tooltip_and_keys_follow_bindings():
    app = Keys()
    async with app.run_test(size=(100, 5)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(KeyFooter)
        assert [key.description for key in bar.keys] == ["Ex", "Why", "Off", "palette"]
        await click_key(pilot, "Ex")
        await click_key(pilot, "Why")
        assert app.ran == ["x", "y"] and app.bells == 0
        await click_key(pilot, "Off")
        assert app.ran == ["x", "y"] and app.bells == 1
        off = key_named(app, "Off")
        assert not off.enabled and all(segment.style.dim for segment in bar.render_line(0).crop(off.x, off.right))

        ex, why = key_named(app, "Ex"), key_named(app, "Why")
        plain = backgrounds(bar, why)
        await pilot.hover(KeyFooter, offset=(ex.x + 1, 0))
        await pilot.pause()
        assert bar.tooltip == "Runs x" and backgrounds(bar, ex) != plain and backgrounds(bar, why) == plain
        await pilot.hover(KeyFooter, offset=(why.x + 1, 0))
        await pilot.pause()
        assert bar.tooltip is None and backgrounds(bar, ex) == plain and backgrounds(bar, why) != plain
        await pilot.hover(KeyFooter, offset=(60, 0))  # between the keys and the palette's
        await pilot.pause()
        assert bar.tooltip is None and backgrounds(bar, why) == plain

        app.hide_why = True
        app.screen.refresh_bindings()
        await pilot.pause()
        assert [key.description for key in bar.keys] == ["Ex", "Off", "palette"]
        assert "Why" not in bar.render_line(0).text and "Off" in bar.render_line(0).text


@async_test
async def test_help_is_shown_as_f1_while_a_text_box_takes_question_marks(tmp_path):
    """In an answer box `?` is typed (an answer may hold one), so the bar must name the key that opens help."""
    from textual.widgets import Input

    from quizzer.review.tui.screens.help import HelpScreen

    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert key_named(app, "Help").key_display == "?"
        await pilot.press("enter")
        await settle(pilot)
        review = app.screen
        assert isinstance(app.focused, Input)
        assert key_named(app, "Help").key_display == "F1"
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen is review and app.focused.value == "?"
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("backspace", "1", "0", "enter")  # revealed: the focus leaves the box, `?` is help again
        await pilot.pause()
        assert review.revealed and not isinstance(app.focused, Input)
        assert key_named(app, "Help").key_display == "?"
