"""The deck format: pydantic models for `decks/*.toml`.

Every model forbids unknown keys, so a typo in a deck is an error with a did-you-mean, not a
silently ignored field. Each answer kind knows how to check a learner's typed input and a
verifier's computed value, by delegating to the pure checkers in `quizzer.core.checking`.
"""

from __future__ import annotations

import contextlib
import json
import keyword
import math
import random
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from quizzer.core import checking, templates
from quizzer.core.checking import Verdict

SLUG = r"^[a-z0-9][a-z0-9-]*$"
# Bounds on what a deck may hold, so that no one card costs a command more than about a second: a
# 80 KB prompt of code fences took 1.2 s of CPU to draw (rich) and 3.5 s in `review --plain` on a loaded
# machine, a 100,000-character id was printed whole everywhere. The bundled decks' longest text is 2.6 KB.
MAX_ID_CHARS = 100
MAX_TITLE_CHARS = 500
MAX_TEXT_CHARS = 32_768
VERIFIER_REF = r"^[^:]+\.py(::[A-Za-z_][A-Za-z0-9_]*)?$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NumericAnswer(_Model):
    """A number; typed as `42`, `4.2e1`, `3/4`, `75%`, or followed by the card's unit (`42 pixels`)."""

    kind: Literal["numeric"]
    value: float = Field(allow_inf_nan=False)
    tolerance: float = Field(0.0, ge=0, allow_inf_nan=False, description="Absolute tolerance accepted around `value`.")
    unit: str = Field("", description="Shown after the value, e.g. 'pixels'.")

    def check(self, typed: str) -> Verdict:
        return checking.check_numeric(self.value, self.tolerance, typed, self.unit)

    def check_value(self, value: Any) -> Verdict:
        """A number; NaN and infinities are wrong answers (the verifier computed them), not errors."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return Verdict(
                "unparsable", checking.shorten(repr(value)), "a numeric card needs a number from its verifier"
            )
        try:
            number = float(value)
        except OverflowError:  # an integer past the float range
            number = math.inf if value > 0 else -math.inf
        return checking.judge_number(self.value, self.tolerance, number)

    def display(self) -> str:
        shown = checking.format_number(self.value)
        return shown + (f" ± {self.tolerance:g}" if self.tolerance else "") + (f" {self.unit}" if self.unit else "")


class BooleanAnswer(_Model):
    """True or false; typed as true/false/t/f/yes/no."""

    kind: Literal["boolean"]
    value: bool

    def check(self, typed: str) -> Verdict:
        return checking.check_boolean(self.value, typed)

    def check_value(self, value: Any) -> Verdict:
        if not isinstance(value, bool):
            return Verdict(
                "unparsable", checking.shorten(repr(value)), "a boolean card needs True or False from its verifier"
            )
        return checking.judge_boolean(self.value, value)

    def display(self) -> str:
        return "True" if self.value else "False"


class ChoiceAnswer(_Model):
    """One of `options`; typed case-insensitively, as a unique prefix or as its number."""

    kind: Literal["choice"]
    options: list[str] = Field(min_length=2)
    value: str

    @model_validator(mode="after")
    def _value_is_an_option(self) -> ChoiceAnswer:
        if problem := _choice_problem(self.options, self.value):
            raise ValueError(problem)
        return self

    def check(self, typed: str) -> Verdict:
        return checking.check_choice(self.options, self.value, typed)

    def check_value(self, value: Any) -> Verdict:
        if not isinstance(value, str) or value not in self.options:
            return Verdict(
                "unparsable", checking.shorten(repr(value)), f"the verifier must return one of {self.options}"
            )
        return checking.judge_choice(self.value, value)

    def display(self) -> str:
        return self.value


def _choice_problem(options: list[str], value: str) -> str | None:
    """What makes a choice answer unanswerable: an empty option, two equal ignoring case, a value not offered."""
    seen: set[str] = set()
    for option in options:
        folded = option.strip().lower()
        if not folded:
            return "an option is empty"
        if folded in seen:
            return f"options must differ (ignoring case): {checking.shorten(repr(option), 40)} repeats"
        seen.add(folded)
    if value not in options:
        return f"value {checking.shorten(repr(value), 40)} is not one of the options"
    return None


def _expression_problem(value: str, variables: list[str], domain: dict[str, tuple[float, float]]) -> str | None:
    """What makes an expression answer uncheckable: bad variable names, a bad domain, a formula that does not parse."""
    for name in variables:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name in checking.FUNCTIONS or keyword.iskeyword(name):
            return f"variable {checking.shorten(repr(name), 40)} must be a name like p1 or x, and not a function's name"
    if len(set(variables)) < len(variables):
        return "variables repeat: " + ", ".join(sorted({v for v in variables if variables.count(v) > 1}))
    for name, (low, high) in domain.items():
        if name not in variables:
            return f"domain names {checking.shorten(repr(name), 40)}, which is not one of the variables"
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            return f"domain of {name} must be two finite numbers, low < high, not [{low}, {high}]"
    try:
        checking.parse_expression(value, variables)
    except checking.Unparsable as e:
        return f"value does not parse as a formula: {e}"
    return None


class ExpressionAnswer(_Model):
    """A formula in named variables, e.g. `1 - (1-p1)*(1-p2)`; typed forms are compared for equivalence."""

    kind: Literal["expression"]
    value: str
    variables: list[str] = Field(min_length=1)
    domain: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="Range each variable is sampled from when comparing (default 0..1)."
    )

    @model_validator(mode="after")
    def _value_parses(self) -> ExpressionAnswer:
        if problem := _expression_problem(self.value, self.variables, self.domain):
            raise ValueError(problem)
        return self

    def check(self, typed: str) -> Verdict:
        return checking.check_expression(self.value, self.variables, self.domain, typed)

    def check_value(self, value: Any) -> Verdict:
        """A verifier returns either a formula or measurements `{"samples": [...], "tolerance": t}`."""
        if isinstance(value, str):
            return self.check(value)
        if isinstance(value, dict) and isinstance(value.get("samples"), list):
            return checking.judge_expression_samples(
                self.value, self.variables, value["samples"], value.get("tolerance", 0.0)
            )
        return Verdict(
            "unparsable", checking.shorten(repr(value)), "an expression card needs a formula or samples(...)"
        )

    def display(self) -> str:
        return self.value


class ShapeAnswer(_Model):
    """A tensor shape; typed as `(2, 3, 4)`, `[2,3,4]` or `torch.Size([2, 3, 4])`."""

    kind: Literal["shape"]
    value: list[Annotated[int, Field(ge=0)]]

    def check(self, typed: str) -> Verdict:
        return checking.check_shape(self.value, typed)

    def check_value(self, value: Any) -> Verdict:
        if not isinstance(value, list | tuple) or not all(
            isinstance(d, int) and not isinstance(d, bool) for d in value
        ):
            return Verdict(
                "unparsable", checking.shorten(repr(value)), "a shape card needs a tuple of ints from its verifier"
            )
        return checking.judge_shape(self.value, value)

    def display(self) -> str:
        return checking.format_shape(self.value)


SELF_GRADED = "compare with the answer and grade yourself"
"""What a text or code answer's checker says: screens that already say it in their own words leave it out."""


class _SelfGraded(_Model):
    def check(self, typed: str) -> Verdict:
        return Verdict("self-graded", typed.strip(), SELF_GRADED)

    def check_value(self, value: Any) -> Verdict:
        if value is None:
            return Verdict("correct", "", "no value to compare: the claims carry the verification")
        return Verdict(
            "unparsable", checking.shorten(repr(value)), f"a {self.kind} card's verifier returns claims, not a value"
        )

    def display(self) -> str:
        return self.value


class CodeAnswer(_SelfGraded):
    """A snippet that is itself executed by the card's verifier; self-graded."""

    kind: Literal["code"]
    value: str = Field(max_length=MAX_TEXT_CHARS, description="The code. Its verifier runs exactly this snippet.")
    language: str = "python"


class TextAnswer(_SelfGraded):
    """A free explanation; self-graded. Its verifier's claims are the facts it rests on."""

    kind: Literal["text"]
    value: str = Field(max_length=MAX_TEXT_CHARS)


class TensorAnswer(_Model):
    """A tensor formula such as `delta2 @ h1.T + 2*lam*W2`, graded on the verifier's sample tensors.

    The verifier supplies named inputs and the autograd truth (`tensor_samples(...)`); the stated
    formula and every typed one are evaluated on them by `quizzer.core.tensor_formula` (numpy, no eval).
    """

    kind: Literal["tensor"]
    value: str
    variables: list[str] = Field(min_length=1)
    tolerance: float = Field(1e-6, ge=0, description="Absolute tolerance per element against the samples.")

    @model_validator(mode="after")
    def _value_parses(self) -> TensorAnswer:
        """As an expression card's: a stated formula that cannot be read (100,000 characters, 5,000 terms, an
        unknown name) is the deck's problem at lint, not a card that fails every verification."""
        from quizzer.core import tensor_formula

        try:
            tensor_formula.parse_formula(self.value, self.variables)
        except tensor_formula.FormulaError as e:
            raise ValueError(f"value does not parse as a tensor formula: {e}") from None
        return self

    def check(self, typed: str, samples: Any = None) -> Verdict:
        """Typed formula against the cached samples; without samples there is nothing to grade against."""
        if not _has_samples(samples):
            return Verdict("self-graded", typed.strip(), "no sample tensors verified yet: compare yourself")
        from quizzer.core import tensor_formula

        return tensor_formula.check_tensor(typed, self.variables, samples["samples"], self.tolerance)

    def check_value(self, value: Any) -> Verdict:
        """The stated formula against what the verifier measured (`tensor_samples(...)`)."""
        if not _has_samples(value):
            return Verdict("unparsable", repr(value)[:80], "a tensor part needs tensor_samples(...) from its verifier")
        return self.check(self.value, value)

    def display(self) -> str:
        return self.value


def _has_samples(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("samples"), list) and bool(value["samples"])


Answer = Annotated[
    NumericAnswer
    | BooleanAnswer
    | ChoiceAnswer
    | ExpressionAnswer
    | ShapeAnswer
    | TensorAnswer
    | CodeAnswer
    | TextAnswer,
    Field(discriminator="kind"),
]
ANSWER_KINDS = ("numeric", "boolean", "choice", "expression", "shape", "tensor", "code", "text")
CHECKABLE_KINDS = ("numeric", "boolean", "choice", "expression", "shape", "tensor")
SINGLE_PART = "answer"  # the part id of a card with one `answer`


class Part(_Model):
    """One labelled part of a card's answer; checkable parts get a value from the verifier under `id`."""

    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=MAX_ID_CHARS, description="Unique in the card; the verifier's key."
    )
    label: str = Field(
        min_length=1, max_length=MAX_TEXT_CHARS, description="Shown to the learner; may cite {{ name }}."
    )
    answer: Answer

    @property
    def checkable(self) -> bool:
        return self.answer.kind in CHECKABLE_KINDS


Scalar = int | float | str | bool
ParamValue = Scalar | list[Scalar]


class ChoicesParam(_Model):
    """A parameter drawn uniformly from a list (numbers, strings or small lists)."""

    choices: list[ParamValue] = Field(min_length=1, max_length=1000)

    def contains(self, value: Any) -> bool:
        return value in self.choices

    def draw(self, rng: random.Random) -> Any:
        return rng.choice(self.choices)


class RangeParam(_Model):
    """An inclusive range: integers when `min`, `max` and `step` are integers, else floats on a `step` grid."""

    min: int | float
    max: int | float
    step: int | float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _well_formed(self) -> RangeParam:
        if self.max < self.min:
            raise ValueError(f"max {self.max} is below min {self.min}")
        if not self.integer and self.step is None:
            raise ValueError("a float range needs a step (e.g. step = 0.05)")
        if not math.isfinite((self.max - self.min) / (self.step or 1)):  # [-1e308, 1e308], or a step of 5e-324
            raise ValueError("the range holds more values than a float can count; at most 1000000")
        if self.count > 1_000_000:
            raise ValueError(f"the range holds {self.count} values; at most 1000000")
        return self

    @property
    def integer(self) -> bool:
        return all(isinstance(v, int) for v in (self.min, self.max, self.step or 1))

    @property
    def count(self) -> int:
        return int(round((self.max - self.min) / (self.step or 1) + 1e-9)) + 1

    def value_at(self, index: int) -> int | float:
        if self.integer:
            return int(self.min + index * (self.step or 1))
        return round(self.min + index * self.step, 12)

    def draw(self, rng: random.Random) -> int | float:
        return self.value_at(rng.randrange(self.count))

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.integer and not isinstance(value, int):
            return False
        position = (value - self.min) / (self.step or 1)
        return 0 <= round(position) < self.count and abs(position - round(position)) < 1e-6


def _param_kind(spec: Any) -> str:
    """A spec with `min`, `max` or `step` is a range, anything else choices (so errors name the right keys)."""
    if isinstance(spec, dict):
        return "range" if {"min", "max", "step"} & set(spec) else "choices"
    return "choices" if isinstance(spec, ChoicesParam) else "range"


ParamSpec = Annotated[
    Annotated[ChoicesParam, Tag("choices")] | Annotated[RangeParam, Tag("range")],
    Discriminator(_param_kind),
]
PARAM_KINDS = ("choices", "range")
PARAM_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class Example(_Model):
    """A worked instance of a parametric card: fixed parameters and the stated answer, checked like any card."""

    params: dict[str, ParamValue]
    answer: Any = Field(None, description="The stated value for a single-answer card (default: the card's).")
    parts: dict[str, Any] | None = Field(None, description="Stated values by part id (default: the card's).")


class Card(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True, serialize_by_alias=True)

    id: str = Field(
        pattern=SLUG, max_length=MAX_ID_CHARS, description="Stable id: progress is keyed by deck-id/card-id."
    )
    prompt: str = Field(
        min_length=1, max_length=MAX_TEXT_CHARS, description="Markdown; LaTeX math between $...$ or $$...$$."
    )
    answer: Answer | None = Field(None, description="The answer (give this or `parts`, not both).")
    declared_parts: list[Part] | None = Field(
        None,
        alias="parts",
        min_length=1,
        max_length=20,
        description="An answer in labelled parts (instead of `answer`).",
    )
    explanation: str = Field(
        min_length=1, max_length=MAX_TEXT_CHARS, description="Why the answer is right (Markdown; may cite {{ name }})."
    )
    tags: list[str] = Field(default_factory=list)
    source: str = Field("", description="Where the question comes from, e.g. 'CNNs, question 3'.")
    verifier: str | None = Field(
        None,
        pattern=VERIFIER_REF,
        description="File under verifiers/ (its `verify` function) or `file.py::function`.",
    )
    params: dict[Annotated[str, Field(pattern=PARAM_NAME)], ParamSpec] = Field(
        default_factory=dict,
        max_length=20,
        description="Parameters drawn afresh for each instance (makes the card parametric; needs `examples`).",
    )
    examples: list[Example] = Field(
        default_factory=list, max_length=50, description="Worked instances of a parametric card, checked by verify."
    )

    renamed_from: list[Annotated[str, Field(pattern=SLUG, max_length=MAX_ID_CHARS)]] = Field(
        default_factory=list,
        max_length=20,
        description="Earlier ids of this card: their progress and history move to this id.",
    )

    @model_validator(mode="after")
    def _answer_or_parts(self) -> Card:
        if (self.answer is None) == (self.declared_parts is None):
            raise ValueError("give exactly one of `answer` or `parts`")
        ids = [part.id for part in self.declared_parts or []]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"part id(s) {', '.join(duplicates)} used twice; part ids are unique in a card")
        if self.params and not self.examples:
            raise ValueError("a parametric card needs at least one worked instance in [[cards.examples]]")
        if self.examples and not self.params:
            raise ValueError("`examples` belong to a parametric card: declare its [cards.params]")
        for number, example in enumerate(self.examples, start=1):
            missing = sorted(set(self.params) - set(example.params))
            unknown = sorted(set(example.params) - set(self.params))
            if missing or unknown:
                raise ValueError(
                    f"example #{number} must give every parameter once: "
                    + "; ".join(
                        filter(
                            None,
                            [missing and "missing " + ", ".join(missing), unknown and "unknown " + ", ".join(unknown)],
                        )
                    )
                )
            for name, value in example.params.items():
                if not self.params[name].contains(value):
                    raise ValueError(f"example #{number}: {name} = {value!r} is outside its [cards.params] range")
            if example.answer is not None and self.declared_parts is not None:
                raise ValueError(f"example #{number}: a parts card states `parts = {{ id = ... }}`, not `answer`")
            if example.parts is not None:
                if self.declared_parts is None:
                    raise ValueError(f"example #{number}: a single-answer card states `answer = ...`, not `parts`")
                checkable = {part.id for part in self.declared_parts if part.checkable}
                stray = sorted(set(example.parts) - checkable)
                if stray:
                    raise ValueError(f"example #{number}: {', '.join(stray)} is not a checkable part of this card")
            for part in self.parts_of(example):
                if part.answer.kind == "choice" and part.answer.value not in part.answer.options:
                    raise ValueError(f"example #{number}: {part.answer.value!r} is not one of the options")
        return self

    @property
    def parts(self) -> list[Part]:
        """The answer as parts: a single-answer card is one part with id `answer`; every consumer iterates these.

        A plain property, not cached: `model_copy(update=...)` copies cached values along with the fields.
        """
        if self.declared_parts is not None:
            return self.declared_parts
        return [Part.model_construct(id=SINGLE_PART, label="Answer", answer=self.answer)]

    def parts_of(self, example: Example) -> list[Part]:
        """The card's parts with the example's stated values in place of the card's."""
        stated = {SINGLE_PART: example.answer} if self.declared_parts is None else (example.parts or {})
        return [stated_part(part, stated.get(part.id)) for part in self.parts]

    @property
    def parametric(self) -> bool:
        return bool(self.params)

    def template_texts(self) -> list[tuple[tuple, str]]:
        """(location in the deck, text) of every text that may cite `{{ name }}`."""
        texts: list[tuple[tuple, str]] = [(("prompt",), self.prompt), (("explanation",), self.explanation)]
        if self.declared_parts is None:
            if self.answer.kind == "text":
                texts.append((("answer", "value"), self.answer.value))
            return texts
        for index, part in enumerate(self.declared_parts):
            texts.append((("parts", index, "label"), part.label))
            if part.answer.kind == "text":
                texts.append((("parts", index, "answer", "value"), part.answer.value))
        return texts

    @property
    def cited_names(self) -> list[str]:
        """Every `{{ name }}` the card's texts cite (parameters and figures), in order; invalid fields skipped."""
        cited: dict[str, None] = {}
        for _, text in self.template_texts():
            with contextlib.suppress(templates.TemplateError):
                cited.update(dict.fromkeys(templates.names(text)))
        return list(cited)

    @property
    def cited_figures(self) -> list[str]:
        """The cited names that are not parameters: figures its verifier must produce."""
        return [name for name in self.cited_names if name not in self.params]

    @property
    def verifier_file(self) -> str | None:
        return self.verifier.partition("::")[0] if self.verifier else None

    @property
    def verifier_function(self) -> str:
        return (self.verifier or "").partition("::")[2] or "verify"


class Deck(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"title": "quizzer deck"})

    id: str = Field(pattern=SLUG, max_length=MAX_ID_CHARS)
    title: str = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    description: str = Field("", max_length=MAX_TEXT_CHARS)
    macros: dict[str, str] = Field(
        default_factory=dict,
        description=r"LaTeX macros for prompts: name → body, `#1`.. for arguments, e.g. vec = '\boldsymbol{#1}'.",
    )
    new_per_day: int | None = Field(None, ge=0, description="Daily limit of new cards (default 20).")
    reviews_per_day: int | None = Field(None, ge=0, description="Daily limit of reviews (default 200).")
    cards: list[Card] = Field(default_factory=list)

    @field_validator("macros")
    @classmethod
    def _macro_names(cls, macros: dict[str, str]) -> dict[str, str]:
        for name in macros:
            if not re.fullmatch(r"[A-Za-z]+", name):
                raise ValueError(f"macro name {name!r} must be letters only (write vec, not \\vec)")
        return macros

    def card(self, card_id: str) -> Card:
        for card in self.cards:
            if card.id == card_id:
                return card
        raise KeyError(card_id)


def draw(params: Mapping[str, ChoicesParam | RangeParam], seed: int) -> dict[str, Any]:
    """One instance's parameters: pure, the same for the same spec and seed (`random.Random(seed)`)."""
    rng = random.Random(seed)
    return {name: spec.draw(rng) for name, spec in params.items()}


INSTANCE_ANSWER_KINDS = ("numeric", "boolean", "choice", "shape")


def instance_part(part: Part, value: Any) -> Part:
    """The part as one parametric instance asks it: the computed number, shape, choice or formula *is*
    that instance's stated answer; measured samples (expression, tensor) leave the card's formula.

    Raises `ValueError` when the value does not fit the part's kind.
    """
    kind = part.answer.kind
    if value is not None and (kind in INSTANCE_ANSWER_KINDS or (kind == "expression" and isinstance(value, str))):
        return stated_part(part, value)
    return part


def stated_part(part: Part, value: Any) -> Part:
    """`part` with `value` as its stated answer (an example's, or an instance's computed one), validated.

    Raises `ValueError` (from pydantic) when the value does not fit the part's kind.
    """
    if value is None:
        return part
    answer = type(part.answer).model_validate({**part.answer.model_dump(), "value": value})
    return part.model_copy(update={"answer": answer})


def json_schema() -> str:
    """The JSON Schema editors use to validate and complete deck files (`decks/schema.json`)."""
    return json.dumps(Deck.model_json_schema(), indent=2, sort_keys=True) + "\n"
