"""The app under every kind of theme Textual ships."""

from __future__ import annotations

from test_tui import SIZE, async_test, make_app, seed, settle

from quizzer.review.tui.widgets.header import TitleBar


def top_line(app) -> str:
    return app.screen.query_one(TitleBar).render_line(0).text


@async_test
async def test_the_ansi_themes_draw_every_screen(tmp_path):
    """The ANSI themes name their colours `ansi_red`, `ansi_default`: the badges handed them to Rich as they
    were, and choosing one (the palette's Change theme) ended the app with a ColorParseError."""
    from quizzer.review.tui.screens.review import ReviewScreen
    from quizzer.review.tui.screens.summary import SummaryScreen

    for theme in ("ansi-dark", "ansi-light"):
        db = tmp_path / f"{theme}.db"
        seed(db)
        app = make_app(db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            app.theme = theme
            await settle(pilot)
            assert "Decks" in top_line(app)
            for key in ("s", "escape", "b", "escape", "escape"):
                await pilot.press(key)
                await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ReviewScreen)
            await pilot.press("1", "0", "enter")
            await settle(pilot)
            await pilot.press("4")
            await settle(pilot)
            app.screen.finish()
            await settle(pilot)
            assert isinstance(app.screen, SummaryScreen) and app.return_code is None
