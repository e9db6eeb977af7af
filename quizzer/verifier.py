"""The tiny, torch-free API that verifier scripts import.

A verifier is a function in a file under `verifiers/` (`verify` unless the card names another
with `file.py::name`). It takes no argument, or one `Context` argument, and returns a `Result`:

    from quizzer.verifier import Result

    def verify() -> Result:
        r = Result()
        rf = measure_receptive_field()          # computed with torch, never typed in
        r.value = rf                            # compared with the card's answer by its checker
        r.claim("autograd agrees with the recurrence", rf == recurrence(), f"{rf} vs {recurrence()}")
        r.note(f"Gradient of one output pixel reaches a {rf}×{rf} input patch.")
        return r

`value` must be JSON-like (int, float, bool, str, list of ints; or `samples(...)` for an
expression card). Every claim must hold. Notes are what a learner reads after answering.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Claim:
    name: str
    holds: bool
    measured: str = ""


@dataclass(frozen=True)
class Series:
    """A line to plot beside the answer (e.g. loss per step)."""

    name: str
    x: list[float]
    y: list[float]
    xlabel: str = ""
    ylabel: str = ""


@dataclass
class Result:
    value: Any = None
    claims: list[Claim] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)

    def claim(self, name: str, holds: Any, measured: str = "") -> bool:
        """Record a named fact that must hold; `measured` shows the numbers it was decided on."""
        holds = bool(holds)
        self.claims.append(Claim(name, holds, measured))
        return holds

    def note(self, text: str) -> None:
        self.notes.append(text)

    def plot(self, name: str, x: Iterable[float], y: Iterable[float], xlabel: str = "", ylabel: str = "") -> None:
        self.series.append(Series(name, [float(v) for v in x], [float(v) for v in y], xlabel, ylabel))


def samples(points: Iterable[tuple[Mapping[str, float], float]], tolerance: float) -> dict:
    """The value for an expression card: measured outcomes at points, e.g. `({"p1": .1, "p2": .2}, 0.2801)`.

    The card's formula must reproduce every measurement within `tolerance`.
    """
    return {
        "samples": [{"at": {k: float(v) for k, v in at.items()}, "value": float(value)} for at, value in points],
        "tolerance": float(tolerance),
    }


@dataclass(frozen=True)
class Context:
    """What a verifier may know about its card: its id and, for a `code` card, the snippet."""

    card_id: str
    snippet: str = ""

    def run_snippet(self) -> tuple[dict[str, Any], str]:
        """Execute the card's own code in a fresh namespace; returns (namespace, printed output).

        The code a learner sees is the code that runs: an exception (a failing assert) fails the card.
        """
        if not self.snippet:
            raise ValueError(f"card {self.card_id!r} has no code snippet to run")
        namespace: dict[str, Any] = {"__name__": "__snippet__"}
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(self.snippet, f"<card {self.card_id}>", "exec"), namespace)
        return namespace, printed.getvalue()
