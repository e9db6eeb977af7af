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
expression card, `tensor_samples(...)` for a tensor card). Every claim must hold. Notes are what a
learner reads after answering.

Verification data beyond the value (see docs/ARCHITECTURE.md, "Verification data"):

    r.part("c", value)                       # a card with [[cards.parts]]: one value per checkable part
    r.figure("mean_ratio", ratio, "{:.4f}")  # a measured number the card's text cites as {{ mean_ratio }}
    r.demonstrated("the shape is what our own view() produces")   # holds by construction: not "verified"
    p = ctx.params                           # a parametric card: this instance's drawn parameters
    ctx.require(p["k"] <= p["n"], "kernel fits the input")        # otherwise the runner draws again
"""

from __future__ import annotations

import contextlib
import io
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_SAMPLE_ELEMENTS = 4096
"""Elements one sample tensor may hold: samples are cached and evaluated in the review app."""
MAX_SAMPLES = 16
"""Samples per tensor part: a handful of random draws decides a formula."""
MAX_FIGURES = 200
MAX_FIGURE_TEXT = 200  # characters a figure shows in card text: a number, not a report
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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


@dataclass(frozen=True)
class Figure:
    """A named measured number (or short text) that card text cites as `{{ name }}`; `text` is what it shows."""

    value: float | int | str
    text: str


@dataclass
class Result:
    value: Any = None
    claims: list[Claim] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    parts: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)
    demonstration: str = ""

    def claim(self, name: str, holds: Any, measured: str = "") -> bool:
        """Record a named fact that must hold; `measured` shows the numbers it was decided on."""
        holds = bool(holds)
        self.claims.append(Claim(name, holds, measured))
        return holds

    def note(self, text: str) -> None:
        self.notes.append(text)

    def plot(self, name: str, x: Iterable[float], y: Iterable[float], xlabel: str = "", ylabel: str = "") -> None:
        self.series.append(Series(name, [float(v) for v in x], [float(v) for v in y], xlabel, ylabel))

    def part(self, part_id: str, value: Any) -> None:
        """The computed value of one checkable part of a parts card, judged by that part's checker."""
        if part_id in self.parts:
            raise ValueError(f"part {part_id!r} was given a value twice")
        self.parts[part_id] = value

    def figure(self, name: str, value: Any, fmt: str = "") -> Figure:
        """Record a measured figure; the card's text cites it as `{{ name }}` (or `{{ name:.3g }}`).

        `fmt` is a `str.format` pattern such as `"{:.4f}"` (default: 4 significant digits for a float).
        """
        if not _NAME.fullmatch(name):
            raise ValueError(f"figure name {name!r} must be an identifier (letters, digits, _)")
        if name in self.figures:
            raise ValueError(f"figure {name!r} was recorded twice")
        if len(self.figures) >= MAX_FIGURES:
            raise ValueError(f"more than {MAX_FIGURES} figures")
        if hasattr(value, "item") and callable(value.item):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            # A measurement that diverged (a changed world, a broken verifier) fails verification; it is no crash.
            self.claim(f"figure {name!r} is a finite measurement", False, str(value))
            value, fmt = str(value), ""
        value = _scalar(value, f"figure {name!r}")
        if fmt:
            text = fmt.format(value)
        elif isinstance(value, float):
            text = f"{value:.4g}"
        else:
            text = str(value)
        if len(text) > MAX_FIGURE_TEXT:
            raise ValueError(f"figure {name!r} shows {len(text)} characters; at most {MAX_FIGURE_TEXT}")
        self.figures[name] = Figure(value, text)
        return self.figures[name]

    def tensor_samples(self, inputs: Mapping[str, Any], value: Any, tolerance: float = 1e-6) -> None:
        """Add one sample to this single-answer tensor card's value (see the `tensor_samples` function)."""
        sample = tensor_samples([(inputs, value)], tolerance)
        if self.value is None:
            self.value = sample
        else:
            self.value["samples"] += sample["samples"]
            if len(self.value["samples"]) > MAX_SAMPLES:
                raise ValueError(f"more than {MAX_SAMPLES} tensor samples")

    def demonstrated(self, reason: str) -> None:
        """Mark the fact as holding by construction of this verifier's own code: shown as demonstrated, not verified."""
        if not reason.strip():
            raise ValueError("say why the fact holds by construction")
        self.demonstration = reason.strip()


def samples(points: Iterable[tuple[Mapping[str, float], float]], tolerance: float) -> dict:
    """The value for an expression card: measured outcomes at points, e.g. `({"p1": .1, "p2": .2}, 0.2801)`.

    The card's formula must reproduce every measurement within `tolerance`.
    """
    return {
        "samples": [{"at": {k: float(v) for k, v in at.items()}, "value": float(value)} for at, value in points],
        "tolerance": float(tolerance),
    }


def tensor_samples(points: Iterable[tuple[Mapping[str, Any], Any]], tolerance: float = 1e-6) -> dict:
    """The value for a tensor part: named input tensors and the true result, e.g. `({"W": W, "x": x}, grad)`.

    Tensors (torch or numpy) become nested lists of floats, so the cache and the review app need no
    torch; the card's formula, and every formula a learner types, must reproduce each `value`.
    """
    samples = []
    for inputs, value in points:
        if not inputs:
            raise ValueError("a tensor sample needs at least one named input")
        samples.append(
            {
                "inputs": {str(name): _nested_list(tensor, f"input {name!r}") for name, tensor in inputs.items()},
                "value": _nested_list(value, "value"),
            }
        )
    if not samples:
        raise ValueError("tensor_samples needs at least one sample")
    if len(samples) > MAX_SAMPLES:
        raise ValueError(f"more than {MAX_SAMPLES} tensor samples")
    return {"samples": samples, "tolerance": float(tolerance)}


def _nested_list(tensor: Any, what: str) -> Any:
    """A tensor, array, number or nested sequence → nested lists of floats, at most `MAX_SAMPLE_ELEMENTS`."""
    if hasattr(tensor, "detach"):  # torch, without importing it
        tensor = tensor.detach().cpu()
    size = getattr(tensor, "numel", None)
    count = size() if callable(size) else getattr(tensor, "size", None)
    if isinstance(count, int) and count > MAX_SAMPLE_ELEMENTS:
        raise ValueError(f"{what} has {count} elements; a sample tensor may have at most {MAX_SAMPLE_ELEMENTS}")
    if hasattr(tensor, "tolist"):
        tensor = tensor.tolist()
    flat = _flatten_check(tensor, what)
    if flat > MAX_SAMPLE_ELEMENTS:
        raise ValueError(f"{what} has {flat} elements; a sample tensor may have at most {MAX_SAMPLE_ELEMENTS}")
    return _floats(tensor)


def _flatten_check(value: Any, what: str) -> int:
    """Element count of a nested list, refusing ragged or non-numeric ones."""
    if isinstance(value, list | tuple):
        counts = [_flatten_check(v, what) for v in value]
        shapes = {_shape(v) for v in value}
        if len(shapes) > 1:
            raise ValueError(f"{what} is ragged (rows of different shapes)")
        return sum(counts)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} holds {type(value).__name__}, not numbers")
    return 1


def _shape(value: Any) -> tuple:
    return (len(value), *_shape(value[0])) if isinstance(value, list | tuple) and value else ()


def _floats(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_floats(v) for v in value]
    return float(value)


def _scalar(value: Any, what: str) -> float | int | str:
    """A figure's value as a JSON scalar: numbers (numpy/torch scalars via `.item()`), bools and short text."""
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{what} is {value}; a figure must be a finite number")
        return value
    if isinstance(value, str) and len(value) <= 200:
        return value
    raise ValueError(f"{what} must be a number or a short string, not {type(value).__name__}")


class Redraw(Exception):  # noqa: N818 (an instruction to the runner, not an error)
    """Raised by `Context.require`: this draw of a parametric card's parameters is unusable; draw again."""


@dataclass(frozen=True)
class Context:
    """What a verifier may know about its card: its id, a `code` card's snippet, a parametric card's parameters."""

    card_id: str
    snippet: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    def require(self, condition: Any, why: str) -> None:
        """A constraint on the drawn parameters (e.g. the kernel fits the input); a false one redraws them."""
        if not condition:
            raise Redraw(why)

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
