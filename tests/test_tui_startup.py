"""Pilot tests of the app's start-up: the decks screen drawn from cached headers, the decks loaded whole after."""

from __future__ import annotations

import threading

from test_tui import DECKS, SIZE, async_test, make_app, seed, settle

from quizzer.cards.deckfiles import deck_files
from quizzer.cards.loader import load_deck
from quizzer.review.tui.library import Library


@async_test
async def test_a_key_pressed_before_the_decks_are_loaded_whole_is_not_lost(tmp_path, monkeypatch):
    """The counts are on screen before the decks are loaded whole: Enter then opens the review once they are."""
    from quizzer.review.tui.screens.decks import DecksScreen
    from quizzer.review.tui.screens.review import ReviewScreen

    monkeypatch.setenv("QUIZZER_HOME", str(tmp_path / "home"))
    for path in deck_files([DECKS]):
        load_deck(path, check_verifiers=False)  # cached: the app lists them from their headers
    release = threading.Event()
    load_whole = Library.loaded_whole

    def held(self, paths):
        release.wait(30)
        return load_whole(self, paths)

    monkeypatch.setattr(Library, "loaded_whole", held)
    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(100):
            await pilot.pause(0.02)
            if isinstance(app.screen, DecksScreen) and app.screen.outlooks:
                break
        assert app.listing is not None and not app.listing.whole and app.library is None
        assert [row.due for row in app.screen.outlooks if row.deck == "basics"] == [1]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DecksScreen)  # waiting for the decks, the key kept
        release.set()
        await settle(pilot)
        assert app.library is not None and app.library.whole
        assert isinstance(app.screen, ReviewScreen) and app.screen.item.key == "basics/sum"
