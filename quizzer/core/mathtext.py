"""LaTeX math in Markdown → readable Unicode for a terminal.

`$...$` and `$$...$$` spans (outside code) are rewritten: the deck's macros are expanded,
fractions get the parentheses a slash needs, simple sub/superscripts become Unicode
(W₁, x², y⁽ⁱ⁾), and pylatexenc turns the remaining commands into symbols (∂, Σ, ≤, 𝔼).
Code blocks and inline code are left exactly as written.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from functools import cache

SUPERSCRIPT = dict(
    zip(
        "0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUW",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁᵂ",
        strict=True,
    )
)
SUPERSCRIPT["*"] = "∗"  # w^* → w∗: the asterisk operator, which Markdown does not read as emphasis
SUBSCRIPT = dict(zip("0123456789+-=()aeijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True))

_OPERATORS = {
    "cdot": "·", "times": "×", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "neq": "≠", "ne": "≠",
    "approx": "≈", "to": "→", "rightarrow": "→", "Rightarrow": "⇒", "implies": "⇒", "iff": "⇔",
    "in": "∈", "pm": "±", "odot": "⊙", "otimes": "⊗", "propto": "∝", "sim": "∼", "equiv": "≡",
    "ll": "≪", "gg": "≫", "mapsto": "↦",
}  # fmt: skip
# Decorations pylatexenc parses but renders as nothing (it knows \bar, \hat, \tilde, \vec): a mean
# \overline{x} must not read as a plain x. Each marks every character of its argument.
_DECORATIONS = {
    "overline": "\u0305", "underline": "\u0332", "widehat": "\u0302", "widetilde": "\u0303",
    "overrightarrow": "\u20d7", "overleftarrow": "\u20d6",
}  # fmt: skip
# Commands pylatexenc has no text for: function names it would drop, and styling that only wraps
# what follows (`\boldsymbol{W}` is W). Any other unknown command is shown as written.
_NAMED_FUNCTIONS = ("det", "dim", "ker", "arg", "argmin", "argmax", "Pr", "gcd", "deg", "diag", "Var", "Cov")
_TRANSPARENT = (
    "boldsymbol", "bm", "operatorname", "left", "right", "middle", "mathrel", "mathbin", "mathop", "mathord",
    "displaystyle", "textstyle", "scriptstyle", "limits", "nolimits",
    "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "Biggl", "Biggr",
)  # fmt: skip
# Function names pylatexenc glues to their neighbours (`y\log p` → "ylogp"); spaces keep them apart.
_FUNCTION = re.compile(
    r"((?<=[A-Za-z0-9)]))?\\(?:(?:log|ln|exp|sin|cos|tan|sinh|cosh|tanh|max|min|sup|inf|lim|"
    + "|".join(_NAMED_FUNCTIONS)
    + r")(?![A-Za-z])|operatorname\{[^{}]*\})((?=\s*[A-Za-z0-9\\]))?"
)
_TRANSPOSED = re.compile(r"\\(?:top|intercal)(?![A-Za-z])\s*")
_TRANSPOSE = re.compile(r"\^(?:\\(?:top|intercal)(?![A-Za-z])|\{\s*\\(?:top|intercal)\s*\}|\{?\\math(?:sf|rm)\{T\}\}?)")
# Commands that separate rather than multiply: a fraction next to one needs no parentheses.
_SEPARATORS = (
    *_OPERATORS, "quad", "qquad", "cdots", "ldots", "dots", "vdots", "ddots", "leftarrow", "Leftarrow", "mid",
    "Vert", "vert", "end", "lt", "gt", "neg", "cup", "cap", "subset", "subseteq", "colon",
)  # fmt: skip
_SEPARATOR = r"\\(?:[,;:!> ]|(?:" + "|".join(_SEPARATORS) + r")(?![A-Za-z]))"
# A fraction touching a factor (`2\frac13`, `\tfrac12w`, `\frac{a}{b}^2`) is read whole only in parentheses.
_FACTOR_BEFORE = re.compile(r"(?:[A-Za-z0-9)\]}]|\\[A-Za-z]+)$")
_SIZING = re.compile(r"(?:\\(?:left|right|middle|[bB]igg?[lr]?)(?![A-Za-z])\s*)*")  # `\big)` closes, `\left(` opens
_COMMAND = re.compile(r"\\([A-Za-z]+|.)", re.DOTALL)  # a backslash and a newline are one token, as in TeX
_FACTOR_AFTER = re.compile(r"(?!$|[\s=+\-<>,;.:!?)\]|&]|" + _SEPARATOR + ")")
_SEPARATOR_BEFORE = re.compile(_SEPARATOR + "$")
_OPERATOR = re.compile(r"\\(" + "|".join(sorted(_OPERATORS, key=len, reverse=True)) + r")(?![A-Za-z])\s*")
_CODE = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]*`)", re.DOTALL)
_MATH = re.compile(r"(\$\$.+?\$\$|(?<![\\$])\$(?!\s)[^$\n]+?(?<!\s)\$)", re.DOTALL)


MAX_SPAN_CHARS = 5_000
"""A longer span is shown as written: nested `\\frac` are rewritten level by level (the longest bundled span is 261)."""
MAX_SPANS = 1_000
"""Spans rendered per text, the rest shown as written: each costs the converter ~60 µs (the most in a bundled
text is 21; 50,000 took 2.9 s)."""


def render_math(markdown: str, macros: Mapping[str, str] | None = None) -> str:
    """Rewrite the math spans of `markdown`; everything else (code included) is untouched.

    Bounded for a hostile deck: see `MAX_SPAN_CHARS`, `MAX_SPANS`, `MAX_EXPANDED_CHARS`. A span that cannot be
    read is shown as written; `math_problems` says which and why.
    """
    macros = dict(macros or {})
    parts = _CODE.split(markdown)
    budget = [MAX_SPANS]

    def render(match: re.Match) -> str:
        span = match.group(0)
        budget[0] -= 1
        if budget[0] < 0:
            return span
        text, _ = _render_span(span, macros)
        return span if text is None else text

    for i in range(0, len(parts), 2):  # even indices are outside code
        rendered = _MATH.sub(render, parts[i])
        parts[i] = re.sub(r"\n{3,}", "\n\n", rendered)  # a display block already on its own lines
    return "".join(parts)


def math_problems(markdown: str, macros: Mapping[str, str] | None = None) -> list[tuple[int, str, str]]:
    """Each span of `markdown` that `render_math` shows as written, as (offset of its `$`, the span, why): what
    lint tells an author. The reasons are `render_math`'s own, so the two cannot disagree."""
    macros = dict(macros or {})
    problems: list[tuple[int, str, str]] = []
    offset, spans = 0, 0
    for i, part in enumerate(_CODE.split(markdown)):
        for match in _MATH.finditer(part) if i % 2 == 0 else ():
            spans += 1
            if spans > MAX_SPANS:
                reason = f"more than {MAX_SPANS:,} spans in one text: the rest are shown as written"
                problems.append((offset + match.start(), match.group(0), reason))
                return problems
            _, reason = _render_span(match.group(0), macros)
            if reason is not None:
                problems.append((offset + match.start(), match.group(0), reason))
        offset += len(part)
    return problems


class MathError(ValueError):
    """Math the terminal cannot read: the span is shown as written, and the message (lint's) says why."""


MAX_EXPANDED_CHARS = 20_000
"""A span whose macros expand past this many characters is shown as written (the longest bundled span is 261):
24 macros that each call the next twice expand a 3-character `\\ma` to 16 million characters."""


def _render_span(span: str, macros: dict[str, str]) -> tuple[str | None, str | None]:
    """One span as text, or (None, why) for a span that cannot be rendered within bounds (too long, macros
    expanding without end, a fraction nested thousands deep, LaTeX that cannot be read: `\\frac{a}` showed
    `%s/%sa`): the caller shows it as written, never a crash or a hang."""
    if len(span) > MAX_SPAN_CHARS:
        return None, f"longer than {MAX_SPAN_CHARS:,} characters"
    display = span.startswith("$$")
    body = span[2:-2] if display else span[1:-1]
    try:
        text = latex_to_text(body, macros)
    except MathError as error:
        return None, str(error)
    except (RecursionError, MemoryError):
        return None, "nested too deeply to read"
    except Exception as error:  # noqa: BLE001 - pylatexenc on a deck's odd LaTeX: the span as written
        return None, f"cannot be read ({type(error).__name__}: {' '.join(str(error).split())[:80]})"
    return (f"\n\n    {text.strip()}\n\n" if display else text.strip()), None  # `be $\le 0$`: one space, not two


def latex_to_text(latex: str, macros: Mapping[str, str] | None = None) -> str:
    """Raises `MathError` for LaTeX that cannot be read (`\\frac{a}`, `{x`, `x^`, `\\begin{cases}` never ended)."""
    latex = expand_macros(latex, macros or {})
    _check_structure(latex)
    latex = _strip_newcommands(latex)
    latex = _fractions(latex)
    latex = re.sub(r"(\\[A-Za-z]+)(?=[ \t]+[=<>+\-])", r"\1{}", latex)  # `\lambda = 1` keeps its space
    latex = _FUNCTION.sub(lambda m: " " * (m[1] is not None) + m[0] + "{} " * (m[2] is not None), latex)
    latex = re.sub(r"\^\{([^{}]*)\}", lambda m: "^{" + _TRANSPOSED.sub("T", m[1]) + "}", latex)  # x^{(i)\top}
    latex = _TRANSPOSE.sub(lambda m: _after_command(latex, m.start(), "ᵀ"), latex).replace("'", "′")
    latex = latex.replace(r"\|", "‖")  # `\lVert W \rVert` is ‖W‖, as TeX sets it: no space inside the bars
    latex = re.sub(r"\\lVert(?![A-Za-z]) *", "‖", re.sub(r" *(?:\\right *)?\\rVert(?![A-Za-z])", "‖", latex))
    latex = _scripts(latex)
    # pylatexenc eats the space after a command; `J \times= s` stays a compound assignment.
    latex = _OPERATOR.sub(
        lambda m: f" {_OPERATORS[m.group(1)]}" + ("" if latex[m.end() : m.end() + 1] == "=" else " "), latex
    )
    text = _convert(latex).replace("*", "∗")  # `w^* … w^*` is no *emphasis* in Markdown
    return re.sub(r"[ \t\u00a0]{2,}", " ", text)  # `W_2~ \varphi`: one space, not a tie and a space


class _Warnings(logging.Handler):
    """What pylatexenc logs (`\\frac` without its arguments: "failed its substitution", and `%s/%s` shown):
    kept here, never on the terminal (with no handler of the app's, logging's last resort printed it to
    stderr over `show`, `review --plain` and the app); a warning while a span is converted makes it unreadable."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


_PYLATEXENC_WARNINGS = _Warnings()
_PYLATEXENC_LOG = logging.getLogger("pylatexenc")
_PYLATEXENC_LOG.addHandler(_PYLATEXENC_WARNINGS)
_PYLATEXENC_LOG.propagate = False


def _convert(latex: str) -> str:
    """pylatexenc's text for `latex`, parsed strictly: what it would guess at (a missing argument, an unclosed
    group or environment) is a `MathError` instead."""
    from pylatexenc.latexwalker import LatexWalkerParseError

    stripped = latex.rstrip()
    backslashes = len(stripped) - len(stripped.rstrip("\\"))
    if backslashes and backslashes % 2 == 0:  # `a \\ b \\`: the converter wants what may follow a line break
        latex += "{}"
    seen = len(_PYLATEXENC_WARNINGS.messages)
    try:
        text = _converter().latex_to_text(latex, tolerant_parsing=False)
    except LatexWalkerParseError as error:
        raise MathError(_parse_reason(str(error.msg or error))) from None
    finally:
        warned = _PYLATEXENC_WARNINGS.messages[seen:]
        del _PYLATEXENC_WARNINGS.messages[seen:]
    if warned:
        raise MathError(f"cannot be read ({' '.join(warned[0].split())[:80]})")
    return text


_PARSE_REASONS = (
    (r'End of input while parsing arguments of macro "(\w+)"', r"\\\1 is missing an argument"),
    (r"Unexpected end of stream, was expecting '\}'", "a { is never closed"),
    (r"Unexpected mismatching closing brace", "a } closes no {"),
    (r"Unexpected end of stream, was expecting \\end\{(\w+\*?)\}", r"\\begin{\1} is never ended"),
    (r"Unexpected closing environment: '(\w+\*?)'", r"\\end{\1} ends no \\begin{\1}"),
)


def _parse_reason(message: str) -> str:
    """pylatexenc's parse error in an author's words (its positions are in the rewritten text: left out)."""
    message = " ".join(re.sub(r"\s*@\s*\(\d+,\s*-?\d+\).*", "", message, flags=re.DOTALL).split())
    for pattern, reason in _PARSE_REASONS:
        match = re.search(pattern, message)
        if match:
            return match.expand(reason)
    return f"cannot be read ({message[:80]})"


def _check_structure(latex: str) -> None:
    """What MathJax rejects and the converter would guess at: a script mark with nothing after it (`x^` was
    shown as `x^`), and `\\left` without its `\\right` or the other way round."""
    sizes = {"left": 0, "right": 0}
    for match in _CONTROL_OR_SCRIPT.finditer(latex):
        if match[1] in sizes:
            sizes[match[1]] += 1
        elif match[2] and macro_arguments(latex, match.end(), 1)[0] is None:
            raise MathError(f"{match[2]} has nothing to put in its {'superscript' if match[2] == '^' else 'subscript'}")
    if sizes["left"] != sizes["right"]:
        raise MathError(f"{sizes['left']} \\left but {sizes['right']} \\right: each \\left needs its \\right")


_CONTROL_OR_SCRIPT = re.compile(r"\\([A-Za-z]+|.)|([_^])", re.DOTALL)


@cache
def _converter():
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

    context = get_default_latex_context_db()
    context.add_context_category(
        "quizzer-decorations",
        prepend=True,
        macros=[
            MacroTextSpec(name, simplify_repl=lambda node, l2tobj, mark=mark: _decorate(node, l2tobj, mark))
            for name, mark in _DECORATIONS.items()
        ]
        + [MacroTextSpec(name, simplify_repl=name) for name in _NAMED_FUNCTIONS]
        + [MacroTextSpec(name, discard=False) for name in _TRANSPARENT],
    )
    # A command pylatexenc does not know is shown as written, never silently dropped with its text.
    context.set_unknown_macro_spec(MacroTextSpec("", simplify_repl=_unknown_macro))
    return LatexNodes2Text(latex_context=context, math_mode="text", strict_latex_spaces=False)


def _unknown_macro(node) -> str:
    """A command with no text form, as written: a misspelt or glued command (`\\Phiᵀ`) stays visible."""
    return f"\\{node.macroname} "


def _decorate(node, l2tobj, mark: str) -> str:
    """The macro's argument as text with the combining `mark` on every visible character (x̅ᵢ̅)."""
    text = l2tobj.nodelist_to_text(node.nodeargs[:1]).strip() if node.nodeargs else ""
    return "".join(ch if ch.isspace() or unicodedata.combining(ch) else ch + mark for ch in text)


MAX_MACRO_DEPTH = 10
"""Expansions nested deeper make a formula shown as written, as one expanding too far does: a macro whose body
calls itself (`loop = '\\loop x'`) would make TeX loop for ever; the bundled decks nest two deep."""


class MacroExpansionTooLarge(MathError):
    """The deck's macros expand a formula past `MAX_EXPANDED_CHARS` or nest past `MAX_MACRO_DEPTH`; the message
    says which, for lint."""


_CONTROL_SEQUENCE = re.compile(r"\\([A-Za-z]+|.)", re.DOTALL)  # a control word or a control symbol, as TeX reads


def expand_macros(latex: str, macros: Mapping[str, str]) -> str:
    r"""The deck's macros expanded in `latex` as TeX expands them: the terminal's rendering and the Anki export's
    MathJax both read this one expansion.

    Read left to right; a call's arguments (`macro_arguments`) are taken as written, substituted for `#1`..`#9`
    (`##` is one `#`), and the result is read again before what follows it, so a macro's body may call others
    and may take its arguments from the text after the call. A control word never runs into the letters an
    expansion puts after it: `\alpha\me` with `me = "x"` is `\alpha x`, `\bar#1` of `y` is `\bar y` (written
    together they would be one unknown command, `\alphax`). The work is bounded by the formula, not by how many
    macros the deck defines: each control sequence costs one lookup.

    Raises `MacroExpansionTooLarge` once the expansions have written more than `MAX_EXPANDED_CHARS` characters
    or a call lies more than `MAX_MACRO_DEPTH` expansions deep: such a formula is shown as written.
    """
    if not macros or "\\" not in latex:
        return latex
    return _Expansion(macros).run(latex)


class _Expansion:
    """One formula's expansion. What is still to read is `head` (text the expansions wrote, read first) and then
    `base[position:]` (the formula as written); `regions` says where each expansion that wrote `head` ends in it,
    with its depth, innermost (nearest end) last."""

    def __init__(self, macros: Mapping[str, str]):
        self.macros = macros
        self.written = 0

    def run(self, base: str) -> str:
        out: list[str] = []
        head, position, regions = "", 0, []
        while True:
            text, start = (head, 0) if head else (base, position)
            match = _CONTROL_SEQUENCE.search(text, start)
            while match and match[1] not in self.macros:
                match = _CONTROL_SEQUENCE.search(text, match.end())
            if match is None:
                _append(out, text[start:])
                if not head:
                    return "".join(out)
                head, regions = "", []
                continue
            _append(out, text[start : match.start()])
            depth = next((d for end, d in reversed(regions) if end > match.start()), 0) if head else 0
            arity, pieces = _macro_body(self.macros[match[1]])
            if depth >= MAX_MACRO_DEPTH:
                raise MacroExpansionTooLarge(f"its macros nest more than {MAX_MACRO_DEPTH} deep (\\{match[1]})")
            args, end = macro_arguments(text, match.end(), arity)
            from_base = 0
            if args is None and head:  # the arguments may go on in the formula after what expansions wrote
                args, from_base = self._arguments_across(head[match.end() :], base, position, arity)
            if args is None:  # fewer arguments than the body uses: the call as written
                _append(out, match[0])
                end = match.end()
            else:
                replacement = _substitute(pieces, args)
                self.written += len(replacement)
                if self.written > MAX_EXPANDED_CHARS:
                    raise MacroExpansionTooLarge(f"its macros expand past {MAX_EXPANDED_CHARS:,} characters")
            if from_base:  # nothing of `head` is left
                head, position, regions = "", position + from_base, []
            elif head:
                head, regions = head[end:], [(e - end, d) for e, d in regions if e > end]
            else:
                position = end
            if args is None:
                continue
            if "\\" not in replacement:  # nothing in it to expand: read as it is
                _append(out, replacement)
                continue
            after = head or base[position : position + 1]
            replacement += _separator(replacement, after)
            regions = [(e + len(replacement), d) for e, d in regions] + [(len(replacement), depth + 1)]
            head = replacement + head

    @staticmethod
    def _arguments_across(rest: str, base: str, position: int, arity: int) -> tuple[list[str] | None, int]:
        """The arguments read from `rest` (what is left of `head`) and on in `base` from `position`, and how much
        of `base` they take; (None, 0) if there are fewer. The window on `base` doubles until they end inside it,
        so reading ahead costs no more than they reach."""
        size = 64
        while True:
            ahead = base[position : position + size]
            separator = _separator(rest, ahead)
            args, end = macro_arguments(rest + separator + ahead, 0, arity)
            whole = position + size >= len(base)
            if args is not None and (end < len(rest) + len(separator) + len(ahead) or whole):
                return args, end - len(rest) - len(separator)
            if whole:
                return None, 0
            size *= 2


@cache
def _macro_body(body: str) -> tuple[int, tuple[str | int, ...]]:
    r"""A macro's arity and its body as text and parameter numbers: `#1`..`#9` are parameters and `##` is `#`,
    as in TeX; a `#` inside a control symbol (`\#1`) is none."""
    pieces: list[str | int] = []
    position = 0
    for match in re.finditer(r"\\(?:[A-Za-z]+|.)|##|#([1-9])", body, re.DOTALL):
        if match[0] == "##":
            pieces.append(body[position : match.start()] + "#")
        elif match[1]:
            pieces += [body[position : match.start()], int(match[1])]
        else:
            continue
        position = match.end()
    pieces.append(body[position:])
    arity = max((piece for piece in pieces if isinstance(piece, int)), default=0)
    return arity, tuple(piece for piece in pieces if piece != "")


def _substitute(pieces: tuple[str | int, ...], args: list[str]) -> str:
    out: list[str] = []
    for piece in pieces:
        _append(out, args[piece - 1] if isinstance(piece, int) else piece)
    return "".join(out)


def _append(out: list[str], text: str) -> None:
    """Add `text` after `out`, a space between them if a control word would otherwise run into its letters."""
    if text:
        out.append(_separator(out[-1], text) + text if out else text)


def _separator(before: str, after: str) -> str:
    r"""A space if `before` ends in a control word and `after` begins with a letter (TeX's tokens `\alpha`, `x`
    written as `\alphax` are one unknown command), else nothing. A space after a control word is no space in TeX."""
    if not (after[:1].isascii() and after[:1].isalpha()):
        return ""
    start = len(before)
    while start and before[start - 1].isascii() and before[start - 1].isalpha():
        start -= 1
    backslash = start
    while backslash and before[backslash - 1] == "\\":
        backslash -= 1
    return " " if start < len(before) and (start - backslash) % 2 == 1 else ""


def _strip_newcommands(latex: str) -> str:
    return re.sub(r"\\(re)?newcommand\{[^}]*\}(\[\d\])?(\[[^]]*\])?\{([^{}]|\{[^{}]*\})*\}", "", latex)


def _rewrite(latex: str, name: str, arity: int, make, around: bool = False) -> str:
    """Replace `\\name{a}{b}` (brace-matched arguments) with `make(a, b)`; with `around`, with
    `make(a, b, before=..., after=...)`, given the text around the call."""
    pattern = re.compile(r"\\" + re.escape(name) + r"(?![A-Za-z])")
    out, position = [], 0
    while match := pattern.search(latex, position):
        args, end = macro_arguments(latex, match.end(), arity)
        if args is None:
            out.append(latex[position : match.end()])
            position = match.end()
            continue
        out.append(latex[position : match.start()])
        before = "".join(out[-3:])[-64:]  # enough to see the command or character before the call
        replacement = make(*args, before=before, after=latex[end : end + 64]) if around else make(*args)
        out.append(_after_command(before, len(before), replacement))
        position = end
    out.append(latex[position:])
    return "".join(out)


def _after_command(latex: str, offset: int, text: str) -> str:
    """`text` to put at `offset`: after a command name, an empty group first, else pylatexenc reads
    `\\Phiᵀ` or `\\logp` as one unknown command and drops it."""
    if re.search(r"\\[A-Za-z]+$", latex[:offset]) and text[:1] not in ("", " ", "{", "\\", "}"):
        return "{}" + text
    return text


def _fractions(latex: str) -> str:
    r"""`\frac{a}{b}` (and `\tfrac`, `\dfrac`) → `a/b`, parenthesised whole when a factor touches it:
    `\tfrac12w` is `(1/2)w`, never `1/2w`."""

    def fraction(numerator: str, denominator: str, before: str, after: str) -> str:
        text = f"{_group(_fractions(numerator))}/{_group(_fractions(denominator), denominator=True)}"
        factor_before = _FACTOR_BEFORE.search(before) and not _SEPARATOR_BEFORE.search(before)
        glued = factor_before or _FACTOR_AFTER.match(after, _SIZING.match(after).end())
        return f"({text})" if glued else text

    for name in ("frac", "tfrac", "dfrac"):
        latex = _rewrite(latex, name, 2, fraction, around=True)
    return latex


def macro_arguments(latex: str, start: int, count: int) -> tuple[list[str] | None, int]:
    """The `count` arguments of a macro from `start` and where they end; (None, start) if it has fewer."""
    arguments, end = [], start
    for _ in range(count):
        argument, end = _argument(latex, end)
        if argument is None:
            return None, start
        arguments.append(argument)
    return arguments, end


def _argument(latex: str, start: int) -> tuple[str | None, int]:
    """One macro argument at `start` (after spaces): a brace group's content or a single token.

    As TeX reads one: spaces, tabs and newlines before it are skipped, an escaped brace (`\\{`, `\\}`)
    inside a group is no brace of the group, and a closing brace is no argument; (None, start) where
    there is none. The one reader of both the terminal's rendering and the Anki export's MathJax.
    """
    i = start
    while i < len(latex) and latex[i] in " \t\n":
        i += 1
    if i >= len(latex) or latex[i] == "}":
        return None, start
    if latex[i] == "\\":
        command = _COMMAND.match(latex, i)
        if command is None:  # a backslash that ends the text
            return None, start
        return command.group(0), command.end()
    if latex[i] != "{":
        return latex[i], i + 1
    depth = 0
    j = i
    while j < len(latex):
        if latex[j] == "\\":
            j += 2
            continue
        depth += {"{": 1, "}": -1}.get(latex[j], 0)
        if depth == 0:
            return latex[i + 1 : j], j + 1
        j += 1
    return None, start


def _group(text: str, denominator: bool = False) -> str:
    """Parenthesise a fraction part unless it is a single symbol or already one group; a denominator
    that is a product too (`x/2h` reads as (x/2)·h)."""
    stripped = text.strip()
    word = r"[0-9.]+|[A-Za-z]" if denominator else r"[A-Za-z0-9.]+"
    if re.fullmatch(word + r"|\\[A-Za-z]+(\{[^{}]*\})?|\\partial\s*[^\s+\-]+", stripped) or _one_group(stripped):
        return stripped
    return f"({stripped})"


def _one_group(text: str) -> bool:
    """`(a+b)` is one group; `(a)(b)` is not."""
    depth = 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0:
            return i == len(text) - 1 and ch == ")"
    return False


def _scripts(latex: str) -> str:
    """`x^{2}` → x², `W_1` → W₁, `y^{(i)}` → y⁽ⁱ⁾; others stay readable as `_(...)`/`^(...)`."""

    def replace(match: re.Match) -> str:
        mark, argument = match.group(1), match.group(3) if match.group(2) is None else match.group(2)
        table = SUPERSCRIPT if mark == "^" else SUBSCRIPT
        if all(ch in table for ch in argument):
            return "".join(table[ch] for ch in argument)
        return f"{mark}({argument})" if len(argument) > 1 else f"{mark}{argument}"

    latex = re.sub(r"(\\[A-Za-z]+)(?=[_^])", r"\1{}", latex)  # \sum_i: keep the script off the command name
    return re.sub(r"(?<!\\)([_^])(?:\{([^{}]*)\}|([A-Za-z0-9*]))", replace, latex)
