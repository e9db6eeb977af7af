"""The deck format: pydantic models for `decks/*.toml`.

Every model forbids unknown keys, so a typo in a deck is an error with a did-you-mean, not a
silently ignored field. Each answer kind knows how to check a learner's typed input and a
verifier's computed value, by delegating to the pure checkers in `quizzer.checking`.
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from quizzer import checking
from quizzer.checking import Verdict

SLUG = r"^[a-z0-9][a-z0-9-]*$"
VERIFIER_REF = r"^[^:]+\.py(::[A-Za-z_][A-Za-z0-9_]*)?$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NumericAnswer(_Model):
    """A number; typed as `42`, `4.2e1`, `3/4` or `75%`."""

    kind: Literal["numeric"]
    value: float = Field(allow_inf_nan=False)
    tolerance: float = Field(0.0, ge=0, allow_inf_nan=False, description="Absolute tolerance accepted around `value`.")
    unit: str = Field("", description="Shown after the value, e.g. 'pixels'.")

    def check(self, typed: str) -> Verdict:
        return checking.check_numeric(self.value, self.tolerance, typed)

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
        folded = [o.strip().lower() for o in self.options]
        if "" in folded:
            raise ValueError("an option is empty")
        if len(set(folded)) < len(folded):
            raise ValueError(f"options must differ (ignoring case): {self.options}")
        if self.value not in self.options:
            raise ValueError(f"value {self.value!r} is not one of the options {self.options}")
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
        for name in self.variables:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name in checking.FUNCTIONS:
                raise ValueError(f"variable {name!r} must be a name like p1 or x, and not a function's name")
        if len(set(self.variables)) < len(self.variables):
            raise ValueError(f"variables repeat: {self.variables}")
        for name, (low, high) in self.domain.items():
            if name not in self.variables:
                raise ValueError(f"domain names {name!r}, which is not one of the variables {self.variables}")
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise ValueError(f"domain of {name} must be two finite numbers, low < high, not [{low}, {high}]")
        try:
            checking.parse_expression(self.value, self.variables)
        except checking.Unparsable as e:
            raise ValueError(f"value does not parse as a formula: {e}") from None
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


class _SelfGraded(_Model):
    def check(self, typed: str) -> Verdict:
        return Verdict("self-graded", typed.strip(), "compare with the answer and grade yourself")

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
    value: str = Field(description="The code. Its verifier runs exactly this snippet.")
    language: str = "python"


class TextAnswer(_SelfGraded):
    """A free explanation; self-graded. Its verifier's claims are the facts it rests on."""

    kind: Literal["text"]
    value: str


Answer = Annotated[
    NumericAnswer | BooleanAnswer | ChoiceAnswer | ExpressionAnswer | ShapeAnswer | CodeAnswer | TextAnswer,
    Field(discriminator="kind"),
]
ANSWER_KINDS = ("numeric", "boolean", "choice", "expression", "shape", "code", "text")
CHECKABLE_KINDS = ("numeric", "boolean", "choice", "expression", "shape")


class Card(_Model):
    id: str = Field(pattern=SLUG, description="Stable id: progress is keyed by deck-id/card-id.")
    prompt: str = Field(min_length=1, description="Markdown; LaTeX math between $...$ or $$...$$.")
    answer: Answer
    explanation: str = Field(min_length=1, description="Why the answer is right (Markdown).")
    tags: list[str] = Field(default_factory=list)
    source: str = Field("", description="Where the question comes from, e.g. 'CNNs, question 3'.")
    verifier: str | None = Field(
        None,
        pattern=VERIFIER_REF,
        description="File under verifiers/ (its `verify` function) or `file.py::function`.",
    )

    @property
    def verifier_file(self) -> str | None:
        return self.verifier.partition("::")[0] if self.verifier else None

    @property
    def verifier_function(self) -> str:
        return (self.verifier or "").partition("::")[2] or "verify"


class Deck(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"title": "quizzer deck"})

    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=1)
    description: str = ""
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


def json_schema() -> str:
    """The JSON Schema editors use to validate and complete deck files (`decks/schema.json`)."""
    return json.dumps(Deck.model_json_schema(), indent=2, sort_keys=True) + "\n"
