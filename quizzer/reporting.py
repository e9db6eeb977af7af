"""What `quizzer verify` prints: a line per card (under a progress bar on a terminal), a summary
table per deck, and every failure with expected vs computed and the verifier's path."""

from __future__ import annotations

import contextlib
import json
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import asdict
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from quizzer.runner import Job, Verified

LABELS = {
    "passed": "[green]PASS[/]",
    "demonstrated": "[cyan]DEMO[/]",
    "failed": "[red]FAIL[/]",
    "error": "[red]ERROR[/]",
    "timeout": "[red]TIMEOUT[/]",
    "crashed": "[red]CRASH[/]",
    "out-of-memory": "[red]OOM[/]",
    "unverified": "[yellow]UNVERIFIED[/]",
}


class VerifyReport:
    def __init__(self, jobs: list[Job], *, strict: bool, console: Console | None = None):
        self.jobs = jobs
        self.strict = strict
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.results: list[Verified] = []
        self._progress: Progress | None = None
        self._task = None

    @contextlib.contextmanager
    def progress(self) -> Iterator[None]:
        if not self.console.is_terminal:
            yield
            return
        columns = (TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=self.console, transient=True) as progress:
            self._progress, self._task = progress, progress.add_task("verify", total=len(self.jobs))
            try:
                yield
            finally:
                self._progress = None

    def add(self, verified: Verified) -> None:
        self.results.append(verified)
        outcome = verified.outcome
        how = "cached" if verified.cached else f"{outcome.duration:.1f}s"
        strict_failure = outcome.strict_failure() if self.strict else ""
        label = LABELS["failed"] if strict_failure else LABELS.get(outcome.status, outcome.status)
        line = f"{label} {verified.job.key} [dim]({how})[/]"
        if strict_failure or not outcome.verified:
            line += f" {strict_failure or outcome.message}"
        self.console.print(line)
        if self._progress is not None:
            self._progress.advance(self._task)

    def is_failure(self, verified: Verified) -> bool:
        """Not ok; unverified only counts with --strict, which also fails a cited figure never produced."""
        outcome = verified.outcome
        if self.strict:
            return not outcome.ok or bool(outcome.strict_failure())
        return not outcome.ok and outcome.status != "unverified"

    @property
    def all_passed(self) -> bool:
        return not any(self.is_failure(v) for v in self.results)

    def print_summary(self) -> None:
        table = Table(title="verification", title_justify="left")
        for column in ("deck", "cards", "passed", "demonstrated", "failed", "unverified", "cached", "seconds"):
            table.add_column(column, justify="left" if column == "deck" else "right")
        decks: dict[str, list[Verified]] = {}
        for verified in self.results:
            decks.setdefault(verified.job.loaded.deck.id, []).append(verified)
        for deck_id, results in decks.items():
            table.add_row(
                deck_id,
                str(len(results)),
                str(sum(v.outcome.verified for v in results)),
                str(sum(v.outcome.status == "demonstrated" for v in results)),
                str(sum(not v.outcome.ok and v.outcome.status != "unverified" for v in results)),
                str(sum(v.outcome.status == "unverified" for v in results)),
                str(sum(v.cached for v in results)),
                f"{sum(v.outcome.duration for v in results if not v.cached):.1f}",
            )
        self.console.print(table)
        for verified in self.results:
            if self.is_failure(verified):
                self._print_failure(verified)
        failures = sum(self.is_failure(v) for v in self.results)
        demonstrated = sum(v.outcome.status == "demonstrated" for v in self.results)
        shown_demonstrated = f", {demonstrated} of them demonstrated (by construction, not verified)"
        self.console.print(
            f"{len(self.results)} cards: "
            + ("[green]all verified[/]" if not failures else f"[red]{failures} not verified[/]")
            + (shown_demonstrated if demonstrated else "")
            + ("" if self.strict else " (cards without a verifier are allowed; --strict counts them)")
        )

    def _print_failure(self, verified: Verified) -> None:
        job, outcome = verified.job, verified.outcome
        self.console.rule(f"{job.key} — {outcome.status}", style="red")
        self.console.print(f"deck: {job.loaded.path}  verifier: {job.card.verifier or '(none)'}", markup=False)
        self.console.print(outcome.strict_failure() if self.strict and outcome.ok else outcome.message, markup=False)
        for line in outcome.details():
            self.console.print(textwrap.indent(line, "  "), markup=False)

    def write_json(self, stream: TextIO, results: list[Verified]) -> None:
        json.dump(
            [
                {"deck": v.job.loaded.deck.id, "card": v.job.card.id, "cached": v.cached, **asdict(v.outcome)}
                for v in results
            ],
            stream or sys.stdout,
            indent=2,
        )
