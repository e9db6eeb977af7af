"""Custom study: cram decks, a tag or a search (no schedule changes), or review ahead."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from quizzer.review.search import Query, SearchError, matching_keys
from quizzer.review.session import CustomStudy
from quizzer.review.tui.keys import TextInput

DEFAULT_AHEAD_DAYS = 7
MAX_AHEAD_DAYS = 3650


class CustomStudyScreen(ModalScreen[None]):
    """Offered by `c` on the decks screen, and instead of a sitting when a deck has nothing due."""

    BINDINGS = [Binding("escape", "dismiss", "Cancel")]

    def __init__(self, deck_ids: Sequence[str], *, nothing_due: bool = False) -> None:
        super().__init__()
        self.deck_ids = list(deck_ids)
        self.nothing_due = nothing_due

    def compose(self) -> ComposeResult:
        names = ", ".join(self.deck_ids) if len(self.deck_ids) <= 3 else f"{len(self.deck_ids)} decks"
        with Vertical(id="custom-dialog"):
            lead = f"[b]Nothing due in {names} today.[/b] Study anyway?" if self.nothing_due else ""
            yield Static(lead or f"[b]Custom study[/b] — {names}", id="custom-title")
            yield Static(
                "[b]Cram[/b]: ask cards now, due or not; answers are logged as cram and change no schedule.",
                classes="custom-help",
            )
            with Horizontal(classes="custom-row"):
                yield TextInput(placeholder="all cards, or tag:… / words / is:new", id="cram-query")
                yield Button("Cram", id="cram", variant="primary")
            yield Static("[b]Review ahead[/b]: reviews due in the next days, scheduled as if due today.",
                         classes="custom-help")  # fmt: skip
            with Horizontal(classes="custom-row"):
                yield TextInput(str(DEFAULT_AHEAD_DAYS), id="ahead-days", type="integer", max_length=4)
                yield Static("days", id="ahead-unit")
                yield Button("Review ahead", id="ahead")
            yield Static(id="custom-error")

    def on_mount(self) -> None:
        self.query_one("#cram-query", Input).focus()

    @on(Button.Pressed, "#cram")
    @on(Input.Submitted, "#cram-query")
    def _cram(self) -> None:
        app = self.app
        try:
            query = Query.parse(self.query_one("#cram-query", Input).value)
        except SearchError as error:
            self._error(str(error))
            return
        chosen = [(loaded.deck, loaded.deck.cards) for loaded in app.library.decks if loaded.deck.id in self.deck_ids]
        keys = matching_keys(app.store, chosen, query, app.today)
        if not keys:
            self._error("No card matches that search.")
            return
        self._start(CustomStudy("cram", keys=frozenset(keys)))

    @on(Button.Pressed, "#ahead")
    @on(Input.Submitted, "#ahead-days")
    def _ahead(self) -> None:
        text = self.query_one("#ahead-days", Input).value.strip()
        if len(text) > 4 or not text.isdecimal() or not 1 <= int(text) <= MAX_AHEAD_DAYS:
            self._error(f"Review ahead takes a number of days from 1 to {MAX_AHEAD_DAYS}.")
            return
        self._start(CustomStudy("ahead", days=int(text)))

    def _start(self, custom: CustomStudy) -> None:
        app, deck_ids = self.app, self.deck_ids
        self.dismiss()
        app.start_review(deck_ids, custom=custom)

    def _error(self, message: str) -> None:
        self.query_one("#custom-error", Static).update(f"[$text-error]{escape(message)}[/]")  # it quotes the query
