"""Settings kept in the state database: when the study day starts, and daily limits per deck.

A deck's limits here override its deck file's `new_per_day` / `reviews_per_day`; a blank field
defers to the deck file (shown as the placeholder), else the defaults (20 new, 200 reviews).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Button, Input, Static

from quizzer.review.session import DEFAULT_NEW_PER_DAY, DEFAULT_REVIEWS_PER_DAY, DEFAULT_ROLLOVER_HOUR
from quizzer.review.tui.keys import TextInput
from quizzer.review.tui.widgets.footer import KeyFooter
from quizzer.review.tui.widgets.header import TitleBar
from quizzer.store import MAX_DAILY_LIMIT


class SettingsScreen(Screen):
    TITLE = "Settings"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def compose(self) -> ComposeResult:
        store, library = self.app.store, self.app.library
        hour = store.rollover_hour()
        yield TitleBar()
        with VerticalScroll(id="settings-body"):
            yield Static(
                "[b]The day starts at[/b] (hour 0–23): answers before it count for the day before, as in Anki.",
                classes="settings-help",
            )
            with Horizontal(classes="settings-row", id="settings-rollover-row"):
                yield TextInput(
                    "" if hour is None else str(hour),
                    placeholder=str(DEFAULT_ROLLOVER_HOUR),
                    id="rollover",
                    type="integer",
                    max_length=2,
                    compact=True,
                )
                yield Static(":00 (default 4)", classes="settings-unit")
            yield Static(
                "[b]Daily limits per deck[/b] — new cards / reviews. Blank: the deck file's value (shown grey),"
                f" else {DEFAULT_NEW_PER_DAY} / {DEFAULT_REVIEWS_PER_DAY}. Learning cards left from earlier days"
                " count as reviews.",
                classes="settings-help",
            )
            with Horizontal(classes="settings-row", id="settings-header-row"):
                yield Static("[b]deck[/b]", classes="settings-deck")
                yield Static("[b]new/day[/b]", classes="settings-limit")
                yield Static("[b]reviews/day[/b]", classes="settings-limit")
            for loaded in library.decks:
                deck = loaded.deck
                new, reviews = store.deck_limits(deck.id)
                with Horizontal(classes="settings-row"):
                    yield Static(deck.title, classes="settings-deck", markup=False)  # a title is no markup
                    yield _limit_input(f"new--{deck.id}", new, deck.new_per_day, DEFAULT_NEW_PER_DAY)
                    yield _limit_input(f"reviews--{deck.id}", reviews, deck.reviews_per_day, DEFAULT_REVIEWS_PER_DAY)
            with Horizontal(id="settings-buttons"):
                yield Button("Save", id="settings-save", variant="primary")
                yield Button("Cancel", id="settings-cancel")
            yield Static(id="settings-error")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#rollover", Input).focus()

    @on(Button.Pressed, "#settings-save")
    def action_save(self) -> None:
        """Check every field first; save all or nothing, then the app applies them at once."""
        hour_text = self.query_one("#rollover", Input).value.strip()
        if hour_text and not (len(hour_text) <= 2 and hour_text.isdecimal() and int(hour_text) < 24):
            return self._error(f"The day's start is an hour from 0 to 23, not {hour_text!r}.")
        limits = {}
        for loaded in self.app.library.decks:
            values = []
            for part in ("new", "reviews"):
                text = self.query_one(f"#{part}--{loaded.deck.id}", Input).value.strip()
                if text and not (len(text) <= 6 and text.isdecimal() and int(text) <= MAX_DAILY_LIMIT):
                    return self._error(f"{loaded.deck.title}: a limit is a whole number up to {MAX_DAILY_LIMIT}.")
                values.append(int(text) if text else None)
            limits[loaded.deck.id] = values
        store = self.app.store
        store.set_rollover_hour(int(hour_text) if hour_text else None)
        for deck_id, (new, reviews) in limits.items():
            store.set_deck_limits(deck_id, new, reviews)
        self.app.settings_changed()
        self.notify("Settings saved: they apply from now on.", title="Settings")
        self.dismiss()

    @on(Button.Pressed, "#settings-cancel")
    def action_back(self) -> None:
        self.dismiss()

    def _error(self, message: str) -> None:
        self.query_one("#settings-error", Static).update(f"[$text-error]{escape(message)}[/]")  # it names a deck title


def _limit_input(field_id: str, saved: int | None, from_deck: int | None, default: int) -> Input:
    """One deck's daily-limit field: the value saved here, else blank with what applies instead as its placeholder."""
    return TextInput(
        _shown(saved),
        placeholder=str(from_deck if from_deck is not None else default),
        id=field_id,
        classes="settings-limit",
        type="integer",
        max_length=6,
        compact=True,
    )


def _shown(value: int | None) -> str:
    return "" if value is None else str(value)
