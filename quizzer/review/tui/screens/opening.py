"""What `quizzer cram` shows while the decks load whole: the sitting opens in its place, not the decks screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import LoadingIndicator, Static

from quizzer.review.tui.widgets.footer import KeyFooter
from quizzer.review.tui.widgets.header import TitleBar


class OpeningScreen(Screen):
    """The app's first screen for `quizzer cram`, until the decks are loaded whole; then the decks screen
    is pushed over it and the sitting over that, so ending the sitting goes back to the decks. (It stays
    at the bottom of the stack, never shown again: Textual cannot switch away from a default screen.)"""

    TITLE = "Custom study"

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(f"Opening {self.what}…", id="opening-line")
        yield LoadingIndicator()
        yield KeyFooter()
