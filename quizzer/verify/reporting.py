"""What `quizzer verify` prints: a line per card (under a progress bar on a terminal), a summary
table per deck, and every failure with expected vs computed and the verifier's path.

And the machine-readable reports for CI: JSON (`--json`, one row per card; shards' reports are
joined by `read_reports` for `--merge`), GitHub workflow annotations on the card's TOML line
(`--format github`), and JUnit XML (`--junit`). Every report is built from `Row`s, so a merged
report prints exactly as a single run would."""

from __future__ import annotations

import contextlib
import json
import sys
import textwrap
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TextIO

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from quizzer.cards.loader import card_line
from quizzer.core import jsontext
from quizzer.core.safetext import one_line, shown, shown_data, xml_text
from quizzer.files import TooLarge, read_regular
from quizzer.output import console as safe_console
from quizzer.output import markup
from quizzer.paths import relative_to_cwd
from quizzer.verify.execution import Outcome
from quizzer.verify.runner import Job, Verified

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


@dataclass(frozen=True)
class Row:
    """One card's result as every report format needs it (from a run, or read back from a JSON report)."""

    deck: str
    card: str
    file: str
    line: int
    verifier: str
    cached: bool
    outcome: Outcome

    @property
    def key(self) -> str:
        return f"{self.deck}/{self.card}"

    @classmethod
    def of(cls, verified: Verified) -> Row:
        job = verified.job
        line = card_line(job.loaded, job.card.id)
        return cls(
            job.loaded.deck.id,
            job.card.id,
            relative_to_cwd(job.loaded.path),
            line,
            job.card.verifier or "",
            verified.cached,
            verified.outcome,
        )


SUMMARY_COLUMNS = (
    ("cards", "cards"),
    ("passed", "ok"),
    ("demonstrated", "demo"),
    ("failed", "fail"),
    ("unverified", "unver"),
    ("cached", "cache"),
    ("seconds", "s"),
)
"""The summary's count columns: full header, and the abbreviation used where the full ones do not fit."""

SUMMARY_LEGEND = "ok=passed demo=demonstrated unver=unverified s=seconds"


def _failure_kind(outcome) -> str:
    """What went wrong, in the words of the per-card lines: failed, error, timeout, crashed, ..."""
    if outcome.status == "unverified":
        return "without a verifier"
    return "failed" if outcome.ok else outcome.status  # ok but failing --strict (a cited figure never produced)


class VerifyReport:
    def __init__(self, jobs: list[Job], *, strict: bool, console: Console | None = None):
        self.jobs = jobs
        self.strict = strict
        self.console = console or safe_console(highlight=False, soft_wrap=True)
        self.rows: list[Row] = []
        self._progress: Progress | None = None
        self._task = None
        self._running: list[str] = []

    @contextlib.contextmanager
    def progress(self) -> Iterator[None]:
        if not self.console.is_terminal:
            yield
            return
        columns = (BarColumn(bar_width=24), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}"))
        with Progress(*columns, console=self.console, transient=True) as progress:
            self._progress = progress
            self._task = progress.add_task("checking the cache…", total=len(self.jobs))
            try:
                yield
            finally:
                self._progress = None

    def started(self, job: Job) -> None:
        """A worker took `job`: the bar names the cards running, so a slow one is never a silent wait."""
        self._running.append(job.key)
        self._describe()

    def _describe(self) -> None:
        if self._progress is None:
            return
        if self._running:
            running = ", ".join(self._running[:2]) + (f" +{len(self._running) - 2}" if len(self._running) > 2 else "")
            self._progress.update(self._task, description=f"running {running}")
        else:
            self._progress.update(self._task, description="starting the verifier process (it imports torch)…")

    def add(self, verified: Verified) -> None:
        if verified.job.key in self._running:
            self._running.remove(verified.job.key)
        self.add_row(Row.of(verified))
        if not verified.cached and verified.job.card.verifier:
            self._describe()

    def add_row(self, row: Row) -> None:
        self.rows.append(row)
        outcome = row.outcome
        how = "cached" if row.cached else f"{outcome.duration:.1f}s"
        strict_failure = outcome.strict_failure() if self.strict else ""
        label = LABELS["failed"] if strict_failure else LABELS.get(outcome.status) or markup(one_line(outcome.status))
        line = f"{label} {markup(one_line(row.key))} [dim]({how})[/]"  # a merged report's key is anyone's text
        if strict_failure or not outcome.verified:
            line += f" {markup(one_line(strict_failure or outcome.message))}"
        self.console.print(line)
        if self._progress is not None:
            self._progress.advance(self._task)

    def is_failure(self, row: Row) -> bool:
        """Not ok; unverified only counts with --strict, which also fails a cited figure never produced."""
        outcome = row.outcome
        if self.strict:
            return not outcome.ok or bool(outcome.strict_failure())
        return not outcome.ok and outcome.status != "unverified"

    def passed(self, row: Row) -> bool:
        """Verified and not failed by this run's rules (--strict fails a verified card citing a missing figure)."""
        return row.outcome.verified and not self.is_failure(row)

    @property
    def all_passed(self) -> bool:
        return not any(self.is_failure(row) for row in self.rows)

    def print_summary(self) -> None:
        decks: dict[str, list[Row]] = {}
        for row in self.rows:
            decks.setdefault(row.deck, []).append(row)
        counts = [
            (
                str(len(results)),
                str(sum(self.passed(v) for v in results)),
                str(sum(v.outcome.status == "demonstrated" for v in results)),
                str(sum(self.is_failure(v) and v.outcome.status != "unverified" for v in results)),
                str(sum(v.outcome.status == "unverified" for v in results)),
                str(sum(v.cached for v in results)),
                f"{sum(v.outcome.duration for v in results if not v.cached):.1f}",
            )
            for results in decks.values()
        ]
        table = self._summary_table(max(map(len, decks), default=0), counts)
        for deck_id, row_counts in zip(decks, counts, strict=True):
            table.add_row(Text(one_line(deck_id)), *row_counts)  # Text: a deck id from a report is no markup
        self.console.print(table)
        for row in self.rows:
            if self.is_failure(row):
                self._print_failure(row)
        self.console.print(self.summary_line(), soft_wrap=False)  # wrapped between words, not by the terminal

    def _summary_table(self, deck_width: int, counts: list[tuple[str, ...]]) -> Table:
        """The per-deck table, its headers whole: abbreviated (with a legend) when the full ones would
        not fit the terminal, and long deck ids wrapped rather than cut."""
        widest = [max([len(full), *(len(row[i]) for row in counts)]) for i, (full, _) in enumerate(SUMMARY_COLUMNS)]
        deck_width = max(deck_width, len("deck"))  # the header is wider than a short id (`cnn`)
        full_width = deck_width + sum(widest) + 3 * (len(widest) + 1) + 1  # padding and rules
        short = full_width > self.console.width
        headers = [short_name if short else full for full, short_name in SUMMARY_COLUMNS]
        table = Table(
            title="verification",
            title_justify="left",
            box=box.SIMPLE_HEAD if short else box.HEAVY_HEAD,
            caption=SUMMARY_LEGEND if short else None,
            caption_justify="left",
            caption_style="dim",
            show_edge=not short,
            pad_edge=not short,
        )
        table.add_column("deck", justify="left", overflow="fold", min_width=4)
        for header in headers:
            table.add_column(header, justify="right", no_wrap=True)
        return table

    def summary_line(self) -> str:
        """`66 cards: 64 verified, 1 failed, 1 timeout`: each failure named by what happened to it."""
        failures = [row for row in self.rows if self.is_failure(row)]
        demonstrated = sum(row.outcome.status == "demonstrated" for row in self.rows)
        shown_demonstrated = f", {demonstrated} of them demonstrated (by construction, not verified)" * bool(
            demonstrated
        )
        cards = f"{len(self.rows)} card{'s' * (len(self.rows) != 1)}"
        passed = sum(self.passed(row) for row in self.rows)
        if not failures:
            unverified = sum(row.outcome.status == "unverified" for row in self.rows)  # no failure without --strict
            if not unverified:
                return f"{cards}: [green]all verified[/]{shown_demonstrated}"
            return (
                f"{cards}: {passed} verified, [yellow]{unverified} without a verifier[/]"
                f" (allowed; --strict counts them){shown_demonstrated}"
            )
        kinds = Counter(_failure_kind(row.outcome) for row in failures)
        named = markup(one_line(", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))))
        return f"{cards}: {passed} verified, [red]{named}[/]{shown_demonstrated}"

    def _print_failure(self, row: Row) -> None:
        outcome = row.outcome
        self.console.rule(Text(one_line(f"{row.key} — {outcome.status}")), style="red")
        self.console.print(one_line(f"deck: {row.file}:{row.line}  verifier: {row.verifier or '(none)'}"), markup=False)
        self.console.print(self.failure_message(row), markup=False)
        for line in outcome.details():
            self.console.print(textwrap.indent(line, "  "), markup=False)

    # ------------------------------------------------------------------ CI formats

    def write_json(self, stream: TextIO, rows: Sequence[Row] | None = None, shard: ShardInfo | None = None) -> None:
        """One object per card: deck, card, file, line, verifier, cached, the outcome's fields, and the shard."""
        extra = asdict(shard) if shard else {}
        json.dump(
            [
                {"deck": r.deck, "card": r.card, "file": r.file, "line": r.line, "verifier": r.verifier}
                | {"cached": r.cached, **asdict(r.outcome), **extra}
                for r in (self.rows if rows is None else rows)
            ],
            stream or sys.stdout,
            indent=2,
        )

    def failure_message(self, row: Row) -> str:
        """Why the row fails (or is not verified): --strict's reason for an otherwise ok outcome, else its message."""
        outcome = row.outcome
        return (outcome.strict_failure() if self.strict and outcome.ok else outcome.message) or outcome.status

    def in_deck_order(self) -> list[Row]:
        """Rows by deck file and line (the live output is in finishing order)."""
        return sorted(self.rows, key=lambda row: (row.file, row.line, row.card))

    def github_annotations(self) -> list[str]:
        """A workflow command per card that did not pass: an error on its `id =` line (a warning if allowed)."""
        commands = []
        for row in self.in_deck_order():
            failure = self.is_failure(row)
            if not failure and row.outcome.status != "unverified":
                continue
            level = "error" if failure else "warning"
            title = f"{row.key}: {row.outcome.status}"
            message = "\n".join([self.failure_message(row), *row.outcome.details()])
            commands.append(github_command(level, message, file=row.file, line=row.line, title=title))
        return commands

    def write_junit(self, path: Path) -> None:
        """JUnit XML: a test suite per deck, a test case per card (classname = deck id, file and line set)."""
        import xml.etree.ElementTree as ET

        suites = ET.Element("testsuites", name="quizzer verify")
        by_deck: dict[str, list[Row]] = {}
        for row in self.in_deck_order():
            by_deck.setdefault(row.deck, []).append(row)
        totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for deck, rows in by_deck.items():
            suite = ET.SubElement(suites, "testsuite", name=deck, file=rows[0].file)
            counts = {"tests": len(rows), "failures": 0, "errors": 0, "skipped": 0}
            for row in rows:
                outcome = row.outcome
                case = ET.SubElement(
                    suite,
                    "testcase",
                    classname=deck,
                    name=row.card,
                    file=row.file,
                    line=str(row.line),
                    time=f"{0.0 if row.cached else outcome.duration:.3f}",
                )
                if not self.is_failure(row):
                    if outcome.status == "unverified":
                        ET.SubElement(case, "skipped", message=outcome.message or outcome.status)
                        counts["skipped"] += 1
                    continue
                kind = "error" if outcome.status in ("error", "timeout", "crashed", "out-of-memory") else "failure"
                element = ET.SubElement(case, kind, message=self.failure_message(row), type=outcome.status)
                element.text = "\n".join(outcome.details())
                counts["failures" if kind == "failure" else "errors"] += 1
            for name, value in counts.items():
                suite.set(name, str(value))
                totals[name] += value
            suite.set("time", f"{sum(0.0 if r.cached else r.outcome.duration for r in rows):.3f}")
        for name, value in totals.items():
            suites.set(name, str(value))
        for element in suites.iter():  # a verifier's ESC or NUL made the file invalid XML 1.0: CI could not read it
            element.attrib = {name: xml_text(value) for name, value in element.attrib.items()}
            if element.text:
                element.text = xml_text(element.text)
        ET.indent(suites)
        path.write_text('<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n")


@dataclass(frozen=True)
class ShardInfo:
    """Carried by every row of a shard's JSON report, so `--merge` can check the shards fit together."""

    shard: str  # "I/N"
    selected: int  # cards selected before the split
    split: str  # fingerprint of the split (the durations it was balanced on)


def github_command(level: str, message: str, **properties: str | int) -> str:
    """`::error file=...,line=...::message`, escaped as the runner expects (%, CR, LF; also : and , in properties),
    after `shown` (an ESC in a verifier's output is `\\x1b` in the log, a bare CR already `\\r`)."""

    def escape(text: str, in_property: bool) -> str:
        text = shown(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return text.replace(":", "%3A").replace(",", "%2C") if in_property else text

    props = ",".join(f"{name}={escape(str(value), True)}" for name, value in properties.items())
    return f"::{level} {props}::{escape(message, False)}"


class ReportError(ValueError):
    """Reports that cannot be merged; the message says which file and why."""


_OUTCOME_FIELDS = {f.name for f in fields(Outcome)}
MAX_REPORT_BYTES = 512 << 20


def read_reports(paths: Iterable[Path]) -> list[Row]:
    """The rows of shards' JSON reports, checked to fit together: every selected card exactly once."""
    rows: dict[str, tuple[Row, str]] = {}
    expected: set[tuple[int, str]] = set()
    shards: set[str] = set()
    for path in paths:
        try:
            data = jsontext.loads(read_regular(path, MAX_REPORT_BYTES).decode("utf-8"))
        except FileNotFoundError:
            raise ReportError(f"{path}: no such report") from None
        except TooLarge:
            raise ReportError(f"{path}: over {MAX_REPORT_BYTES >> 20} MiB; not a quizzer verify report") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ReportError(f"{path}: not a JSON report of quizzer verify --json ({error})") from None
        if not isinstance(data, list):
            raise ReportError(f"{path}: not a JSON report of quizzer verify --json (expected a list of cards)")
        for number, item in enumerate(data, start=1):
            try:
                outcome = Outcome(**shown_data({k: v for k, v in item.items() if k in _OUTCOME_FIELDS}))
                row = Row(
                    str(item["deck"]),
                    str(item["card"]),
                    str(item.get("file", "")),
                    int(item.get("line", 1)),
                    str(item.get("verifier", "")),
                    bool(item.get("cached", False)),
                    outcome,
                )
            except (TypeError, KeyError, ValueError, AttributeError) as error:
                raise ReportError(f"{path}: card #{number} is not a verify result ({error})") from None
            shard = str(item.get("shard") or path)
            if row.key in rows:
                other = rows[row.key][1]
                raise ReportError(
                    f"{row.key} is in both {other} and {shard}: the shards split the cards differently "
                    "(did they restore different caches?); run the shards again"
                )
            rows[row.key] = (row, shard)
            shards.add(shard)
            if item.get("selected") is not None:
                expected.add((int(item["selected"]), str(item.get("split", ""))))
    if len(expected) > 1:
        raise ReportError(
            "the reports come from different selections or splits: each shard splits the cards by the durations"
            " in its verification cache (did a shard start from the cache another one wrote?); give every shard"
            " the same cache and merge the shards of one run"
        )
    if expected:
        ((selected, _),) = expected
        if selected != len(rows):
            raise ReportError(
                f"the reports hold {len(rows)} of the {selected} cards selected (shards found: "
                f"{', '.join(sorted(shards))}); add the missing shards' reports"
            )
    return [row for row, _ in rows.values()]
