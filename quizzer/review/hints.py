"""What the answer box says before the learner answers: how to type an answer of each kind.

A hint must never give the answer away, for any card. So it is built only from what the learner is
already shown (the card's own variable names, the sample tensors' shapes) and from the
*syntax* of the kind, never from example values: an example number or shape could be some card's
answer, and choosing examples per card to dodge its answer would leak by the choice itself. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from quizzer.core import tensor_formula

NUMERIC = "a number: decimal, …e…, a/b or …%"
SHAPE = "a shape: (a, b, c) or torch.Size([a, b, c])"
BOOLEAN = "true or false (t, f, yes, no)"
CHOICE = "an option: its number, a prefix or the whole text"
FREE = {
    "code": "optional: sketch your code, then Enter to compare",
    "text": "optional: write your answer, then Enter to compare",
}
FORMULA_OPERATORS = "+ - * / ** sqrt exp log"


def input_hint(answer, shapes: Mapping[str, Sequence[int]] | None = None) -> str:
    """The placeholder for an answer model of `quizzer.cards.deck` (any kind).

    `shapes`: a tensor part's input shapes.
    """
    kind = answer.kind
    if kind == "numeric":
        return NUMERIC  # not its unit: that is part of the answer's display (one bundled unit quotes the value)
    if kind == "expression":
        return f"formula in {', '.join(answer.variables)} · with {FORMULA_OPERATORS}"
    if kind == "tensor":
        return tensor_formula.variables_hint(answer.variables, shapes)
    if kind == "shape":
        return SHAPE
    if kind == "boolean":
        return BOOLEAN
    if kind == "choice":  # every option alike: they are the question, not its answer
        return " · ".join(f"{number}. {option}" for number, option in enumerate(answer.options, 1)) + f" — {CHOICE}"
    return FREE[kind]
