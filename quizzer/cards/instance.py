"""What one review of a card asks and grades: its parts as posed this time, and their verdicts.

A fixed card is asked as written, graded against its stated answers, with its text filled from
the figures of its latest verification. A variant (a pool entry of a parametric card) is asked with
that entry's parameters and graded against the values its verifier computed for it. Either way a
part whose stated answer the latest verification disputes is never graded against: the learner
compares and grades it. Pure: the cached verification data comes in as plain dicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from quizzer.cards.deck import SINGLE_PART, Card, Part, instance_part
from quizzer.core import templates
from quizzer.core.checking import Verdict

OK_STATUSES = ("passed", "demonstrated")


@dataclass(frozen=True)
class Instance:
    """One posing of a card: parts with the answers to grade against, and what its texts cite."""

    card: Card
    parts: tuple[Part, ...]
    data: Mapping[str, Any] = field(default_factory=dict)  # part id → the verifier's raw value (samples)
    values: Mapping[str, Any] = field(default_factory=dict)  # parameters and figures, for templates
    disputed: Mapping[str, str] = field(default_factory=dict)  # part id → why it is not graded against
    seed: int | None = None  # a variant's pool seed (None for a fixed card)
    params: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""  # which posing: "instance 3 (kernel=5, stride=2)" or "worked example #1 (…)"
    verification: Mapping[str, Any] = field(default_factory=dict)  # a variant's own: its pool entry
    missing: str = templates.MISSING  # what a cited figure without a value says (see `missing_figure`)

    @property
    def asked(self) -> tuple[Part, ...]:
        """The parts that get an input box: the checkable ones, or the first part of a card with none."""
        checkable = tuple(part for part in self.parts if part.checkable)
        return checkable or self.parts[:1]

    def render(self, text: str) -> str:
        """Card text with `{{ name }}` filled from this instance's parameters and figures."""
        return templates.render(text, self.values, self.missing)


def fixed(card: Card, outcome: Any | None) -> Instance:
    """A fixed card as written; `outcome` (a cached `execution.Outcome`, or None) supplies figures,
    tensor samples, and the values that dispute a stated answer."""
    parts = tuple(card.parts)
    if outcome is None:
        return Instance(card, parts)
    data = {part.id: outcome.part_value(part.id) for part in parts}
    disputed = {
        part.id: "the verifier computed " + str(outcome.parts.get(part.id, {}).get("computed") or data[part.id])
        for part in parts
        if _disputes(part, data[part.id])
    }
    return Instance(card, parts, data, dict(outcome.figures), disputed, missing=missing_figure(outcome.status))


def variant(card: Card, entry: Mapping[str, Any]) -> Instance:
    """A pool entry `{"seed", "params", "parts": {id: {"value", ...}}, "figures", "status", "message"}`:
    its parts carry the entry's computed values as their answers. An entry that did not pass
    verification (a failed cross-check, say) is not graded against at all."""
    raw = entry.get("parts") or {}
    data = {part.id: (raw.get(part.id) or {}).get("value") for part in card.parts}
    if SINGLE_PART in data and data[SINGLE_PART] is None:
        data[SINGLE_PART] = entry.get("value")
    parts, disputed = [], {}
    for part in card.parts:
        value = data[part.id]
        try:
            posed = instance_part(part, value)  # a computed number is the answer; samples keep the formula
        except ValueError:
            posed, disputed[part.id] = part, "a value the checker cannot read"
        parts.append(posed)
    if entry.get("status") not in OK_STATUSES:
        problem = entry.get("message") or f"this instance's verification {entry.get('status', 'is missing')}"
        disputed = {part.id: problem for part in card.parts if part.checkable}
    params = dict(entry.get("params") or {})
    values = {**(entry.get("figures") or {}), **params}
    label = entry.get("label", "")
    missing = missing_figure(entry.get("status"))
    return Instance(card, tuple(parts), data, values, disputed, entry.get("seed"), params, label, entry, missing)


def missing_figure(status: str | None) -> str:
    """What a cited figure with no value says, by the status of the verification it was looked up
    in: none yet, a verification that records no such figure, or one that failed before measuring."""
    if status in (None, "unverified"):
        return templates.MISSING
    return templates.NOT_PRODUCED if status in OK_STATUSES else templates.NOT_MEASURED


def pose(card: Card, outcome: Any | None, seen: Sequence[int] = ()) -> Instance:
    """How a review asks `card`: a fixed card as written; a parametric card as the pool entry `pick`
    chooses (`seen`: the instance seeds of its review log, oldest first), or its first worked example
    before any pool is verified."""
    if not card.parametric:
        return fixed(card, outcome)
    entry = pick(outcome.pool, seen) if outcome is not None else None
    return variant(card, entry) if entry is not None else example(card)


def example(card: Card, number: int = 1) -> Instance:
    """A parametric card's worked example `number`, asked with its parameters and graded against its
    stated answers: how the card is posed before a pool is verified (and how `show` presents it)."""
    worked = card.examples[number - 1]
    params = dict(worked.params)
    shown = ", ".join(f"{name}={templates.format_value(value)}" for name, value in params.items())
    label = f"worked example #{number} ({shown})"
    return Instance(card, tuple(card.parts_of(worked)), values=params, params=params, label=label)


def sample_shapes(instance: Instance, part: Part) -> dict[str, tuple[int, ...]]:
    """A tensor part's input shapes, read from its first cached sample (what the learner may use)."""
    value = instance.data.get(part.id)
    if part.answer.kind != "tensor" or not isinstance(value, dict):
        return {}
    try:
        inputs = value["samples"][0]["inputs"]
        return {name: _shape_of(inputs[name]) for name in part.answer.variables if name in inputs}
    except (KeyError, IndexError, TypeError):
        return {}


def _shape_of(nested) -> tuple[int, ...]:
    shape = []
    while isinstance(nested, list) and len(shape) < 8:
        shape.append(len(nested))
        nested = nested[0] if nested else None
    return tuple(shape)


def _disputes(part: Part, value: Any) -> bool:
    """Whether the verifier's value, judged by the part's own checker, disagrees with its stated answer."""
    if not part.checkable or value is None:
        return False
    try:
        return not part.answer.check_value(value).correct
    except Exception:  # a cached value the checker cannot even read: nothing to grade against either
        return True


def grade(instance: Instance, typed: Mapping[str, str]) -> dict[str, Verdict]:
    """A verdict per part: checkable parts by their own checker (a tensor part on the cached samples),
    text and code parts self-graded, disputed parts self-graded with the reason."""
    verdicts = {}
    for part in instance.parts:
        text = typed.get(part.id, "")
        if part.id in instance.disputed:
            verdicts[part.id] = Verdict("self-graded", text.strip(), "not graded: its verifier disputes this answer")
        elif part.checkable and not text.strip():
            verdicts[part.id] = Verdict("incorrect", "", "no answer given")
        else:
            verdicts[part.id] = check_part(part, text, instance.data.get(part.id))
    return verdicts


def check_part(part: Part, typed: str, data: Any = None) -> Verdict:
    """One typed answer through the part's checker; any input, however odd, gets a verdict, not a crash."""
    try:
        if part.answer.kind == "tensor":
            return part.answer.check(typed, data)
        return part.answer.check(typed)
    except Exception as error:
        return Verdict("unparsable", typed.strip()[:80], f"cannot check this answer: {error}")


def overall(verdicts: Mapping[str, Verdict]) -> str:
    """The log's one-word verdict for a whole card: incorrect if any part is, correct if every checked
    part is, else self-graded (nothing was checked)."""
    statuses = [v.status for v in verdicts.values() if v.status != "self-graded"]
    if "incorrect" in statuses:
        return "incorrect"
    if statuses and all(s == "correct" for s in statuses):
        return "correct"
    return "self-graded"


def pick(pool: Sequence[Mapping[str, Any]], seen: Sequence[int]) -> Mapping[str, Any] | None:
    """The pool entry to review next: the first verified one the learner has not seen; when every
    verified entry has been seen, the one seen longest ago. `seen`: instance seeds from the review
    log, oldest first. Entries that failed verification are offered only if nothing else is left.
    Deterministic: the same log gives the same instance, so a review can be reproduced."""
    usable = [entry for entry in pool if entry.get("status") in OK_STATUSES] or list(pool)
    if not usable:
        return None
    last_seen = {seed: order for order, seed in enumerate(seen)}
    return min(usable, key=lambda entry: (entry.get("seed") in last_seen, last_seen.get(entry.get("seed"), -1)))
