"""The decks screen: what each deck holds for today, its verification status, and how to start."""

from __future__ import annotations

from datetime import date

from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from quizzer.review.session import DeckOutlook, outlook
from quizzer.review.tui.widgets.badges import badge_summary
from quizzer.review.tui.widgets.footer import KeyFooter
from quizzer.review.tui.widgets.lists import ListTable
from quizzer.verify.trust import project_of, trust_command

MIN_TITLE_WIDTH = 12
OTHER_COLUMNS_WIDTH = 44  # due, re-drill, new, verification badges, cell padding and the table's border


def _days(n: int) -> str:
    return "tomorrow" if n == 1 else f"in {n} days"


class DecksScreen(Screen):
    """Each deck with due / re-drill / new counts and verification badges; Enter reviews it."""

    TITLE = "Decks"
    BINDINGS = [
        Binding("enter", "review_selected", "Review", priority=True),
        Binding("a", "review_all", "All"),
        Binding("b", "app.browse", "Browse"),
        Binding("s", "app.statistics", "Stats"),
        Binding("c", "custom_study", "Custom"),
        Binding("v", "verify", "Verify"),
        Binding("o", "app.settings", "Settings"),  # last: at 60 columns the help screen names it
        Binding("q", "app.quit", "Quit", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.outlooks: list[DeckOutlook] = []
        self._shown_title_width = 0

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="decks-body"):
            yield Static("Loading decks…", id="today-line")
            yield ListTable(id="deck-table", cursor_type="row", zebra_stripes=True)
            yield Static(id="empty-state")
            yield Static(id="trust-note")
            yield Static(id="problems")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Deck", key="deck")
        table.add_column("Due", key="due")
        table.add_column("Re-drill", key="learning")
        table.add_column("New", key="new")
        table.add_column("Verification", key="verification")
        self.watch(self.app, "data_generation", self.refresh_counts, init=False)
        self.watch(self.app, "verification_generation", self.refresh_badges, init=False)
        self.app.theme_changed_signal.subscribe(self, lambda _: self.refresh_badges())
        table.loading = self.app.listing is None  # usually the decks are read by now: no indicator to mount

    def on_resize(self) -> None:
        if self.outlooks and self._title_width() != self._shown_title_width:
            self._fill_table()

    def on_screen_resume(self) -> None:
        """Counts as they are now: on the first showing (after the mount), and back from another screen."""
        if self.app.listing is not None:
            self.refresh_counts()

    # ------------------------------------------------------------------ data

    @property
    def today(self) -> date:
        return self.app.today

    def refresh_counts(self) -> None:
        library = self.app.listing
        if library is None:
            return
        self.outlooks = outlook(library.store, [loaded.deck for loaded in library.decks], self.today, self.app.limits)
        self._fill_table()
        self.app.call_after_refresh(self._counts_drawn)

    def _counts_drawn(self) -> None:
        """The counts are on screen; the key bar rebuilds its keys after that same refresh (the focus moved
        to the table), so the app is told the screen is ready after the next one, keys drawn too."""
        self.app.call_after_refresh(self.app.decks_ready)

    def _title_width(self) -> int:
        return max(MIN_TITLE_WIDTH, self.size.width - OTHER_COLUMNS_WIDTH)  # the badges column must fit

    def _fill_table(self) -> None:
        """The rows of `outlooks`, each title cut to the width the other columns leave it."""
        library = self.app.listing
        assert library is not None
        table = self.query_one(DataTable)
        selected = table.cursor_row
        table.clear()
        self._shown_title_width = self._title_width()
        for row in self.outlooks:
            title = Text(row.title, style="bold")
            title.truncate(self._shown_title_width, overflow="ellipsis")
            table.add_row(
                title,
                _count(row.due, row.due_total),
                _count(row.learning),
                _count(row.new, row.new_total),
                badge_summary(self.app, library.deck_badges(row.deck)),
                key=row.deck,
            )
        table.loading = False
        if self.outlooks:
            table.move_cursor(row=min(selected, len(self.outlooks) - 1))
        if self.focused is None:
            table.focus()
        self._update_texts()

    def refresh_badges(self) -> None:
        library = self.app.listing
        if library is None or not self.outlooks:
            return
        table = self.query_one(DataTable)
        for row in self.outlooks:
            table.update_cell(row.deck, "verification", badge_summary(self.app, library.deck_badges(row.deck)))
        self._update_texts()

    def _update_texts(self) -> None:
        library = self.app.listing
        due = sum(row.due for row in self.outlooks)
        learning = sum(row.learning for row in self.outlooks)
        new = sum(row.new for row in self.outlooks)
        total = due + learning + new
        day = self.today.strftime("%A %d %B %Y")
        if total:
            line = f"[b]{day}[/b] — [b]{total}[/b] to review: {due} due · {learning} re-drill · {new} new"
        else:
            line = f"[b]{day}[/b] — nothing to review"
        verifying = len(library.verifying) if library else 0
        if verifying:
            line += f"   [$accent]⟳ verifying {verifying} card{'s' * (verifying != 1)}[/]"  # fits 100 columns
        self.query_one("#today-line", Static).update(line)

        empty = self.query_one("#empty-state", Static)
        if library is not None and not library.decks:
            empty.update("No decks found. Put deck files (*.toml) in a folder and run [b]quizzer review FOLDER[/b].")
            empty.display = True
        elif total == 0:
            empty.update(self._empty_text())
            empty.display = True
        else:
            empty.display = False

        untrusted = [loaded for loaded in (library.decks if library else []) if not library.trusted(loaded)]
        note = self.query_one("#trust-note", Static)
        note.display = bool(untrusted)
        if untrusted:
            projects = sorted({project_of(loaded.path) for loaded in untrusted})
            note.update(
                "○ Not verified: verifiers are code, and quizzer runs them on its own only for trusted deck"
                " projects. To trust, run "
                + " · ".join(f"[b]{escape(trust_command(project))}[/b]" for project in projects)
            )

        problems = self.query_one("#problems", Static)
        problems.display = bool(library and library.problems)
        if library and library.problems:
            shown = library.problems[:4]
            more = len(library.problems) - len(shown)
            problems.update(
                Text("Deck files that could not be loaded (run `quizzer lint`):\n", style="bold")
                + Text("\n".join(shown) + (f"\n… and {more} more" if more else ""))
            )

    def _empty_text(self) -> str:
        store = self.app.store
        deck_ids = [row.deck for row in self.outlooks]
        upcoming = store.next_due(self.today, deck_ids) if store is not None else None
        new_waiting = sum(row.new_total for row in self.outlooks)
        parts = ["✓ [b]Nothing due[/b]"]
        if upcoming is not None:
            days = (upcoming - self.today).days
            parts.append(f"next review {_days(days)} ({upcoming.strftime('%a %d %b')})")
        if new_waiting:
            parts.append(f"{new_waiting} new card(s) beyond today's limit")
        if upcoming is None and not new_waiting:
            parts.append("no cards scheduled")
        return " — ".join(parts[:2]) + ("; " + parts[2] if len(parts) > 2 else "") + "."

    # ------------------------------------------------------------------ actions

    def _selected_deck(self) -> str | None:
        table = self.query_one(DataTable)
        if not self.outlooks or table.cursor_row < 0:
            return None
        return self.outlooks[min(table.cursor_row, len(self.outlooks) - 1)].deck

    def action_review_selected(self) -> None:
        deck = self._selected_deck()
        if deck is not None:
            self.app.start_review([deck])

    def action_review_all(self) -> None:
        self.app.start_review(None)

    def action_custom_study(self) -> None:
        deck = self._selected_deck()
        self.app.action_custom_study([deck] if deck else None)

    def action_verify(self) -> None:
        self.app.verify_stale()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.start_review([str(event.row_key.value)])


def _count(value: int, total: int | None = None) -> Text:
    text = Text(str(value), style="bold" if value else "dim")
    if total is not None and total > value:
        text.append(f" of {total}", style="dim")
    return text
