r"""`{{ name }}` templates in card text, filled from a card's parameters and its verifier's figures.

Pure and code-free: the only syntax is `{{ identifier }}` or `{{ identifier:format-spec }}` (a
Python format spec such as `.3g`, applied to the number). Anything else between `{{` and `}}` is a
lint error, never evaluated. `\{{` is a literal `{{` (LaTeX's `x^{{2}}`, a Python f-string): the
importer writes every `{{` of imported text that way, so foreign text is never read as a field. A
name with no value renders as the caller's `missing` text, saying why (`MISSING`: no verification
yet; `NOT_PRODUCED`: verified, but its verifier records no such figure; `NOT_MEASURED`: the
verification failed first), so a learner never sees a number that no verifier produced.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

MISSING = "‹not yet verified›"
NOT_PRODUCED = "‹not produced by its verifier›"
NOT_MEASURED = "‹not measured: its verification failed›"

ESCAPED_OPEN = "\\{{"
_FIELD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\s*:\s*([^{}\s]{1,16}))?")  # on the stripped inner text: linear


class TemplateError(ValueError):
    """A `{{ ... }}` that is not `{{ name }}` or `{{ name:spec }}`; carries the offending text."""


@dataclass(frozen=True)
class Field:
    """One `{{ name:spec }}` in a text: where it starts (character offset), its name and format spec."""

    start: int
    end: int
    name: str
    spec: str


def _tokens(text: str) -> Iterator[tuple[int, int, str | None]]:
    r"""(start, end, inner) of each escaped `\{{` (inner None) and each `{{ inner }}` (up to the first `}}`),
    left to right, as the regex `\\\{\{|\{\{(.*?)\}\}` (re.S) finds them, but in linear time: that regex's
    lazy scan for `}}` from every `{{` none follows was quadratic (20,000 `{{` took 10 s to lint)."""
    position = 0
    while (start := text.find("{{", position)) >= 0:
        if start > position and text[start - 1] == "\\":
            yield start - 1, start + 2, None
            position = start + 2
            continue
        end = text.find("}}", start + 2)
        if end < 0:
            return  # this `{{` and every later one stay unmatched, as in the regex
        yield start, end + 2, text[start + 2 : end]
        position = end + 2


def fields(text: str) -> Iterator[Field]:
    """Every template field of `text`, in order; raises `TemplateError` for one that is not valid."""
    spans: list[tuple[int, int]] = []
    for start, end, inner in _tokens(text):
        if inner is None:  # an escaped, literal `{{`
            spans.append((start, end))
            continue
        parsed = _FIELD.fullmatch(inner.strip())  # `\s*` at both ends of the pattern backtracked quadratically
        if parsed is None:
            shown = inner if len(inner) <= 40 and len(inner.splitlines()) <= 1 else inner.splitlines()[0][:40] + "…"
            raise TemplateError(
                f"'{{{{{shown}}}}}' is not a template field: write {{{{ name }}}} or {{{{ name:.3g }}}}"
                " (no expressions, no code)"
            )
        name, spec = parsed[1], parsed[2] or ""
        if spec:
            _check_spec(spec, text[start:end])
        yield Field(start, end, name, spec)
        spans.append((start, end))
    if "{{" in _residue(text, spans):
        raise TemplateError("an unclosed '{{': close it with '}}' (or write \\{{ for a literal '{{')")


def _residue(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` without the given spans (the tokens found): a `{{` left in it is unclosed."""
    kept, position = [], 0
    for start, end in spans:
        kept.append(text[position:start])
        position = end
    kept.append(text[position:])
    return "".join(kept)


def names(text: str) -> list[str]:
    """The names a text cites, in order of first use (raises `TemplateError` like `fields`)."""
    return list(dict.fromkeys(field.name for field in fields(text)))


def line_of(text: str, offset: int) -> int:
    """0-based line of a character offset (the loader adds the line where the text starts)."""
    return text.count("\n", 0, offset)


def _check_spec(spec: str, shown: str) -> None:
    for number in (1.5, 2):
        try:
            format(number, spec)
            return
        except ValueError:
            continue
    raise TemplateError(f"'{shown}': {spec!r} is not a number format (try .3g, .2f or d)")


def render(text: str, values: Mapping[str, Any], missing: str = MISSING) -> str:
    """Fill every field from `values` (a parameter's value, or a figure `{"value", "text"}`).

    A field without a value renders as `missing`; a text that is not a valid template (only possible
    for a deck that skipped lint) is returned unchanged rather than half-filled.
    """
    try:
        found = list(fields(text))
    except TemplateError:
        return text
    out, position = [], 0
    for field in found:
        out.append(_unescape(text[position : field.start]))
        value = values.get(field.name)
        out.append(missing if value is None else _show(value, field.spec))
        position = field.end
    out.append(_unescape(text[position:]))
    return "".join(out)


def escape(text: str) -> str:
    """Foreign text (an import) made template-safe: every `{{` becomes a literal `\\{{`."""
    return text.replace("{{", ESCAPED_OPEN)


def _unescape(literal: str) -> str:
    return literal.replace(ESCAPED_OPEN, "{{")


def _show(value: Any, spec: str) -> str:
    if isinstance(value, Mapping):  # a figure: its number for a spec, else the verifier's own text
        number, text = value.get("value"), str(value.get("text", value.get("value", "")))
    else:
        number, text = value, format_value(value)
    if spec and isinstance(number, int | float) and not isinstance(number, bool):
        try:
            return format(int(number) if spec.endswith("d") and float(number).is_integer() else number, spec)
        except ValueError:
            return text
    return text


def format_value(value: Any) -> str:
    """A parameter as a learner reads it: 3, 0.25, True, (3, 5)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.6g}"
    if isinstance(value, list | tuple):
        return "(" + ", ".join(format_value(v) for v in value) + ")"
    return str(value)
