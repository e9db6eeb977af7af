"""The answer models of the deck format: what a verifier's value and a typed answer get, per kind.

A verifier's value is judged by the same checker as a learner's answer; these pin the model layer
around it: wrong types (a verifier returning True for a numeric card of 1), tolerance, NaN and
infinities, values too large for a float, a verifier returning the wrong kind, and the validation
that keeps a deck from stating an answer nothing could match.
"""

from __future__ import annotations

import math

import pytest
from pydantic import TypeAdapter, ValidationError

from quizzer.cards.deck import Answer, CodeAnswer, TextAnswer
from quizzer.core.checking import Verdict as V

answer_of = TypeAdapter(Answer).validate_python

NUMERIC = answer_of({"kind": "numeric", "value": 1, "tolerance": 0.25, "unit": "pixels"})
EXACT = answer_of({"kind": "numeric", "value": 112})
BOOLEAN = answer_of({"kind": "boolean", "value": False})
CHOICE = answer_of({"kind": "choice", "options": ["in", "increase", "out"], "value": "in"})
EXPRESSION = answer_of({"kind": "expression", "value": "1 - (1-p1)*(1-p2)", "variables": ["p1", "p2"]})
DOMAIN = answer_of({"kind": "expression", "value": "abs(x)", "variables": ["x"], "domain": {"x": [-1, 1]}})
SHAPE = answer_of({"kind": "shape", "value": [2, 3]})


@pytest.mark.parametrize(
    "value,verdict",
    [
        (1, V("correct", "1")),
        (1.0, V("correct", "1")),
        (1.25, V("correct", "1.25")),  # the card's tolerance is used
        (0.75, V("correct", "0.75")),
        (1.2500001, V("incorrect", "1.25", "expected 1 ± 0.25")),
        (0.7, V("incorrect", "0.7", "expected 1 ± 0.25")),
        (-1, V("incorrect", "-1", "expected 1 ± 0.25")),
        (math.nan, V("incorrect", "nan", "expected 1 ± 0.25")),
        (math.inf, V("incorrect", "inf", "expected 1 ± 0.25")),
        (-math.inf, V("incorrect", "-inf", "expected 1 ± 0.25")),
        (10**400, V("incorrect", "inf", "expected 1 ± 0.25")),  # past the float range: no OverflowError
        (-(10**400), V("incorrect", "-inf", "expected 1 ± 0.25")),
        (True, V("unparsable", "True", "a numeric card needs a number from its verifier")),
        (False, V("unparsable", "False", "a numeric card needs a number from its verifier")),
        ("1", V("unparsable", "'1'", "a numeric card needs a number from its verifier")),
        ([1], V("unparsable", "[1]", "a numeric card needs a number from its verifier")),
        (None, V("unparsable", "None", "a numeric card needs a number from its verifier")),
        ("x" * 200, V("unparsable", "'" + "x" * 78 + "…", "a numeric card needs a number from its verifier")),
    ],
)
def test_numeric_check_value(value, verdict):
    assert NUMERIC.check_value(value) == verdict


def test_numeric_without_tolerance_is_exact_up_to_float_noise():
    assert EXACT.check_value(112 + 2e-7) == V("incorrect", "112", "expected 112")  # shown to 6 digits
    assert EXACT.check_value(112 + 1e-7).correct  # relative float noise of 1e-9
    assert EXACT.check_value(0.1 + 0.2 + 111.7).correct


def test_numeric_typed_answers_use_the_cards_tolerance():
    assert NUMERIC.check("1.2") == V("correct", "1.2")
    assert NUMERIC.check("1.3") == V("incorrect", "1.3", "expected 1 ± 0.25")
    assert NUMERIC.check("one") == V(
        "unparsable",
        "one",
        "not a number: 'one' (write it as a decimal, a fraction a/b, a percentage or in e-notation)",
    )


def test_numeric_display():
    assert NUMERIC.display() == "1 ± 0.25 pixels"
    assert EXACT.display() == "112"
    assert answer_of({"kind": "numeric", "value": 0.28}).display() == "0.28"
    assert answer_of({"kind": "numeric", "value": 3, "unit": "layers"}).display() == "3 layers"


@pytest.mark.parametrize(
    "fields,error",
    [
        ({"value": math.nan}, "finite number"),
        ({"value": math.inf}, "finite number"),
        ({"value": 1, "tolerance": math.inf}, "finite number"),
        ({"value": 1, "tolerance": math.nan}, "finite number"),
        ({"value": 1, "tolerance": -0.1}, "greater than or equal to 0"),
        ({"value": "1"}, None),  # pydantic coerces a numeric string in a deck file: allowed
    ],
)
def test_numeric_model_refuses_what_nothing_could_match(fields, error):
    if error is None:
        assert answer_of({"kind": "numeric", **fields}).value == 1
        return
    with pytest.raises(ValidationError, match=error):
        answer_of({"kind": "numeric", **fields})


@pytest.mark.parametrize(
    "value,verdict",
    [
        (False, V("correct", "false")),
        (True, V("incorrect", "true", "expected false")),
        (0, V("unparsable", "0", "a boolean card needs True or False from its verifier")),
        (1, V("unparsable", "1", "a boolean card needs True or False from its verifier")),
        ("False", V("unparsable", "'False'", "a boolean card needs True or False from its verifier")),
        (None, V("unparsable", "None", "a boolean card needs True or False from its verifier")),
    ],
)
def test_boolean_check_value(value, verdict):
    assert BOOLEAN.check_value(value) == verdict


def test_boolean_typed_and_display():
    assert BOOLEAN.check("no") == V("correct", "false")
    assert BOOLEAN.check("yes") == V("incorrect", "true", "expected false")
    assert BOOLEAN.display() == "False"
    assert answer_of({"kind": "boolean", "value": True}).display() == "True"


@pytest.mark.parametrize(
    "value,verdict",
    [
        ("in", V("correct", "in")),
        ("increase", V("incorrect", "increase", "expected in")),
        ("out", V("incorrect", "out", "expected in")),
        ("IN", V("unparsable", "'IN'", "the verifier must return one of ['in', 'increase', 'out']")),
        ("inc", V("unparsable", "'inc'", "the verifier must return one of ['in', 'increase', 'out']")),
        (1, V("unparsable", "1", "the verifier must return one of ['in', 'increase', 'out']")),
        (["in"], V("unparsable", "['in']", "the verifier must return one of ['in', 'increase', 'out']")),
        (None, V("unparsable", "None", "the verifier must return one of ['in', 'increase', 'out']")),
    ],
)
def test_choice_check_value_is_an_exact_option(value, verdict):
    assert CHOICE.check_value(value) == verdict


def test_choice_typed_and_display():
    assert CHOICE.check("in") == V("correct", "in")
    assert CHOICE.check("3") == V("incorrect", "out", "expected in")
    assert CHOICE.display() == "in"


@pytest.mark.parametrize(
    "fields,error",
    [
        ({"options": ["a", "b"], "value": "c"}, "value 'c' is not one of the options"),
        ({"options": ["a", "A"], "value": "a"}, "options must differ \\(ignoring case\\): 'A' repeats"),
        ({"options": ["a", "b", " a "], "value": "a"}, "options must differ \\(ignoring case\\): ' a ' repeats"),
        ({"options": ["a", ""], "value": "a"}, "an option is empty"),
        ({"options": ["a"], "value": "a"}, "at least 2 items"),
    ],
)
def test_choice_model_validation(fields, error):
    with pytest.raises(ValidationError, match=error):
        answer_of({"kind": "choice", **fields})


@pytest.mark.parametrize(
    "value,verdict",
    [
        ("p1 + p2 - p1*p2", V("correct", "p1 + p2 - p1 * p2")),  # a formula from the verifier
        (
            "p1 * p2",
            V(
                "incorrect",
                "p1 * p2",
                "expected 1 - (1-p1)*(1-p2); at p1=0.8444, p2=0.758 yours is 0.64, the answer 0.9623",
            ),
        ),
        ("p1 +", V("unparsable", "p1 +", "not a formula: 'p1 +'")),
        (
            {"samples": [{"at": {"p1": 0.1, "p2": 0.2}, "value": 0.28}], "tolerance": 0.001},
            V("correct", "1 - (1-p1)*(1-p2)", "agrees with 1 measurements (worst error 1.1e-16)"),
        ),
        (
            {"samples": [{"at": {"p1": 0.1, "p2": 0.2}, "value": 0.3}], "tolerance": 0.001},
            V("incorrect", "1 - (1-p1)*(1-p2)", "at p1=0.1, p2=0.2 the formula gives 0.28 but 0.3 was measured"),
        ),
        (
            {"samples": [{"at": {"p1": 0.1, "p2": 0.2}, "value": 0.2801}]},  # no tolerance: exact
            V("incorrect", "1 - (1-p1)*(1-p2)", "at p1=0.1, p2=0.2 the formula gives 0.28 but 0.2801 was measured"),
        ),
        (
            {"samples": [{"at": {"p1": 0.1, "p2": 0.2}, "value": 0.28}], "tolerance": "a lot"},
            V("unparsable", "'a lot'", "the tolerance must be a finite number ≥ 0"),
        ),
        (
            {"samples": [{"at": {"p1": 0.1, "p2": 0.2}, "value": 0.28}], "tolerance": math.nan},
            V("unparsable", "nan", "the tolerance must be a finite number ≥ 0"),
        ),
        ({"samples": []}, V("unparsable", "", "no measurements to compare the formula with")),
        (
            {"samples": "many"},
            V("unparsable", "{'samples': 'many'}", "an expression card needs a formula or samples(...)"),
        ),
        (0.28, V("unparsable", "0.28", "an expression card needs a formula or samples(...)")),
        (None, V("unparsable", "None", "an expression card needs a formula or samples(...)")),
        (True, V("unparsable", "True", "an expression card needs a formula or samples(...)")),
    ],
)
def test_expression_check_value(value, verdict):
    assert EXPRESSION.check_value(value) == verdict


def test_expression_typed_answers_use_the_cards_domain():
    assert DOMAIN.check("max(x, -x)") == V("correct", "max(x, -x)")
    assert DOMAIN.check("x") == V("incorrect", "x", "expected abs(x); at x=-0.1589 yours is -0.1589, the answer 0.1589")
    assert DOMAIN.check_value("x").status == "incorrect"
    assert DOMAIN.display() == "abs(x)" and EXPRESSION.display() == "1 - (1-p1)*(1-p2)"


@pytest.mark.parametrize(
    "fields,error",
    [
        ({"value": "x +", "variables": ["x"]}, "value does not parse as a formula: not a formula: 'x \\+'"),
        ({"value": "y", "variables": ["x"]}, "unknown name 'y'"),
        ({"value": "x", "variables": []}, "at least 1 item"),
        ({"value": "x", "variables": ["x", "x"]}, "variables repeat: x \\[type"),
        ({"value": "x", "variables": ["x", "y", "x", "y"]}, "variables repeat: x, y \\[type"),
        ({"value": "sqrt", "variables": ["sqrt"]}, "variable 'sqrt' must be a name like p1 or x, and not a function"),
        ({"value": "x", "variables": ["x y"]}, "variable 'x y' must be a name"),
        ({"value": "x", "variables": ["1x"]}, "variable '1x' must be a name"),
        ({"value": "x", "variables": ["x"], "domain": {"y": [0, 1]}}, "domain names 'y', which is not one of"),
        (
            {"value": "x", "variables": ["x"], "domain": {"x": [1, 0]}},
            r"domain of x must be two finite numbers, low < high, not \[1.0, 0.0\]",
        ),
        ({"value": "x", "variables": ["x"], "domain": {"x": [1, 1]}}, "domain of x must be two finite numbers"),
        ({"value": "x", "variables": ["x"], "domain": {"x": [0, math.inf]}}, "domain of x must be two finite numbers"),
        ({"value": "x", "variables": ["x"], "domain": {"x": [math.nan, 1]}}, "domain of x must be two finite numbers"),
    ],
)
def test_expression_model_validation(fields, error):
    with pytest.raises(ValidationError, match=error):
        answer_of({"kind": "expression", **fields})


def test_expression_model_accepts_a_constants_name_as_a_variable():
    answer = answer_of({"kind": "expression", "value": "2*e", "variables": ["e"], "domain": {"e": [1, 2]}})
    assert answer.check("e + e").correct and not answer.check("2*2.718281828459045").correct


@pytest.mark.parametrize(
    "value,verdict",
    [
        ([2, 3], V("correct", "(2, 3)")),
        ((2, 3), V("correct", "(2, 3)")),
        ([3, 2], V("incorrect", "(3, 2)", "expected (2, 3)")),
        ([2, 3, 1], V("incorrect", "(2, 3, 1)", "expected (2, 3)")),
        ([], V("incorrect", "()", "expected (2, 3)")),
        ([True, 3], V("unparsable", "[True, 3]", "a shape card needs a tuple of ints from its verifier")),
        ([2.0, 3], V("unparsable", "[2.0, 3]", "a shape card needs a tuple of ints from its verifier")),
        ("(2, 3)", V("unparsable", "'(2, 3)'", "a shape card needs a tuple of ints from its verifier")),
        (6, V("unparsable", "6", "a shape card needs a tuple of ints from its verifier")),
        (None, V("unparsable", "None", "a shape card needs a tuple of ints from its verifier")),
    ],
)
def test_shape_check_value(value, verdict):
    assert SHAPE.check_value(value) == verdict


def test_shape_typed_display_and_validation():
    assert SHAPE.check("torch.Size([2, 3])") == V("correct", "(2, 3)")
    assert SHAPE.display() == "(2, 3)"
    assert answer_of({"kind": "shape", "value": []}).check("torch.Size([])") == V("correct", "()")
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        answer_of({"kind": "shape", "value": [2, -1]})


@pytest.mark.parametrize("answer", [TextAnswer(kind="text", value="model"), CodeAnswer(kind="code", value="x = 1")])
def test_self_graded_kinds(answer):
    assert answer.check("  my answer  ") == V("self-graded", "my answer", "compare with the answer and grade yourself")
    assert answer.check_value(None) == V("correct", "", "no value to compare: the claims carry the verification")
    for value in (0, "", "x", True, [1]):
        assert answer.check_value(value) == V(
            "unparsable", repr(value), f"a {answer.kind} card's verifier returns claims, not a value"
        )
    assert answer.display() == answer.value


def test_code_answer_defaults_to_python():
    assert CodeAnswer(kind="code", value="x = 1").language == "python"


def problem(data: dict) -> str:
    """The one sentence a deck author gets for an answer nothing could match."""
    with pytest.raises(ValidationError) as caught:
        answer_of(data)
    [error] = caught.value.errors()
    return error["msg"].removeprefix("Value error, ")


LONG = "n" * 60


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"options": ["a", ""], "value": "a"}, "an option is empty"),
        ({"options": ["a", "  "], "value": "a"}, "an option is empty"),
        ({"options": ["Yes", "no", "YES"], "value": "no"}, "options must differ (ignoring case): 'YES' repeats"),
        (
            {"options": [LONG, LONG.upper()], "value": LONG},
            "options must differ (ignoring case): '" + "N" * 38 + "… repeats",
        ),
        ({"options": ["a", "b"], "value": "c"}, "value 'c' is not one of the options"),
        ({"options": ["a", "b"], "value": LONG}, "value '" + "n" * 38 + "… is not one of the options"),
    ],
)
def test_choice_problems_are_one_exact_sentence(fields, message):
    assert problem({"kind": "choice", **fields}) == message


def test_choice_options_differ_by_lowercase_like_the_checker():
    answer = answer_of({"kind": "choice", "options": ["Straße", "STRASSE"], "value": "Straße"})
    assert answer.check("straße").correct and answer.check("strasse").status == "incorrect"


@pytest.mark.parametrize(
    "fields,message",
    [
        (
            {"value": "1", "variables": ["lambda"]},
            "variable 'lambda' must be a name like p1 or x, and not a function's name",
        ),
        ({"value": "1", "variables": ["exp"]}, "variable 'exp' must be a name like p1 or x, and not a function's name"),
        (
            {"value": "1", "variables": [LONG + "-"]},
            "variable '" + "n" * 38 + "… must be a name like p1 or x, and not a function's name",
        ),
        ({"value": "x", "variables": ["x", "y", "x"]}, "variables repeat: x"),
        ({"value": "x", "variables": ["y", "x", "y", "x"]}, "variables repeat: x, y"),
        (
            {"value": "x", "variables": ["x"], "domain": {"y": [0, 1]}},
            "domain names 'y', which is not one of the variables",
        ),
        (
            {"value": "x", "variables": ["x"], "domain": {LONG: [0, 1]}},
            "domain names '" + "n" * 38 + "…, which is not one of the variables",
        ),
        (
            {"value": "x", "variables": ["x"], "domain": {"x": [2, 1]}},
            "domain of x must be two finite numbers, low < high, not [2.0, 1.0]",
        ),
        ({"value": "x +", "variables": ["x"]}, "value does not parse as a formula: not a formula: 'x +'"),
    ],
)
def test_expression_problems_are_one_exact_sentence(fields, message):
    assert problem({"kind": "expression", **fields}) == message


def test_variable_names_may_use_capitals_and_underscores():
    answer = answer_of({"kind": "expression", "value": "X + x_1", "variables": ["X", "x_1"]})
    assert answer.check("x_1 + X") == V("correct", "x_1 + X")


def test_numeric_typed_answers_accept_the_cards_unit():
    assert NUMERIC.check("1 pixels") == V("correct", "1")
    assert NUMERIC.check("1 pixel") == V("correct", "1")
