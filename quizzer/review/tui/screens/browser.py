"""The card browser: search by text, tag and deck; a card's schedule and history; suspend, unsuspend, reset."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, VerticalScroll
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import DataTable, Input, Markdown, Static

from quizzer.cards.deck import Card
from quizzer.cards.loader import LoadedDeck
from quizzer.core.safetext import shown
from quizzer.core.sm2 import CardState
from quizzer.review.search import Query, SearchError
from quizzer.review.tui.keys import TextInput
from quizzer.review.tui.widgets.badges import badge_text
from quizzer.review.tui.widgets.footer import KeyFooter
from quizzer.review.tui.widgets.header import TitleBar
from quizzer.review.tui.widgets.lists import ListTable
from quizzer.review.tui.widgets.mathmd import prepare
from quizzer.store import StoredCard


@dataclass(frozen=True)
class Entry:
    key: str
    loaded: LoadedDeck
    card: Card
    stored: StoredCard | None

    @property
    def state(self) -> CardState:
        return self.stored.state if self.stored else CardState()

    @property
    def suspended(self) -> bool:
        return bool(self.stored and self.stored.suspended)


DECK_WIDTH = 10
MIN_ID_WIDTH, MAX_ID_WIDTH = 12, 40
OTHER_COLUMNS_WIDTH = DECK_WIDTH + 9 + 6 + 4 + 4 + 2 * 6 - 4  # deck, state, due, EF, reps, cell padding

COLUMNS = (("Card", "card"), ("Deck", "deck"), ("State", "state"), ("Due", "due"), ("EF", "ef"), ("Reps", "reps"))


class BrowserScreen(Screen):
    """Every card of the loaded decks, filtered by the search box; details of the highlighted one."""

    TITLE = "Browse cards"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (96, "-wide")]
    """Only this screen's layout depends on the width class. On the app, every screen got the class at its
    first resize, after its first frame: the start-up screen's styles were all applied again and the
    whole screen drawn a second time."""
    BINDINGS = [
        Binding("escape", "leave_search", "To the list"),  # in the search box Escape leaves it first, as it says
        Binding("escape", "back", "Back"),  # from the list: back to where the browser was opened
        Binding("slash", "focus_search", "Search", key_display="/"),
        Binding("space", "toggle_suspend", "Suspend", key_display="space"),
        Binding("r", "reset", "Reset"),
        Binding("e", "edit", "Edit"),
        Binding("ctrl+r", "reverify", "Verify", show=False),
        Binding("down", "focus_table", "To the list", show=False),
    ]

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self.initial_query = query
        self.entries: dict[str, Entry] = {}
        self.shown: list[str] = []
        self._shown_id_width = 0

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with Horizontal(id="browser-bar"):
            yield TextInput(
                placeholder="words, tag:cnn, deck:backprop, is:due|new|learning|suspended",
                id="search",
            )
            yield Static(id="browser-count")
        with Container(id="browser-main"):
            yield ListTable(id="card-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="card-detail"):
                yield Static(id="detail-title")
                yield Static(id="detail-schedule")
                yield Static(id="detail-verification")
                yield Markdown(id="detail-prompt")
                yield Static("[b]History[/b]", id="detail-history-title")
                yield DataTable(id="detail-history", cursor_type="none", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#card-table", DataTable)
        history = self.query_one("#detail-history", DataTable)
        for label in ("Day", "q", "Typed", "", "Next"):
            history.add_column(label)
        self.watch(self.app, "verification_generation", self._show_detail, init=False)
        self.load_entries()
        key_query = self.initial_query if "/" in self.initial_query and ":" not in self.initial_query else ""
        search = self.query_one("#search", Input)
        search.value = "" if key_query else self.initial_query
        self.filter(select=key_query or None)
        (table if key_query else search).focus()  # typing goes to the search box, never to r(eset)

    # ------------------------------------------------------------------ data

    def load_entries(self) -> None:
        library = self.app.library
        store = self.app.store
        entries: dict[str, Entry] = {}
        for loaded in library.decks:
            stored = {row.card: row for row in store.deck_cards(loaded.deck.id)}
            for card in loaded.deck.cards:
                key = f"{loaded.deck.id}/{card.id}"
                entries[key] = Entry(key, loaded, card, stored.get(card.id))
        self.entries = entries

    def filter(self, select: str | None = None) -> None:
        count = self.query_one("#browser-count", Static)
        try:
            query = Query.parse(self.query_one("#search", Input).value)
        except SearchError as error:
            count.update(Text(str(error), style="bold red"))
            self.query_one("#search", Input).add_class("-invalid")
            return
        self.query_one("#search", Input).remove_class("-invalid")
        today = self.app.today
        table = self.query_one("#card-table", DataTable)
        current = select or self._highlighted()
        table.clear(columns=True)  # the Card column's width follows the table's (Due, EF and Reps must fit)
        id_width = self._shown_id_width = self._id_width()
        for label, key in COLUMNS:
            table.add_column(label, key=key, width=id_width if key == "card" else None)
        self.shown = [
            key
            for key, entry in self.entries.items()
            if query.matches(entry.loaded.deck.id, entry.card, entry.stored, today)
        ]
        for key in self.shown:
            table.add_row(*self._cells(self.entries[key]), key=key)
        count.update(f"{len(self.shown)} of {len(self.entries)} cards")
        if current in self.shown:
            table.move_cursor(row=self.shown.index(current))
        self._show_detail()

    def _cells(self, entry: Entry) -> list:
        state = entry.state
        today = self.app.today
        if entry.suspended:
            label = Text("suspended", style="dim italic")
        elif entry.stored is not None and not entry.stored.present:
            label = Text("absent", style="dim")
        else:
            label = Text(state.phase, style={"new": "", "learning": "bold", "review": ""}[state.phase])
        if state.due is None:
            due = Text("—", style="dim")
        else:
            layout = "%d %b" if state.due.year == today.year else "%b %Y"
            when = "today" if state.due == today else state.due.strftime(layout)
            due = Text(when, style="bold" if state.due <= today else "")
        return [
            _short(entry.card.id, self._id_width()),
            _short(entry.loaded.deck.id, DECK_WIDTH),
            label,
            due,
            f"{state.ef_thousandths / 1000:.2f}",
            str(state.repetitions),
        ]

    def _id_width(self) -> int:
        """What the Card column may take so that Due, EF and Reps always fit the table's width."""
        width = self.query_one("#card-table", DataTable).size.width or self.app.size.width
        return max(MIN_ID_WIDTH, min(MAX_ID_WIDTH, width - OTHER_COLUMNS_WIDTH))

    @on(ListTable.Resized, "#card-table")
    def _fit_columns(self) -> None:
        if self._shown_id_width != self._id_width():
            self.filter()

    def _highlighted(self) -> str | None:
        table = self.query_one("#card-table", DataTable)
        if not self.shown or table.cursor_row < 0 or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    def _refresh_entry(self, key: str) -> None:
        entry = self.entries[key]
        stored = self.app.store.card(key)
        self.entries[key] = Entry(key, entry.loaded, entry.card, stored)
        if key in self.shown:
            table = self.query_one("#card-table", DataTable)
            for (_, column), value in zip(COLUMNS, self._cells(self.entries[key]), strict=True):
                table.update_cell(key, column, value)
        self._show_detail()

    # ------------------------------------------------------------------ detail

    @on(DataTable.RowHighlighted, "#card-table")
    def _highlight(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        key = self._highlighted()
        detail = self.query_one("#card-detail", VerticalScroll)
        detail.display = key is not None
        if key is None:
            return
        entry = self.entries[key]
        card, state = entry.card, entry.state
        title = Text(key, style="bold")
        if card.source:
            title.append(f"  · {card.source}", style="dim")
        if card.tags:
            title.append("\n" + " ".join(f"#{tag}" for tag in card.tags), style="italic")
        self.query_one("#detail-title", Static).update(title)

        if entry.suspended:
            schedule = "[b]suspended[/b] — never queued until unsuspended (space)"
        elif state.phase == "new":
            schedule = "[b]new[/b] — not answered yet"
        else:
            schedule = (
                f"[b]{state.phase}[/b] · EF {state.ef_thousandths / 1000:.2f} · {state.repetitions} in a row"
                f" · interval {state.interval} d · due {state.due}" + (" · drilling" if state.drill else "")
            )
        answers = [
            escape(f"{'answer' if len(card.parts) == 1 else _short(part.label, 30)} ({part.answer.kind}):")
            + escape(f" {_short(part.answer.display())}")  # a deck's label and answer are no markup
            for part in card.parts
        ]
        self.query_one("#detail-schedule", Static).update("\n".join([schedule, *answers]))
        library = self.app.library
        verification = library.verification(key)
        self.query_one("#detail-verification", Static).update(
            badge_text(self.app, verification.badge, label=verification.label)
        )
        self.query_one("#detail-prompt", Markdown).update(prepare(card.prompt, entry.loaded.deck.macros))

        history = self.query_one("#detail-history", DataTable)
        history.clear()
        reviews = self.app.store.history(key)
        for review in reviews[-50:]:
            nxt = "today" if review.after.is_due(review.day) else f"+{review.after.interval} d"
            mark = {"correct": "✓", "incorrect": "✗", "self-graded": "~"}.get(review.verdict, "·")
            typed = Text(_short(shown(review.typed), 12) or "—")  # the database's text: no markup, no ESC
            history.add_row(review.day.strftime("%d %b %y"), str(review.quality), typed, mark, nxt)
        self.query_one("#detail-history-title", Static).update(
            f"[b]History[/b] ({len(reviews)} answers)" if reviews else "[b]History[/b] — never answered"
        )
        history.display = bool(reviews)

    # ------------------------------------------------------------------ actions

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self.filter()

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.query_one("#card-table", DataTable).focus()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("focus_table", "leave_search"):
            return self.query_one("#search", Input).has_focus
        if action == "back":
            return not self.query_one("#search", Input).has_focus  # the key bar shows what Escape does
        if action in ("toggle_suspend", "reset", "reverify", "edit"):
            if self.query_one("#search", Input).has_focus:
                return False
            return self._highlighted() is not None
        return True

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_back(self) -> None:
        self.dismiss()

    def action_leave_search(self) -> None:
        self.query_one("#card-table", DataTable).focus()

    def action_toggle_suspend(self) -> None:
        key = self._highlighted()
        if key is None:
            return
        suspended = not self.entries[key].suspended
        self.app.store.set_suspended(key, suspended)
        self.app.answered()
        self._refresh_entry(key)
        self.notify(f"{key} {'suspended: it will not be queued' if suspended else 'unsuspended'}.")

    def action_reset(self) -> None:
        from quizzer.review.tui.screens.confirm import ConfirmScreen

        key = self._highlighted()
        if key is None:
            return

        def reset(confirmed: bool | None) -> None:
            if confirmed:
                self.app.store.reset_card(key)
                self.app.answered()
                self._refresh_entry(key)
                self.notify(f"{key} is new again; its history is kept.")

        self.app.push_screen(
            ConfirmScreen(
                f"Reset [b]{key}[/b]?\n\nIts schedule starts over as a new card (EF 2.5). Its answers stay in the log.",
                yes="Reset",
            ),
            reset,
        )

    def action_reverify(self) -> None:
        key = self._highlighted()
        if key is not None:
            self.app.reverify(key)

    def action_focus_table(self) -> None:
        self.query_one("#card-table", DataTable).focus()

    def action_edit(self) -> None:
        """`e`: the card's deck file in $EDITOR at its line; the list shows the deck as saved."""
        key = self._highlighted()
        if key is not None and self.app.edit_card(key) is not None:
            self.load_entries()
            self.filter(select=key if key in self.entries else None)


def _short(text: str, width: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"
