"""Answer checkers: turn typed input into a verdict, one function per answer kind.

Pure: no I/O, no clock, no randomness that is not passed in. The same functions judge a
learner's typed answer and a verifier's computed value, so both are held to one standard.

Typed input is hostile, and a check runs on the UI thread, so every check is bounded by
construction, before anything is computed: the input's length (`MAX_INPUT_CHARS`), a number's
exponent and digits (`MAX_EXPONENT`, `MAX_DIGITS`), a formula's nesting and size
(`MAX_FORMULA_DEPTH`, `MAX_FORMULA_NODES`). Formulas are read by a small tokenizer and an `ast`
whitelist, never handed to `eval`, and evaluated in floats (each operation O(1), overflow is an
error, not a million-digit integer) at a fixed number of sample points. Anything past a bound is
refused as unparsable with a message saying what is too large.
"""

from __future__ import annotations

import ast
import functools
import keyword
import math
import random
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, NamedTuple

Status = Literal["correct", "incorrect", "unparsable", "self-graded"]

MAX_INPUT_CHARS = 1000  # a typed answer or a deck's formula; far beyond any real answer
MAX_DIGITS = 100  # significant digits of one number
MAX_EXPONENT = 400  # |decimal exponent| of one number (floats end near 1e308 anyway)
MAX_FORMULA_DEPTH = 100  # nesting of a formula's operations and parentheses
MAX_FORMULA_NODES = 200  # numbers, names and operations in one formula
MAX_SHAPE_DIMS = 32
MAX_SAMPLES = 1000  # measurements a verifier may return for an expression card
SAMPLE_POINTS = 24


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


class TooLarge(Unparsable):
    """Input past one of the size bounds: refused before it is computed."""


def shorten(text: str, limit: int = 80) -> str:
    """Echo of hostile input, bounded: what a verdict shows of what was typed."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quoted(text: str, limit: int = 80) -> str:
    """Hostile input quoted in a message, bounded after quoting: `repr` writes an unprintable character
    as up to 10 (`\\U0010ffff`), so shortening before it let 80 such characters fill an 800-character message."""
    return shorten(repr(text.strip()), limit)


def _bounded(text: str) -> str:
    if len(text) > MAX_INPUT_CHARS:
        raise TooLarge(f"input too large: {len(text)} characters (at most {MAX_INPUT_CHARS})")
    return text.strip()


def _unparsable(error: Unparsable, typed: str) -> Verdict:
    return Verdict("unparsable", shorten(typed), str(error))


_ASSIGNMENT = re.compile(r"\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)")


def _right_hand_side(text: str, variables: Sequence[str] = ()) -> str:
    """`q = 0.28` → `0.28`: people write the quantity asked for; a formula's own variable is refused."""
    match = _ASSIGNMENT.match(text)
    if not match:
        return text
    if match["name"] in variables:
        raise Unparsable(f"{match['name']} = … names a variable of the formula: type only the right-hand side")
    return text[match.end() :]


# ---------------------------------------------------------------- numbers

_NUMBER = re.compile(r"[+-]?(?P<mantissa>\d+(\.\d*)?|\.\d+)([eE](?P<exponent>[+-]?\d+))?")


def _decimal(match: re.Match[str]) -> Fraction:
    """One decimal literal (a `_NUMBER` match), exactly, after its digits and exponent were bounded."""
    digits = re.sub("^0+", "", match["mantissa"].replace(".", ""))
    if len(digits) > MAX_DIGITS:
        raise TooLarge(f"number too large: {len(digits)} digits (at most {MAX_DIGITS})")
    exponent = match["exponent"] or "0"
    if abs(int(exponent)) > MAX_EXPONENT:  # a 1000-digit exponent is still a cheap int()
        raise TooLarge(f"number too large: exponent {shorten(exponent, 12)} (at most ±{MAX_EXPONENT})")
    return Fraction(match.group())


def _to_float(value: Fraction, shown: str) -> float:
    try:
        return float(value)
    except OverflowError:
        raise TooLarge(f"number too large: {shorten(shown, 40)} (at most about 1.8e308)") from None


def parse_number(text: str) -> float:
    """`42`, `4.2e1`, `3/4`, `75%`, `1_000`, `-3.5` → float."""
    s = _bounded(text).replace("_", "").replace(" ", "")
    if not s:
        raise Unparsable("empty answer")
    percent = s.endswith("%")
    if percent:
        s = s[:-1]
    if "/" in s:
        numerator_match, denominator_match = (_NUMBER.fullmatch(part) for part in s.split("/", 1))
        if not (numerator_match and denominator_match):
            raise Unparsable(f"not a number or fraction: {quoted(text)}")
        numerator, denominator = _decimal(numerator_match), _decimal(denominator_match)
        if denominator == 0:
            raise Unparsable("division by zero")
        value = _to_float(numerator / denominator, s)
    elif match := _NUMBER.fullmatch(s):
        value = _to_float(_decimal(match), s)
    else:
        raise Unparsable(
            f"not a number: {quoted(text)} (write it as a decimal, a fraction a/b, a percentage or in e-notation)"
        )
    return value / 100 if percent else value


def format_number(value: float) -> str:
    """Integers as integers (112), everything else to 6 significant digits (0.28, 1e+20, nan)."""
    if math.isfinite(value) and float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def numbers_match(expected: float, actual: float, tolerance: float) -> bool:
    # A hair of relative slack so that 0.1 + 0.2 style float noise never fails a zero tolerance.
    return abs(actual - expected) <= tolerance + 1e-9 * max(1.0, abs(expected))


def _unit_word(unit: str) -> str:
    """The unit as a learner types it: `pixels` of "pixels (112×112)"."""
    return unit.strip().split("(")[0].strip()


def _unit_forms(unit: str) -> tuple[str, ...]:
    """How a card's unit may be typed after the number: whole, its first word, that word singular."""
    word = _unit_word(unit).lower()
    return tuple(form for form in (unit.strip().lower(), word, word.removesuffix("s")) if form)


_NUMBER_THEN_WORD = re.compile(rf"(?P<number>{_NUMBER.pattern}%?)\s*(?P<word>(?![eE][+-]?\d)[^\W\d_].*)")


def parse_quantity(text: str, unit: str) -> float:
    """A number as people type it for a card: `112`, `112 pixels` (the card's unit), `q = 0.28`."""
    s = _right_hand_side(_bounded(text)).strip()
    number = next((s[: len(s) - len(f)] for f in _unit_forms(unit) if s.lower().endswith(f) and len(s) > len(f)), s)
    try:
        return parse_number(number)
    except TooLarge:
        raise
    except Unparsable:
        typed_unit = _NUMBER_THEN_WORD.fullmatch(s)
        if typed_unit:
            word = shorten(typed_unit["word"], 30)
            wanted = f"a number, or a number and {_unit_word(unit)}" if _unit_word(unit) else "a plain number"
            raise Unparsable(f"{word!r} is not this answer's unit: type {wanted}") from None
        raise


def check_numeric(expected: float, tolerance: float, typed: str, unit: str = "") -> Verdict:
    try:
        value = parse_quantity(typed, unit)
    except Unparsable as e:
        return _unparsable(e, typed)
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
    s = _bounded(text).rstrip(".!").lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise Unparsable(f"not true/false: {quoted(text)} (try true, false, t, f, yes, no)")


def check_boolean(expected: bool, typed: str) -> Verdict:
    try:
        value = parse_boolean(typed)
    except Unparsable as e:
        return _unparsable(e, typed)
    return judge_boolean(expected, value)


def judge_boolean(expected: bool, value: bool) -> Verdict:
    shown = "true" if value else "false"
    if value == expected:
        return Verdict("correct", shown)
    return Verdict("incorrect", shown, f"expected {'true' if expected else 'false'}")


# ---------------------------------------------------------------- choices


def parse_choice(options: Sequence[str], text: str) -> str:
    """Case-insensitive; an exact option, its 1-based number, or a unique prefix."""
    s = _bounded(text).lower()
    if not s:
        raise Unparsable("empty answer")
    for option in options:
        if option.lower() == s:
            return option
    if s.isdecimal() and 1 <= int(s) <= len(options):
        return options[int(s) - 1]
    matches = [o for o in options if o.lower().startswith(s)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise Unparsable(f"{quoted(text)} is ambiguous: " + shorten(", ".join(matches), 200))
    raise Unparsable(f"{quoted(text)} is not an option: " + shorten(", ".join(options), 200))


def check_choice(options: Sequence[str], expected: str, typed: str) -> Verdict:
    try:
        value = parse_choice(options, typed)
    except Unparsable as e:
        return _unparsable(e, typed)
    return judge_choice(expected, value)


def judge_choice(expected: str, value: str) -> Verdict:
    if value == expected:  # both are options, and options differ even ignoring case
        return Verdict("correct", value)
    return Verdict("incorrect", value, f"expected {expected}")


# ---------------------------------------------------------------- shapes


def parse_shape(text: str) -> tuple[int, ...]:
    """`(5, 6, 7)`, `[5,6,7]`, `5 6 7`, `5x6x7`, `torch.Size([5, 6, 7])` → (5, 6, 7)."""
    s = _bounded(text)
    if not s:
        raise Unparsable("empty answer")
    if s.startswith("torch.Size"):
        inner = s[len("torch.Size") :].strip()
        if not (inner.startswith("(") and inner.endswith(")")):
            raise Unparsable(f"not a shape: {quoted(s)}")
        s = inner[1:-1].strip()
        if not s:
            return ()  # torch.Size()
    bracketed = s[:1] in ("(", "[") and s[-1:] in (")", "]")
    if bracketed:
        s = s[1:-1]
    parts = [p for p in re.split(r"[\s,x×]+", s.strip()) if p]
    if bracketed and not s.strip():
        return ()  # a scalar's shape: (), [] or torch.Size([])
    if not parts or not all(p.isdecimal() for p in parts):
        raise Unparsable(f"not a shape: {quoted(text)} (write whole numbers in parentheses, or torch.Size([...]))")
    if len(parts) > MAX_SHAPE_DIMS:
        raise TooLarge(f"shape too large: {len(parts)} dimensions (at most {MAX_SHAPE_DIMS})")
    if any(len(p.lstrip("0")) > 18 for p in parts):
        raise TooLarge("shape too large: a dimension has more than 18 digits")
    return tuple(int(p) for p in parts)


def format_shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def check_shape(expected: Sequence[int], typed: str) -> Verdict:
    try:
        value = parse_shape(typed)
    except Unparsable as e:
        return _unparsable(e, typed)
    return judge_shape(expected, value)


def judge_shape(expected: Sequence[int], value: Sequence[int]) -> Verdict:
    if tuple(value) == tuple(expected):
        return Verdict("correct", format_shape(value))
    return Verdict("incorrect", format_shape(value), f"expected {format_shape(expected)}")


# ---------------------------------------------------------------- expressions


def _power(base: float, exponent: float) -> float:
    return math.pow(base, exponent)  # floats: O(1), OverflowError instead of a huge integer


FUNCTIONS: dict[str, Callable[..., float]] = {
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
CONSTANTS = {"pi": math.pi, "e": math.e}
_BINARY: dict[type, Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: _power,
}
_UNARY: dict[type, Callable[[float], float]] = {ast.USub: lambda a: -a, ast.UAdd: lambda a: a}
_SYMBOLS = {"^": "**", "·": "*", "×": "*", "⋅": "*", "−": "-"}
_TOKEN = re.compile(
    r"\s+|(?P<number>(\d[\d_]*(\.[\d_]*)?|\.\d[\d_]*)([eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[-+*/(),^·×⋅−])"
)

Evaluator = Callable[[Mapping[str, float]], float]


@dataclass(frozen=True)
class Formula:
    """A parsed, whitelisted, size-bounded arithmetic expression in named variables."""

    source: str
    evaluate: Evaluator

    def __call__(self, env: Mapping[str, float]) -> float:
        return self.evaluate(env)


class _Token(NamedTuple):
    kind: Literal["number", "name", "op"]
    text: str  # normalised: `^` is `**`, `×` is `*`
    typed: str  # as the learner wrote it, for messages


def _tokens(text: str, variables: Sequence[str]) -> list[_Token]:
    """Split a formula, bounding its numbers and nesting and naming what is wrong with it."""
    known = {v for v in variables if not keyword.iskeyword(v)} | set(CONSTANTS) | set(FUNCTIONS)
    tokens: list[_Token] = []
    depth = 0
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise Unparsable(f"unexpected {text[position]!r} at position {position + 1} in a formula")
        position = match.end()
        token = match.group()
        if match["number"]:
            _decimal(_NUMBER.fullmatch(token.replace("_", "")))  # type: ignore[arg-type]  # bounds digits, exponent
        elif match["name"] and token not in known:
            raise Unparsable(_unknown_name(token, variables))
        elif token == "(":
            depth += 1
            if depth > MAX_FORMULA_DEPTH:
                raise TooLarge(f"formula too large: more than {MAX_FORMULA_DEPTH} nested parentheses")
        elif token == ")":
            depth -= 1
            if depth < 0:
                raise Unparsable(f"a ')' at position {position} closes nothing")
        if match.lastgroup:  # not whitespace
            tokens.append(_Token(match.lastgroup, _SYMBOLS.get(token, token), token))  # type: ignore[arg-type]
    if depth:
        raise Unparsable(f"{depth} unclosed '(' in the formula")
    return tokens


def _unknown_name(name: str, variables: Sequence[str]) -> str:
    """Names a run of known names typed together (`xp`) as the product it may mean, without guessing it."""
    splits: dict[int, list[str]] = {0: []}  # a position in `name` → the known names that lead there
    for start in range(len(name)):
        for known in (*(v for v in variables if not keyword.iskeyword(v)), *CONSTANTS):
            if start in splits and name.startswith(known, start):
                splits.setdefault(start + len(known), [*splits[start], known])
    variables_are = "the formula's variables are " + ", ".join(variables)
    if len(name) in splits:
        return f"unknown name {name!r}; for a product write {'*'.join(splits[len(name)])} ({variables_are})"
    return f"unknown name {name!r}; {variables_are}"


_AMBIGUOUS_EXAMPLES = {"/": "1/(2*p) or (1/2)*p", "**": "2^(3*p) or (2^3)*p"}


def _with_products(tokens: list[_Token]) -> list[str]:
    """Insert the `*` a learner leaves out (`(1-p1)(1-p2)`, `p1 p2`, `2p`), never splitting a name.

    A function name must be followed by its parentheses. What stays ambiguous is refused: two
    numbers in a row (`2 3`), and an implied product right after `/` or `^` (`1/2p`).
    """
    out: list[str] = []
    opened: list[int] = []  # for each open parenthesis: the index where its operand starts
    start = 0  # the index where the operand ending at the previous token starts
    for index, token in enumerate(tokens):
        is_function = token.text in FUNCTIONS
        is_value = token.kind != "op" and not is_function
        if is_function and tokens[index + 1 : index + 2] != [_Token("op", "(", "(")]:
            raise Unparsable(f"{token.typed} needs its argument in parentheses: {token.typed}(...)")
        previous = tokens[index - 1] if index else _Token("op", "", "")
        ends_operand = previous.kind != "op" and previous.text not in FUNCTIONS or previous.text == ")"
        if ends_operand and (is_value or is_function or token.text == "("):
            if previous.kind == token.kind == "number":
                a, b = previous.typed, token.typed
                raise Unparsable(f"two numbers in a row: {a} {b} (write {a}*{b}, or {a}{b})")
            _refuse_product_after_division_or_power(tokens[:start])
            out.append("*")
        if is_value or is_function:
            start = index
        elif token.text == "(":
            opened.append(index - 1 if previous.text in FUNCTIONS else index)
        elif token.text == ")":
            start = opened.pop()
        out.append(token.text)
    return out


def _refuse_product_after_division_or_power(before: list[_Token]) -> None:
    """`1/2p`, `1/-2p` and `2^3p`: which operand does the implied product belong to? Ask, never guess."""
    operators = [t.text for t in before]
    while operators and operators[-1] in ("+", "-"):  # signs: 1/-2p (after an operand, a sign is binary)
        operators.pop()
    if operators and operators[-1] in _AMBIGUOUS_EXAMPLES:
        typed = before[len(operators) - 1].typed
        raise Unparsable(
            f"'{typed}' before an implied product is ambiguous; write it out, e.g. {_AMBIGUOUS_EXAMPLES[operators[-1]]}"
        )


def parse_expression(text: str, variables: Sequence[str]) -> Formula:
    """Parse a typed or a deck's formula; bounded, so also the loader's parse for deck formulas."""
    return _parse_expression(_bounded(text), tuple(variables))


@functools.lru_cache(maxsize=256)  # a card's own formula is parsed once, not at every check
def _parse_expression(source: str, variables: tuple[str, ...]) -> Formula:
    if not source:
        raise Unparsable("empty answer")
    tokens = _with_products(_tokens(source, variables))
    try:
        tree = ast.parse(" ".join(tokens), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise Unparsable(f"not a formula: {quoted(source)}") from None
    _check_size(tree)
    evaluate, _ = _compile(tree, set(variables))
    return Formula(_shown(tree), evaluate)


def walk_with_depth(tree: ast.AST, left_out: tuple[type, ...] = ()) -> Iterator[tuple[ast.AST, int]]:
    """Every node of `tree` with its depth (`tree` itself is 1), without recursion (the tree may be deep: `-----x`).

    Nodes of the `left_out` types are passed over with what is below them. A node's children are
    looked up only when the walk goes on past it, so a bound check that raises on a node ends the
    walk there.
    """
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, left_out):
            continue
        yield node, depth
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _check_size(tree: ast.expr) -> None:
    """Nodes and depth, counted without recursion; contexts and operators are not counted."""
    for nodes, (_, depth) in enumerate(walk_with_depth(tree, left_out=(ast.Load, *_BINARY, *_UNARY)), start=1):
        if nodes > MAX_FORMULA_NODES:
            raise TooLarge(f"formula too large: more than {MAX_FORMULA_NODES} numbers, names and operations")
        if depth > MAX_FORMULA_DEPTH:
            raise TooLarge(f"formula too large: nested more than {MAX_FORMULA_DEPTH} operations deep")


def _compile(node: ast.expr, variables: set[str]) -> tuple[Evaluator, bool]:
    """The whitelist: each allowed node becomes a closure (and whether it reads a variable).

    A variable-free part is computed once, here, so a constant that is too large or undefined
    (`10**999`, `log(0)`) is refused at parse time instead of making every sample point undefined.
    """
    match node:
        case ast.Constant(value=value):  # the tokenizer lets only numbers through (no keywords, no strings)
            return _constant(lambda: float(value), node), False
        case ast.Name(id=name) if name in variables:
            return (lambda env: env[name]), True
        case ast.Name(id=name) if name in CONSTANTS:
            constant = CONSTANTS[name]
            return (lambda env: constant), False
        case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINARY:
            function = _BINARY[type(op)]
            (a, a_varies), (b, b_varies) = _compile(left, variables), _compile(right, variables)
            evaluate: Evaluator = lambda env: function(a(env), b(env))  # noqa: E731
            varies = a_varies or b_varies
        case ast.UnaryOp(op=op, operand=operand) if type(op) in _UNARY:
            function, (a, varies) = _UNARY[type(op)], _compile(operand, variables)
            evaluate = lambda env: function(a(env))  # noqa: E731
        case ast.Call(func=ast.Name(id=name), args=args, keywords=[]) if name in FUNCTIONS:
            _check_arity(name, args)
            function, compiled = FUNCTIONS[name], [_compile(a, variables) for a in args]
            evaluators = [a for a, _ in compiled]
            if len(evaluators) == 1:  # the common case, without building an argument list
                [a] = evaluators
                evaluate = lambda env: function(a(env))  # noqa: E731
            else:
                evaluate = lambda env: function(*[a(env) for a in evaluators])  # noqa: E731
            varies = any(v for _, v in compiled)
        case ast.Tuple():
            raise Unparsable("a formula is one expression: ',' only separates the arguments of min and max")
        case _:  # the tokenizer lets through numbers, names, operators, calls of FUNCTIONS and commas
            raise Unparsable(f"{type(node).__name__} is not allowed in a formula")
    return (evaluate, True) if varies else (_constant(lambda: evaluate({}), node), False)


def _constant(compute: Callable[[], float], node: ast.expr) -> Evaluator:
    """A constant part of a formula, computed at parse time: too large or undefined is refused there."""
    try:
        value = compute()
    except OverflowError:
        value = math.inf
    except (ArithmeticError, ValueError):
        raise Unparsable(f"{_shown(node, 40)} is undefined") from None
    if not math.isfinite(value):
        raise TooLarge(f"number too large: {_shown(node, 40)} (at most about 1.8e308)")
    return lambda env: value


def _shown(tree: ast.expr, limit: int = MAX_INPUT_CHARS) -> str:
    """A formula as the learner is shown it: canonical spacing and parentheses, `^` for powers."""
    return shorten(ast.unparse(tree).replace(" ** ", "^"), limit)


def _check_arity(name: str, args: list[ast.expr]) -> None:
    if name in ("min", "max") and len(args) < 2:
        raise Unparsable(f"{name} takes two or more arguments")
    if name not in ("min", "max") and len(args) != 1:
        raise Unparsable(f"{name} takes one argument")


def sample_points(
    variables: Sequence[str],
    domain: Mapping[str, tuple[float, float]],
    rng: random.Random,
    count: int = SAMPLE_POINTS,
) -> list[dict[str, float]]:
    return [{v: rng.uniform(*domain.get(v, (0.0, 1.0))) for v in variables} for _ in range(count)]


def value_at(formula: Formula, point: Mapping[str, float]) -> float | None:
    """The formula's value, or None where it is undefined (a domain error, an overflow, not finite)."""
    try:
        value = formula(point)
    except (ArithmeticError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _where(point: Mapping[str, float]) -> str:
    return ", ".join(f"{name}={value:.4g}" for name, value in point.items())


def disagreement(reference: Formula, formula: Formula, points: Sequence[Mapping[str, float]]) -> str | None:
    """Why `formula` is not `reference`, or None when they are equivalent.

    Equivalent: they agree (relative 1e-9) at every sample point where both are defined, are
    undefined at the same points, and at least one point is defined for both.
    """
    compared = False
    for point in points:
        expected, actual = value_at(reference, point), value_at(formula, point)
        if expected is None and actual is None:
            continue
        if actual is None:
            return f"yours is undefined at {_where(point)}"
        if expected is None:
            return f"yours is defined at {_where(point)}, where the answer is not"
        if not math.isclose(expected, actual, abs_tol=1e-12):  # and the default rel_tol, 1e-9
            return f"at {_where(point)} yours is {actual:.4g}, the answer {expected:.4g}"
        compared = True
    return None if compared else "yours is undefined at every sample point"


def check_expression(
    expected: str,
    variables: Sequence[str],
    domain: Mapping[str, tuple[float, float]],
    typed: str,
    seed: int = 0,
) -> Verdict:
    try:
        formula = parse_expression(_right_hand_side(typed, variables), variables)
    except Unparsable as e:
        return _unparsable(e, typed)
    reference = parse_expression(expected, variables)
    reason = disagreement(reference, formula, sample_points(variables, domain, random.Random(seed)))
    if reason is None:
        return Verdict("correct", formula.source)
    return Verdict("incorrect", formula.source, f"expected {expected}; {reason}")


def finite_real(value: object) -> float | None:
    """A verifier's number as a float, or None when it is not a finite real (bools are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _measurement(sample: object, variables: Sequence[str]) -> tuple[dict[str, float], float]:
    """One `{"at": {...}, "value": v}` from a verifier, checked: it is hostile input too."""
    if not isinstance(sample, Mapping) or not isinstance(sample.get("at"), Mapping) or "value" not in sample:
        raise Unparsable(f'a measurement must be {{"at": {{...}}, "value": number}}, not {shorten(repr(sample), 60)}')
    at = sample["at"]
    missing = [v for v in variables if v not in at]
    if missing:
        raise Unparsable("a measurement lacks the variable(s) " + ", ".join(missing))
    point = {v: finite_real(at[v]) for v in variables}
    bad = [v for v, x in point.items() if x is None]
    if bad:
        raise Unparsable(f"a measurement's {bad[0]} is not a finite number: {shorten(repr(at[bad[0]]), 40)}")
    measured = finite_real(sample["value"])
    if measured is None:
        raise Unparsable(f"a measured value is not a finite number: {shorten(repr(sample['value']), 40)}")
    return point, measured  # type: ignore[return-value]


def judge_expression_samples(
    expected: str, variables: Sequence[str], samples: Sequence[object], tolerance: object
) -> Verdict:
    """Compare a formula with values measured at given points (what a simulating verifier returns)."""
    allowed = finite_real(tolerance)
    if allowed is None or allowed < 0:
        return Verdict("unparsable", shorten(repr(tolerance)), "the tolerance must be a finite number ≥ 0")
    if not samples:
        return Verdict("unparsable", "", "no measurements to compare the formula with")
    if len(samples) > MAX_SAMPLES:
        return Verdict("unparsable", "", f"too many measurements: {len(samples)} (at most {MAX_SAMPLES})")
    formula = parse_expression(expected, variables)
    worst = 0.0
    for sample in samples:
        try:
            point, measured = _measurement(sample, variables)
        except Unparsable as e:
            return Verdict("unparsable", shorten(repr(sample)), str(e))
        predicted = value_at(formula, point)
        if predicted is None:
            return Verdict("incorrect", expected, f"the formula is undefined at {_where(point)}")
        error = abs(predicted - measured)
        worst = max(worst, error)
        if error > allowed:
            return Verdict(
                "incorrect",
                expected,
                f"at {_where(point)} the formula gives {predicted:.6g} but {measured:.6g} was measured",
            )
    return Verdict("correct", expected, f"agrees with {len(samples)} measurements (worst error {worst:.2g})")
