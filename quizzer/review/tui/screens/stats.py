"""Statistics: reviews per day, the 30-day forecast, retention by interval and the EF distribution."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal
from textual.screen import Screen
from textual.widgets import Select, Static

from quizzer.review.session import Statistics, statistics
from quizzer.review.tui.widgets.footer import KeyFooter
from quizzer.review.tui.widgets.header import TitleBar
from quizzer.review.tui.widgets.plots import PlotextPlot
from quizzer.store import Store

DAYS = 30
INTERVAL_BUCKETS = [(0, 1, "1 d"), (2, 6, "2–6 d"), (7, 20, "7–20 d"), (21, 59, "21–59 d"), (60, 10**9, "60+ d")]
EF_BINS = [1300, 1500, 1700, 1900, 2100, 2300, 2500, 2700, 2900]


@dataclass(frozen=True)
class StatsData:
    stats: Statistics
    by_interval: list[tuple[str, int, int]]  # label, passed, answered
    ease: list[int]
    today: int
    suspended: int
    cards: int


def gather(store: Store, today: date, decks: list[str]) -> StatsData:
    """Every figure the screen shows over `decks`, from the store (run in a worker thread)."""
    stats = statistics(store, today, DAYS, decks)
    raw = store.retention_by_interval(date.min, decks)
    by_interval = []
    for low, high, label in INTERVAL_BUCKETS:
        passed = sum(p for interval, p, _ in raw if low <= interval <= high)
        answered = sum(t for interval, _, t in raw if low <= interval <= high)
        by_interval.append((label, passed, answered))
    cards = [card for deck in decks for card in store.deck_cards(deck) if card.present]
    return StatsData(
        stats,
        by_interval,
        store.ease_factors(decks),
        stats.history[-1].reviews if stats.history else 0,
        sum(card.suspended for card in cards),
        len(cards),
    )


def ef_histogram(ease: list[int]) -> tuple[list[str], list[int]]:
    labels = [f"{low / 1000:.1f}" for low in EF_BINS]
    counts = [0] * len(EF_BINS)
    for ef in ease:
        index = max(i for i, low in enumerate(EF_BINS) if ef >= low) if ef >= EF_BINS[0] else 0
        counts[index] += 1
    labels[-1] += "+"
    return labels, counts


class StatsScreen(Screen):
    """Four plots over the chosen decks; the figures are gathered in a worker."""

    TITLE = "Statistics"
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("r", "reload", "Refresh"),
        Binding("b", "app.browse", "Browse"),
    ]

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with Horizontal(id="stats-bar"):
            decks = self.app.library.decks if self.app.library else []
            options = [(Text(loaded.deck.title), loaded.deck.id) for loaded in decks]  # Text: a title is no markup
            yield Select(options, prompt="All decks", id="stats-deck", allow_blank=True, compact=True)
            yield Static("Gathering…", id="stats-headline")
        with Grid(id="stats-grid"):
            yield PlotextPlot(id="plot-history")
            yield PlotextPlot(id="plot-forecast")
            yield PlotextPlot(id="plot-retention")
            yield PlotextPlot(id="plot-ease")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.watch(self.app, "data_generation", self.action_reload, init=False)
        self.action_reload()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.action_reload()

    def _decks(self) -> list[str] | None:
        select = self.query_one("#stats-deck", Select)
        return None if select.is_blank() else [str(select.value)]

    def action_reload(self) -> None:
        every_deck = [loaded.deck.id for loaded in self.app.library.decks] if self.app.library else []
        self.load(self._decks() or every_deck)

    @work(thread=True, exclusive=True, group="stats")
    def load(self, decks: list[str]) -> None:
        with Store.open(self.app.db_path) as store:  # its own connection: the UI thread keeps the app's
            data = gather(store, self.app.today, decks)
        self.app.call_from_thread(self.show, data)

    def show(self, data: StatsData) -> None:
        stats = data.stats
        recent_passed, recent_total = stats.retention_recent
        retention = f"{100 * recent_passed / recent_total:.0f}% of {recent_total}" if recent_total else "n/a"
        self.query_one("#stats-headline", Static).update(
            f"[b]{data.today}[/b] answered today · recalled (30 d) [b]{retention}[/b] · "
            f"{data.cards} cards, {len(data.ease)} started, {data.suspended} suspended"
        )
        today = self.app.today
        history_ticks = [len(stats.history) - 1 - 7 * i for i in range(5)][::-1]
        self._bars(
            "#plot-history",
            f"Reviews per day ({DAYS} d)",
            [_day_label(c.day, today) for c in stats.history],
            [[c.passed for c in stats.history], [c.reviews - c.passed for c in stats.history]],
            ["passed", "failed"],
            ticks=[i for i in history_ticks if i >= 0],
        )
        forecast = stats.forecast
        self._bars(
            "#plot-forecast",
            f"Due, next {DAYS} days",
            [_day_label(day, today) for day in forecast],
            [list(forecast.values())],
            ["due"],
            ticks=list(range(0, len(forecast), 7)),
        )
        labels = [label for label, _, _ in data.by_interval]
        percent = [round(100 * passed / total) if total else 0 for _, passed, total in data.by_interval]
        answered = sum(total for _, _, total in data.by_interval)
        self._bars(
            "#plot-retention",
            "Recalled % by interval" if answered else "Recalled % (none yet)",
            labels,
            [percent],
            ["recalled %"],
            y_ticks=[0, 25, 50, 75, 100],
        )
        ef_labels, ef_counts = ef_histogram(data.ease)
        self._bars(
            "#plot-ease",
            "Ease factor (EF)" if data.ease else "Ease factor (none yet)",
            ef_labels,
            [ef_counts],
            ["cards"],
        )

    def _bars(
        self,
        selector: str,
        title: str,
        labels: list[str],
        series: list[list[int]],
        names: list[str],
        ticks: list[int] | None = None,
        y_ticks: list[int] | None = None,
    ) -> None:
        plot = self.query_one(selector, PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        positions = list(range(len(labels)))
        if len(series) == 1:
            plt.bar(positions, series[0], color="blue" if names[0] == "due" else "green", width=0.6)
        else:
            plt.stacked_bar(positions, series, labels=names, color=["green", "red"][: len(series)], width=0.6)
        ticks = ticks if ticks is not None else positions
        plt.xticks(ticks, [labels[i] for i in ticks])
        plt.xlim(-0.5, len(labels) - 0.5)  # explicit: automatic limits shift bars by a column now and then
        peak = max((sum(values) for values in zip(*series, strict=True)), default=0)
        if y_ticks is None:
            step = max(1, -(-peak // 4))
            y_ticks = list(range(0, max(peak, 1) + step, step))
        plt.yticks(y_ticks)
        plt.ylim(y_ticks[0], y_ticks[-1])
        plt.title(title)
        plot.refresh()


def _day_label(day: date, today: date) -> str:
    return "today" if day == today else day.strftime("%d %b")
