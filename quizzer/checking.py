"""Answer checkers: turn typed input into a verdict, one function per answer kind.

Pure: no I/O, no clock, no randomness that is not passed in. The same functions judge a
learner's typed answer and a verifier's computed value, so both are held to one standard.
Expressions are parsed with an `ast` whitelist and evaluated by a tiny interpreter: user
input is never handed to `eval`.
"""

from __future__ import annotations

import ast
import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

Status = Literal["correct", "incorrect", "unparsable", "self-graded"]


@dataclass(frozen=True)
class Verdict:
    status: Status
    normalized: str = ""
    message: str = ""

    @property
    def correct(self) -> bool:
        return self.status == "correct"


class Unparsable(ValueError):
    """Input that cannot be read as the expected kind (distinct from a wrong answer)."""


# ---------------------------------------------------------------- numbers

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def parse_number(text: str) -> float:
    """`42`, `4.2e1`, `3/4`, `75%`, `1_000`, `-3.5` → float."""
    s = text.strip().replace("_", "").replace(" ", "")
    if not s:
        raise Unparsable("empty answer")
    percent = s.endswith("%")
    if percent:
        s = s[:-1]
    if "/" in s:
        num, _, den = s.partition("/")
        if not (_NUMBER.fullmatch(num) and _NUMBER.fullmatch(den)):
            raise Unparsable(f"not a number or fraction: {text.strip()!r}")
        if float(den) == 0:
            raise Unparsable("division by zero")
        value = float(Fraction(num) / Fraction(den))
    elif _NUMBER.fullmatch(s):
        value = float(s)
    else:
        raise Unparsable(f"not a number: {text.strip()!r} (try 42, 4.2e1, 3/4 or 75%)")
    return value / 100 if percent else value


def format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def numbers_match(expected: float, actual: float, tolerance: float) -> bool:
    # A hair of relative slack so that 0.1 + 0.2 style float noise never fails a zero tolerance.
    return abs(actual - expected) <= tolerance + 1e-9 * max(1.0, abs(expected))


def check_numeric(expected: float, tolerance: float, typed: str) -> Verdict:
    try:
        value = parse_number(typed)
    except Unparsable as e:
        return Verdict("unparsable", typed.strip(), str(e))
    return judge_number(expected, tolerance, value)


def judge_number(expected: float, tolerance: float, value: float) -> Verdict:
    ok = numbers_match(expected, value, tolerance)
    shown = format_number(value)
    if ok:
        return Verdict("correct", shown)
    return Verdict(
        "incorrect", shown, f"expected {format_number(expected)}" + (f" ± {tolerance:g}" if tolerance else "")
    )


# ---------------------------------------------------------------- booleans

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def parse_boolean(text: str) -> bool:
    s = text.strip().lower().rstrip(".!")
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise Unparsable(f"not true/false: {text.strip()!r} (try true, false, t, f, yes, no)")


def check_boolean(expected: bool, typed: str) -> Verdict:
    try:
        value = parse_boolean(typed)
    except Unparsable as e:
        return Verdict("unparsable", typed.strip(), str(e))
    return judge_boolean(expected, value)


def judge_boolean(expected: bool, value: bool) -> Verdict:
    shown = "true" if value else "false"
    if value == expected:
        return Verdict("correct", shown)
    return Verdict("incorrect", shown, f"expected {'true' if expected else 'false'}")


# ---------------------------------------------------------------- choices


def parse_choice(options: Sequence[str], text: str) -> str:
    """Case-insensitive; an exact option, its 1-based number, or a unique prefix."""
    s = text.strip().lower()
    if not s:
        raise Unparsable("empty answer")
    for option in options:
        if option.lower() == s:
            return option
    if s.isdigit() and 1 <= int(s) <= len(options):
        return options[int(s) - 1]
    matches = [o for o in options if o.lower().startswith(s)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise Unparsable(f"{text.strip()!r} is ambiguous: " + ", ".join(matches))
    raise Unparsable(f"{text.strip()!r} is not an option: " + ", ".join(options))


def check_choice(options: Sequence[str], expected: str, typed: str) -> Verdict:
    try:
        value = parse_choice(options, typed)
    except Unparsable as e:
        return Verdict("unparsable", typed.strip(), str(e))
    return judge_choice(expected, value)


def judge_choice(expected: str, value: str) -> Verdict:
    if value.lower() == expected.lower():
        return Verdict("correct", value)
    return Verdict("incorrect", value, f"expected {expected}")


# ---------------------------------------------------------------- shapes


def parse_shape(text: str) -> tuple[int, ...]:
    """`(5, 6, 7)`, `[5,6,7]`, `5 6 7`, `5x6x7`, `torch.Size([5, 6, 7])` → (5, 6, 7)."""
    s = text.strip()
    if s.startswith("torch.Size"):
        inner = s[len("torch.Size") :].strip()
        if not (inner.startswith("(") and inner.endswith(")")):
            raise Unparsable(f"not a shape: {s!r}")
        s = inner[1:-1].strip()
    if s[:1] in "([" and s[-1:] in ")]":
        s = s[1:-1]
    parts = [p for p in re.split(r"[\s,x×]+", s.strip()) if p]
    if not parts or not all(p.isdigit() for p in parts):
        raise Unparsable(f"not a shape: {text.strip()!r} (try (2, 3, 4) or torch.Size([2, 3, 4]))")
    return tuple(int(p) for p in parts)


def format_shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def check_shape(expected: Sequence[int], typed: str) -> Verdict:
    try:
        value = parse_shape(typed)
    except Unparsable as e:
        return Verdict("unparsable", typed.strip(), str(e))
    return judge_shape(expected, value)


def judge_shape(expected: Sequence[int], value: Sequence[int]) -> Verdict:
    if tuple(value) == tuple(expected):
        return Verdict("correct", format_shape(value))
    return Verdict("incorrect", format_shape(value), f"expected {format_shape(expected)}")


# ---------------------------------------------------------------- expressions

_FUNCTIONS = {
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
    "ln": math.log,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "tanh": math.tanh,
    "abs": abs,
    "min": min,
    "max": max,
}
_CONSTANTS = {"pi": math.pi, "e": math.e}
_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: _power(a, b),
}


def _power(base: float, exponent: float) -> float:
    if abs(exponent) > 1000:  # typed input must not be able to stall the checker (2**10**10)
        raise OverflowError("exponent too large")
    return base**exponent


_UNARY = {ast.USub: lambda a: -a, ast.UAdd: lambda a: a}


@dataclass(frozen=True)
class Formula:
    """A parsed, whitelisted arithmetic expression in named variables."""

    source: str
    tree: ast.expr

    def __call__(self, env: Mapping[str, float]) -> float:
        return _evaluate(self.tree, env)


def parse_expression(text: str, variables: Sequence[str]) -> Formula:
    source = text.strip().replace("^", "**").replace("·", "*").replace("×", "*")
    if not source:
        raise Unparsable("empty answer")
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError:
        raise Unparsable(f"not a formula: {text.strip()!r}") from None
    allowed = set(variables)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id not in allowed and node.id not in _CONSTANTS and node.id not in _FUNCTIONS:
                raise Unparsable(f"unknown name {node.id!r}; use " + ", ".join(variables))
        elif isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS) or node.keywords:
                raise Unparsable("only " + ", ".join(sorted(_FUNCTIONS)) + " may be called")
            name, count = node.func.id, len(node.args)
            if name in ("min", "max") and count < 2:
                raise Unparsable(f"{name} takes two or more arguments")
            if name not in ("min", "max") and count != 1:
                raise Unparsable(f"{name} takes one argument")
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise Unparsable(f"unexpected literal {node.value!r}")
        elif not isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Load, *_BINARY, *_UNARY)):
            raise Unparsable(f"{type(node).__name__} is not allowed in a formula")
    return Formula(source, tree)


def _evaluate(node: ast.expr, env: Mapping[str, float]) -> float:
    match node:
        case ast.Constant(value=value):
            return value
        case ast.Name(id=name):
            return env[name] if name in env else _CONSTANTS[name]
        case ast.BinOp(left=left, op=op, right=right):
            return _BINARY[type(op)](_evaluate(left, env), _evaluate(right, env))
        case ast.UnaryOp(op=op, operand=operand):
            return _UNARY[type(op)](_evaluate(operand, env))
        case ast.Call(func=ast.Name(id=name), args=args):
            return _FUNCTIONS[name](*(_evaluate(a, env) for a in args))
    raise Unparsable(f"cannot evaluate {ast.dump(node)}")  # unreachable after parse_expression


def sample_points(
    variables: Sequence[str], domain: Mapping[str, tuple[float, float]], rng: random.Random, count: int = 24
) -> list[dict[str, float]]:
    return [{v: rng.uniform(*domain.get(v, (0.0, 1.0))) for v in variables} for _ in range(count)]


def _value_at(formula: Formula, point: Mapping[str, float]) -> float | None:
    try:
        value = formula(point)
    except (ArithmeticError, ValueError):
        return None
    return None if isinstance(value, complex) else float(value)


def formulas_agree(a: Formula, b: Formula, points: Sequence[Mapping[str, float]]) -> bool:
    """Equivalent when they agree (relative 1e-9) at every sample point where both are defined."""
    compared = 0
    for point in points:
        va, vb = _value_at(a, point), _value_at(b, point)
        if va is None and vb is None:
            continue
        if va is None or vb is None or not math.isclose(va, vb, rel_tol=1e-9, abs_tol=1e-12):
            return False
        compared += 1
    return compared > 0


def check_expression(
    expected: str,
    variables: Sequence[str],
    domain: Mapping[str, tuple[float, float]],
    typed: str,
    seed: int = 0,
) -> Verdict:
    try:
        formula = parse_expression(typed, variables)
    except Unparsable as e:
        return Verdict("unparsable", typed.strip(), str(e))
    reference = parse_expression(expected, variables)
    points = sample_points(variables, domain, random.Random(seed))
    if formulas_agree(reference, formula, points):
        return Verdict("correct", formula.source)
    return Verdict("incorrect", formula.source, f"expected {expected}")


def judge_expression_samples(
    expected: str, variables: Sequence[str], samples: Sequence[Mapping], tolerance: float
) -> Verdict:
    """Compare a formula with values measured at given points (what a simulating verifier returns)."""
    formula = parse_expression(expected, variables)
    worst = 0.0
    for sample in samples:
        at = sample["at"]
        missing = [v for v in variables if v not in at]
        if missing:
            return Verdict("unparsable", str(dict(at)), "a measurement lacks the variable(s) " + ", ".join(missing))
        predicted = _value_at(formula, at)
        if predicted is None:
            return Verdict("incorrect", expected, f"formula undefined at {dict(at)}")
        error = abs(predicted - sample["value"])
        worst = max(worst, error)
        if error > tolerance:
            where = ", ".join(f"{k}={v:g}" for k, v in at.items())
            return Verdict(
                "incorrect",
                expected,
                f"at {where} the formula gives {predicted:.6g} but {sample['value']:.6g} was measured",
            )
    return Verdict("correct", expected, f"agrees with {len(samples)} measurements (worst error {worst:.2g})")
