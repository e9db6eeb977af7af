"""Answer checkers: equivalent forms accepted, perturbed values rejected, junk is unparsable."""

import math
import random
import re
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from quizzer.cards.deck import ChoiceAnswer
from quizzer.core import checking

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).filter(lambda v: abs(v) > 1e-3 or v == 0)


@pytest.mark.parametrize("typed", ["112", "1.12e2", "112.0", " 112 ", "+112", "1_12", "11200%", "560/5"])
def test_numeric_forms_of_the_same_number(typed):
    assert checking.check_numeric(112, 0, typed).correct


@pytest.mark.parametrize("typed,value", [("7/25", 0.28), ("28%", 0.28), ("-3.5", -3.5), (".5", 0.5)])
def test_numeric_fractions_and_percentages(typed, value):
    assert checking.parse_number(typed) == pytest.approx(value)


@pytest.mark.parametrize("junk", ["", "abc", "1/0", "1..2", "12 apples", "1/2/3", "0x10"])
def test_numeric_junk_is_unparsable_not_incorrect(junk):
    assert checking.check_numeric(1, 0, junk).status == "unparsable"


@given(finite, st.floats(min_value=0, max_value=10))
def test_numeric_within_tolerance_is_correct(value, tolerance):
    assert checking.check_numeric(value, tolerance, repr(value)).correct
    assert checking.judge_number(value, tolerance, value + tolerance * 0.999).correct


@given(finite, st.floats(min_value=0, max_value=10), st.floats(min_value=1.01, max_value=100))
def test_numeric_outside_tolerance_is_incorrect(value, tolerance, factor):
    off = value + (tolerance + 1e-6 * max(1, abs(value))) * factor + 1e-3
    assert checking.judge_number(value, tolerance, off).status == "incorrect"


@given(st.fractions(min_value=-1000, max_value=1000, max_denominator=50))
def test_numeric_fraction_form_equals_decimal(fraction: Fraction):
    typed = f"{fraction.numerator}/{fraction.denominator}"
    assert checking.check_numeric(float(fraction), 0, typed).correct


@pytest.mark.parametrize(
    "typed,value", [("true", True), ("T", True), ("yes", True), ("False", False), ("f", False), ("no", False)]
)
def test_boolean_forms(typed, value):
    assert checking.check_boolean(value, typed).correct
    assert checking.check_boolean(not value, typed).status == "incorrect"


@pytest.mark.parametrize("junk", ["", "maybe", "tru", "2"])
def test_boolean_junk(junk):
    assert checking.check_boolean(True, junk).status == "unparsable"


OPTIONS = ["decrease", "increase", "stay the same"]


@pytest.mark.parametrize("typed", ["decrease", "DECREASE", "dec", "d", "1", " Decrease "])
def test_choice_case_insensitive_prefix_or_number(typed):
    assert checking.check_choice(OPTIONS, "decrease", typed).correct


def test_choice_ambiguous_prefix_and_unknown_are_unparsable():
    assert checking.check_choice(["increase", "incorporate"], "increase", "inc").status == "unparsable"
    assert checking.check_choice(OPTIONS, "decrease", "sideways").status == "unparsable"
    assert checking.check_choice(OPTIONS, "decrease", "increase").status == "incorrect"


SHAPE = (5, 6, 7, 8, 42000)


@pytest.mark.parametrize(
    "typed",
    ["(5, 6, 7, 8, 42000)", "[5,6,7,8,42000]", "torch.Size([5, 6, 7, 8, 42000])", "5 6 7 8 42000", "5x6x7x8x42000"],
)
def test_shape_forms(typed):
    assert checking.check_shape(SHAPE, typed).correct


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=6), st.data())
def test_shape_round_trip_and_perturbation(shape, data):
    assert checking.check_shape(shape, checking.format_shape(shape)).correct
    assert checking.check_shape(shape, f"torch.Size({list(shape)})").correct
    index = data.draw(st.integers(min_value=0, max_value=len(shape) - 1))
    perturbed = list(shape)
    perturbed[index] += data.draw(st.integers(min_value=1, max_value=5))
    assert checking.check_shape(shape, str(perturbed)).status == "incorrect"
    assert checking.check_shape(shape, str(shape[:-1] + [1, 2])).status == "incorrect"


@pytest.mark.parametrize("junk", ["", "(a, b)", "torch.Size", "(1.5, 2)", "(-1, 2)"])
def test_shape_junk(junk):
    assert checking.check_shape(SHAPE, junk).status == "unparsable"


Q = "1 - (1-p1)*(1-p2)"


@pytest.mark.parametrize(
    "typed", ["p1 + p2 - p1*p2", "1-(1-p2)*(1-p1)", "p1+p2*(1-p1)", "1 - (1 - p1)(1 - p2)".replace(")(", ")*(")]
)
def test_expression_equivalent_forms(typed):
    assert checking.check_expression(Q, ["p1", "p2"], {}, typed).correct


@pytest.mark.parametrize("typed", ["p1*p2", "p1 + p2", "max(p1, p2)", "1 - p1*p2", "(1-p1)*(1-p2)"])
def test_expression_wrong_forms(typed):
    assert checking.check_expression(Q, ["p1", "p2"], {}, typed).status == "incorrect"


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "p1 +",
        "__import__('os').system('true')",
        "p3 + p1",
        "open('x')",
        "p1.real",
        "[p1]",
        "p1 if p2 else 0",
        "lambda: 1",
    ],
)
def test_expression_junk_is_unparsable_and_never_evaluated(junk):
    assert checking.check_expression(Q, ["p1", "p2"], {}, junk).status == "unparsable"


def test_expression_power_and_caret():
    assert checking.check_expression("x**2", ["x"], {}, "x^2").correct
    too_large = checking.check_expression("x**2", ["x"], {}, "2**10**10")
    assert too_large.status == "unparsable" and too_large.message.startswith("number too large: 2^10^10")


@given(st.floats(min_value=-3, max_value=3), st.floats(min_value=-3, max_value=3))
def test_expression_agreement_is_symmetric_in_rewrites(a, b):
    assume(abs(a) > 1e-3 and abs(b) > 1e-3)
    expected = f"({a!r})*x + ({b!r})"
    assert checking.check_expression(expected, ["x"], {}, f"({b!r}) + x*({a!r})").correct
    assert checking.check_expression(expected, ["x"], {}, f"({b!r}) + x*({a!r}) + 0.01").status == "incorrect"


def test_expression_samples_judge_measurements():
    measured = [{"at": {"p1": 0.1, "p2": 0.2}, "value": 0.2801}, {"at": {"p1": 0.5, "p2": 0.5}, "value": 0.7499}]
    assert checking.judge_expression_samples(Q, ["p1", "p2"], measured, 0.002).correct
    assert checking.judge_expression_samples("p1*p2", ["p1", "p2"], measured, 0.002).status == "incorrect"


def test_samples_missing_a_variable_are_unparsable():
    verdict = checking.judge_expression_samples(Q, ["p1", "p2"], [{"at": {"p1": 0.1}, "value": 0.1}], 0.01)
    assert verdict.status == "unparsable" and "p2" in verdict.message


# ---------------------------------------------------------------- bounds (issue 11: a typed answer froze the review)


def too_large(verdict, what: str) -> bool:
    return verdict.status == "unparsable" and verdict.message.startswith(what)


def test_the_answers_that_froze_the_review_are_refused_as_too_large():
    numeric = checking.check_numeric(1, 0, "1e99999999/1")
    assert numeric == checking.Verdict(
        "unparsable", "1e99999999/1", "number too large: exponent 99999999 (at most ±400)"
    )
    formula = checking.check_expression("x", ["x"], {}, "((10**999)**999)**99")
    assert formula == checking.Verdict(
        "unparsable", "((10**999)**999)**99", "number too large: 10^999 (at most about 1.8e308)"
    )


@pytest.mark.parametrize(
    "typed,message",
    [
        ("1e400", "number too large: 1e400 (at most about 1.8e308)"),  # within the exponent bound, not a float
        ("1e401", "number too large: exponent 401 (at most ±400)"),
        ("1e-401", "number too large: exponent -401 (at most ±400)"),
        ("1e" + "9" * 50, "number too large: exponent 99999999999…"),
        ("9" * 101, "number too large: 101 digits (at most 100)"),
        ("1/" + "1" * 101, "number too large: 101 digits (at most 100)"),
        ("2" * 1001, "input too large: 1001 characters (at most 1000)"),
    ],
)
def test_numbers_past_a_bound_are_too_large(typed, message):
    verdict = checking.check_numeric(1, 0, typed)
    assert too_large(verdict, message), verdict
    assert len(verdict.normalized) <= 80


def test_numbers_at_the_bounds_are_read():
    assert checking.parse_number("1e308") == 1e308
    assert checking.parse_number("1e-400") == 0.0
    assert checking.parse_number("0." + "0" * 150 + "1") == pytest.approx(1e-151)  # leading zeros are not digits
    assert checking.parse_number("9" * 100) == float("9" * 100)
    assert checking.parse_number(" " * 990 + "12") == 12  # the bound is on the input, spaces included
    assert too_large(checking.check_numeric(1, 0, "1e309"), "number too large: 1e309 (at most about 1.8e308)")


@pytest.mark.parametrize(
    "typed,message",
    [
        ("x*1e309", "number too large: 1e309 (at most about 1.8e308)"),
        ("x + " + "9" * 101, "number too large: 101 digits (at most 100)"),
        ("x * 10**309", "number too large: 10^309 (at most about 1.8e308)"),
        ("exp(1000) * x", "number too large: exp(1000)"),
        ("x * 2**10**10", "number too large: 2^10^10"),
        ("x + 1e200 * 1e200", "number too large: 1e+200 * 1e+200"),
        ("(" * 101 + "x" + ")" * 101, "formula too large: more than 100 nested parentheses"),
        ("-" * 100 + "x", "formula too large: nested more than 100 operations deep"),
        ("+".join(["x"] * 101), "formula too large: nested more than 100 operations deep"),  # left-nested
        ("max(" + ",".join(["x"] * 199) + ")", "formula too large: more than 200 numbers, names and operations"),
        ("x" + " " * 1000, "input too large: 1001 characters (at most 1000)"),
    ],
)
def test_formulas_past_a_bound_are_too_large(typed, message):
    verdict = checking.check_expression("x", ["x"], {}, typed)
    assert too_large(verdict, message), verdict
    assert len(verdict.normalized) <= 80


def test_formulas_at_the_bounds_are_checked():
    assert checking.check_expression("x", ["x"], {}, "(" * 100 + "x" + ")" * 100).correct
    assert checking.check_expression("100*x", ["x"], {}, "+".join(["x"] * 100)).correct  # 199 nodes
    assert checking.check_expression("x", ["x"], {}, "-" * 98 + "x").correct  # 99 deep
    assert checking.check_expression("x", ["x"], {}, "x*10**308/10**308").correct
    assert checking.check_expression("x", ["x"], {}, "max(" + ",".join(["x"] * 198) + ")").correct  # 200 nodes


def test_undefined_constant_parts_are_named():
    assert checking.check_expression("x", ["x"], {}, "x + log(0)").message == "log(0) is undefined"
    assert checking.check_expression("x", ["x"], {}, "x + 1/(1-1)").message == "1 / (1 - 1) is undefined"


def test_shapes_past_a_bound_are_too_large():
    assert too_large(checking.check_shape([1], "(" + "9" * 5000 + ")"), "input too large: 5002 characters")
    assert too_large(checking.check_shape([1], "(" + "9" * 19 + ")"), "shape too large: a dimension has more than 18")
    assert checking.check_shape([10**18 - 1], "(" + "9" * 18 + ")").correct
    assert too_large(checking.check_shape([1] * 33, ", ".join(["1"] * 33)), "shape too large: 33 dimensions")
    assert checking.check_shape([1] * 32, ", ".join(["1"] * 32)).correct


def test_every_kind_bounds_its_input_length():
    long = "1" * 1001
    for verdict in (
        checking.check_boolean(True, long),
        checking.check_choice(["a", "b"], "a", long),
        checking.check_shape([1], long),
    ):
        assert verdict == checking.Verdict(
            "unparsable", "1" * 79 + "…", "input too large: 1001 characters (at most 1000)"
        )


def test_a_decks_formula_past_a_bound_is_refused_by_the_model():
    from pydantic import ValidationError

    from quizzer.cards.deck import ExpressionAnswer

    with pytest.raises(ValidationError, match="value does not parse as a formula: formula too large"):
        ExpressionAnswer(kind="expression", value="+".join(["x"] * 5000)[:999], variables=["x"])
    with pytest.raises(ValidationError, match="number too large: 10"):
        ExpressionAnswer(kind="expression", value="((10**999)**999)**99 * x", variables=["x"])


# ---------------------------------------------------------------- fixed answers (issue 16)
# Each asserts the verdict, the normalised form and the message the learner sees.

V = checking.Verdict


@pytest.mark.parametrize(
    "expected,tolerance,typed,verdict",
    [
        (112, 0, "112", V("correct", "112")),
        (112, 0, " 1.12e2 ", V("correct", "112")),
        (112, 0, "113", V("incorrect", "113", "expected 112")),
        (112, 0.5, "112.5", V("correct", "112.5")),
        (112, 0.5, "112.6", V("incorrect", "112.6", "expected 112 ± 0.5")),
        (112, 0.5, "111.4", V("incorrect", "111.4", "expected 112 ± 0.5")),
        (0.28, 0, "7/25", V("correct", "0.28")),
        (0.28, 0, "28%", V("correct", "0.28")),
        (0.28, 0, "0.28", V("correct", "0.28")),
        (0.28, 0, "-0.28", V("incorrect", "-0.28", "expected 0.28")),
        (1000, 0, "1_000", V("correct", "1000")),
        (1000, 0, "1 000", V("correct", "1000")),
        (0.5, 0, "-.5", V("incorrect", "-0.5", "expected 0.5")),
        (0.75, 0, "3/4", V("correct", "0.75")),
        (-0.75, 0, "-3/4", V("correct", "-0.75")),
        (0.75, 0, "75%", V("correct", "0.75")),
        (1 / 3, 0, "1/3", V("correct", "0.333333")),
        (1, 0, "", V("unparsable", "", "empty answer")),
        (1, 0, "   ", V("unparsable", "", "empty answer")),
        (
            1,
            0,
            "%",
            V(
                "unparsable",
                "%",
                "not a number: '%' (write it as a decimal, a fraction a/b, a percentage or in e-notation)",
            ),
        ),
        (
            1,
            0,
            "abc",
            V(
                "unparsable",
                "abc",
                "not a number: 'abc' (write it as a decimal, a fraction a/b, a percentage or in e-notation)",
            ),
        ),
        (1, 0, "1/0", V("unparsable", "1/0", "division by zero")),
        (1, 0, "1/0.0", V("unparsable", "1/0.0", "division by zero")),
        (1, 0, "1/x", V("unparsable", "1/x", "not a number or fraction: '1/x'")),
        (1, 0, "x/1", V("unparsable", "x/1", "not a number or fraction: 'x/1'")),
        (1, 0, "1/2/3", V("unparsable", "1/2/3", "not a number or fraction: '1/2/3'")),
    ],
)
def test_numeric_fixed_answers(expected, tolerance, typed, verdict):
    assert checking.check_numeric(expected, tolerance, typed) == verdict


@pytest.mark.parametrize(
    "expected,tolerance,value,correct",
    [
        (1, 0.5, 1.5, True),  # the tolerance is inclusive
        (1, 0.5, 1.5000001, False),
        (1, 0.5, 0.5, True),
        (1, 0.5, 0.4999999, False),
        (0, 0, 0.9e-9, True),  # float noise below 1e-9 is forgiven ...
        (0, 0, 1.1e-9, False),  # ... and nothing more
        (0, 0, -1.1e-9, False),
        (1e6, 0, 1e6 + 0.9e-3, True),  # the slack is relative to the expected value
        (1e6, 0, 1e6 + 1.1e-3, False),
        (-1e6, 0, -1e6 - 0.9e-3, True),
        (-1e6, 0, -1e6 - 1.1e-3, False),
        (1, 0, float("nan"), False),
        (1, 0, float("inf"), False),
        (1, 10, float("-inf"), False),
    ],
)
def test_numbers_match_tolerance_and_float_noise(expected, tolerance, value, correct):
    assert checking.judge_number(expected, tolerance, value).correct is correct


@pytest.mark.parametrize(
    "value,shown",
    [
        (112.0, "112"),
        (112, "112"),
        (-3.0, "-3"),
        (0.0, "0"),
        (0.28, "0.28"),
        (2.5, "2.5"),
        (1 / 3, "0.333333"),
        (1234567.5, "1.23457e+06"),
        (999999999999999.0, "999999999999999"),
        (1e15, "1e+15"),
        (-1e15, "-1e+15"),
        (1e300, "1e+300"),
        (1e-7, "1e-07"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
    ],
)
def test_format_number(value, shown):
    assert checking.format_number(value) == shown


@pytest.mark.parametrize(
    "typed,value",
    [
        ("true", True), ("t", True), ("yes", True), ("y", True), ("1", True), (" TRUE. ", True), ("Yes!", True),
        ("false", False), ("f", False), ("no", False), ("n", False), ("0", False), ("No.", False), ("F", False),
    ],
)  # fmt: skip
def test_boolean_fixed_answers(typed, value):
    shown = "true" if value else "false"
    assert checking.check_boolean(value, typed) == V("correct", shown)
    assert checking.check_boolean(not value, typed) == V("incorrect", shown, f"expected {'false' if value else 'true'}")


@pytest.mark.parametrize("junk", ["maybe", "tru", "2", "yes no", "", "  "])
def test_boolean_junk_message(junk):
    assert checking.check_boolean(True, junk) == V(
        "unparsable", junk.strip(), f"not true/false: {junk.strip()!r} (try true, false, t, f, yes, no)"
    )


CHOICES = ["in", "increase", "out"]


@pytest.mark.parametrize(
    "typed,verdict",
    [
        ("in", V("correct", "in")),  # an exact option wins over being a prefix of another
        ("IN", V("correct", "in")),
        (" In ", V("correct", "in")),
        ("1", V("correct", "in")),
        ("inc", V("incorrect", "increase", "expected in")),
        ("increase", V("incorrect", "increase", "expected in")),
        ("2", V("incorrect", "increase", "expected in")),
        ("3", V("incorrect", "out", "expected in")),  # the last option by its number
        ("o", V("incorrect", "out", "expected in")),
        ("i", V("unparsable", "i", "'i' is ambiguous: in, increase")),
        ("4", V("unparsable", "4", "'4' is not an option: in, increase, out")),
        ("0", V("unparsable", "0", "'0' is not an option: in, increase, out")),
        ("99999", V("unparsable", "99999", "'99999' is not an option: in, increase, out")),
        ("sideways", V("unparsable", "sideways", "'sideways' is not an option: in, increase, out")),
        ("", V("unparsable", "", "empty answer")),
    ],
)
def test_choice_fixed_answers(typed, verdict):
    assert checking.check_choice(CHOICES, "in", typed) == verdict


def test_choice_options_that_are_numbers_match_as_options_first():
    assert checking.check_choice(["2", "1"], "1", "1") == V("correct", "1")
    assert checking.check_choice(["2", "1"], "1", "2") == V("incorrect", "2", "expected 1")


@pytest.mark.parametrize(
    "typed,verdict",
    [
        ("(5, 6, 7)", V("correct", "(5, 6, 7)")),
        ("[5,6,7]", V("correct", "(5, 6, 7)")),
        ("5 6 7", V("correct", "(5, 6, 7)")),
        ("5x6x7", V("correct", "(5, 6, 7)")),
        ("5×6×7", V("correct", "(5, 6, 7)")),
        ("torch.Size([5, 6, 7])", V("correct", "(5, 6, 7)")),
        ("torch.Size ( [5, 6, 7] )", V("correct", "(5, 6, 7)")),
        ("(5, 6)", V("incorrect", "(5, 6)", "expected (5, 6, 7)")),
        ("(7, 6, 5)", V("incorrect", "(7, 6, 5)", "expected (5, 6, 7)")),
        ("(5,)", V("incorrect", "(5,)", "expected (5, 6, 7)")),
        ("()", V("incorrect", "()", "expected (5, 6, 7)")),
        ("", V("unparsable", "", "empty answer")),
        ("torch.Size[5]", V("unparsable", "torch.Size[5]", "not a shape: 'torch.Size[5]'")),
        (
            "(5, a)",
            V(
                "unparsable",
                "(5, a)",
                "not a shape: '(5, a)' (write whole numbers in parentheses, or torch.Size([...]))",
            ),
        ),
        (
            "(, ,)",
            V("unparsable", "(, ,)", "not a shape: '(, ,)' (write whole numbers in parentheses, or torch.Size([...]))"),
        ),
    ],
)
def test_shape_fixed_answers(typed, verdict):
    assert checking.check_shape((5, 6, 7), typed) == verdict


@pytest.mark.parametrize("typed", ["()", "[]", "torch.Size([])", "torch.Size()", " ( ) "])
def test_a_scalars_shape_can_be_typed(typed):
    assert checking.check_shape([], typed) == V("correct", "()")


@pytest.mark.parametrize("shape,shown", [((), "()"), ((3,), "(3,)"), ((3, 4), "(3, 4)"), ([0, 1, 2], "(0, 1, 2)")])
def test_format_shape(shape, shown):
    assert checking.format_shape(shape) == shown


# Every operator and function of the formula language, evaluated at a fixed point.
@pytest.mark.parametrize(
    "formula,x,value",
    [
        ("x + 2", 3, 5), ("x - 2", 3, 1), ("2 - x", 3, -1), ("x * 2", 3, 6), ("x / 2", 3, 1.5), ("2 / x", 4, 0.5),
        ("x ** 2", 3, 9), ("x^2", 3, 9), ("2^x", 3, 8), ("x^0.5", 4, 2), ("x^-1", 4, 0.25), ("(-2)^3", 0, -8),
        ("2^3^2", 0, 512), ("-x^2", 3, -9), ("(-x)^2", 3, 9), ("-x", 3, -3), ("+x", 3, 3), ("--x", 3, 3),
        ("2·x", 3, 6), ("2×x", 3, 6), ("2⋅x", 3, 6), ("5−x", 3, 2), ("1 + 2 * x", 3, 7), ("(1 + 2) * x", 3, 9),
        ("sqrt(x)", 9, 3), ("exp(x)", 1, 2.718281828459045), ("log(x)", 2.718281828459045, 1), ("ln(x)", 1, 0),
        ("sin(x)", 1.5707963267948966, 1), ("cos(x)", 0, 1), ("tan(x)", 0.7853981633974483, 0.9999999999999999),
        ("tanh(x)", 0.5, 0.46211715726000974), ("abs(x)", -3, 3), ("abs(x)", 3, 3), ("min(x, 2)", 3, 2),
        ("min(x, 2)", 1, 1), ("max(x, 2)", 3, 3), ("max(x, 2)", 1, 2), ("min(3, x, 2)", 5, 2),
        ("max(1, x, 2)", 5, 5), ("pi * x", 2, 6.283185307179586), ("e^x", 2, 7.3890560989306495),
        ("1_0 * x", 1, 10), ("1e1 * x", 1, 10), (".5 * x", 1, 0.5), ("x", 3, 3),
    ],
)  # fmt: skip
def test_every_operator_and_function_evaluates(formula, x, value):
    assert checking.parse_expression(formula, ["x"])({"x": x}) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize(
    "formula,x",
    [("sqrt(x)", -1), ("log(x)", 0), ("log(x)", -1), ("1/x", 0), ("x^-1", 0), ("x^(1/3)", -8), ("exp(x)", 1000),
     ("x^x^x", 50), ("x * 1e300 * x", 1e10), ("x*1e300 - x*1e300", 1e10), ("tan(x)", float("inf"))],
)  # fmt: skip
def test_undefined_values_are_none(formula, x):
    assert checking.value_at(checking.parse_expression(formula, ["x"]), {"x": x}) is None


@pytest.mark.parametrize(
    "typed,normalized",
    [
        ("p1+p2-p1*p2", "p1 + p2 - p1 * p2"),
        ("x^2", "x^2"),
        ("x**2", "x^2"),
        ("2·x", "2 * x"),
        ("1-(1-x)*(1-p1)", "1 - (1 - x) * (1 - p1)"),
        ("((x))", "x"),
        ("-(x)", "-x"),
        ("max( x ,p1 )", "max(x, p1)"),
    ],
)
def test_formulas_are_shown_in_a_canonical_form(typed, normalized):
    assert checking.parse_expression(typed, ["x", "p1", "p2"]).source == normalized


@pytest.mark.parametrize(
    "typed,message",
    [
        ("", "empty answer"),
        ("p3 + p1", "unknown name 'p3'; the formula's variables are p1, p2"),
        ("__import__('os')", "unknown name '__import__'; the formula's variables are p1, p2"),
        ("p1.real", "unexpected '.' at position 3 in a formula"),
        ("[p1]", "unexpected '[' at position 1 in a formula"),
        ("p1 + 'x'", 'unexpected "\'" at position 6 in a formula'),
        ("p1 < p2", "unexpected '<' at position 4 in a formula"),
        ("p1)", "a ')' at position 3 closes nothing"),
        ("((p1)", "1 unclosed '(' in the formula"),
        ("((p1", "2 unclosed '(' in the formula"),
        ("p1 +", "not a formula: 'p1 +'"),
        ("p1, p2", "a formula is one expression: ',' only separates the arguments of min and max"),
        ("sqrt(p1, p2)", "sqrt takes one argument"),
        ("sqrt()", "sqrt takes one argument"),
        ("min(p1)", "min takes two or more arguments"),
        ("max(p1)", "max takes two or more arguments"),
        ("max(p2, *p1)", "Starred is not allowed in a formula"),
        ("p1 + log(0)", "log(0) is undefined"),
        ("p1 + sqrt(-1)", "sqrt(-1) is undefined"),
        ("p1 + 1/0", "1 / 0 is undefined"),
        ("p1 + (-8)^(1/3)", "(-8)^(1 / 3) is undefined"),
    ],
)
def test_formula_errors_name_the_problem(typed, message):
    verdict = checking.check_expression(Q, ["p1", "p2"], {}, typed)
    assert verdict == V("unparsable", typed.strip(), message)


def test_a_long_constant_is_shortened_in_the_message():
    verdict = checking.check_expression("x", ["x"], {}, "x + log(0 * 123456789012345678901234567890123456789)")
    assert verdict.message == "log(0 * 1234567890123456789012345678901… is undefined"
    verdict = checking.check_expression("x", ["x"], {}, "x + 1e200 * 123456789012345678901234567890 * 1e200")
    assert verdict.message == "number too large: 1e+200 * 123456789012345678901234567890… (at most about 1.8e308)"


def test_arity_of_min_max_and_one_argument_functions():
    for name in ("min", "max"):
        assert checking.check_expression(f"{name}(x, 2*x, 3*x)", ["x"], {}, f"{name}(3*x, x, 2*x)").correct
    for name in ("sqrt", "exp", "log", "ln", "sin", "cos", "tan", "tanh", "abs"):
        assert checking.check_expression("x", ["x"], {}, f"{name}(x, x)").message == f"{name} takes one argument"


@pytest.mark.parametrize(
    "expected,typed,verdict",
    [
        ("x^3", "x*x*x", V("correct", "x * x * x")),
        ("x^3", "3*x", V("incorrect", "3 * x", "expected x^3; at x=0.8444 yours is 2.533, the answer 0.6021")),
        ("x^2", "2*x", V("incorrect", "2 * x", "expected x^2; at x=0.8444 yours is 1.689, the answer 0.713")),
        ("-x", "x", V("incorrect", "x", "expected -x; at x=0.8444 yours is 0.8444, the answer -0.8444")),
        ("x - 1", "1 - x", V("incorrect", "1 - x", "expected x - 1; at x=0.8444 yours is 0.1556, the answer -0.1556")),
        ("x/2", "2/x", V("incorrect", "2 / x", "expected x/2; at x=0.8444 yours is 2.368, the answer 0.4222")),
        ("sqrt(x)", "x^0.5", V("correct", "x^0.5")),
        ("sqrt(x)", "x", V("incorrect", "x", "expected sqrt(x); at x=0.8444 yours is 0.8444, the answer 0.9189")),
        ("exp(x)", "e^x", V("correct", "e^x")),
        ("exp(x)", "x", V("incorrect", "x", "expected exp(x); at x=0.8444 yours is 0.8444, the answer 2.327")),
        ("log(x)", "ln(x)", V("correct", "ln(x)")),
        (
            "log(x)",
            "x - 1",
            V("incorrect", "x - 1", "expected log(x); at x=0.8444 yours is -0.1556, the answer -0.1691"),
        ),
        ("sin(x)", "cos(pi/2 - x)", V("correct", "cos(pi / 2 - x)")),
        ("sin(x)", "x", V("incorrect", "x", "expected sin(x); at x=0.8444 yours is 0.8444, the answer 0.7476")),
        ("tan(x)", "sin(x)/cos(x)", V("correct", "sin(x) / cos(x)")),
        ("tanh(x)", "(exp(2*x)-1)/(exp(2*x)+1)", V("correct", "(exp(2 * x) - 1) / (exp(2 * x) + 1)")),
        ("abs(x - 0.5)", "max(x - 0.5, 0.5 - x)", V("correct", "max(x - 0.5, 0.5 - x)")),
        (
            "abs(x - 0.5)",
            "x - 0.5",
            V("incorrect", "x - 0.5", "expected abs(x - 0.5); at x=0.4206 yours is -0.07943, the answer 0.07943"),
        ),
        (
            "min(x, 0.5)",
            "max(x, 0.5)",
            V("incorrect", "max(x, 0.5)", "expected min(x, 0.5); at x=0.8444 yours is 0.8444, the answer 0.5"),
        ),
        ("x + 1e-13", "x", V("correct", "x")),  # agreement is relative 1e-9 (absolute 1e-12 near 0)
        (
            "x * (1 + 1e-8)",
            "x",
            V("incorrect", "x", "expected x * (1 + 1e-8); at x=0.8444 yours is 0.8444, the answer 0.8444"),
        ),
    ],
)
def test_expression_fixed_answers(expected, typed, verdict):
    assert checking.check_expression(expected, ["x"], {}, typed) == verdict


def test_the_domain_is_where_formulas_are_compared():
    assert checking.check_expression("abs(x)", ["x"], {}, "x").correct  # the default domain is 0..1
    assert checking.check_expression("abs(x)", ["x"], {"x": (-1.0, 1.0)}, "x") == V(
        "incorrect", "x", "expected abs(x); at x=-0.1589 yours is -0.1589, the answer 0.1589"
    )
    # Each variable its own range; one not named keeps 0..1.
    domain = {"a": (-2.0, -1.0)}
    assert checking.check_expression("abs(a) + b", ["a", "b"], domain, "-a + b").correct
    assert checking.check_expression("abs(a) + abs(b)", ["a", "b"], domain, "-a + b").correct
    assert not checking.check_expression("abs(a) + b", ["a", "b"], domain, "a + b").correct
    points = checking.sample_points(["a", "b"], domain, random.Random(3), count=200)
    assert all(-2 <= p["a"] <= -1 and 0 <= p["b"] <= 1 for p in points) and len(points) == 200


def test_sample_points_are_seeded_and_24_by_default():
    points = checking.sample_points(["x"], {}, random.Random(0))
    assert len(points) == 24 and points[0] == {"x": 0.8444218515250481}
    assert checking.sample_points(["x"], {}, random.Random(0)) == points
    assert checking.check_expression("x", ["x"], {}, "x", seed=1) == V("correct", "x")
    assert checking.check_expression("x^2", ["x"], {}, "x", seed=1).message.startswith("expected x^2; at x=0.1344 ")


@pytest.mark.parametrize(
    "expected,domain,typed,verdict",
    [
        # Undefined at the same points (x < 0): equivalent where defined.
        ("sqrt(x)", {"x": (-1.0, 1.0)}, "x^0.5", V("correct", "x^0.5")),
        # Undefined where the answer is defined, equal elsewhere: wrong.
        (
            "x",
            {"x": (-1.0, 1.0)},
            "sqrt(x)^2",
            V("incorrect", "sqrt(x)^2", "expected x; yours is undefined at x=-0.1589"),
        ),
        # Defined where the answer is not: wrong too.
        (
            "sqrt(x)",
            {"x": (-1.0, 1.0)},
            "sqrt(abs(x))",
            V("incorrect", "sqrt(abs(x))", "expected sqrt(x); yours is defined at x=-0.1589, where the answer is not"),
        ),
        # Undefined everywhere.
        ("x", {}, "log(-1 - x)", V("incorrect", "log(-1 - x)", "expected x; yours is undefined at x=0.8444")),
        (
            "sqrt(-1 - x)",
            {},
            "log(-1 - x)",
            V("incorrect", "log(-1 - x)", "expected sqrt(-1 - x); yours is undefined at every sample point"),
        ),
        (
            "sqrt(-1 - x)",
            {},
            "sqrt(-1 - x)",
            V("incorrect", "sqrt(-1 - x)", "expected sqrt(-1 - x); yours is undefined at every sample point"),
        ),
        # Overflow at some points is undefined there, not a crash.
        (
            "x",
            {"x": (0.0, 1000.0)},
            "log(exp(x))",
            V("incorrect", "log(exp(x))", "expected x; yours is undefined at x=844.4"),
        ),
    ],
)
def test_partially_undefined_formulas(expected, domain, typed, verdict):
    assert checking.check_expression(expected, ["x"], domain, typed) == verdict


def test_variables_shadow_constants():
    assert checking.parse_expression("e * 2", ["e"])({"e": 3.0}) == 6
    assert checking.parse_expression("e * 2", ["x"])({"x": 3.0}) == pytest.approx(2 * math.e)


MEASURED = [{"at": {"p1": 0.1, "p2": 0.2}, "value": 0.2801}, {"at": {"p1": 0.5, "p2": 0.5}, "value": 0.7499}]


@pytest.mark.parametrize(
    "samples,tolerance,verdict",
    [
        (MEASURED, 0.002, V("correct", Q, "agrees with 2 measurements (worst error 0.0001)")),
        (MEASURED, 0.0001, V("incorrect", Q, "at p1=0.1, p2=0.2 the formula gives 0.28 but 0.2801 was measured")),
        (MEASURED[:1] * 3, 0.00011, V("correct", Q, "agrees with 3 measurements (worst error 0.0001)")),
        (MEASURED, -1, V("unparsable", "-1", "the tolerance must be a finite number ≥ 0")),
        (MEASURED, float("nan"), V("unparsable", "nan", "the tolerance must be a finite number ≥ 0")),
        (MEASURED, float("inf"), V("unparsable", "inf", "the tolerance must be a finite number ≥ 0")),
        (MEASURED, "0.1", V("unparsable", "'0.1'", "the tolerance must be a finite number ≥ 0")),
        (MEASURED, None, V("unparsable", "None", "the tolerance must be a finite number ≥ 0")),
        (MEASURED, True, V("unparsable", "True", "the tolerance must be a finite number ≥ 0")),
        ([], 0.1, V("unparsable", "", "no measurements to compare the formula with")),
        (MEASURED * 501, 0.1, V("unparsable", "", "too many measurements: 1002 (at most 1000)")),
        (
            [{"at": {"p1": 0.1}, "value": 0.1}],
            0.1,
            V("unparsable", "{'at': {'p1': 0.1}, 'value': 0.1}", "a measurement lacks the variable(s) p2"),
        ),
        (
            [{"at": {}, "value": 0.1}],
            0.1,
            V("unparsable", "{'at': {}, 'value': 0.1}", "a measurement lacks the variable(s) p1, p2"),
        ),
        ([3], 0.1, V("unparsable", "3", 'a measurement must be {"at": {...}, "value": number}, not 3')),
        (
            [{"at": [0.1, 0.2], "value": 1}],
            0.1,
            V(
                "unparsable",
                "{'at': [0.1, 0.2], 'value': 1}",
                "a measurement must be {\"at\": {...}, \"value\": number}, not {'at': [0.1, 0.2], 'value': 1}",
            ),
        ),
        (
            [{"at": {"p1": 0.1, "p2": 0.2}}],
            0.1,
            V(
                "unparsable",
                "{'at': {'p1': 0.1, 'p2': 0.2}}",
                "a measurement must be {\"at\": {...}, \"value\": number}, not {'at': {'p1': 0.1, 'p2': 0.2}}",
            ),
        ),
        (
            [{"at": {"p1": 0.1, "p2": "0.2"}, "value": 1}],
            0.1,
            V(
                "unparsable",
                "{'at': {'p1': 0.1, 'p2': '0.2'}, 'value': 1}",
                "a measurement's p2 is not a finite number: '0.2'",
            ),
        ),
        (
            [{"at": {"p1": float("nan"), "p2": 0.2}, "value": 1}],
            0.1,
            V(
                "unparsable",
                "{'at': {'p1': nan, 'p2': 0.2}, 'value': 1}",
                "a measurement's p1 is not a finite number: nan",
            ),
        ),
        (
            [{"at": {"p1": 0.1, "p2": 0.2}, "value": float("nan")}],
            0.1,
            V(
                "unparsable",
                "{'at': {'p1': 0.1, 'p2': 0.2}, 'value': nan}",
                "a measured value is not a finite number: nan",
            ),
        ),
        (
            [{"at": {"p1": 0.1, "p2": 0.2}, "value": 10**400}],
            0.1,
            V(
                "unparsable",
                "{'at': {'p1': 0.1, 'p2': 0.2}, 'value': 100000000000000000000000000000000000000…",
                "a measured value is not a finite number: 100000000000000000000000000000000000000…",
            ),
        ),
        (
            [{"at": {"p1": 0.1, "p2": 0.2}, "value": True}],
            0.1,
            V(
                "unparsable",
                "{'at': {'p1': 0.1, 'p2': 0.2}, 'value': True}",
                "a measured value is not a finite number: True",
            ),
        ),
    ],
)
def test_expression_samples_fixed_answers(samples, tolerance, verdict):
    assert checking.judge_expression_samples(Q, ["p1", "p2"], samples, tolerance) == verdict


def test_samples_where_the_formula_is_undefined_are_a_wrong_formula():
    samples = [{"at": {"x": 0.5}, "value": 0.7}, {"at": {"x": 0}, "value": 0.0}]
    assert checking.judge_expression_samples("sqrt(x)", ["x"], samples, 0.01) == V(
        "correct", "sqrt(x)", "agrees with 2 measurements (worst error 0.0071)"
    )
    assert checking.judge_expression_samples("log(x)", ["x"], samples[1:], 0.01) == V(
        "incorrect", "log(x)", "the formula is undefined at x=0"
    )


def test_shorten_keeps_80_characters():
    assert checking.shorten(" " + "a" * 80 + " ") == "a" * 80
    assert checking.shorten("a" * 81) == "a" * 79 + "…"
    assert checking.shorten("abcdef", 4) == "abc…"


# ---------------------------------------------------------------- what people type (issue 14, "Answers")


@pytest.mark.parametrize(
    "typed,normalized",
    [
        ("1-(1-p1)(1-p2)", "1 - (1 - p1) * (1 - p2)"),
        ("1 - (1 - p1) (1 - p2)", "1 - (1 - p1) * (1 - p2)"),
        ("p1 + p2 - p1 p2", "p1 + p2 - p1 * p2"),
        ("p1 + p2(1 - p1)", "p1 + p2 * (1 - p1)"),
        ("p1 + (1 - p1)p2", "p1 + (1 - p1) * p2"),
        ("1 - (1-p1)(1-p2)(1)", "1 - (1 - p1) * (1 - p2) * 1"),
        ("q = 1 - (1-p1)(1-p2)", "1 - (1 - p1) * (1 - p2)"),
        ("  Q=p1+p2-p1*p2", "p1 + p2 - p1 * p2"),
    ],
)
def test_implicit_multiplication_and_a_leading_name_are_accepted(typed, normalized):
    assert checking.check_expression(Q, ["p1", "p2"], {}, typed) == V("correct", normalized)


@pytest.mark.parametrize(
    "typed,value",
    [
        ("2p", 2 * 0.5), ("2 p", 1.0), ("2(p)", 1.0), ("(p)2", 1.0), ("p(2)", 1.0), ("2p^2", 0.5), ("-2p", -1.0),
        ("2pi", 2 * math.pi), ("2e", 2 * math.e), ("2e1p", 10.0), ("p sqrt(4)", 1.0), ("2exp(0)", 2.0),
        ("(p)(p)", 0.25), ("p p p", 0.125), ("3 max(p, 1)", 3.0), ("p2 p", 0.5 * 3), ("e x p(x)", math.e * 3 * 0.5 * 3),
    ],
)  # fmt: skip
def test_implicit_multiplication_reads_as_a_product(typed, value):
    formula = checking.parse_expression(typed, ["p", "p2", "x"])
    assert formula({"p": 0.5, "p2": 3.0, "x": 3.0}) == pytest.approx(value)


def test_a_function_name_is_never_split_by_implicit_multiplication():
    """`exp(x)` is the function; `e x p(x)` (with spaces) is e·x·p·x; `exp` and `xp` alone are refused."""
    variables = ["x", "p"]
    assert checking.parse_expression("exp(x)", variables)({"x": 1.0, "p": 2.0}) == pytest.approx(math.e)
    assert checking.parse_expression("e x p(x)", variables)({"x": 1.0, "p": 2.0}) == pytest.approx(2 * math.e)
    assert (
        checking.parse_expression("e*x*p*(x)", variables).source
        == checking.parse_expression("e x p(x)", variables).source
    )
    assert checking.check_expression("exp(x)", variables, {}, "exp x") == V(
        "unparsable", "exp x", "exp needs its argument in parentheses: exp(...)"
    )
    assert checking.check_expression("x*p", variables, {}, "xp") == V(
        "unparsable", "xp", "unknown name 'xp'; for a product write x*p (the formula's variables are x, p)"
    )
    assert checking.check_expression("exp(x)", variables, {}, "expx").message == (
        "unknown name 'expx'; for a product write e*x*p*x (the formula's variables are x, p)"
    )
    assert checking.check_expression("sin(x)", ["x", "s"], {}, "s in(x)").message == (
        "unknown name 'in'; the formula's variables are x, s"
    )


@pytest.mark.parametrize(
    "typed,message",
    [
        (
            "1/2p",
            "'/' before an implied product is ambiguous; write it out, e.g. 1/(2*p) or (1/2)*p",
        ),
        (
            "1/(2)(p)",
            "'/' before an implied product is ambiguous; write it out, e.g. 1/(2*p) or (1/2)*p",
        ),
        (
            "2^3p",
            "'^' before an implied product is ambiguous; write it out, e.g. 2^(3*p) or (2^3)*p",
        ),
        (
            "2**3p",
            "'**' before an implied product is ambiguous; write it out, e.g. 2^(3*p) or (2^3)*p",
        ),
        ("2 3", "two numbers in a row: 2 3 (write 2*3, or 23)"),
        ("1 000", "two numbers in a row: 1 000 (write 1*000, or 1000)"),
        ("q =", "empty answer"),
        (
            "1/-2p",
            "'/' before an implied product is ambiguous; write it out, e.g. 1/(2*p) or (1/2)*p",
        ),
        ("x - 2p", None),
        ("p = p^2", "p = … names a variable of the formula: type only the right-hand side"),
        ("q == p", "unknown name 'q'; the formula's variables are p, x"),
    ],
)
def test_what_implicit_multiplication_will_not_guess(typed, message):
    verdict = checking.check_expression("p", ["p", "x"], {}, typed)
    if message is None:  # after a binary minus, an implied product is unambiguous
        assert verdict.normalized == "x - 2 * p"
    else:
        assert verdict == V("unparsable", typed, message)


def test_a_variable_applied_like_a_function_is_a_product():
    assert checking.check_expression("p1*(1-p2)", ["p1", "p2"], {}, "p1(1-p2)") == V("correct", "p1 * (1 - p2)")


@pytest.mark.parametrize(
    "typed,verdict",
    [
        ("112 pixels", V("correct", "112")),
        ("112pixels", V("correct", "112")),
        ("112 Pixels", V("correct", "112")),
        ("112 pixel", V("correct", "112")),
        ("112 pixels (112×112)", V("correct", "112")),
        ("rf = 112 pixels", V("correct", "112")),
        ("113 pixels", V("incorrect", "113", "expected 112")),
        ("112 px", V("unparsable", "112 px", "'px' is not this answer's unit: type a number, or a number and pixels")),
        ("112 cm", V("unparsable", "112 cm", "'cm' is not this answer's unit: type a number, or a number and pixels")),
        (
            "pixels",
            V(
                "unparsable",
                "pixels",
                "not a number: 'pixels' (write it as a decimal, a fraction a/b, a percentage or in e-notation)",
            ),
        ),
    ],
)
def test_a_number_with_the_cards_unit(typed, verdict):
    assert checking.check_numeric(112, 0, typed, unit="pixels (112×112)") == verdict


def test_a_unit_on_a_card_without_one_is_named():
    assert checking.check_numeric(12, 0, "12 apples") == V(
        "unparsable", "12 apples", "'apples' is not this answer's unit: type a plain number"
    )
    assert checking.check_numeric(0.28, 0, "q = 0.28") == V("correct", "0.28")
    assert checking.check_numeric(0.28, 0, "q = 28%") == V("correct", "0.28")


# ---------------------------------------------------------------- boundaries pinned after the mutation run


def test_exact_boundaries_of_the_bounds():
    assert checking.check_numeric(1, 0, " " * 999 + "1") == V("correct", "1")  # 1000 characters
    assert checking.check_numeric(1, 0, "1e0400").message == "number too large: 1e0400 (at most about 1.8e308)"
    assert checking.check_numeric(1, 0, "1e00401").message == "number too large: exponent 00401 (at most ±400)"
    assert checking.check_numeric(1, 0, "1e" + "0" * 900 + "1") == V("incorrect", "10", "expected 1")
    assert checking.check_numeric(1, 0, "9" * 100 + "e300").message == (
        "number too large: " + "9" * 39 + "… (at most about 1.8e308)"
    )
    assert (
        checking.check_numeric(1, 0, "1e300/1e-300").message == "number too large: 1e300/1e-300 (at most about 1.8e308)"
    )
    assert checking.check_expression("x", ["x"], {}, "x + e^1000").message == (
        "number too large: e^1000 (at most about 1.8e308)"
    )


def test_the_float_noise_slack_is_inclusive():
    assert checking.judge_number(0, 0, 1e-9).correct
    assert checking.judge_number(2, 0, 2 + 1.9e-9).correct  # relative to the expected value
    assert not checking.judge_number(2, 0, 2 + 2.1e-9).correct


def test_agreement_near_zero_is_absolute():
    assert checking.check_expression("1e-13*x", ["x"], {}, "2e-13*x") == V("correct", "2e-13 * x")
    assert not checking.check_expression("1e-11*x", ["x"], {}, "2e-11*x").correct


def test_points_undefined_for_both_are_skipped_not_the_end():
    verdict = checking.check_expression("sqrt(-x)", ["x"], {"x": (-1.0, 1.0)}, "sqrt(-x) + 1")
    assert verdict == V(
        "incorrect", "sqrt(-x) + 1", "expected sqrt(-x); at x=-0.1589 yours is 1.399, the answer 0.3986"
    )


def test_choice_numbers_and_boolean_punctuation():
    assert checking.check_choice(CHOICES, "in", "0001") == V("correct", "in")
    assert checking.check_choice(CHOICES, "in", "1" * 900).message.endswith("is not an option: in, increase, out")
    assert checking.check_boolean(True, "YESX").status == "unparsable"
    assert checking.check_boolean(True, "yes.!") == V("correct", "true")


@pytest.mark.parametrize("typed", ["(5, 6", "5, 6]", "(5, 6]x"])
def test_a_shape_needs_both_brackets_or_none(typed):
    assert checking.check_shape((5, 6), typed).status == "unparsable"


def test_measurement_limits_and_long_reprs():
    point = {"p1": 0.1, "p2": 0.2}
    assert checking.judge_expression_samples(Q, ["p1", "p2"], [{"at": point, "value": 0.28}] * 1000, 0.01).correct
    assert checking.judge_expression_samples("x", ["x"], [{"at": {"x": 0.5}, "value": 0.75}], 0.25) == V(
        "correct", "x", "agrees with 1 measurements (worst error 0.25)"
    )  # an error equal to the tolerance is within it
    long = checking.judge_expression_samples(Q, ["p1", "p2"], ["s" * 100], 0.1)
    assert long.message == 'a measurement must be {"at": {...}, "value": number}, not \'' + "s" * 58 + "…"
    long = checking.judge_expression_samples(Q, ["p1", "p2"], [{"at": {"p1": "y" * 50, "p2": 0}, "value": 1}], 0.1)
    assert long.message == "a measurement's p1 is not a finite number: '" + "y" * 38 + "…"


@pytest.mark.parametrize("typed", ["²", "¹²", "2²"])
def test_superscript_digits_are_not_numbers_for_choices_or_shapes(typed):
    """str.isdigit() is True for '²' but int('²') raises: found by the typed-answer fuzz."""
    assert checking.check_choice(["a", "b"], "a", typed).status == "unparsable"
    assert checking.check_shape([2], typed).status == "unparsable"


@pytest.mark.parametrize(
    "typed,message",
    [
        ("1/sqrt(4)p", "'/' before an implied product is ambiguous; write it out, e.g. 1/(2*p) or (1/2)*p"),
        ("1/+2p", "'/' before an implied product is ambiguous; write it out, e.g. 1/(2*p) or (1/2)*p"),
        ("2^-3p", "'^' before an implied product is ambiguous; write it out, e.g. 2^(3*p) or (2^3)*p"),
        ("2 .5", "two numbers in a row: 2 .5 (write 2*.5, or 2.5)"),
        ("1e5 2", "two numbers in a row: 1e5 2 (write 1e5*2, or 1e52)"),
        ("lambda", "unknown name 'lambda'; the formula's variables are p, lambda"),
        ("pq", "unknown name 'pq'; the formula's variables are p, lambda"),
        ("pip", "unknown name 'pip'; for a product write pi*p (the formula's variables are p, lambda)"),
        ("pe", "unknown name 'pe'; for a product write p*e (the formula's variables are p, lambda)"),
    ],
)
def test_more_of_what_implicit_multiplication_will_not_guess(typed, message):
    assert checking.check_expression("p", ["p", "lambda"], {}, typed) == V("unparsable", typed, message)


@pytest.mark.parametrize(
    "typed,normalized", [("p .5", "p * 0.5"), ("2x_1", "2 * x_1"), ("(1/2)p", "1 / 2 * p"), ("x - 2p", "x - 2 * p")]
)
def test_more_implicit_products(typed, normalized):
    assert checking.parse_expression(typed, ["p", "x", "x_1"]).source == normalized


def test_a_split_is_suggested_only_when_the_whole_name_splits():
    assert checking.check_expression("p1", ["p1", "p2"], {}, "p1p2").message == (
        "unknown name 'p1p2'; for a product write p1*p2 (the formula's variables are p1, p2)"
    )
    assert checking.check_expression("p1", ["p1", "p2"], {}, "p1p2z").message == (
        "unknown name 'p1p2z'; the formula's variables are p1, p2"
    )


@pytest.mark.parametrize(
    "unit,typed,verdict",
    [
        ("s", "3 s", V("correct", "3")),
        ("s", "3s", V("correct", "3")),
        (
            "s",
            "3 seconds",
            V("unparsable", "3 seconds", "'seconds' is not this answer's unit: type a number, or a number and s"),
        ),
        ("pixels", "3pixels", V("correct", "3")),
        ("pixels", "3.pixels", V("correct", "3")),
        ("pixels", "300% pixels", V("correct", "3")),
        (
            "pixels",
            "3 xpixels",
            V("unparsable", "3 xpixels", "'xpixels' is not this answer's unit: type a number, or a number and pixels"),
        ),
        (
            "pixels",
            "x3 apples",
            V(
                "unparsable",
                "x3 apples",
                "not a number: 'x3 apples' (write it as a decimal, a fraction a/b, a percentage or in e-notation)",
            ),
        ),
        (
            "",
            "3 " + "a" * 40,
            V("unparsable", "3 " + "a" * 40, "'" + "a" * 29 + "…' is not this answer's unit: type a plain number"),
        ),
        (
            "",
            "1e999 apples",
            V("unparsable", "1e999 apples", "'apples' is not this answer's unit: type a plain number"),
        ),
        ("pixels", "1e999 pixels", V("unparsable", "1e999 pixels", "number too large: exponent 999 (at most ±400)")),
    ],
)
def test_units_as_typed(unit, typed, verdict):
    assert checking.check_numeric(3, 0, typed, unit=unit) == verdict


def test_leading_zeros_are_not_significant_digits():
    assert checking.parse_number("0" * 5 + "9" * 100) == float("9" * 100)
    assert checking.parse_number("0." + "0" * 3 + "9" * 100) == pytest.approx(float("0.000" + "9" * 100))


def test_an_ambiguous_product_late_in_a_formula_names_its_operator():
    assert checking.check_expression("p", ["p", "x"], {}, "x + 1/2p").message == (
        "'/' before an implied product is ambiguous; write it out, e.g. 1/(2*p) or (1/2)*p"
    )
    assert checking.check_expression("p", ["p", "x"], {}, "x * 2^3p").message == (
        "'^' before an implied product is ambiguous; write it out, e.g. 2^(3*p) or (2^3)*p"
    )


def test_underscores_in_a_formulas_numbers():
    assert checking.check_expression("1000*x", ["x"], {}, "x*1_000") == V("correct", "x * 1000")


@pytest.mark.parametrize("typed", ["abc", "%", "(, ,)", "(5, a)", "pixels", "torch.Size("])
def test_unreadable_answer_messages_quote_no_example_value(typed):
    """A syntax hint shown before the reveal must not be able to give any card's answer away."""
    for verdict in (checking.check_numeric(1.0, 0.0, typed), checking.check_shape([2, 3], typed)):
        assert verdict.status == "unparsable"
        hint = verdict.message.replace(repr(checking.shorten(typed)), "")
        assert not re.search(r"\d", hint.replace("e-notation", "")), verdict.message


def test_a_long_option_list_is_clipped_in_the_message():
    """A deck's 10,000 options were all listed in the message for a typed answer that is none of them."""
    options = [f"option {i}" for i in range(10_000)]
    verdict = ChoiceAnswer(kind="choice", options=options, value="option 1").check("nothing like it")
    assert verdict.status == "unparsable" and verdict.message.startswith("'nothing like it' is not an option: option 0")
    assert len(verdict.message) <= 400
