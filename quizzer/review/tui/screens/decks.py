"""The decks screen: what each deck holds for today, its verification status, and how to start."""

from __future__ import annotations

from datetime import date

from rich.cells import cell_len
from rich.markup import escape
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.scalar import Unit
from textual.screen import Screen
from textual.widgets import DataTable, Static

from quizzer.core.safetext import shown
from quizzer.review.session import DeckOutlook, outlook
from quizzer.review.tui.widgets.badges import badge_summary
from quizzer.review.tui.widgets.footer import KeyFooter
from quizzer.review.tui.widgets.header import TitleBar
from quizzer.review.tui.widgets.lists import ListTable
from quizzer.verify.trust import project_of, trust_command

MIN_TITLE_WIDTH = 12
MIN_TABLE_HEIGHT = 5  # its border, its header and two rows
TITLE_LINES = 2  # a title that does not fit its column wraps onto a second line before it is cut
TABLE_FRAME = 2 + 2  # the table's border, and the vertical scrollbar it shows when the rows overflow
COLUMNS = [("deck", "Deck"), ("due", "Due"), ("learning", "Re-drill"), ("new", "New"), ("verification", "Verification")]
SHORT_VERIFICATION = "Verified"  # the badge column's header when the long one would cut into the titles


def _days(n: int) -> str:
    return "tomorrow" if n == 1 else f"in {n} days"


def day_lines(day: date, due: int, learning: int, new: int, verifying: int, width: int) -> list[str]:
    """The day's status as markup lines, the fullest form whose every line fits `width` cells.

    From long to short: the date written out, then abbreviated, then without its year; the verifying
    count after the counts, then on its own line; the counts without their total. When nothing fits
    (under about 45 columns) the shortest form is returned and wraps.
    """
    total = due + learning + new
    dates = [day.strftime("%A %d %B %Y"), day.strftime("%a %d %b %Y"), day.strftime("%a %d %b")]
    if total:
        counts = [
            f"{total} to review: {due} due · {learning} re-drill · {new} new",
            f"{due} due · {learning} re-drill · {new} new",
        ]
        marked = [f"[b]{total}[/b] to review: {due} due · {learning} re-drill · {new} new", counts[1]]
    else:
        counts = marked = ["nothing to review"]
    cards = f"card{'s' * (verifying != 1)}"
    verifies = [f"⟳ verifying {verifying} {cards}", f"⟳ verifying {verifying}"] if verifying else [""]

    forms: list[tuple[list[str], list[str]]] = []  # (plain lines, markup lines)
    for count, mark in zip(counts, marked, strict=True):
        for beside in (True, False):
            for when in dates:
                for verify in verifies if beside else verifies[:1]:
                    plain, markup = f"{when} — {count}", f"[b]{when}[/b] — {mark}"
                    if not verify:
                        forms.append(([plain], [markup]))
                    elif beside:
                        forms.append(([f"{plain}   {verify}"], [f"{markup}   [$accent]{verify}[/]"]))
                    else:
                        forms.append(([plain, verify], [markup, f"[$accent]{verify}[/]"]))
    for plain, markup in forms:
        if all(cell_len(line) <= width for line in plain):
            return markup
    return forms[-1][1]


def _wrapped_title(title: str, width: int, console) -> Text:
    """The title in bold, wrapped between words onto at most `TITLE_LINES` lines of `width`, the last cut."""
    text = Text(title, style="bold")
    lines = text.wrap(console, width)
    for line in lines:
        line.rstrip()  # in place: the space the line was broken at
    if len(lines) <= TITLE_LINES:
        return Text("\n").join(lines) if len(lines) > 1 else text
    kept = list(lines[: TITLE_LINES - 1])
    rest = Text(title[sum(len(line) for line in kept) :].strip(), style="bold")
    rest.truncate(width, overflow="ellipsis")
    return Text("\n").join([*kept, rest])


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
        self._filled_width = 0
        """The screen's width when the rows were last filled: a resize to another width fills them again."""
        self._first_showing = True

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with Vertical(id="decks-body"):
            yield Static("Loading decks…", id="today-line")
            yield ListTable(id="deck-table", cursor_type="row", zebra_stripes=True)
            yield Static(id="empty-state")
            yield Static(id="trust-note")
            yield Static(id="problems")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in COLUMNS:  # as Text: a str label is read as markup, and Rich's markup loads its emoji table
            table.add_column(Text(label), key=key)
        self.watch(self.app, "data_generation", self.refresh_counts, init=False)
        self.watch(self.app, "verification_generation", self.refresh_badges, init=False)
        self.app.theme_changed_signal.subscribe(self, lambda _: self.refresh_badges())
        table.loading = self.app.listing is None  # usually the decks are read by now: no indicator to mount

    def on_resize(self) -> None:
        """The titles' width and the day's line follow the screen's width. The screen gets three resizes
        at start-up, all at the width it was first filled at (the terminal's): filling the rows again
        then changed nothing on screen but cost two frames after the first."""
        if self.outlooks and self.size.width != self._filled_width:
            self._fill_table()
        self.call_after_refresh(self._fit_table)

    def _fit_table(self) -> None:
        """Keep the table's bottom on the screen: it scrolls within what the body's other lines leave.

        The stylesheet's `max-height: 1fr` alone is the body's whole height (Textual resolves a fraction
        against the whole container when no sibling's height is a fraction), so a table of more rows
        than that ran under the key bar."""
        body = self.query_one("#decks-body")
        table = self.query_one(DataTable)
        others = sum(
            child.outer_size.height + child.styles.margin.height
            for child in body.children
            if child is not table and child.display
        )
        limit = max(MIN_TABLE_HEIGHT, body.content_size.height - others - table.styles.margin.height)
        current = table.styles.max_height
        lowered = current is not None and current.unit == Unit.CELLS
        if not lowered and table.outer_size.height <= limit:
            return  # it fits under the stylesheet's limit: a lower one would change nothing on screen but cost a frame
        if not lowered or current.value != limit:
            table.styles.max_height = limit

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        """Counts as they are now: on the first showing (after the mount), and back from another screen.

        Textual restyles every node of a screen shown by a push or as the first screen
        (`Screen._on_screen_resume`, run after this handler). Shown first at start-up, this screen's
        nodes were styled as they mounted, just before, and nothing has changed since (a theme read from
        the store restyles everything itself): styling them all again cost about 24 style passes before
        the first frame. So not then; every other showing is left to Textual.
        """
        if self._first_showing and self.app.screen_stack[:1] == [self]:
            event.refresh_styles = False
        self._first_showing = False
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
        """The refresh that drew the counts is done: the app is told the screen is ready. The key bar is drawn
        in the same frame (it draws the screen's keys itself); when it was Textual's Footer, its keys were
        mounted after that frame and the ready point waited for one refresh more."""
        self.app.decks_ready()

    def _fill_table(self) -> None:
        """The rows of `outlooks`. The count and badge columns are as wide as their cells; the titles get
        the rest of the screen's width, wrapping onto a second line (whole words) rather than being cut.
        When the long header of the badge column would make a title wrap, it is shortened first."""
        library = self.app.listing
        assert library is not None
        table = self.query_one(ListTable)
        selected = table.cursor_row
        self._filled_width = self.size.width
        cells = [
            (
                _count(row.due, row.due_total),
                _count(row.learning),
                _count(row.new, row.new_total),
                badge_summary(self.app, library.deck_badges(row.deck)),
            )
            for row in self.outlooks
        ]
        body = self.query_one("#decks-body").styles.padding
        room = self.size.width - body.left - body.right - TABLE_FRAME - 2 * table.cell_padding * len(COLUMNS)
        widths = [
            max([cell_len(label)] + [row[i].cell_len for row in cells]) for i, (_, label) in enumerate(COLUMNS[1:])
        ]
        longest = max((cell_len(row.title) for row in self.outlooks), default=0)
        verification = COLUMNS[-1][1]
        if room - sum(widths) < longest:
            verification = SHORT_VERIFICATION
            widths[-1] = max([cell_len(verification)] + [row[-1].cell_len for row in cells])
        title_width = max(MIN_TITLE_WIDTH, room - sum(widths))
        if table.columns["verification"].label.plain == verification:
            table.clear()
        else:
            table.clear(columns=True)
            for key, label in COLUMNS[:-1]:
                table.add_column(Text(label), key=key)
            table.add_column(Text(verification), key="verification")
        for row, (due, learning, new, badges) in zip(self.outlooks, cells, strict=True):
            title = _wrapped_title(row.title, title_width, self.app.console)
            table.add_row(title, due, learning, new, badges, key=row.deck, height=len(title.plain.splitlines()))
        table.measure_now()  # the first frame shows the rows (DataTable measures them only when idle)
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
        badges = {row.deck: badge_summary(self.app, library.deck_badges(row.deck)) for row in self.outlooks}
        if max(text.cell_len for text in badges.values()) > table.columns["verification"].content_width:
            self._fill_table()  # a wider summary: the titles give it room
            return
        for deck, summary in badges.items():
            table.update_cell(deck, "verification", summary)
        self._update_texts()

    def _update_texts(self) -> None:
        library = self.app.listing
        due = sum(row.due for row in self.outlooks)
        learning = sum(row.learning for row in self.outlooks)
        new = sum(row.new for row in self.outlooks)
        total = due + learning + new
        verifying = len(library.verifying) if library else 0
        body = self.query_one("#decks-body").styles.padding
        lines = day_lines(self.today, due, learning, new, verifying, self.size.width - body.left - body.right)
        self.query_one("#today-line", Static).update("\n".join(lines))

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
                + " · ".join(f"[b]{escape(shown(trust_command(project)))}[/b]" for project in projects)
            )

        problems = self.query_one("#problems", Static)
        problems.display = bool(library and library.problems)
        if library and library.problems:
            listed = library.problems[:4]
            more = len(library.problems) - len(listed)
            problems.update(
                Text("Deck files that could not be loaded (run `quizzer lint`):\n", style="bold")
                + Text("\n".join(listed) + (f"\n… and {more} more" if more else ""))
            )
        self.call_after_refresh(self._fit_table)  # the lines above and below the table may have changed

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
        table = self.query_one(DataTable)
        if self.focused is table:
            # A priority binding runs as Enter reaches the app, but the table's arrows typed just before it
            # move the cursor only once they come back to the app from the table's queue (a focused
            # widget's bindings run then): in one burst, down and Enter reviewed the deck above. So Enter
            # takes the same way, behind them, to the table's own Enter (RowSelected, `_row_selected`).
            table._forward_event(events.Key("enter", None))
            return
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
