"""The session summary: what the sitting did, and what comes next."""

from __future__ import annotations

from datetime import timedelta

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Static

from quizzer.review.session import Elsewhere, Session, waiting_elsewhere
from quizzer.review.tui.widgets.badges import badge_color
from quizzer.review.tui.widgets.footer import KeyFooter
from quizzer.review.tui.widgets.grades import SHORT
from quizzer.review.tui.widgets.header import TitleBar


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds:02d} s"


class SummaryScreen(Screen[str | None]):
    """Dismissed with "undo" (take back the last grade), "continue" (cards remain) or None (to the decks)."""

    TITLE = "Session summary"
    BINDINGS = [
        Binding("enter,escape", "done", "Decks"),
        Binding("u,ctrl+z", "undo", "Undo last"),
        Binding("c", "continue", "Continue"),
        Binding("s", "app.statistics", "Stats"),
    ]

    def __init__(self, session: Session, deck_ids: list[str] | None = None) -> None:
        super().__init__()
        self.session = session
        self.deck_ids = deck_ids

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with Center(), Vertical(id="summary-body"):
            yield Static(id="summary-title")
            yield Static(id="summary-figures")
            yield Static(id="summary-grades")
            yield Static(id="summary-next")
        yield KeyFooter()

    def on_mount(self) -> None:
        summary = self.session.summary()
        title = self.query_one("#summary-title", Static)
        elsewhere = self._elsewhere()
        if summary.remaining:
            title.update(f"[b]Session paused[/b] — {summary.remaining} card(s) still to do today (c continues)")
        elif self.session.custom is not None:
            title.update("[b]Custom study done[/b]" + (f" — still waiting today: {elsewhere}" if elsewhere else ""))
        elif elsewhere:
            title.update(f"[b]Session complete[/b] — still waiting today: {elsewhere} (a on the decks screen)")
        else:
            title.update("[b]Session complete[/b] — nothing left for today 🎉")

        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim", justify="right")
        table.add_column()
        table.add_row("answers", f"[b]{summary.answers}[/b] on {summary.cards} card(s)")
        table.add_row("new / reviews", f"{summary.new} new · {summary.reviews} scheduled reviews")
        table.add_row("checked correct", f"{summary.correct}")
        table.add_row("again (0–2)", f"{summary.again}")
        table.add_row("time", _duration(summary.seconds))
        self.query_one("#summary-figures", Static).update(table)

        grades = Table.grid(padding=(0, 1))
        grades.add_column(justify="right")
        grades.add_column(style="dim")
        grades.add_column()
        peak = max(summary.qualities.values(), default=0) or 1
        for quality in range(5, -1, -1):
            count = summary.qualities.get(quality, 0)
            color = badge_color(self.app, "verified" if quality >= 3 else "failed")
            bar = Text("█" * round(24 * count / peak), style=Style(color=color))
            bar.append(f" {count}" if count else "", style="bold")
            grades.add_row(f"[b]{quality}[/b]", SHORT[quality], bar)
        self.query_one("#summary-grades", Static).update(grades)
        self.query_one("#summary-next", Static).update(self._next_text())
        self.refresh_bindings()

    def _elsewhere(self) -> Elsewhere | None:
        """What the decks outside this sitting still hold today."""
        library = self.app.library
        if library is None:
            return None
        inside = {deck.id for deck in self.session.decks}
        others = [loaded.deck for loaded in library.decks if loaded.deck.id not in inside]
        return waiting_elsewhere(self.session.store, others, self.session.today)

    def _next_text(self) -> str:
        store, today = self.session.store, self.session.today
        decks = self.deck_ids
        upcoming = store.next_due(today, decks)
        forecast = store.forecast(today + timedelta(days=1), 7, decks)
        week = sum(forecast.values())
        if upcoming is None:
            return "No scheduled reviews yet: new cards come with tomorrow's allowance."
        days = (upcoming - today).days
        when = "tomorrow" if days == 1 else f"in {days} days"
        return f"Next review {when} ({upcoming.strftime('%a %d %b')}) · {week} due in the next 7 days."

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "continue":
            return self.session.remaining > 0
        if action == "undo":
            return self.session.can_undo
        return True

    def action_done(self) -> None:
        self.dismiss(None)

    def action_undo(self) -> None:
        self.dismiss("undo")

    def action_continue(self) -> None:
        self.dismiss("continue")
