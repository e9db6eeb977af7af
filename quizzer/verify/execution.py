"""Run one card's verifier in the current process and judge what it returns.

This is what a verify worker does for each job; the pool around it (`quizzer.verify.runner`) adds
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
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from quizzer.cards.deck import SINGLE_PART, Card, Example, Part, draw, instance_part
from quizzer.core import jsontext
from quizzer.core.safetext import shown_data
from quizzer.core.templates import format_value
from quizzer.verifier import Context, Redraw, Result
from quizzer.verify.statuses import INTERRUPTED

Status = Literal["passed", "demonstrated", "failed", "error", "timeout", "crashed", "out-of-memory", "unverified"]
SEED = 0
NO_VERIFIER = "no verifier: this card's answer is not checked by code"
DEFAULT_VARIANTS = 32
DRAWS_PER_INSTANCE = 10  # seeds tried per wanted instance (redraws, repeated draws) before the pool stops
OK_STATUSES = ("passed", "demonstrated")


@dataclass
class Outcome:
    """The verdict on one card's verification: what the cache stores and the TUI shows.

    Verification data (docs/ARCHITECTURE.md): `parts` judges each answer part (`status`, `expected`,
    `computed`, `message`, and for a parts card the verifier's raw `value`; a single-answer card's
    raw value is `value`), `figures` are the named numbers the card's text cites, `examples` the
    judged worked instances of a parametric card after the first (whose data is this outcome's own).
    """

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
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    demonstration: str = ""
    missing_figures: list[str] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)
    pool: list[dict[str, Any]] = field(default_factory=list)
    variants: int = 0

    @property
    def ok(self) -> bool:
        """Not a failure: passed, or demonstrated (holds by construction; shown apart, never counted verified)."""
        return self.status in OK_STATUSES

    @property
    def verified(self) -> bool:
        return self.status == "passed"

    @property
    def interrupted(self) -> bool:
        return self.status in INTERRUPTED

    def part_value(self, part_id: str) -> Any:
        """The verifier's raw value for a part (a single-answer card's is `value`)."""
        entry = self.parts.get(part_id, {})
        return entry.get("value", self.value if part_id == SINGLE_PART else None)

    def strict_failure(self) -> str:
        """Why `--strict` fails an outcome that is otherwise fine: a cited figure its verifier did not produce."""
        if self.ok and self.missing_figures:
            names = ", ".join(self.missing_figures)
            return f"the card cites {{{{ {names} }}}} but its verifier produced no such figure"
        return ""

    def details(self) -> list[str]:
        """Expected vs computed, each part and claim, the traceback and captured output: what a failure report shows."""
        lines = [f"expected: {self.expected}", f"computed: {self.computed}"] if self.expected or self.computed else []
        if len(self.parts) > 1 or SINGLE_PART not in self.parts:
            for part_id, part in self.parts.items():
                if part["status"] == "self-graded":
                    continue
                mark = "✓" if part["status"] == "passed" else "✗"
                lines.append(f"{mark} part {part_id}: expected {part['expected']}, computed {part['computed']}")
        for entry in self.examples + self.pool:
            if entry["status"] not in OK_STATUSES:
                lines.append(f"✗ {entry['label']}: {entry['message']}")
        for claim in self.claims:
            mark = "✓" if claim["holds"] else "✗"
            lines.append(f"{mark} {claim['name']}" + (f": {claim['measured']}" if claim["measured"] else ""))
        if self.missing_figures:
            lines.append("figures cited but not produced: " + ", ".join(self.missing_figures))
        if self.traceback:
            lines.append(self.traceback.rstrip())
        if self.output:
            lines.append("output:\n" + self.output.rstrip())
        return lines

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        """Raises `ValueError` or `TypeError` for JSON that is not an outcome (a damaged or edited cache row).

        Every string in it is `safetext.shown`: a verifier's report and a database row are anyone's text,
        and each screen that shows an outcome (show, review, the app, the Anki export) reads it here."""
        outcome = cls(**shown_data(jsontext.loads(text), text))
        for name, kind in {"parts": dict, "figures": dict, "pool": list, "examples": list, "claims": list}.items():
            value = getattr(outcome, name)
            entries = value.values() if isinstance(value, dict) else value
            if not isinstance(value, kind) or not all(isinstance(entry, dict) for entry in entries):
                raise ValueError(f"the cached outcome's {name} is not a {kind.__name__} of objects")
        return outcome


def seed_everything(seed: int = SEED) -> None:
    random.seed(seed)
    with contextlib.suppress(ImportError):
        import numpy

        numpy.random.seed(seed % 2**32)
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


def execute(card: Card, root: Path, variants: int = DEFAULT_VARIANTS) -> Outcome:
    """Run the card's verifier (seeded, output captured) and judge its result against the card.

    A parametric card runs once per worked example (each judged against its stated answer), then
    once per instance of a pool of `variants` seeded draws (`build_pool`).
    """
    if not card.verifier:
        return Outcome("unverified", NO_VERIFIER)
    started = time.perf_counter()
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            function = load_function(root, card)
            if card.parametric:
                outcomes = [_run_example(function, card, number) for number in range(1, len(card.examples) + 1)]
                outcome = _with_examples(card, outcomes)
                outcome.pool = build_pool(function, card, variants)
                outcome.variants = variants
                outcome = decide(card, outcome)
            else:
                outcome = judge(card, _call(function, card))
    except _Unjudgeable as error:
        outcome = Outcome("error", str(error), output=_trim(printed.getvalue()))
    except Exception:
        outcome = Outcome("error", "the verifier raised an exception", output=_trim(printed.getvalue()))
        outcome.traceback = _verifier_traceback(root)
    else:
        outcome.output = _trim(printed.getvalue())
    outcome.duration = time.perf_counter() - started
    return outcome


class _Unjudgeable(Exception):  # noqa: N818
    """A worked example the verifier refused or answered with something that is not a Result."""


def _run_example(function, card: Card, number: int) -> Outcome:
    example = card.examples[number - 1]
    try:
        result = _call(function, card, example.params)
    except Redraw as redraw:
        raise _Unjudgeable(f"the verifier refused its own worked {example_label(number, example)}: {redraw}") from None
    if not isinstance(result, Result):
        raise _Unjudgeable(f"the verifier returned {type(result).__name__}, not a quizzer.verifier.Result")
    return judge(card, result, example)


def build_pool(function, card: Card, variants: int) -> list[dict[str, Any]]:
    """`variants` instances of a parametric card: seeds 0, 1, 2… drawn in turn, each run and judged.

    A draw the verifier refuses (`ctx.require` → `Redraw`) or one already in the pool is skipped; at
    most `DRAWS_PER_INSTANCE × variants` seeds are tried, so a small parameter space gives a smaller
    pool. Deterministic for a card and N (a smaller N's pool is a prefix of a larger one's).
    """
    pool: list[dict[str, Any]] = []
    seen: set[str] = set()
    for seed in range(variants * DRAWS_PER_INSTANCE):
        if len(pool) >= variants:
            break
        params = draw(card.params, seed)
        identity = json.dumps(params, sort_keys=True)
        if identity in seen:
            continue
        seen.add(identity)
        entry: dict[str, Any] = {"label": instance_label(len(pool) + 1, params), "seed": seed, "params": params}
        try:
            result = _call(function, card, params, seed)
        except Redraw:
            continue
        except Exception as error:  # this instance fails the card; the rest would add nothing
            pool.append({**entry, "raised": f"the verifier raised {type(error).__name__}: {error}"})
            break
        if not isinstance(result, Result):
            pool.append({**entry, "raised": f"the verifier returned {type(result).__name__}, not a Result"})
            break
        raw = judge(card, result)
        pool.append(
            {
                **entry,
                "value": _plain(result.value),
                "parts": {str(k): {"value": _plain(v)} for k, v in result.parts.items()},
                "figures": raw.figures,
                "claims": raw.claims,
                "notes": raw.notes,
                "demonstration": raw.demonstration,
            }
        )
    return [judge_instance(card, entry) for entry in pool]


def judge_instance(card: Card, entry: dict[str, Any]) -> dict[str, Any]:
    """One pool instance judged from its raw values: each part's value must be a valid answer of its kind
    (it *is* that instance's answer), a formula part's stated formula must reproduce the instance's
    samples, and every claim (the verifier's independent cross-check) must hold.
    """
    if "raised" in entry:
        return {**entry, "status": "error", "message": entry["raised"], "parts": {}}
    raw = Outcome(
        "passed",
        value=entry.get("value"),
        parts={k: {"value": v.get("value")} for k, v in entry.get("parts", {}).items()},
        figures=entry.get("figures", {}),
        claims=entry.get("claims", []),
        demonstration=entry.get("demonstration", ""),
    )
    parts = []
    for part in card.parts:
        value = raw.part_value(part.id)
        try:
            parts.append(instance_part(part, value))
        except ValueError:
            message = f"part {part.id!r}: {_show(value)} is not a {part.answer.kind} answer"
            return {**entry, "status": "error", "message": message, "parts": {}}
    judged = decide_instance(card, raw, parts)
    for part in card.parts:
        judged.parts[part.id]["value"] = raw.part_value(part.id)
    return {
        **entry,
        "status": judged.status,
        "message": judged.message,
        "parts": judged.parts,
        "missing_figures": judged.missing_figures,
    }


def instance_label(number: int, params: Mapping[str, Any]) -> str:
    """`instance 3 (kernel=5, stride=2)`: its place in the pool (what `show --variant 3` names)."""
    shown = ", ".join(f"{name}={format_value(value)}" for name, value in params.items())
    return f"instance {number} ({shown})"


def _call(function, card: Card, params: Mapping[str, Any] | None = None, seed: int = SEED) -> Any:
    """One seeded run of the verifier function with the card's context (and an instance's parameters)."""
    seed_everything(seed)
    snippet = card.answer.value if card.answer is not None and card.answer.kind == "code" else ""
    context = Context(card.id, snippet, dict(params or {}))
    return function(context) if inspect.signature(function).parameters else function()


def judge(card: Card, result: Any, example: Example | None = None) -> Outcome:
    """Turn what a verifier returned into an outcome for its card (or for one worked example of it)."""
    if not isinstance(result, Result):
        return Outcome("error", f"the verifier returned {type(result).__name__}, not a quizzer.verifier.Result")
    outcome = Outcome(
        "passed",
        value=_plain(result.value),
        claims=[asdict(c) for c in result.claims],
        notes=[str(n) for n in result.notes],
        series=[asdict(s) for s in result.series],
        parts={str(part_id): {"value": _plain(value)} for part_id, value in result.parts.items()},
        figures={name: asdict(figure) for name, figure in result.figures.items()},
        demonstration=result.demonstration,
    )
    return decide_instance(card, outcome, card.parts_of(example) if example else card.parts, example)


def _with_examples(card: Card, outcomes: list[Outcome]) -> Outcome:
    """A parametric card's outcome: the first example's data, the others' in `examples` (`decide` judges all)."""
    first, others = outcomes[0], outcomes[1:]
    first.examples = [_example_entry(card, number, o) for number, o in enumerate(others, start=2)]
    return first


def _example_entry(card: Card, number: int, outcome: Outcome) -> dict[str, Any]:
    example = card.examples[number - 1]
    return {
        "label": example_label(number, example),
        "params": dict(example.params),
        "status": outcome.status,
        "message": outcome.message,
        "value": outcome.value,
        "parts": outcome.parts,
        "claims": outcome.claims,
        "figures": outcome.figures,
        "demonstration": outcome.demonstration,
    }


def example_label(number: int, example: Example) -> str:
    shown = ", ".join(f"{name}={format_value(value)}" for name, value in example.params.items())
    return f"worked example #{number} ({shown})"


def decide(card: Card, outcome: Outcome) -> Outcome:
    """Judge a stored outcome against the card again: each part, each claim, each worked example.

    Pure and repeatable: the mutation test re-decides a stored outcome against a perturbed card.
    """
    if not card.parametric:
        return decide_instance(card, outcome, card.parts)
    decided = decide_instance(card, outcome, card.parts_of(card.examples[0]), card.examples[0])
    examples = []
    for number, entry in enumerate(outcome.examples, start=2):
        example = card.examples[number - 1] if number <= len(card.examples) else None
        if example is None:
            continue
        replay = Outcome(
            "passed",
            value=entry["value"],
            claims=entry["claims"],
            parts=entry["parts"],
            figures=entry["figures"],
            demonstration=entry["demonstration"],
        )
        judged = decide_instance(card, replay, card.parts_of(example), example)
        examples.append({**entry, "status": judged.status, "message": judged.message, "parts": judged.parts})
    pool = [judge_instance(card, entry) for entry in outcome.pool]
    missing = sorted({*decided.missing_figures, *(n for e in pool for n in e.get("missing_figures", []))})
    decided = replace(decided, examples=examples, pool=pool, missing_figures=missing)
    if decided.ok:
        failing = next((e for e in examples + pool if e["status"] not in OK_STATUSES), None)
        if failing is not None:
            status = "error" if failing["status"] == "error" else "failed"
            return replace(decided, status=status, message=f"{failing['label']}: {failing['message']}")
        if outcome.variants and not pool:
            message = "no instance in the pool: the verifier refused every draw of the parameters (ctx.require)"
            return replace(decided, status="error", message=message)
    if decided.status not in OK_STATUSES and decided.status != "error":
        return replace(decided, message=f"{example_label(1, card.examples[0])}: {decided.message}")
    return decided


def decide_instance(card: Card, outcome: Outcome, parts: list[Part], example: Example | None = None) -> Outcome:
    """Compare each computed part value with `parts`' stated answers and check every claim."""
    single = card.declared_parts is None
    computed = {part.id: outcome.part_value(part.id) for part in parts}
    judged = {part.id: _judge_part(part, computed[part.id], "card" if single else "part") for part in parts}
    for part_id, entry in judged.items():
        if not single:
            entry["value"] = computed[part_id]
    figures = set(outcome.figures)
    missing = [name for name in card.cited_figures if name not in figures]
    decided = replace(outcome, status="passed", message="", parts=judged, missing_figures=missing)
    if single:
        entry = judged[SINGLE_PART]
        decided = replace(decided, value=computed[SINGLE_PART], expected=entry["expected"], computed=entry["computed"])
    failed_claims = [c for c in outcome.claims if not c["holds"]]
    problem = _parts_problem(card, outcome, parts, judged, single)
    if problem is not None:
        status, message = problem
        only_missing = all(computed[p] is None for p, e in judged.items() if e["status"] == "error")
        if status == "error" and only_missing and failed_claims:
            # its own failing claim (a `quizzer new` stub's "write this verifier") comes first
            return replace(decided, status="failed", message=f"{_claims_failed(failed_claims)}; {message}")
        return replace(decided, status=status, message=message)
    if failed_claims:
        return replace(decided, status="failed", message=_claims_failed(failed_claims))
    clash = sorted(figures & set(card.params))
    if clash:
        return replace(decided, status="error", message=f"figure {clash[0]!r} has the name of a parameter; rename it")
    if not outcome.claims and all(computed[p.id] is None for p in parts):
        return replace(
            decided, status="error", message="the verifier returned neither a value nor claims: it cannot fail"
        )
    if outcome.demonstration:
        return replace(decided, status="demonstrated", message=f"demonstrated: {outcome.demonstration}")
    return decided


def _claims_failed(claims: list[dict]) -> str:
    return "claim failed: " + "; ".join(c["name"] + (f" ({c['measured']})" if c["measured"] else "") for c in claims)


def _judge_part(part: Part, value: Any, noun: str) -> dict[str, Any]:
    """One part's verdict with the same checker that grades the learner."""
    answer = part.answer
    expected = answer.display() if part.checkable else ""
    entry = {"status": "passed", "expected": expected, "computed": _show(value), "message": ""}
    if not part.checkable and value is None:
        return {**entry, "status": "self-graded"}
    if value is None:
        return {**entry, "status": "error", "message": f"the verifier returned no value for a {answer.kind} {noun}"}
    verdict = answer.check_value(value)
    if verdict.status == "unparsable":
        return {**entry, "status": "error", "message": verdict.message}
    if not verdict.correct:
        message = f"the card says {expected} but the verifier computed {_show(value)}"
        if verdict.message and answer.kind in ("expression", "tensor"):
            message += f": {verdict.message}"
        return {**entry, "status": "failed", "message": message}
    return entry


def _parts_problem(
    card: Card, outcome: Outcome, parts: list[Part], judged: dict[str, dict], single: bool
) -> tuple[str, str] | None:
    """(status, message) of the first error, else of the failed parts, else None."""
    known = {part.id for part in parts}
    stray = sorted(set(outcome.parts) - known)
    if stray:
        what = "this single-answer card (set r.value)" if single else "this card"
        return "error", f"the verifier gave a value for part {stray[0]!r}, which {what} does not have"
    if not single and outcome.value is not None:
        return "error", "a card with parts takes r.part(id, value) for each checkable part, not r.value"
    prefix = (lambda part_id: "") if single else (lambda part_id: f"part {part_id!r}: ")
    errors = [(pid, e) for pid, e in judged.items() if e["status"] == "error"]
    if errors:
        return "error", "; ".join(prefix(pid) + e["message"] for pid, e in errors)
    failures = [(pid, e) for pid, e in judged.items() if e["status"] == "failed"]
    if failures:
        return "failed", "; ".join(prefix(pid) + e["message"] for pid, e in failures)
    return None


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
        if points and isinstance(points[0], dict) and "inputs" in points[0]:  # tensor samples
            return f"{len(points)} sample tensor sets (inputs {', '.join(points[0]['inputs'])})"
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
