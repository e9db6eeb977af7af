"""Answer checkers: equivalent forms accepted, perturbed values rejected, junk is unparsable."""

from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from quizzer import checking

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

    from quizzer.deck import ExpressionAnswer

    with pytest.raises(ValidationError, match="value does not parse as a formula: formula too large"):
        ExpressionAnswer(kind="expression", value="+".join(["x"] * 5000)[:999], variables=["x"])
    with pytest.raises(ValidationError, match="number too large: 10"):
        ExpressionAnswer(kind="expression", value="((10**999)**999)**99 * x", variables=["x"])
