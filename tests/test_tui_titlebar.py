"""The title bar (`TitleBar`), one widget drawing what Textual's Header drew: title, icon, tall form."""

from __future__ import annotations

from test_tui import SIZE, async_test, make_app, seed, settle

from quizzer.review.tui.widgets.header import CLOCK_WIDTH, ICON_WIDTH, TitleBar


def top_line(app, y: int = 0) -> str:
    return app.screen.query_one(TitleBar).render_line(y).text


@async_test
async def test_the_title_bar_shows_the_screens_title_and_follows_it(tmp_path):
    from quizzer.review.tui.screens.review import ReviewScreen

    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(TitleBar)
        line = top_line(app)
        assert len(line) == SIZE[0] and not bar.children
        title = "Decks — answers verified by code"
        middle = SIZE[0] - ICON_WIDTH - CLOCK_WIDTH
        assert line == " ⭘" + " " * (ICON_WIDTH - 2) + title.center(middle) + " " * CLOCK_WIDTH, line
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        before = top_line(app)
        assert "cards left" in before, before
        await pilot.press("1", "0", "enter", "4")
        await settle(pilot)
        after = top_line(app)
        assert "cards left" in after and after != before, (before, after)


@async_test
async def test_the_icon_opens_the_palette_and_a_click_on_the_title_makes_the_bar_tall(tmp_path):
    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(TitleBar)
        plain = {segment.style.bgcolor for segment in bar.render_line(0).crop(0, ICON_WIDTH)}
        await pilot.hover(TitleBar, offset=(2, 0))
        await pilot.pause()
        assert bar.tooltip == "Open the command palette"
        assert {segment.style.bgcolor for segment in bar.render_line(0).crop(0, ICON_WIDTH)} != plain
        await pilot.hover(TitleBar, offset=(30, 0))
        await pilot.pause()
        assert bar.tooltip is None
        assert {segment.style.bgcolor for segment in bar.render_line(0).crop(0, ICON_WIDTH)} == plain

        await pilot.click(TitleBar, offset=(30, 0))
        await settle(pilot)
        assert bar.has_class("-tall") and bar.size.height == 3
        assert "Decks" in top_line(app, 0) and "⭘" in top_line(app, 1) and "Decks" not in top_line(app, 1)
        await pilot.click(TitleBar, offset=(30, 1))
        await settle(pilot)
        assert not bar.has_class("-tall") and bar.size.height == 1

        await pilot.click(TitleBar, offset=(1, 0))
        await settle(pilot)
        assert app.screen.__class__.__name__ == "CommandPalette"
        assert not bar.has_class("-tall"), "the icon's click opens the palette only"
