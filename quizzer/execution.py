"""Run one card's verifier in the current process and judge what it returns.

This is what a verify worker does for each job; the pool around it (`quizzer.runner`) adds
isolation, timeouts and caching. Torch is imported here only if the verifier imports it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import io
import json
import random
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from quizzer.deck import CHECKABLE_KINDS, Card
from quizzer.verifier import Context, Result

Status = Literal["passed", "failed", "error", "timeout", "crashed", "out-of-memory", "unverified"]
# The verifier was stopped before it could return anything: a verdict on the machine, not on the card,
# so the runner never serves it from the cache nor lets it replace a cached result.
INTERRUPTED = frozenset({"timeout", "crashed", "out-of-memory"})
SEED = 0
NO_VERIFIER = "no verifier: this card's answer is not checked by code"


@dataclass
class Outcome:
    """The verdict on one card's verification: what the cache stores and the TUI shows."""

    status: Status
    message: str = ""
    value: Any = None
    expected: str = ""
    computed: str = ""
    claims: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)
    output: str = ""
    traceback: str = ""
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "passed"

    @property
    def interrupted(self) -> bool:
        return self.status in INTERRUPTED

    def details(self) -> list[str]:
        """Expected vs computed, each claim, the traceback and captured output: what a failure report shows."""
        lines = [f"expected: {self.expected}", f"computed: {self.computed}"] if self.expected or self.computed else []
        for claim in self.claims:
            mark = "✓" if claim["holds"] else "✗"
            lines.append(f"{mark} {claim['name']}" + (f": {claim['measured']}" if claim["measured"] else ""))
        if self.traceback:
            lines.append(self.traceback.rstrip())
        if self.output:
            lines.append("output:\n" + self.output.rstrip())
        return lines

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        return cls(**json.loads(text))


def seed_everything(seed: int = SEED) -> None:
    random.seed(seed)
    with contextlib.suppress(ImportError):
        import numpy

        numpy.random.seed(seed)
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        torch.manual_seed(seed)


def load_function(root: Path, card: Card):
    """Import the verifier file as a fresh module (its folder and the root importable) and get the function."""
    path = (root / (card.verifier_file or "")).resolve()
    if not path.is_relative_to(root.resolve()):
        raise PermissionError(f"verifier {card.verifier} resolves outside {root}")
    name = "quizzer_verifier_" + "_".join(path.relative_to(root.resolve()).with_suffix("").parts)
    for folder in (str(root.resolve()), str(path.parent)):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    function = getattr(module, card.verifier_function, None)
    if not callable(function):
        raise AttributeError(f"{card.verifier_file} has no function {card.verifier_function!r}")
    return function


def execute(card: Card, root: Path) -> Outcome:
    """Run the card's verifier (seeded, output captured) and judge its result against the card."""
    if not card.verifier:
        return Outcome("unverified", NO_VERIFIER)
    started = time.perf_counter()
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            function = load_function(root, card)
            seed_everything()
            context = Context(card.id, card.answer.value if card.answer.kind == "code" else "")
            result = function(context) if inspect.signature(function).parameters else function()
    except Exception:
        outcome = Outcome("error", "the verifier raised an exception", output=_trim(printed.getvalue()))
        outcome.traceback = _verifier_traceback(root)
    else:
        outcome = judge(card, result)
        outcome.output = _trim(printed.getvalue())
    outcome.duration = time.perf_counter() - started
    return outcome


def judge(card: Card, result: Any) -> Outcome:
    """Turn what a verifier returned into an outcome for its card."""
    if not isinstance(result, Result):
        return Outcome("error", f"the verifier returned {type(result).__name__}, not a quizzer.verifier.Result")
    outcome = Outcome(
        "passed",
        value=_plain(result.value),
        claims=[asdict(c) for c in result.claims],
        notes=[str(n) for n in result.notes],
        series=[asdict(s) for s in result.series],
    )
    return decide(card, outcome)


def decide(card: Card, outcome: Outcome) -> Outcome:
    """Compare the computed value with the card's stated answer and check every claim.

    Pure and repeatable: the mutation test re-decides a stored outcome against a perturbed card.
    """
    value = outcome.value
    expected = card.answer.display() if card.answer.kind in CHECKABLE_KINDS else ""
    decided = replace(outcome, status="passed", message="", expected=expected, computed=_show(value))
    failed_claims = [c for c in outcome.claims if not c["holds"]]
    if value is None and card.answer.kind not in ("code", "text"):
        no_value = f"the verifier returned no value for a {card.answer.kind} card"
        if failed_claims:  # its own failing claim (a `quizzer new` stub's "write this verifier") comes first
            return replace(decided, status="failed", message=f"{_claims_failed(failed_claims)}; {no_value}")
        return replace(decided, status="error", message=no_value)
    verdict = card.answer.check_value(value)
    if verdict.status == "unparsable":
        return replace(decided, status="error", message=verdict.message)
    if not verdict.correct:
        message = f"the card says {expected} but the verifier computed {_show(value)}"
        if verdict.message and card.answer.kind == "expression":
            message += f": {verdict.message}"
        return replace(decided, status="failed", message=message)
    if failed_claims:
        return replace(decided, status="failed", message=_claims_failed(failed_claims))
    if not outcome.claims and value is None:
        return replace(
            decided, status="error", message="the verifier returned neither a value nor claims: it cannot fail"
        )
    return decided


def _claims_failed(claims: list[dict]) -> str:
    return "claim failed: " + "; ".join(c["name"] + (f" ({c['measured']})" if c["measured"] else "") for c in claims)


def _plain(value: Any) -> Any:
    """Tuples become lists; anything not JSON-like is refused by the checker later."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict) and "samples" in value:
        points = value["samples"]
        return f"{len(points)} measurements, e.g. " + ", ".join(
            "(" + ", ".join(f"{k}={v:g}" for k, v in p["at"].items()) + f") → {p['value']:.4g}" for p in points[:2]
        )
    return repr(value) if not isinstance(value, str) else value


def _verifier_traceback(root: Path) -> str:
    """The traceback from the verifier's own frames on (quizzer's frames trimmed off)."""
    kind, exc, tb = sys.exc_info()
    frames = traceback.extract_tb(tb)
    root_text = str(root.resolve())
    start = next((i for i, f in enumerate(frames) if f.filename.startswith(root_text)), 0)
    lines = traceback.format_list(frames[start:]) + traceback.format_exception_only(kind, exc)
    return "Traceback (most recent call last):\n" + "".join(lines)


def _trim(text: str, limit: int = 4000) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n… ({len(text) - limit} more characters)"
