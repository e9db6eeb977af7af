"""Tensor-formula answers: every operator right, wrong and mis-shaped; hostile formulas and samples
are one-sentence verdicts, decided before numpy is asked to do anything large."""

import ast
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quizzer.core import tensor_formula as tf
from quizzer.core.checking import Unparsable

RNG = np.random.default_rng(12)
X = RNG.normal(size=(3, 4))
Z = RNG.normal(size=(3, 4))
Y = RNG.normal(size=(4, 2))
V = RNG.normal(size=(4,))
S = 0.7
NAMES = ["x", "z", "y", "v", "s"]


def samples(truth, count=2):
    """`count` samples: the first on the fixed tensors, the others on fresh ones of the same shapes."""
    rng = np.random.default_rng(5)
    sets = [dict(x=X, z=Z, y=Y, v=V, s=S)]
    sets += [
        dict(x=rng.normal(size=X.shape), z=rng.normal(size=Z.shape), y=rng.normal(size=Y.shape),
             v=rng.normal(size=V.shape), s=float(rng.normal()))
        for _ in range(count - 1)
    ]  # fmt: skip
    return [
        {"inputs": {k: np.asarray(a).tolist() for k, a in env.items()}, "value": np.asarray(truth(**env)).tolist()}
        for env in sets
    ]


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# (truth written directly in numpy, typed forms that are right, a wrong value, a wrong shape)
CASES = {
    "matmul": (lambda x, z, y, v, s: x @ y, ["x @ y", "(x @ y)", "x@y"], "(x + 1) @ y", "x @ y @ y.T"),
    "matmul-vector": (lambda x, z, y, v, s: x @ v, ["x @ v"], "z @ v", "v @ y"),
    "transpose": (
        lambda x, z, y, v, s: x.T,
        ["x.T", "transpose(x)", "x.transpose()", "x.t()", "transpose(x, (1, 0))", "x.transpose(1, 0)"],
        "z.T",
        "x",
    ),
    "sum-axis": (
        lambda x, z, y, v, s: x.sum(axis=0),
        ["sum(x, axis=0)", "x.sum(0)", "x.sum(axis=-2)", "torch.sum(x, dim=0)", "np.sum(x, 0)"],
        "sum(x * x, axis=0)",
        "sum(x, axis=1)",
    ),
    "sum-keepdims": (
        lambda x, z, y, v, s: x.sum(axis=1, keepdims=True),
        ["sum(x, axis=1, keepdims=True)", "x.sum(1, keepdim=True)"],
        "sum(z, axis=1, keepdims=True)",
        "sum(x, axis=1)",
    ),
    "sum-all": (lambda x, z, y, v, s: x.sum(), ["sum(x)", "x.sum()", "sum(x, axis=(0, 1))"], "sum(z)", "sum(x, 0)"),
    "mean": (lambda x, z, y, v, s: x.mean(axis=1), ["mean(x, axis=1)", "x.mean(1)"], "sum(x, axis=1)", "mean(x)"),
    "add": (lambda x, z, y, v, s: x + z, ["x + z", "z + x"], "x - z", "sum(x + z)"),
    "subtract": (lambda x, z, y, v, s: x - z, ["x - z", "-(z - x)"], "z - x", "(x - z).T"),
    "multiply": (lambda x, z, y, v, s: x * z, ["x * z", "x ⊙ z"], "x + z", "outer(x, z)"),
    "divide": (lambda x, z, y, v, s: x / (1 + z * z), ["x / (1 + z*z)", "x / (1 + z**2)"], "x * (1 + z*z)", "v / 2"),
    "power": (lambda x, z, y, v, s: x**3, ["x ** 3", "x^3", "x*x*x"], "x ** 2", "v ** 3"),
    "negate": (lambda x, z, y, v, s: -x, ["-x", "0 - x", "-1 * x"], "+x", "-v"),
    "literals": (lambda x, z, y, v, s: 2.5 * x + 1e-1, ["2.5*x + 1e-1", "5/2 * x + 0.1"], "2 * x + 0.1", "2.5"),
    "constants": (lambda x, z, y, v, s: np.pi * x, ["pi * x"], "e * x", "pi * v"),
    "scalar-variable": (lambda x, z, y, v, s: 2 * s * x, ["2*s*x", "s * x * 2"], "s * x", "2 * s"),
    "broadcast": (lambda x, z, y, v, s: x + v, ["x + v", "v + x"], "x - v", "v + 0"),
    "exp": (lambda x, z, y, v, s: np.exp(x), ["exp(x)", "np.exp(x)", "e ** x"], "exp(z)", "exp(v)"),
    "log": (lambda x, z, y, v, s: np.log(1 + x * x), ["log(1 + x*x)", "log(1 + x**2)"], "log(2 + x*x)", "log(1 + v*v)"),
    "sqrt": (lambda x, z, y, v, s: np.sqrt(1 + x * x), ["sqrt(1 + x*x)", "(1 + x*x) ** 0.5"], "sqrt(x*x)", "sqrt(v*v)"),
    "tanh": (
        lambda x, z, y, v, s: 1 - np.tanh(x) ** 2,
        ["1 - tanh(x)**2", "(1 - tanh(x)) * (1 + tanh(x))"],
        "1 - tanh(x)",
        "1 - tanh(v)**2",
    ),
    "abs": (lambda x, z, y, v, s: np.abs(x), ["abs(x)", "sqrt(x*x)", "x * sign(x)"], "x", "abs(v)"),
    "sigmoid": (
        lambda x, z, y, v, s: sigmoid(x) * (1 - sigmoid(x)),
        ["sigmoid(x) * (1 - sigmoid(x))", "torch.sigmoid(x) * sigmoid(-x)", "exp(-x) / (1 + exp(-x))**2"],
        "sigmoid(x)",
        "sigmoid(v) * (1 - sigmoid(v))",
    ),
    "relu": (
        lambda x, z, y, v, s: np.maximum(x, 0),
        ["relu(x)", "maximum(x, 0)", "x * (x > 0)"],
        "relu(-x)",
        "relu(v)",
    ),
    "relu-backward": (
        lambda x, z, y, v, s: z * (x > 0),
        ["z * (x > 0)", "where(x > 0, z, 0)", "where(x <= 0, 0, z)"],
        "z * (x >= 1)",
        "v * (v > 0)",
    ),
    "where": (
        lambda x, z, y, v, s: np.where(x > 0, x, 0.1 * x),
        ["where(x > 0, x, 0.1*x)", "maximum(x, 0.1*x)"],
        "where(x < 0, x, 0.1*x)",
        "where(v > 0, v, 0.1*v)",
    ),
    "chained-comparison": (
        lambda x, z, y, v, s: np.where((x > -0.5) & (x < 0.5), x, 0),
        ["where(-0.5 < x < 0.5, x, 0)", "x * (x > -0.5) * (x < 0.5)"],
        "where(-0.5 < x, x, 0)",
        "where(-0.5 < v < 0.5, v, 0)",
    ),
    "comparisons": (
        lambda x, z, y, v, s: (x >= z) + 2 * (x == x) - (x != z),
        ["(x >= z) + 2*(x == x) - (x != z)"],
        "(x < z) + 2 - 1",
        "sum((x >= z) + 2*(x == x) - (x != z))",
    ),
    "maximum": (lambda x, z, y, v, s: np.maximum(x, z), ["maximum(x, z)", "maximum(z, x)"], "minimum(x, z)", "v"),
    "minimum": (lambda x, z, y, v, s: np.minimum(x, z), ["minimum(x, z)", "-maximum(-x, -z)"], "maximum(x, z)", "y"),
    "outer": (lambda x, z, y, v, s: np.outer(v, v), ["outer(v, v)", "outer(v.T, 1 * v)"], "outer(v, -v)", "v"),
    "gradient": (
        lambda x, z, y, v, s: z.T @ x + 2 * s,
        ["z.T @ x + 2*s", "transpose(x.T @ z) + 2*s", "(x.T @ z).T + s + s"],
        "x.T @ z + 2*s",
        "z @ x.T + 2*s",
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_every_operator_right_wrong_and_misshaped(name):
    truth, rights, wrong, misshaped = CASES[name]
    data = samples(truth)
    for typed in rights:
        verdict = tf.check_tensor(typed, NAMES, data, 1e-9)
        assert verdict.status == "correct", (typed, verdict)
    verdict = tf.check_tensor(wrong, NAMES, data, 1e-9)
    assert verdict.status == "incorrect", (wrong, verdict)
    assert "the verifier computed" in verdict.message or "shape" in verdict.message
    verdict = tf.check_tensor(misshaped, NAMES, data, 1e-9)
    assert verdict.status == "incorrect", (misshaped, verdict)
    assert "shape" in verdict.message or "line up" in verdict.message or "broadcast" in verdict.message


def test_a_wrong_shape_names_both_shapes():
    verdict = tf.check_tensor("x @ y", NAMES, samples(lambda x, z, y, v, s: (x @ y).T), 0)
    assert verdict.status == "incorrect"
    assert "your formula gives shape (3, 2) but the answer has shape (2, 3)" in verdict.message


def test_misfitting_tensors_are_a_wrong_answer_naming_the_shapes():
    verdict = tf.check_tensor("y @ x", NAMES, samples(lambda x, z, y, v, s: x @ y), 0)
    assert verdict.status == "incorrect"
    assert "(4, 2) @ (3, 4) does not line up" in verdict.message and "x 3×4" in verdict.message


def test_a_wrong_value_reports_where_it_differs():
    verdict = tf.check_tensor(
        "x + z", NAMES, samples(lambda x, z, y, v, s: x + z + (np.arange(12) == 5).reshape(3, 4)), 0
    )
    assert verdict.status == "incorrect"
    assert "at index (1, 1)" in verdict.message


def test_every_sample_must_agree_not_only_the_first():
    data = samples(lambda x, z, y, v, s: x + z, count=3)
    data[2]["value"] = (np.asarray(data[2]["value"]) + 1).tolist()
    verdict = tf.check_tensor("x + z", NAMES, data, 0)
    assert verdict.status == "incorrect" and "sample 3" in verdict.message


def test_tolerance_is_absolute_plus_float32_slack():
    data = samples(lambda x, z, y, v, s: (x @ y).astype(np.float32))
    assert tf.check_tensor("x @ y", NAMES, data, 0).correct  # float32 autograd truth, float64 evaluation
    data = samples(lambda x, z, y, v, s: x @ y + 0.01)
    assert tf.check_tensor("x @ y", NAMES, data, 0.011).correct
    assert tf.check_tensor("x @ y", NAMES, data, 0.009).status == "incorrect"


def test_a_correct_verdict_shows_the_normalized_formula():
    verdict = tf.check_tensor("x@y", NAMES, samples(lambda x, z, y, v, s: x @ y), 0)
    assert verdict.normalized == "x @ y" and "2 samples" in verdict.message


@pytest.mark.parametrize(
    "typed,named",
    [
        ("W3 @ x", "'W3'"),
        ("softmax(x)", "'softmax'"),
        ("np.dot(x, y)", "np.dot"),
        ("x.shape", ".shape"),
        ("x.reshape(4, 3)", ".reshape()"),
        ("sum", "sum is a function"),
    ],
)
def test_unknown_names_and_functions_are_unparsable_naming_them(typed, named):
    verdict = tf.check_tensor(typed, NAMES, samples(lambda x, z, y, v, s: x), 0)
    assert verdict.status == "unparsable" and named in verdict.message


def test_unknown_name_lists_the_cards_own_variables():
    verdict = tf.check_tensor("W2", ["delta2", "h1"], [{"inputs": {"delta2": 1, "h1": 2}, "value": 1}], 0)
    assert verdict.message == "unknown name 'W2'; this card's variables are delta2, h1"


HOSTILE = [
    "",
    "   ",
    "__import__('os').system('true')",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__",
    "eval('1')",
    "exec('x=1')",
    "open('/etc/passwd')",
    "lambda: x",
    "[x for x in range(10**9)]",
    "x[0]",
    "x[::-1]",
    "x if s else z",
    "x and z",
    "not x",
    "~x",
    "x // z",
    "x % z",
    "x << 2",
    "x | z",
    "x is z",
    "x in z",
    "'abc'",
    "b'abc'",
    "f'{x}'",
    "1j * x",
    "True * x",
    "None",
    "...",
    "(x := 3)",
    "{x: 1}",
    "{x}",
    "(x, z)",
    "[x, z]",
    "*x",
    "sum(*[x])",
    "sum(x, **{'axis': 0})",
    "sum(x, axis=s)",
    "sum(x, axis=0.5)",
    "sum(x, keepdims=1)",
    "sum(x, 0, 1)",
    "sum(x, 0, axis=1)",
    "sum(x, initial=5)",
    "mean()",
    "exp()",
    "exp(x, z)",
    "exp(x=x)",
    "where(x > 0, x)",
    "outer(x)",
    "transpose(x, axes=z)",
    "x.t(1)",
    "x.T()",
    "(x)(z)",
    "x ** 1000",
    "2 ** 10 ** 10",
    "x ** (x * 1e6)",
    "9" * 400,
    "1e999 * x",
    "-" * 100 + "x",
    "(" * 300 + "x" + ")" * 300,
    "x + " * 200 + "x",
    "x\x00",
    "x = 1",
    "import os",
    "x; z",
    "x\nz",
    "\\",
    "x @",
    "@x",
    # parsable calls that no tensor library would run: invalid, never a wrong answer
    "sum(x, axis=(0, 0))",
    "transpose(x, (0, 0))",
    "sum(x, axis=999999999999999999999)",
]


# Readable, bounded, but wrong: graded as answers.
MISFITS = [
    "exp(" * 40 + "x" + ")" * 40,
]


@pytest.mark.parametrize("typed", HOSTILE + MISFITS)
def test_hostile_formulas_get_one_sentence_not_an_exception(typed):
    verdict = tf.check_tensor(typed, NAMES, samples(lambda x, z, y, v, s: x), 0)
    assert verdict.status == ("incorrect" if typed in MISFITS else "unparsable"), verdict
    assert verdict.message and "\n" not in verdict.message and len(verdict.message) < 300
    assert "Traceback" not in verdict.message


class RefusedToCompute(AssertionError):
    pass


def refuse(*args, **kwargs):
    raise RefusedToCompute("numpy was asked to compute an oversized result")


@pytest.mark.parametrize(
    "typed,inputs",
    [
        ("a @ a", {"a": np.zeros((1000, 1000))}),  # 1e9 multiply-adds
        ("outer(outer(a, a), a)", {"a": np.zeros(1000)}),  # 1e9 numbers
        ("a + b", {"a": np.zeros((1_000_000, 1)), "b": np.zeros((1, 1000))}),  # broadcast to 1e9
        ("a * b", {"a": np.zeros((1000, 1)), "b": np.zeros((1, 1001))}),  # just over 1e6
    ],
)
def test_oversized_results_are_refused_before_numpy_computes_them(typed, inputs, monkeypatch):
    monkeypatch.setattr(tf.np, "matmul", refuse)
    real_outer = np.outer
    monkeypatch.setattr(
        tf.np, "outer", lambda a, b: refuse() if a.size * b.size > tf.MAX_ELEMENTS else real_outer(a, b)
    )
    monkeypatch.setitem(tf._ARITHMETIC, ast.Add, ("+", refuse))
    monkeypatch.setitem(tf._ARITHMETIC, ast.Mult, ("*", refuse))
    with pytest.raises(tf.FormulaError, match="at most|too much computation"):
        tf.evaluate(typed, inputs)


def test_the_work_of_one_evaluation_is_bounded(monkeypatch):
    computed = []

    def counting_add(a, b):
        computed.append(np.broadcast(a, b).size)
        return np.add(a, b)

    monkeypatch.setitem(tf._ARITHMETIC, ast.Add, ("+", counting_add))
    with pytest.raises(tf.FormulaError, match="too much computation"):
        tf.evaluate(" + ".join(["a"] * 30), {"a": np.zeros((1000, 1000))})
    assert sum(computed) <= tf.MAX_WORK


def test_the_work_budget_is_shared_by_all_samples_of_one_check():
    rng = np.random.default_rng(1)
    inputs = [rng.normal(size=60_000) for _ in range(8)]
    data = [{"inputs": {"a": a.tolist()}, "value": (20 * a).tolist()} for a in inputs]
    terms = " + ".join(["a"] * 20)  # 1.1e6 elements per sample: fine once, too much eight times over
    assert tf.check_tensor(terms, ["a"], data[:1], 1e-9).correct
    verdict = tf.check_tensor(terms, ["a"], data, 1e-9)
    assert verdict.status == "unparsable" and "too much computation" in verdict.message


@pytest.mark.parametrize("typed", ["x ** 101", "x ** -101", "2 ** 10 ** 10", "x ** (x * 1e6)", "s ** (1/0.001)"])
def test_exponents_are_bounded(typed):
    verdict = tf.check_tensor(typed, NAMES, samples(lambda x, z, y, v, s: x), 0)
    assert verdict.status == "unparsable" and "exponents above 100" in verdict.message


def test_evaluate_api_and_error_classes():
    result = tf.evaluate("a @ b.T", {"a": [[1.0, 2.0]], "b": [[3.0, 4.0]]})
    assert result.tolist() == [[11.0]]
    with pytest.raises(tf.ShapeMismatch):
        tf.evaluate("a @ b", {"a": [[1.0, 2.0]], "b": [[3.0, 4.0]]})
    with pytest.raises(Unparsable):  # one family the callers can catch
        tf.evaluate("c", {"a": 1.0})
    assert issubclass(tf.ShapeMismatch, Unparsable)


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        "samples",
        [{"value": 1}],
        [{"inputs": {"x": 1}}],
        [{"inputs": {"x": [[1, 2], [3]]}, "value": 1}],  # ragged
        [{"inputs": {"x": "abc"}, "value": 1}],
        [{"inputs": {"x": {"a": 1}}, "value": 1}],
        [{"inputs": {"x": float("nan")}, "value": 1}],
        [{"inputs": {"x": 1}, "value": float("inf")}],
        [{"inputs": {"x": []}, "value": 1}],
        [{"inputs": {"x": 1}, "value": [[[[[[[[[1]]]]]]]]]}],  # 9 axes
        [{"inputs": {"x": 1}, "value": 1}] * (tf.MAX_SAMPLES + 1),
        [{"inputs": {}, "value": 1}],  # lacks the card's variable
        [{"inputs": {"x": [0.0] * 600_000}, "value": 1}] * 2,  # too many numbers together
        [17],
    ],
)
def test_malformed_cached_samples_blame_the_card_not_the_learner(bad):
    verdict = tf.check_tensor("x", ["x"], bad, 0)
    assert verdict.status == "unparsable"
    assert verdict.message.startswith("this card cannot grade formulas yet") and "quizzer verify" in verdict.message


def test_hint_lists_the_cards_variables_and_shapes_only():
    hint = tf.variables_hint(["delta2", "h1", "lam"], {"delta2": (3, 5), "lam": ()})
    assert "delta2 (3×5)" in hint and "h1" in hint and "lam (scalar)" in hint
    for answer in ["delta2 @ h1.T", "h1.T", "2*lam", "delta2 @ h1", "sum(delta2, axis=1)"]:
        assert answer not in hint


TOKENS = st.sampled_from(
    ["x", "z", "y", "v", "s", "q", "1", "0", "-1", "2.5", "1e308", "(", ")", ",", "@", ".T", "+", "-", "*", "/", "**",
     ">", "==", "sum(", "mean(", "exp(", "log(", "sqrt(", "where(", "outer(", "maximum(", "transpose(", "relu(",
     "sigmoid(", "axis=", "keepdims=True", ".sum(", ".t()", "np.", "[", "]", "__", ".", "lambda", ":", " "]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(TOKENS, max_size=30).map("".join))
def test_fuzz_token_soup_never_escapes(typed):
    verdict = tf.check_tensor(typed, NAMES, SOUP_SAMPLES, 1e-6)
    assert verdict.status in ("correct", "incorrect", "unparsable")
    assert "\n" not in verdict.message


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_fuzz_arbitrary_text_never_escapes(typed):
    verdict = tf.check_tensor(typed, NAMES, SOUP_SAMPLES, 1e-6)
    assert verdict.status in ("correct", "incorrect", "unparsable")


SOUP_SAMPLES = samples(lambda x, z, y, v, s: x, count=1)


def test_grading_a_formula_never_imports_torch():
    probe = (
        "import sys; from quizzer.core.tensor_formula import check_tensor; "
        "check_tensor('a @ b.T', ['a', 'b'], [{'inputs': {'a': [[1, 2]], 'b': [[3, 4]]}, 'value': [[11]]}], 0); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("sum(x, axis=99)", "axis 99 is out of range for a 2-d tensor"),
        ("x.sum(-3)", "axis -3 is out of range for a 2-d tensor"),
        ("mean(x, axis=(1, 1))", "axis 1 is listed twice"),
        ("transpose(x, (0, 2))", "axis 2 is out of range for a 2-d tensor"),
        ("transpose(x, (1,))", "axes (1,) are not a reordering of the 2 axes"),
        ("outer(x, z).t()", None),  # 2-d: fine, a wrong answer
        ("sum(x, axis=0, keepdim=True, dims=1)", "not dims="),
        ("sum(x, 0, 1)", "takes a tensor and an axis"),
        ("sigmoid(x, z)", "sigmoid takes 1 argument, not 2"),
    ],
)
def test_an_invalid_call_is_unparsable_not_a_wrong_answer(typed, said):
    """`sum(X, axis=99)` was graded "incorrect": the learner wrote a call that cannot run, not a wrong formula."""
    verdict = tf.check_tensor(typed, NAMES, samples(lambda x, z, y, v, s: x), 0)
    if said is None:
        assert verdict.status == "incorrect", verdict
    else:
        assert verdict.status == "unparsable" and said in verdict.message, verdict


def test_a_three_axis_t_is_invalid():
    data = [{"inputs": {"a": np.ones((2, 3, 4)).tolist()}, "value": np.ones((4, 3, 2)).tolist()}]
    verdict = tf.check_tensor("a.t()", ["a"], data, 0)
    assert verdict.status == "unparsable" and "3-d" in verdict.message, verdict


@pytest.mark.parametrize("typed", ["xᵀ", "x⊤", "(x @ y)ᵀ @ x", "transpose(x)ᵀ"])
def test_a_superscript_t_is_a_transpose(typed):
    """`W1ᵀ` (copied from the card's own rendering) read as the unknown name 'W1T'."""
    truths = {"xᵀ": lambda x, z, y, v, s: x.T, "x⊤": lambda x, z, y, v, s: x.T}
    truths["(x @ y)ᵀ @ x"] = lambda x, z, y, v, s: (x @ y).T @ x
    truths["transpose(x)ᵀ"] = lambda x, z, y, v, s: x
    assert tf.check_tensor(typed, NAMES, samples(truths[typed]), 1e-9).status == "correct"
    assert tf.check_tensor("W1ᵀ @ d", ["W1", "d"], [], 0).message != "unknown name 'W1T'"


@pytest.mark.parametrize("typed", ["1if 2", "9nan", "0x"])
def test_a_formula_python_warns_about_is_refused_without_a_warning(typed):
    """`1if 2` made Python print '<unknown>:1: SyntaxWarning: invalid decimal literal' in the middle of a
    `review --plain` sitting; it is a refusal like any formula that does not read, with or without -W error."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(tf.FormulaError, match="not a formula"):
            tf.parse_formula(typed, NAMES)
    assert [w for w in caught if issubclass(w.category, SyntaxWarning)] == []
