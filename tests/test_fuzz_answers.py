"""Hostile typed answers, per answer kind: every one gets a valid Verdict, no exception escapes.

The answer models are called directly (not through `session.check_answer`, whose catch-all would
hide a crash). Each generated answer is given to every kind (1,200 per kind): random text, formula-like text, and
the shapes that used to freeze or crash the review (huge exponents and digit counts, deep
nesting, long inputs). Every check is bounded by construction (see `quizzer.core.checking`), so the
examples are cheap; no wall-clock threshold is asserted.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from quizzer.cards.deck import (
    BooleanAnswer,
    ChoiceAnswer,
    CodeAnswer,
    ExpressionAnswer,
    NumericAnswer,
    ShapeAnswer,
    TensorAnswer,
    TextAnswer,
)
from quizzer.cli import main
from quizzer.core import checking
from quizzer.core.checking import Verdict

ANSWERS = {
    "numeric": NumericAnswer(kind="numeric", value=112, tolerance=0.5, unit="pixels (112×112)"),
    "boolean": BooleanAnswer(kind="boolean", value=True),
    "choice": ChoiceAnswer(kind="choice", options=["decrease", "increase", "stay the same"], value="increase"),
    "expression": ExpressionAnswer(
        kind="expression", value="1 - (1-p1)*(1-p2)", variables=["p1", "p2"], domain={"p1": (0, 1)}
    ),
    "shape": ShapeAnswer(kind="shape", value=[2, 3, 4]),
    "text": TextAnswer(kind="text", value="a model answer"),
    "code": CodeAnswer(kind="code", value="print(1)"),
}

SYMBOLS = "0123456789.eE+-*/^()[], %_xp12qsinexplogtorch.Size×·−= \t\n"
edges = [99, 100, 101, 308, 309, 400, 401, 999, 1000, 1001, 4300, 4301, 99999999]
huge = st.one_of(st.sampled_from(edges), st.integers(min_value=0, max_value=10**12))
repeat = st.one_of(st.sampled_from(edges[:-1]), st.integers(min_value=0, max_value=6000))
piece = st.sampled_from(["1", "x", "p1", "p2", "9", "(", ")", "**", "^", "-", "+", "*", "/", "e", "exp(", "2p", " "])
hostile = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=SYMBOLS, max_size=80),
    st.lists(piece, max_size=120).map("".join),
    st.builds(lambda n, sign: f"1e{sign}{n}/1", huge, st.sampled_from(["", "-", "+"])),
    st.builds(lambda n: "9" * n, repeat),
    st.builds(lambda n, core: "(" * n + core + ")" * n, repeat, st.sampled_from(["x", "p1", "10**999", "1"])),
    st.builds(lambda n, op: "p1" + f"{op}p1" * n, repeat, st.sampled_from(["**", "^", "+", "*", "-", "/"])),
    st.builds(lambda n, prefix: prefix * n + "p1", repeat, st.sampled_from(["-", "+", "sqrt(", "exp("])),
    st.builds(lambda n: "((10**999)**999)**" + str(n), huge),
    st.builds(lambda n: "(" + ", ".join(["9" * 30] * (n % 100)) + ")", repeat),
    st.builds(lambda n: "torch.Size([" + "1," * n + "])", repeat),
)


@settings(max_examples=1200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(hostile)
@example("1e99999999/1")  # the two answers that froze the review (issue 11)
@example("((10**999)**999)**99")
@example("\U0010ffff" * 1000)  # unprintable: quoted as \U0010ffff, 80 of them made an 878-character message
def test_hostile_typed_answers_get_a_verdict_from_every_kind(typed):
    """One generated answer is checked by every kind: 1,200 hostile answers per kind in ~1.5 s."""
    for kind, answer in ANSWERS.items():
        verdict = answer.check(typed)
        assert isinstance(verdict, Verdict), kind
        assert verdict.status in ("correct", "incorrect", "unparsable", "self-graded"), kind
        assert isinstance(verdict.normalized, str) and isinstance(verdict.message, str), kind
        if verdict.status == "unparsable":
            assert verdict.message, f"{kind}: an unparsable answer must say why"
        if kind in ("text", "code"):
            assert verdict.status == "self-graded", kind
        else:
            assert verdict.status != "self-graded", kind
            assert len(verdict.normalized) <= checking.MAX_INPUT_CHARS and len(verdict.message) <= 400, kind


def test_the_answers_that_froze_review_plain_get_a_message_and_the_sitting_goes_on(tmp_path):
    """Issue 11: `1e99999999/1` and `((10**999)**999)**99` hung `review --plain` (and the app)."""
    alpha = Path(__file__).parent / "fixtures" / "scheduling-decks" / "alpha.toml"
    typed = ["false", "5", "1e99999999/1", "112", "4", "RMSProp", "4", "(2, 3)", "4"]
    typed += ["((10**999)**999)**99", "1-(1-p1)(1-p2)", "4", "q"]
    db = ["--db", str(tmp_path / "q.db"), "--today", "2024-03-01"]
    result = CliRunner().invoke(main, ["review", "--plain", *db, str(alpha)], input="\n".join(typed) + "\n")
    assert result.exit_code == 0, result.output
    assert "? number too large: exponent 99999999 (at most ±400) — try again" in result.output
    assert "? number too large: 10^999 (at most about 1.8e308) — try again" in result.output
    assert "✓ correct: 112" in result.output and "✓ correct: 1 - (1 - p1) * (1 - p2)" in result.output
    assert "5 answer(s) on 5 card(s)" in result.output


def _tensor_samples() -> dict:
    """Two samples of W (3x4), x (4) and lam, the value W @ x: a tensor card's verified samples."""
    import numpy as np

    rng = np.random.default_rng(3)
    samples = []
    for _ in range(2):
        w, x = rng.normal(size=(3, 4)), rng.normal(size=4)
        samples.append({"inputs": {"W": w.tolist(), "x": x.tolist(), "lam": 0.5}, "value": (w @ x).tolist()})
    return {"samples": samples}


TENSOR = TensorAnswer(kind="tensor", value="W @ x", variables=["W", "x", "lam"])
TENSOR_SAMPLES = _tensor_samples()
tensor_hostile = st.one_of(
    hostile,
    st.lists(
        st.sampled_from(["W", "x", "lam", "@", ".T", "(", ")", "**", "*", "+", "exp(", "outer(", ",", "9"]),
        max_size=120,
    ).map("".join),  # fmt: skip
    st.builds(lambda n: "W" + " @ W.T @ W" * n + " @ x", repeat),
    st.builds(lambda n: "outer(" * n + "x" + ", x)" * n, repeat),
)


@settings(max_examples=1000, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(tensor_hostile)
@example("1if 2")  # Python's SyntaxWarning went to the terminal
@example("outer(outer(outer(x, x), x), x)")
def test_hostile_typed_tensor_formulas_get_a_verdict(typed):
    """The tensor kind on its verified samples: 1,000 hostile formulas, each a bounded verdict, never an exception."""
    verdict = TENSOR.check(typed, TENSOR_SAMPLES)
    assert isinstance(verdict, Verdict) and verdict.status in ("correct", "incorrect", "unparsable")
    assert isinstance(verdict.normalized, str) and len(verdict.message) <= 400
    if verdict.status == "unparsable":
        assert verdict.message
