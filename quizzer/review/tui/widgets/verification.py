"""The verification panel: a card's badge, its verifier's claims and notes, and a plot of its series."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Markdown, Static

from quizzer.core.safetext import shown
from quizzer.review.tui.library import NOT_A_VERDICT, RETRIED, CardVerification
from quizzer.review.tui.widgets.badges import badge_color, badge_text
from quizzer.review.tui.widgets.mathmd import prepare
from quizzer.verify.trust import project_of, trust_command


def _untrusted_explanation(deck_path: str) -> str:
    """Why quizzer runs nothing for this deck, and the command that changes that."""
    text = "Verifiers are code, and this deck's project is not trusted, so quizzer runs nothing here."
    return text + (f" To trust it: {shown(trust_command(project_of(Path(deck_path))))}" if deck_path else "")


def _when(verified_at: str) -> str:
    """`2026-11-26T10:12:03+0000` → `2026-11-26 10:12` (shown: the database's text)."""
    return shown(verified_at[:16].replace("T", " ")) if verified_at else "?"


class SeriesPlot(Vertical):
    """The verifier's series as line plots (textual-plotext, imported only when a card has a series)."""

    def __init__(self, series: list[dict], **kwargs) -> None:
        super().__init__(**kwargs)
        self.series = series

    def compose(self) -> ComposeResult:
        """The figure is drawn on the plot before it is yielded: nothing to look up once mounted (a panel
        replaced while it mounts, as a background verification does, left no plot to query)."""
        from quizzer.review.tui.widgets.plots import PlotextPlot

        plot = PlotextPlot(id="series-plot")
        plt = plot.plt
        plt.clear_figure()
        for line in self.series:
            label = line.get("name", "") if len(self.series) > 1 else ""  # one line: its name is the title
            plt.plot(line.get("x", []), line.get("y", []), label=label, marker="braille")
        first = self.series[0]
        plt.xlabel(first.get("xlabel", ""))
        plt.ylabel(first.get("ylabel", ""))
        if len(self.series) == 1:
            plt.title(first.get("name", ""))
        yield plot


def _instance_outcome(entry: Mapping[str, Any]):
    """A pool entry as an `Outcome`, so an instance's verification reads like a card's."""
    from quizzer.verify.execution import Outcome

    parts = dict(entry.get("parts") or {})
    single = parts.get("answer", {})
    return Outcome(
        status=entry.get("status", "error"),
        message=str(entry.get("message", "")),
        computed=str(single.get("computed", "")),
        claims=list(entry.get("claims") or []),
        notes=[str(note) for note in entry.get("notes") or []],
        parts=parts,
    )


def _instance_badge(entry: Mapping[str, Any]) -> str:
    status = entry.get("status")
    return "verified" if status == "passed" else "demonstrated" if status == "demonstrated" else "failed"


class VerificationPanel(Vertical):
    """Shows one card's verification; `show()` it again whenever badges may have changed."""

    def compose(self) -> ComposeResult:
        yield Static(id="verification-badge")
        yield Static(id="verification-message")
        yield Static(id="verification-claims")
        yield Markdown(id="verification-notes")

    def show(
        self,
        verification: CardVerification,
        *,
        deck_path: str = "",
        macros: dict | None = None,
        labels: dict[str, str] | None = None,
        instance: Mapping[str, Any] | None = None,
    ) -> None:
        """`labels`: part id → label, for a card in parts (each checkable part gets its own line).
        `instance`: a variant's pool entry, whose own verification is shown instead of the card's."""
        app = self.app
        record = verification.record
        outcome = verification.outcome()
        badge = verification.badge
        if instance and badge in ("verified", "demonstrated", "failed"):
            outcome, badge = _instance_outcome(instance), _instance_badge(instance)
        suffix = ""
        if instance and record is not None and badge in ("verified", "demonstrated", "failed"):
            which = shown(str(instance.get("label") or "this instance"))
            suffix = f"  {which} · {_when(record.verified_at)}"
        elif badge in ("verified", "demonstrated", "failed") and record is not None:
            suffix = f"  {_when(record.verified_at)} · torch {shown(record.torch_version)} · {record.duration:.1f} s"
        elif badge == "interrupted" and record is not None:
            suffix = f"  {_when(record.verified_at)} · torch {shown(record.torch_version)}"
        elif badge == "stale" and record is not None:
            suffix = f" — the card or its verifier changed since {_when(record.verified_at)}; shown below is that run"
        elif badge == "untrusted":
            suffix = f" ({shown(deck_path)})" if deck_path else ""  # a file name can hold ESC
        label = verification.label if badge == verification.badge else ""
        self.query_one("#verification-badge", Static).update(badge_text(app, badge, suffix, label))

        message = self.query_one("#verification-message", Static)
        explain = {
            "unverified": "Its verifier has not run yet; it will run in the background (or press ctrl+r).",
            "untrusted": _untrusted_explanation(deck_path),
            "none": "This card's answer is not checked by code.",
            "checking": "Comparing the cached result with the current card and verifier…",
            "verifying": "`quizzer verify` is running this card's verifier in the background…",
        }.get(badge, "")
        if badge == "interrupted" or (badge == "stale" and verification.stopped):
            explain = f"{outcome.message}. " if outcome and outcome.message else ""
            explain += f"{NOT_A_VERDICT} {RETRIED}"
        elif outcome is not None and outcome.message and badge in ("failed", "stale", "demonstrated"):
            explain = outcome.message  # a demonstrated card's says why it holds by construction
        elif outcome is not None and outcome.computed and badge in ("verified", "demonstrated", "stale"):
            explain = f"computed: {outcome.computed}"
        message.update(Text(explain, style=Style(dim=not explain.startswith(("computed", "demonstrated")))))
        message.display = bool(explain)

        claims = self.query_one("#verification-claims", Static)
        lines = Text()
        for part_id, entry in (outcome.parts if outcome and labels else {}).items():
            if entry.get("status") == "self-graded" or part_id not in labels:
                continue
            holds = entry.get("status") == "passed"
            if lines:
                lines.append("\n")
            lines.append(
                "✓ " if holds else "✗ ",
                style=Style(color=badge_color(app, "verified" if holds else "failed"), bold=True),
            )
            lines.append(f"{labels[part_id]}: ")
            detail = (
                f"computed {entry.get('computed', '')}" if holds else entry.get("message") or entry.get("status", "")
            )
            lines.append(str(detail), style=Style(dim=holds))
        for claim in (outcome.claims if outcome else [])[:12]:
            holds = bool(claim.get("holds"))
            mark = "✓" if holds else "✗"
            color = badge_color(app, "verified" if holds else "failed")
            if lines:
                lines.append("\n")
            lines.append(f"{mark} ", style=Style(color=color, bold=True))
            lines.append(str(claim.get("name", "")))
            if claim.get("measured"):
                lines.append(f"  {claim['measured']}", style=Style(dim=True))
        claims.update(lines)
        claims.display = bool(lines)

        notes = self.query_one("#verification-notes", Markdown)
        note_text = "\n\n".join(outcome.notes) if outcome and outcome.notes else ""
        notes.update(prepare(note_text, macros or {}))
        notes.display = bool(note_text)

        for old in self.query(SeriesPlot):
            old.remove()
        series = outcome.series if outcome else []
        if series and badge in ("verified", "demonstrated", "failed", "stale"):
            self.mount(SeriesPlot(series, classes="series"))
