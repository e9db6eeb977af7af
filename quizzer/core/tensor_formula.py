"""Tensor-formula answers: a whitelisted interpreter over numpy, so a typed gradient can be graded.

A learner types `delta2 @ h1.T + 2*lam*W2`; the verifier cached sample tensors and their autograd
truth at verify time; this module evaluates the typed formula on those samples and compares. Pure
and torch-free: no I/O, no randomness, and typed text is never handed to `eval`. The text is parsed
with `ast`, every node is checked against a whitelist, and every operation's result shape and cost
is computed *before* numpy runs it, so a hostile formula can neither freeze the app nor exhaust its
memory: every failure is one learner-facing sentence.
"""

from __future__ import annotations

import ast
import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from quizzer.core.checking import Unparsable, Verdict, format_shape, walk_with_depth

MAX_FORMULA_CHARS = 500
MAX_NODES = 200
MAX_DEPTH = 64
MAX_ELEMENTS = 1_000_000  # of any input or intermediate tensor
MAX_WORK = 5_000_000  # elements produced (matmul: multiply-adds) by one check, all steps and samples together
MAX_EXPONENT = 100
MAX_NDIM = 8
MAX_SAMPLES = 64
RELATIVE_SLACK = 1e-5  # float32 autograd truth compared with a float64 evaluation


class FormulaError(Unparsable):
    """A formula that cannot be read or evaluated at all (unknown name, syntax, too large)."""


class ShapeMismatch(FormulaError):
    """A readable formula whose tensors do not fit together: a wrong answer, not an unreadable one."""


class InvalidCall(FormulaError):
    """A readable call that no tensor library would run on these tensors (an axis out of range, a
    permutation that is not one): the learner's input is invalid, not a wrong answer."""


class SampleError(ValueError):
    """The card's cached sample tensors are unusable (the card's fault, never the learner's)."""


# ---------------------------------------------------------------- the whitelist


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # equal to 1/(1+exp(-x)) without overflow


_ELEMENTWISE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "tanh": np.tanh,
    "abs": np.abs,
    "sign": np.sign,
    "sigmoid": _sigmoid,
    "relu": lambda x: np.maximum(x, 0.0),
}
_BINARY_FUNCTIONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "maximum": np.maximum,
    "minimum": np.minimum,
}
_REDUCTIONS = {"sum": np.sum, "mean": np.mean}
FUNCTIONS = sorted([*_ELEMENTWISE, *_BINARY_FUNCTIONS, *_REDUCTIONS, "where", "outer", "transpose"])
METHODS = ("T", "t()", "transpose()", "sum(axis=…)", "mean(axis=…)")
_MODULE_PREFIXES = {"np", "numpy", "torch"}  # `torch.sigmoid(z)` reads as `sigmoid(z)`
_CONSTANTS = {"pi": math.pi, "e": math.e}

_ARITHMETIC: dict[type[ast.operator], tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    ast.Add: ("+", np.add),
    ast.Sub: ("-", np.subtract),
    ast.Mult: ("*", np.multiply),
    ast.Div: ("/", np.divide),
    ast.Pow: ("**", np.power),
}
_COMPARISONS: dict[type[ast.cmpop], Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
    ast.NotEq: np.not_equal,
}
_SPELLINGS = {"^": "**", "⊙": "*", "−": "-", "ᵀ": ".T", "⊤": ".T"}  # `W1ᵀ` as the card renders it


# ---------------------------------------------------------------- parsing


@dataclass(frozen=True)
class TensorFormula:
    """A parsed formula whose every node is whitelisted; call it with named arrays."""

    source: str
    tree: ast.expr
    names: tuple[str, ...]

    def __call__(self, variables: Mapping[str, np.ndarray], budget: WorkBudget | None = None) -> np.ndarray:
        """Evaluate on named arrays, charging `budget` (shared across the samples of one check)."""
        with np.errstate(all="ignore"):
            return np.asarray(_Evaluation(variables, budget or WorkBudget()).run(self.tree), dtype=np.float64)


@dataclass
class WorkBudget:
    """How many elements (matmul: multiply-adds) may still be produced: bounds the time of one check."""

    remaining: int = MAX_WORK


def parse_formula(text: str, variables: Iterable[str]) -> TensorFormula:
    """Read `text` as a tensor formula in `variables`; raise FormulaError with one sentence if not."""
    names = tuple(variables)
    source = text.strip()
    for spelling, python in _SPELLINGS.items():
        source = source.replace(spelling, python)
    if not source:
        raise FormulaError("empty answer")
    if len(source) > MAX_FORMULA_CHARS:
        raise FormulaError(f"the formula is {len(source)} characters long; at most {MAX_FORMULA_CHARS} are read")
    try:
        with warnings.catch_warnings():  # `1if 2`, `9nan`: Python's SyntaxWarning went to the review's terminal
            warnings.simplefilter("error", SyntaxWarning)  # and is a refusal, as under -W error
            tree = ast.parse(source, mode="eval").body
    except (SyntaxError, SyntaxWarning, ValueError, RecursionError, MemoryError):
        raise FormulaError(f"not a formula: {_quote(text)} (check its brackets and operators)") from None
    _check_size(tree)
    _Whitelist(names).visit(tree)
    return TensorFormula(source, tree, names)


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= 60 else text[:57] + "..."


def _quote(text: str) -> str:
    return repr(_clip(text))


def _check_size(tree: ast.expr) -> None:
    """Bound nodes and depth without recursion (the evaluator recurses, so depth must be small)."""
    for count, (_, depth) in enumerate(walk_with_depth(tree), start=1):
        if count > MAX_NODES:
            raise FormulaError(f"the formula has more than {MAX_NODES} parts; write it more simply")
        if depth > MAX_DEPTH:
            raise FormulaError(f"the formula nests deeper than {MAX_DEPTH} levels; write it more simply")


class _Whitelist(ast.NodeVisitor):
    """Reject every node that is not part of the tensor-formula language, naming what was found."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = names

    def generic_visit(self, node: ast.AST) -> None:
        raise FormulaError(f"{_describe(node)} is not allowed in a tensor formula")

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise FormulaError(f"unexpected literal {_quote(repr(node.value))}; only numbers may appear in a formula")
        try:
            finite = math.isfinite(float(node.value))
        except OverflowError:
            finite = False
        if not finite:
            raise FormulaError("a number in the formula is too large")

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in self.names or node.id in _CONSTANTS:
            return
        if node.id in FUNCTIONS:
            raise FormulaError(f"{node.id} is a function; call it like {node.id}(x)")
        raise FormulaError(f"unknown name {node.id!r}; {self._known()}")

    def _known(self) -> str:
        if not self.names:
            return "this formula takes no variables"
        return "this card's variables are " + ", ".join(self.names)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if not isinstance(node.op, (*_ARITHMETIC, ast.MatMult)):
            raise FormulaError(f"the operator {_operator(node.op)} is not allowed; use + - * / ** @")
        self.visit(node.left)
        self.visit(node.right)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise FormulaError(f"the operator {_operator(node.op)} is not allowed; use + - * / ** @")
        self.visit(node.operand)

    def visit_Compare(self, node: ast.Compare) -> None:
        for op in node.ops:
            if type(op) not in _COMPARISONS:
                raise FormulaError(f"the comparison {_operator(op)} is not allowed; use < <= > >= == !=")
        self.visit(node.left)
        for comparator in node.comparators:
            self.visit(comparator)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr != "T":
            raise FormulaError(f".{node.attr} is not supported; use " + ", ".join("." + m for m in METHODS))
        self.visit(node.value)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        raise FormulaError("indexing like x[0] is not supported; use sum(x, axis=0) or transpose(x)")

    def visit_Call(self, node: ast.Call) -> None:
        name, operands = _callee(node)
        if name is None:
            raise FormulaError("only " + ", ".join(FUNCTIONS) + " and the methods " + ", ".join(METHODS) + " work")
        args, keywords = [*operands, *node.args], {k.arg: k.value for k in node.keywords}
        if any(isinstance(a, ast.Starred) for a in args) or None in keywords:
            raise FormulaError("* and ** unpacking are not allowed in a formula")
        if name in _REDUCTIONS:
            _reduction_options(name, args, keywords)
        elif name == "transpose":
            _permutation(args[1:], keywords)
        elif name == "t":
            _arity(name, args, keywords, 1)
        elif name == "where":
            _arity(name, args, keywords, 3)
        elif name in _BINARY_FUNCTIONS or name == "outer":
            _arity(name, args, keywords, 2)
        else:
            _arity(name, args, keywords, 1)
        if not args:
            raise FormulaError(f"{name} needs a tensor to work on")
        # Options (axis, keepdims, a permutation) are literals checked above; only operands are walked.
        tensor_args = args[:1] if name in (*_REDUCTIONS, "transpose") else args
        for arg in tensor_args:
            self.visit(arg)


def _callee(node: ast.Call) -> tuple[str | None, list[ast.expr]]:
    """The function's name and, for a method call `x.sum()`, its receiver as the first operand."""
    func = node.func
    if isinstance(func, ast.Name) and func.id in FUNCTIONS:
        return func.id, []
    if isinstance(func, ast.Attribute):
        if isinstance(func.value, ast.Name) and func.value.id in _MODULE_PREFIXES:
            if func.attr in FUNCTIONS:
                return func.attr, []
            raise FormulaError(f"unknown function {func.value.id}.{func.attr}; available: " + ", ".join(FUNCTIONS))
        if func.attr in (*_REDUCTIONS, "transpose", "t"):
            return func.attr, [func.value]
    if isinstance(func, ast.Name):
        raise FormulaError(f"unknown function {func.id!r}; available: " + ", ".join(FUNCTIONS))
    if isinstance(func, ast.Attribute):
        raise FormulaError(f".{func.attr}() is not supported; use " + ", ".join("." + m for m in METHODS))
    return None, []


def _arity(name: str, args: Sequence[ast.expr], keywords: Mapping[str | None, ast.expr], count: int) -> None:
    if keywords:
        raise FormulaError(f"{name} takes no keyword arguments")
    if len(args) != count:
        raise FormulaError(f"{name} takes {count} argument{'s' if count > 1 else ''}, not {len(args)}")


def _reduction_options(
    name: str, args: Sequence[ast.expr], keywords: Mapping[str | None, ast.expr]
) -> tuple[tuple[int, ...] | None, bool]:
    """`sum(x)`, `sum(x, 0)`, `sum(x, axis=(0, 1), keepdims=True)`; torch's `dim`/`keepdim` too."""
    unknown = set(keywords) - {"axis", "dim", "keepdims", "keepdim"}
    if unknown:
        raise FormulaError(f"{name} takes axis= and keepdims=, not {sorted(unknown)[0]}=")
    if len(args) > 2 or ("axis" in keywords and "dim" in keywords):
        raise FormulaError(f"{name} takes a tensor and an axis, like {name}(x, axis=0)")
    axis_node = args[1] if len(args) == 2 else keywords.get("axis", keywords.get("dim"))
    if len(args) == 2 and ({"axis", "dim"} & set(keywords)):
        raise FormulaError(f"{name} got its axis twice")
    keep_node = keywords.get("keepdims", keywords.get("keepdim"))
    keepdims = False
    if keep_node is not None:
        if not (isinstance(keep_node, ast.Constant) and isinstance(keep_node.value, bool)):
            raise FormulaError(f"keepdims in {name} must be True or False")
        keepdims = keep_node.value
    if axis_node is None or (isinstance(axis_node, ast.Constant) and axis_node.value is None):
        return None, keepdims
    return _int_literals(axis_node, f"the axis of {name}"), keepdims


def _permutation(rest: Sequence[ast.expr], keywords: Mapping[str | None, ast.expr]) -> tuple[int, ...] | None:
    """`transpose(x)`, `x.transpose(1, 0)`, `transpose(x, (1, 0))`, `transpose(x, axes=(1, 0))`."""
    if set(keywords) - {"axes"} or (rest and keywords):
        raise FormulaError("transpose takes a tensor and optionally its axes, like transpose(x, (1, 0))")
    if "axes" in keywords:
        rest = [keywords["axes"]]
    if not rest:
        return None
    if len(rest) == 1:
        return _int_literals(rest[0], "the axes of transpose")
    return tuple(i for node in rest for i in _int_literals(node, "the axes of transpose"))


def _int_literals(node: ast.expr, what: str) -> tuple[int, ...]:
    items = node.elts if isinstance(node, ast.Tuple | ast.List) else [node]
    values = []
    for item in items:
        if isinstance(item, ast.UnaryOp) and isinstance(item.op, ast.USub) and isinstance(item.operand, ast.Constant):
            sign, item = -1, item.operand
        else:
            sign = 1
        if not (isinstance(item, ast.Constant) and type(item.value) is int):
            raise FormulaError(f"{what} must be whole numbers like 0, 1 or -1")
        values.append(sign * item.value)
    if not values or len(values) > MAX_NDIM:
        raise FormulaError(f"{what} must list 1 to {MAX_NDIM} axes")
    return tuple(values)


def _describe(node: ast.AST) -> str:
    return {
        "Lambda": "lambda",
        "IfExp": "if … else",
        "BoolOp": "and/or",
        "ListComp": "a comprehension",
        "GeneratorExp": "a comprehension",
        "Tuple": "a tuple",
        "List": "a list",
        "Dict": "a dict",
        "Set": "a set",
        "NamedExpr": ":=",
        "JoinedStr": "an f-string",
        "Starred": "* unpacking",
        "Slice": "slicing",
    }.get(type(node).__name__, type(node).__name__)


def _operator(op: ast.AST) -> str:
    return {
        "FloorDiv": "//",
        "Mod": "%",
        "BitAnd": "&",
        "BitOr": "|",
        "BitXor": "^",
        "LShift": "<<",
        "RShift": ">>",
        "Invert": "~",
        "Not": "not",
        "Is": "is",
        "IsNot": "is not",
        "In": "in",
        "NotIn": "not in",
        "Lt": "<",
        "LtE": "<=",
        "Gt": ">",
        "GtE": ">=",
        "Eq": "==",
        "NotEq": "!=",
    }.get(type(op).__name__, type(op).__name__)


# ---------------------------------------------------------------- evaluation


class _Evaluation:
    """One evaluation: every step's result shape and cost is checked before numpy computes it."""

    def __init__(self, variables: Mapping[str, np.ndarray], budget: WorkBudget) -> None:
        self.variables = variables
        self.budget = budget

    def charge(self, elements: int, what: str) -> None:
        if elements > MAX_ELEMENTS:
            raise FormulaError(f"{what} would hold {elements:,} numbers; at most {MAX_ELEMENTS:,} are allowed")
        self.budget.remaining -= max(elements, 1)
        if self.budget.remaining < 0:
            raise FormulaError("the formula needs too much computation on these tensors; write it more simply")

    def run(self, node: ast.expr) -> np.ndarray:
        match node:
            case ast.Constant(value=value):
                return np.float64(value)
            case ast.Name(id=name):
                return self.variables[name] if name in self.variables else np.float64(_CONSTANTS[name])
            case ast.UnaryOp(op=op, operand=operand):
                value = self.run(operand)
                self.charge(value.size, "the negation")
                return -value if isinstance(op, ast.USub) else value
            case ast.BinOp(left=left, op=ast.MatMult(), right=right):
                return self.matmul(self.run(left), self.run(right))
            case ast.BinOp(left=left, op=op, right=right):
                symbol, function = _ARITHMETIC[type(op)]
                a, b = self.run(left), self.run(right)
                if symbol == "**" and np.any(np.abs(np.nan_to_num(b, nan=0.0)) > MAX_EXPONENT):
                    raise FormulaError(f"exponents above {MAX_EXPONENT} are not supported")
                return self.broadcast(function, symbol, a, b)
            case ast.Compare(left=left, ops=ops, comparators=comparators):
                return self.compare(left, ops, comparators)
            case ast.Attribute(value=value):  # only `.T` passes the whitelist
                return self.run(value).T
            case ast.Call():
                return self.call(node)
        raise FormulaError(f"{_describe(node)} is not allowed in a tensor formula")  # unreachable after parsing

    def broadcast(self, function: Callable, symbol: str, *operands: np.ndarray) -> np.ndarray:
        try:
            shape = np.broadcast_shapes(*(o.shape for o in operands))
        except ValueError:
            shapes = " and ".join(format_shape(o.shape) for o in operands)
            raise ShapeMismatch(f"shapes {shapes} do not broadcast together for {symbol}") from None
        self.charge(math.prod(shape), f"the result of {symbol}")
        return function(*operands)

    def matmul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if a.ndim == 0 or b.ndim == 0:
            raise ShapeMismatch("@ needs tensors with at least one axis; use * to multiply by a scalar")
        inner_a, inner_b = a.shape[-1], b.shape[-2] if b.ndim > 1 else b.shape[0]
        if inner_a != inner_b:
            raise ShapeMismatch(
                f"{format_shape(a.shape)} @ {format_shape(b.shape)} does not line up: {inner_a} columns, {inner_b} rows"
            )
        try:
            batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ShapeMismatch(
                f"the batch axes of {format_shape(a.shape)} @ {format_shape(b.shape)} do not broadcast"
            ) from None
        rows = (a.shape[-2],) if a.ndim > 1 else ()
        columns = (b.shape[-1],) if b.ndim > 1 else ()
        elements = math.prod((*batch, *rows, *columns))
        self.charge(elements, "the result of @")
        self.charge(elements * inner_a, "the multiply-adds of @")
        return np.matmul(a, b)

    def compare(self, left: ast.expr, ops: Sequence[ast.cmpop], comparators: Sequence[ast.expr]) -> np.ndarray:
        """`a < b` is 1.0 where true and 0.0 elsewhere; `a < b < c` holds where both do."""
        values = [self.run(left), *(self.run(c) for c in comparators)]
        result: np.ndarray = np.float64(1.0)
        for op, a, b in zip(ops, values, values[1:], strict=False):
            holds = self.broadcast(_COMPARISONS[type(op)], _operator(op), a, b)
            result = self.broadcast(np.multiply, "a chained comparison", result, holds.astype(np.float64))
        return result

    def call(self, node: ast.Call) -> np.ndarray:
        name, receiver = _callee(node)
        assert name is not None  # the whitelist admitted only known callees
        args = [*receiver, *node.args]
        keywords = {k.arg: k.value for k in node.keywords}
        if name in _REDUCTIONS:
            axes, keepdims = _reduction_options(name, args, keywords)
            return self.reduce(name, self.run(args[0]), axes, keepdims)
        if name in ("transpose", "t"):
            return self.transpose(name, self.run(args[0]), _permutation(args[1:], keywords))
        values = [self.run(a) for a in args]
        if name in _ELEMENTWISE:
            self.charge(values[0].size, f"the result of {name}")
            return _ELEMENTWISE[name](values[0])
        if name in _BINARY_FUNCTIONS:
            return self.broadcast(_BINARY_FUNCTIONS[name], name, *values)
        if name == "where":
            condition, a, b = values
            return self.broadcast(lambda c, x, y: np.where(c != 0, x, y), "where", condition, a, b)
        a, b = values  # outer
        self.charge(a.size * b.size, "the result of outer")
        return np.outer(a, b)

    def reduce(self, name: str, value: np.ndarray, axes: tuple[int, ...] | None, keepdims: bool) -> np.ndarray:
        if axes is not None:
            axes = _normalized_axes(axes, value.shape, f"{name}(…, axis={', '.join(map(str, axes))})")
        self.charge(value.size, f"the {name}")
        return _REDUCTIONS[name](value, axis=axes, keepdims=keepdims)

    def transpose(self, name: str, value: np.ndarray, axes: tuple[int, ...] | None) -> np.ndarray:
        if name == "t" and value.ndim > 2:
            raise InvalidCall(
                f"invalid call: .t() transposes a matrix, not a {value.ndim}-d tensor of shape "
                f"{format_shape(value.shape)}; use transpose(x, axes)"
            )
        if axes is not None:
            normalized = _normalized_axes(axes, value.shape, f"transpose(…, {axes})")
            if len(normalized) != value.ndim:
                raise InvalidCall(
                    f"invalid call: transpose(…, {axes}): axes {axes} are not a reordering of the "
                    f"{value.ndim} axes of shape {format_shape(value.shape)}"
                )
            axes = normalized
        self.charge(value.size, "the transpose")
        return np.transpose(value, axes)


def _normalized_axes(axes: tuple[int, ...], shape: tuple[int, ...], call: str) -> tuple[int, ...]:
    """`axes` made non-negative; InvalidCall naming the call for one out of range or listed twice."""
    ndim, normalized = len(shape), []
    for axis in axes:
        if not -ndim <= axis < ndim:
            shown = str(axis) if abs(axis) < 10**6 else f"{str(axis)[:6]}…"
            raise InvalidCall(
                f"invalid call: {_clip(call)}: axis {shown} is out of range for a {ndim}-d tensor "
                f"(shape {format_shape(shape)}, axes {-ndim} to {ndim - 1})"
            )
        if axis % ndim in normalized:
            raise InvalidCall(f"invalid call: {_clip(call)}: axis {axis % ndim} is listed twice")
        normalized.append(axis % ndim)
    return tuple(normalized)


def evaluate(formula: str, variables: Mapping[str, np.ndarray]) -> np.ndarray:
    """Evaluate `formula` on named arrays; raise FormulaError (a ShapeMismatch for misfits) if it cannot."""
    arrays = {name: as_tensor(value, name) for name, value in variables.items()}
    return parse_formula(formula, arrays)(arrays)


# ---------------------------------------------------------------- samples and grading


def as_tensor(value: object, what: str) -> np.ndarray:
    """A cached nested list (or number) as a float64 array, bounded; SampleError if it is not one."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        raise SampleError(f"{what} is not a rectangular array of numbers") from None
    if array.ndim > MAX_NDIM or array.size > MAX_ELEMENTS:
        raise SampleError(f"{what} has shape {format_shape(array.shape)}, larger than a sample may be")
    if array.size == 0:
        raise SampleError(f"{what} is empty (shape {format_shape(array.shape)})")
    if not np.isfinite(array).all():
        raise SampleError(f"{what} contains NaN or infinity")
    return array


@dataclass(frozen=True)
class Sample:
    inputs: dict[str, np.ndarray]
    value: np.ndarray


def load_samples(samples: object, variable_names: Sequence[str]) -> list[Sample]:
    """Validate cached `[{"inputs": {name: nested list}, "value": nested list}, ...]`; SampleError if unusable."""
    if not isinstance(samples, list) or not samples:
        raise SampleError("there are no sample tensors to check against")
    if len(samples) > MAX_SAMPLES:
        raise SampleError(f"there are {len(samples)} samples; at most {MAX_SAMPLES} are read")
    loaded, elements = [], 0
    for number, sample in enumerate(samples, 1):
        if not isinstance(sample, Mapping) or not isinstance(sample.get("inputs"), Mapping) or "value" not in sample:
            raise SampleError(f"sample {number} lacks its inputs or its value")
        missing = [name for name in variable_names if name not in sample["inputs"]]
        if missing:
            raise SampleError(f"sample {number} lacks the variable(s) " + ", ".join(missing))
        inputs = {name: as_tensor(sample["inputs"][name], f"{name} in sample {number}") for name in variable_names}
        loaded.append(Sample(inputs, as_tensor(sample["value"], f"the value of sample {number}")))
        elements += loaded[-1].value.size + sum(a.size for a in inputs.values())
        if elements > MAX_ELEMENTS:
            raise SampleError(f"the samples hold more than {MAX_ELEMENTS:,} numbers together")
    return loaded


def check_tensor(typed: str, variable_names: Sequence[str], samples: object, tolerance: float) -> Verdict:
    """Grade a typed formula on the verifier's samples: equal shape, and values within
    `tolerance` (absolute) plus a relative RELATIVE_SLACK, at every sample."""
    try:
        formula = parse_formula(typed, variable_names)
    except FormulaError as e:
        return Verdict("unparsable", _clip(typed), str(e))
    shown = ast.unparse(formula.tree)
    try:
        loaded = load_samples(samples, variable_names)
    except SampleError as e:
        return Verdict("unparsable", shown, f"this card cannot grade formulas yet: {e} (run quizzer verify)")
    worst, budget = 0.0, WorkBudget()
    for number, sample in enumerate(loaded, 1):
        try:
            got = formula(sample.inputs, budget)
        except ShapeMismatch as e:
            return Verdict("incorrect", shown, f"{e} (with {_shapes(sample.inputs)})")
        except FormulaError as e:
            return Verdict("unparsable", shown, str(e))
        if got.shape != sample.value.shape:
            return Verdict(
                "incorrect",
                shown,
                f"your formula gives shape {format_shape(got.shape)} but the answer has shape "
                f"{format_shape(sample.value.shape)} (with {_shapes(sample.inputs)})",
            )
        with np.errstate(all="ignore"):
            error = np.abs(got - sample.value)
            allowed = tolerance + RELATIVE_SLACK * np.abs(sample.value)
        bad = ~(error <= allowed)  # NaN counts as wrong
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            at = f" at index {format_shape(where)}" if where else ""
            return Verdict(
                "incorrect",
                shown,
                f"on sample {number} your formula gives {got[where]:.6g}{at} where the verifier computed "
                f"{sample.value[where]:.6g}",
            )
        worst = max(worst, float(error.max(initial=0.0)))
    plural = "s" if len(loaded) > 1 else ""
    return Verdict(
        "correct", shown, f"agrees with the verifier on {len(loaded)} sample{plural} (worst error {worst:.2g})"
    )


def _shapes(inputs: Mapping[str, np.ndarray]) -> str:
    return ", ".join(f"{name} {_shape_text(value.shape)}" for name, value in inputs.items())


def _shape_text(shape: Sequence[int]) -> str:
    return "scalar" if len(shape) == 0 else "×".join(map(str, shape))


def variables_hint(names: Sequence[str], shapes: Mapping[str, Sequence[int]] | None = None) -> str:
    """An input placeholder built only from the card's variable names (and their sample shapes):
    it lists what may be used, never a formula, so it cannot give the answer away."""
    shapes = shapes or {}
    listed = ", ".join(f"{n} ({_shape_text(shapes[n])})" if n in shapes else n for n in names)
    return f"formula in {listed} · with @ .T * + - sum(…, axis=…) sigmoid where …"
