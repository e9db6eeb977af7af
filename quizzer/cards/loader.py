"""Load and lint deck files, reporting every problem as `path:line:col: message`.

`tomllib` gives no positions for values, so `_KeyLocator` scans the text once for table headers
and `key =` lines and maps pydantic's error locations (`cards.3.answer.value`) back to lines.

A deck file is hostile input: sizes are bounded before anything is parsed (`deckfiles.MAX_DECK_BYTES`, then
integer range and finite floats on the parsed values before validation; formulas by the checker's
bounded parser), only
regular files are opened (a FIFO or a device never blocks the reader), and whatever still escapes
the parser (RecursionError, MemoryError) becomes a problem of that file, never a traceback.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import json
import math
import re
import sys
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path
from stat import S_ISREG

from pydantic import BaseModel, ValidationError

from quizzer.cards import deckcache
from quizzer.cards.deck import (
    ANSWER_KINDS,
    PARAM_KINDS,
    BooleanAnswer,
    Card,
    ChoiceAnswer,
    ChoicesParam,
    CodeAnswer,
    Deck,
    Example,
    ExpressionAnswer,
    NumericAnswer,
    Part,
    RangeParam,
    ShapeAnswer,
    TensorAnswer,
    TextAnswer,
)
from quizzer.cards.deckfiles import (
    DeckError,
    LoadedDeck,
    Problem,
    classify_target,
    deck_files,
    read_deck_text,
    verifiers_root_for,
)
from quizzer.core import mathtext, templates
from quizzer.core.checking import shorten as checking_shorten
from quizzer.core.safetext import BIDI, CONTROL
from quizzer.paths import default_db
from quizzer.verify.sources import Facts, facts, local_sources

SCHEMA_DIRECTIVE = "#:schema"

INTEGER_RANGE = (-(2**63), 2**63 - 1)
# Problems listed per deck file: 50,000 unknown keys took 2.7 s (a "did you mean" search each) and printed
# 50,000 lines; the first ones say what is wrong, the count says how much.
MAX_PROBLEMS = 50
"""Integers a deck may hold: what SQLite stores (daily limits end up in queries)."""
_SHOWN_INPUT_CHARS = 60


def load_deck(path: Path | str, *, check_verifiers: bool = True, ids_only: bool = False) -> LoadedDeck:
    """The validated deck, or `DeckError` with every problem.

    `check_verifiers=False` skips resolving and parsing each card's verifier file: for the review app,
    where a broken verifier reference is the verification badge's business, not a reason to hide a deck.
    `ids_only` (with `check_verifiers=False`): from the deck cache, the deck's header and card ids
    without its cards' text (`deckcache.lookup`), for commands that only count, like `quizzer due`.
    """
    path = Path(path)
    deck, problems = _load(path, check_verifiers, ids_only and not check_verifiers)
    if problems or deck is None:
        raise DeckError(problems)
    return LoadedDeck(deck, path, verifiers_root_for(path))


def lint(path: Path | str) -> list[Problem]:
    """Every problem of the deck file; for a deck that loads, also its math that cannot be read (shown as
    written in the terminal, an error in Anki's MathJax), which does not keep the deck from loading."""
    path = Path(path)
    deck, problems = _load(path)
    if deck is None or not any("$" in text for _, text in _math_texts(deck)):
        return problems
    text, problem = read_deck_text(path, str(path))
    return problems + ([problem] if problem else _math_problems(str(path), _KeyLocator(text), deck))


def _load(path: Path, check_verifiers: bool = True, ids_only: bool = False) -> tuple[Deck | None, list[Problem]]:
    shown = str(path)
    text, problem = read_deck_text(path, shown)
    if problem is not None:
        return None, [problem]
    try:
        cached = deckcache.lookup(path, text, ids_only=ids_only)
        if cached is not None:  # parsed and validated before, from this very text
            root = verifiers_root_for(path) if check_verifiers else None
            problems = _semantic_problems(shown, _KeyLocator(text), cached, root) if root else []
            return (None if problems else cached), problems
        deck, problems = _parse_and_validate(shown, text, path, check_verifiers)
        if deck is not None:
            deckcache.remember(path, text, deck)
        return deck, problems
    except (RecursionError, MemoryError):  # the bounds below keep these out; if one still escapes, it is this file's
        message = "too deeply nested or too large to check; flatten the values here or split the file"
        return None, [Problem(shown, *_deepest_point(text), message)]
    except Exception as error:  # noqa: BLE001 - a check of ours that failed on this file: its problem, not a traceback
        return None, [Problem(shown, 1, 1, internal_error_message(error))]


INTERNAL_ERROR = "quizzer could not check this file"
"""How a check that raised (a bug in quizzer, not in the deck) begins its message; the fuzz tests look for it."""


def internal_error_message(error: BaseException) -> str:
    detail = " ".join(str(error).split())[:100]
    return f"{INTERNAL_ERROR} ({type(error).__name__}: {detail}); please report it with the file attached"


def _parse_and_validate(shown: str, text: str, path: Path, check_verifiers: bool) -> tuple[Deck | None, list[Problem]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        return None, [_syntax_problem(shown, text, e)]
    except ValueError:  # tomllib's int() of a literal past Python's digit limit
        line, col = _long_number_point(text)
        return None, [Problem(shown, line, col, "number too large; a deck's integers lie within ±2**63")]
    locator = _KeyLocator(text)
    problems = _bound_problems(shown, locator, data)
    if problems:
        return None, _listed(shown, problems)
    try:
        deck = Deck.model_validate(data)
    except ValidationError as e:
        errors = e.errors()
        problems = sorted({_validation_problem(shown, locator, err) for err in errors[:MAX_PROBLEMS]})
        return None, problems + _not_listed(shown, len(errors) - MAX_PROBLEMS)
    problems = _semantic_problems(shown, locator, deck, verifiers_root_for(path) if check_verifiers else None)
    return (None if problems else deck), problems


def _listed(shown: str, problems: list[Problem]) -> list[Problem]:
    """The first `MAX_PROBLEMS` of a file's problems, and a line saying how many more there are."""
    return problems[:MAX_PROBLEMS] + _not_listed(shown, len(problems) - MAX_PROBLEMS)


def _not_listed(shown: str, more: int) -> list[Problem]:
    return [Problem(shown, 1, 1, f"and {more} more problem(s) not listed; fix these first", more)] if more > 0 else []


def _bound_problems(shown: str, locator: _KeyLocator, data: dict) -> list[Problem]:
    """Values too large to hand to validation (integers SQLite cannot hold, inf and nan) and text that
    holds a control character (`CONTROL`).

    Walks the parsed document without recursion (its depth is whatever tomllib accepted). Formulas
    are bounded where they are parsed, by `quizzer.core.checking` (length, depth, size), for typed
    answers and deck values alike.
    """
    problems = []
    stack: list[tuple[tuple, object]] = [((), data)]
    while stack:
        loc, value = stack.pop()
        if isinstance(value, dict):
            stack.extend(((*loc, key), item) for key, item in value.items())
            problems += [_control_problem(shown, locator, (*loc, key), key) for key in value if CONTROL.search(key)]
        elif isinstance(value, str):
            if CONTROL.search(value):
                problems.append(_control_problem(shown, locator, loc, value))
        elif isinstance(value, list):
            stack.extend(((*loc, index), item) for index, item in enumerate(value))
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int) and not INTEGER_RANGE[0] <= value <= INTEGER_RANGE[1]:
            message = f"{_describe(loc)}: number too large; a deck's integers lie within ±2**63"
            problems.append(Problem(shown, *locator.find(loc), message))
        elif isinstance(value, float) and not math.isfinite(value):
            message = f"{_describe(loc)}: {value} is not allowed; write a finite number"
            problems.append(Problem(shown, *locator.find(loc), message))
    return sorted(problems)


def _control_problem(shown: str, locator: _KeyLocator, loc: tuple, text: str) -> Problem:
    found = CONTROL.search(text)[0]
    code = ord(found)
    message = (
        f"{_describe(loc)}: bidi control U+{code:04X} in the text; a terminal would reorder the rest of the"
        " line with it: remove it"
        if BIDI.match(found)
        else f"{_describe(loc)}: control character U+{code:04X} in the text; a terminal would obey it"
        " (clear the screen, retitle the window): remove it"
    )
    return Problem(shown, *locator.find(loc), message)


def _long_number_point(text: str) -> tuple[int, int]:
    """Where the first run of digits longer than Python converts starts (tomllib says only ValueError)."""
    match = re.search(rf"[0-9_]{{{sys.get_int_max_str_digits()},}}", text)
    return _line_col(text, match.start()) if match else (1, 1)


def _deepest_point(text: str) -> tuple[int, int]:
    """Roughly where brackets nest deepest (strings not skipped): the place to look after a RecursionError."""
    depth = deepest = offset = 0
    for index, char in enumerate(text):
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest, offset = depth, index
        elif char in "]}":
            depth -= 1
    return _line_col(text, offset)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _syntax_problem(shown: str, text: str, error: tomllib.TOMLDecodeError) -> Problem:
    message = str(error)
    match = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if match:
        line, col = int(match[1]), int(match[2])
    else:  # "(at end of document)"
        line, col = text.count("\n") + 1, 1
    message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
    return Problem(shown, line, col, f"TOML syntax error: {message}")


# ------------------------------------------------------------------ validation errors → lines


def _validation_problem(shown: str, locator: _KeyLocator, err: dict) -> Problem:
    loc = _strip_union_tags(err["loc"])
    line, col = locator.find(loc)
    where = _describe(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        key = loc[-1]
        known = _fields_at(loc[:-1], err["loc"])
        hint = difflib.get_close_matches(str(key), known, n=1)
        fix = f"did you mean '{hint[0]}'?" if hint else "allowed: " + ", ".join(known)
        return Problem(shown, line, col, f"unknown key '{key}'{_in(loc[:-1])}; {fix}")
    if kind == "missing":
        return Problem(shown, line, col, f"missing key '{loc[-1]}'{_in(loc[:-1])}; add it")
    if kind == "union_tag_invalid":
        return Problem(shown, line, col, f"{where}: unknown answer kind; use one of " + ", ".join(ANSWER_KINDS))
    if kind == "union_tag_not_found":
        return Problem(shown, line, col, f"{where}: missing 'kind'; use one of " + ", ".join(ANSWER_KINDS))
    message = err["msg"].removeprefix("Value error, ")
    got = err.get("input")
    shown_input = "" if isinstance(got, dict | list) or got is None else f" (got {_clip(repr(got))})"
    return Problem(shown, line, col, f"{where}: {message}{shown_input}")


_ANSWER_MODELS = (
    NumericAnswer,
    BooleanAnswer,
    ChoiceAnswer,
    ExpressionAnswer,
    ShapeAnswer,
    TensorAnswer,
    CodeAnswer,
    TextAnswer,
)


def _strip_union_tags(loc: tuple) -> tuple:
    """pydantic puts the discriminator value into the location: cards.0.answer.numeric.value."""
    out = []
    for i, part in enumerate(loc):
        if i > 0 and loc[i - 1] == "answer" and part in ANSWER_KINDS:
            continue
        if i > 1 and loc[i - 2] == "params" and part in PARAM_KINDS:
            continue
        out.append(part)
    return tuple(out)


def _fields_at(loc: tuple, raw_loc: tuple) -> list[str]:
    """The keys allowed where an unknown key was found (for the did-you-mean)."""
    by_kind = dict(zip(ANSWER_KINDS, _ANSWER_MODELS, strict=True))
    model: type[BaseModel] = Deck
    if loc[:1] == ("cards",) and len(loc) >= 2:
        model = Card
        rest = loc[2:]
        if rest[:1] == ("parts",) and len(rest) >= 2:
            model, rest = Part, rest[2:]
        if rest[:1] == ("answer",):
            tag = next((p for p in raw_loc if p in by_kind), None)
            model = by_kind.get(tag, NumericAnswer)
        elif rest[:1] == ("params",) and len(rest) >= 2:
            model = ChoicesParam if "choices" in raw_loc else RangeParam
        elif rest[:1] == ("examples",):
            model = Example
    return [field.alias or name for name, field in model.model_fields.items()]


def _clip(text: str) -> str:
    """At most `_SHOWN_INPUT_CHARS` of a value echoed in a message (a deck's value may be 1 MiB long)."""
    return text if len(text) <= _SHOWN_INPUT_CHARS else text[: _SHOWN_INPUT_CHARS - 1] + "…"


def _describe(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "deck"


def _in(loc: tuple) -> str:
    if not loc:
        return " at the top level"
    if loc[0] == "cards" and len(loc) >= 2:
        rest = ".".join(str(p) for p in loc[2:])
        return f" in card #{int(loc[1]) + 1}" + (f" ({rest})" if rest else "")
    return f" in {_describe(loc)}"


class _KeyLocator:
    """Maps key paths like ('cards', 2, 'answer', 'value') to (line, col) in the TOML text.

    The scan runs on the first `find`: a clean deck never needs positions.
    """

    # Linear: no two neighbouring quantifiers can share characters (the old lazy name class with spaces
    # between two `\s*` backtracked cubically: a 5,000-character line took 37 s).
    _HEADER = re.compile(r"\s*(\[\[?)([A-Za-z0-9_.\-\"' ]*)\]\]?[ \t]*(?:#.*)?")
    _KEY = re.compile(r"^(\s*)([A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')\s*=")

    def __init__(self, text: str):
        self.text = text

    @functools.cached_property
    def positions(self) -> dict[tuple, tuple[int, int]]:
        text = self.text
        positions: dict[tuple, tuple[int, int]] = {}
        current: dict[tuple, int] = {}  # each array of tables (resolved path) → index of its latest element
        table: tuple = ()
        in_multiline: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_multiline:
                if line.count(in_multiline) % 2 == 1:
                    in_multiline = None
                continue
            header = self._HEADER.fullmatch(line)
            if header and header[2].strip():
                names = tuple(p.strip().strip("\"'") for p in header[2].split("."))
                table = self._resolve(names, header[1] == "[[", current)
                positions.setdefault(table, (number, 1))
                continue
            key = self._KEY.match(line)
            if key:
                positions.setdefault((*table, key[2].strip("\"'")), (number, len(key[1]) + 1))
                for quote in ('"""', "'''"):
                    if line.count(quote) % 2 == 1:
                        in_multiline = quote
                        break
        return positions

    @staticmethod
    def _resolve(names: tuple[str, ...], new_element: bool, current: dict[tuple, int]) -> tuple:
        """`[[cards.parts]]` → ('cards', 3, 'parts', 1): each array of tables indexed within its parent element."""
        path: tuple = ()
        for position, name in enumerate(names):
            path = (*path, name)
            if new_element and position == len(names) - 1:
                current[path] = current.get(path, -1) + 1
                path = (*path, current[path])
            elif path in current:
                path = (*path, current[path])
        return path

    @functools.cached_property
    def lines(self) -> list[str]:
        """The text's lines, split once (each card's template check looks one up: splitting per call was quadratic)."""
        return self.text.splitlines()

    def line_text(self, line: int) -> str:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""

    def find(self, loc: tuple) -> tuple[int, int]:
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.positions:
                return self.positions[loc[:end]]
        return (1, 1)


# ------------------------------------------------------------------ checks beyond the schema


def _semantic_problems(shown: str, locator: _KeyLocator, deck: Deck, root: Path | None) -> list[Problem]:
    """Duplicate card ids, and (with a verifiers `root`) verifier references that do not resolve."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, card in enumerate(deck.cards):
        if card.id in seen:
            line, col = locator.find(("cards", index, "id"))
            first, _ = locator.find(("cards", seen[card.id], "id"))
            problems.append(
                Problem(shown, line, col, f"duplicate card id '{card.id}' (first at line {first}); rename one")
            )
        else:
            seen[card.id] = index
        verifier_message = verifier_problem(root, card) if card.verifier and root is not None else None
        if verifier_message:
            line, col = locator.find(("cards", index, "verifier"))
            problems.append(Problem(shown, line, col, verifier_message))
        figures = None if root is None or verifier_message else _figure_candidates(root, card)
        problems += _template_problems(shown, locator, index, card, figures)
    return problems


def _template_problems(
    shown: str, locator: _KeyLocator, index: int, card: Card, figures: frozenset[str] | None
) -> list[Problem]:
    """Invalid `{{ ... }}` fields, and (when `figures` is known) names that are neither a parameter nor a figure.

    A figure is known only once its verifier runs, so a name counts as a possible figure when the
    verifier's source (or a local module it imports) mentions it as a string; lint then catches a
    mistyped parameter at its line, and `verify --strict` a figure that is never produced.
    """
    problems = []
    for loc, text in card.template_texts():
        line, col = locator.find(("cards", index, *loc))
        first = line + (1 if locator.line_text(line).rstrip().endswith(('"""', "'''")) else 0)
        try:
            found = list(templates.fields(text))
        except templates.TemplateError as error:
            problems.append(Problem(shown, line, col, f"cards.{index}.{_describe(loc)}: {error}"))
            continue
        for field in found:
            if field.name in card.params or figures is None or field.name in figures:
                continue
            where = first + templates.line_of(text, field.start)
            hint = difflib.get_close_matches(field.name, list(card.params), n=1)
            known = ", ".join(card.params) or "none"
            fix = f"did you mean '{hint[0]}'?" if hint else f"parameters: {known}"
            source = (
                f"and its verifier {card.verifier_file} never names such a figure"
                if card.verifier
                else ("and a card without a verifier has no figures")
            )
            problems.append(
                Problem(shown, where, 1, f"'{{{{ {field.name} }}}}' is not a parameter of this card {source}; {fix}")
            )
    return problems


def _math_texts(deck: Deck) -> Iterable[tuple[tuple, str]]:
    """(location in the deck, text) of every text shown with its math rendered."""
    if deck.description:
        yield ("description",), deck.description
    for index, card in enumerate(deck.cards):
        for loc, text in card.template_texts():
            yield ("cards", index, *loc), text
        parts = card.declared_parts
        answers = (
            [(("answer",), card.answer)]
            if parts is None
            else [(("parts", n, "answer"), p.answer) for n, p in enumerate(parts)]
        )
        for where, answer in answers:
            for n, option in enumerate(getattr(answer, "options", None) or []):
                yield ("cards", index, *where, "options", n), str(option)


def _math_problems(shown: str, locator: _KeyLocator, deck: Deck) -> list[Problem]:
    """Math spans the terminal shows as written because it cannot read them (`\\frac{a}`, `{x`, `x^`, macros
    expanding without end), at the span's line and column."""
    problems = []
    for loc, written in _math_texts(deck):
        text = templates.render(written, {}, missing="1")  # as shown: `\\{{` is `{{`, a field some number
        for offset, span, reason in mathtext.math_problems(text, deck.macros):
            line, col = _text_point(locator, loc, text, offset, span)
            message = f"{_describe(loc)}: math {checking_shorten(span, 40)}: {reason}; shown as written"
            problems.append(Problem(shown, line, col, message))
    return _listed(shown, problems)


def _text_point(locator: _KeyLocator, loc: tuple, text: str, offset: int, span: str) -> tuple[int, int]:
    """Where `text[offset:]` (`span` starts there) lies in the file: the line from the value's key (a text in
    triple quotes begins on the line after), the column of the span's first characters, as written (a literal
    string) or escaped (a basic string), counting the same characters earlier on the line; else the key's."""
    line, col = locator.find(loc)
    multiline = locator.line_text(line).rstrip().endswith(('"""', "'''"))
    lines_before = text.count("\n", 0, offset)
    line += (1 if multiline else 0) + lines_before
    written = locator.line_text(line)
    head = span[:12].split("\n")[0]
    earlier = text.count(head, text.rfind("\n", 0, offset) + 1, offset)
    for form in (head, json.dumps(head, ensure_ascii=False)[1:-1]):
        found = -1 if multiline or lines_before else col - 2
        for _ in range(earlier + 1):
            found = written.find(form, found + 1)
        if found >= 0:
            return line, found + 1
    return line, 1 if multiline or lines_before else col


def _figure_candidates(root: Path, card: Card) -> frozenset[str]:
    """Every identifier-like string constant in the card's verifier and the local modules it imports."""
    if not card.verifier:
        return frozenset()
    names: set[str] = set()
    for source in local_sources(root / card.verifier_file, root):
        with contextlib.suppress(SyntaxError, ValueError, OSError, RecursionError, MemoryError):  # names none
            names |= _facts(source).strings
    return frozenset(names)


def _facts(source: Path) -> Facts:
    """A verifier source's functions and strings, parsed once per content (kept beside the deck cache)."""
    return facts(source, default_db().parent / "verifier-facts")


def _clip(path: Path) -> str:
    """A path as a problem shows it: a deck can name a verifier path of any length."""
    return checking_shorten(str(path), 120)


def verifier_problem(root: Path, card: Card) -> str | None:
    """Why the card's verifier reference is unusable, or None when it is fine."""
    relative = card.verifier_file or ""
    if Path(relative).is_absolute() or ".." in Path(relative).parts:
        return f"verifier '{card.verifier}' must be a path inside {root}/ (no '..', not absolute)"
    target = root / relative
    try:
        resolved = target.resolve(strict=True)
        regular = S_ISREG(resolved.stat().st_mode)  # a FIFO would block the reader below
    except FileNotFoundError:
        return f"verifier file {_clip(target)} does not exist; create it or fix the path"
    except (OSError, RuntimeError) as e:  # too long a name, a symlink loop, a folder without permission
        return f"verifier file {_clip(target)} cannot be opened ({getattr(e, 'strerror', None) or e})"
    if not resolved.is_relative_to(root.resolve()):
        return f"verifier '{card.verifier}' resolves to {_clip(resolved)}, outside {root}/ (symlink out)"
    if not regular:
        return f"verifier {_clip(target)} is not a regular file (a folder, FIFO or device); a verifier is a .py file"
    try:
        functions = _facts(resolved).functions
    except SyntaxError as e:
        return f"verifier {_clip(target)}" + (f":{e.lineno}" if e.lineno else "") + f": syntax error: {e.msg}"
    except (OSError, ValueError) as e:  # unreadable, not UTF-8, a NUL byte
        return f"verifier {_clip(target)} cannot be read as Python source ({checking_shorten(str(e), 80)})"
    except (RecursionError, MemoryError):
        return f"verifier {_clip(target)} is too deeply nested to parse"
    if card.verifier_function not in functions:
        return f"verifier {target} has no function '{card.verifier_function}'; define it or name another with ::"
    return None


class SelectionError(ValueError):
    """A command-line target that names no deck or card."""


def select(
    targets: Iterable[str],
    default_folder: Path,
    *,
    on_broken: Callable[[Path, DeckError], None] | None = None,
    check_verifiers: bool = True,
    ids_only: bool = False,
) -> list[tuple[LoadedDeck, list[Card]]]:
    """Resolve `decks/cnn.toml`, `cnn`, `cnn/receptive-field`, `decks/cnn.toml::receptive-field` or a folder.

    The one resolver of deck and card names: every command goes through it. Deck ids are looked up
    in `default_folder` (and among deck files named on the same command line); no targets means every
    deck there. A broken deck raises `DeckError`, unless `on_broken` is given: then it is reported to
    it and skipped, so the other decks stay usable. A target that matches nothing raises
    `SelectionError`. A deck file elsewhere that fails to load never stops an id from resolving.
    `ids_only`: whole decks named by file or folder load with their card ids only (see `load_deck`).
    """
    targets = list(targets)
    by_id: dict[str, LoadedDeck] | None = None
    unreadable: list[Path] = []
    named_paths = [Path(t.split("::")[0]) for t in targets if t.split("::")[0].endswith(".toml")]

    def load(path: Path, whole: bool) -> LoadedDeck | None:
        try:
            return load_deck(path, check_verifiers=check_verifiers, ids_only=ids_only and whole)
        except DeckError as error:
            if on_broken is None:
                raise
            on_broken(path, error)
            return None

    def deck_by_id(deck_id: str) -> LoadedDeck:
        """Decks named on the same command line first, then those in `default_folder`."""
        nonlocal by_id
        if by_id is None:
            by_id = {}
            for path in [*deck_files([default_folder]), *named_paths]:
                if not path.exists():
                    continue
                try:
                    loaded = load_deck(path, check_verifiers=check_verifiers)
                except DeckError:
                    unreadable.append(path)  # reported if it is the deck asked for, see below
                    continue
                by_id[loaded.deck.id] = loaded
        if deck_id not in by_id:
            hint = difflib.get_close_matches(deck_id, list(by_id), n=1)
            broken = f"; {len(unreadable)} deck file(s) there do not load (`quizzer lint` says why)"
            raise SelectionError(
                f"no deck {deck_id!r} in {default_folder}"
                + (f"; did you mean {hint[0]!r}?" if hint else "")
                + (broken if unreadable else "")
            )
        return by_id[deck_id]

    chosen: dict[Path, tuple[LoadedDeck, list[Card]]] = {}
    for target in targets or [str(default_folder)]:
        kind, name, card_id = classify_target(target)
        if kind == "folder":
            decks = [load(p, card_id is None) for p in deck_files([Path(name)])]
        elif kind == "file":
            decks = [load(Path(name), card_id is None)]
        else:
            decks = [deck_by_id(name)]
        for loaded in filter(None, decks):
            entry = chosen.setdefault(loaded.path.resolve(), (loaded, []))
            if card_id:
                try:
                    card = deckcache.find_card(loaded.deck, card_id)
                except KeyError:
                    ids = list(deckcache.card_ids(loaded.deck))
                    hint = difflib.get_close_matches(card_id, ids, n=1)
                    where = f" ({loaded.path})" if kind == "id" else ""  # a project's deck shadows a bundled one
                    raise SelectionError(
                        f"deck {loaded.deck.id!r}{where} has no card {card_id!r}"
                        + (f"; did you mean {hint[0]!r}?" if hint else "")
                    ) from None
                if not isinstance(entry[1], deckcache.LazyCards) and card not in entry[1]:  # lazy: the whole deck
                    entry[1].append(card)
            else:  # the whole deck: a cached deck's cards stay unbuilt until used
                cards = loaded.deck.cards
                lazy = isinstance(cards, deckcache.LazyCards)
                chosen[loaded.path.resolve()] = (loaded, cards if lazy else list(cards))
    return list(chosen.values())


def duplicate_id_problem(path: Path, deck_id: str, first: Path) -> Problem:
    """The problem of a deck file whose id an earlier one (in sort order) already declares: its progress would
    mix with the other's, so it is skipped (lint reports it; the app lists it)."""
    line, col = 1, 1
    with contextlib.suppress(OSError, UnicodeDecodeError):
        line, col = _KeyLocator(path.read_text(encoding="utf-8")).find(("id",))
    return Problem(str(path), line, col, f"deck id '{deck_id}' is already used by {first}; rename one")


def card_line(loaded: LoadedDeck, card_id: str) -> int:
    """The line of a card's `[[cards]]` table in its deck file (1 if unknown): CI annotations, the editor."""
    index = next((i for i, card in enumerate(loaded.deck.cards) if card.id == card_id), None)
    if index is None:
        return 1
    try:
        stat = loaded.path.stat()
    except OSError:
        return 1
    return _card_lines(loaded.path.resolve(), stat.st_mtime_ns, stat.st_size).get(index, 1)


@functools.lru_cache(maxsize=64)
def _card_lines(path: Path, mtime_ns: int, size: int) -> dict[int, int]:
    """Line of each `[[cards]]` table by card index (scanned once per file version)."""
    try:
        positions = _KeyLocator(path.read_text(encoding="utf-8")).positions
    except (OSError, UnicodeDecodeError):
        return {}
    return {loc[1]: line for loc, (line, _) in positions.items() if len(loc) == 2 and loc[0] == "cards"}
