"""`quizzer new`: add a card stanza to a deck and a verifier stub that fails until it is written.

The stanza is valid for its answer kind (so `quizzer lint` passes at once) and holds TODO text to
replace; the stub makes a claim that does not hold, so `quizzer verify` fails until the author
computes the answer with code. Nothing is ever overwritten: an existing card id is refused, an
existing verifier file is kept.
"""

from __future__ import annotations

import contextlib
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from quizzer.cards.deck import ANSWER_KINDS, SLUG, json_schema
from quizzer.cards.deckfiles import MAX_DECK_BYTES
from quizzer.cards.loader import SCHEMA_DIRECTIVE, deck_files, lint, verifiers_root_for
from quizzer.files import NotARegularFile, TooLarge, read_regular


class AuthoringError(Exception):
    """A `quizzer new` request that cannot be carried out; the message says why and what to do."""


@dataclass(frozen=True)
class NewCard:
    """What `create_card` wrote, for the command to report."""

    deck_id: str
    card_id: str
    kind: str
    deck_path: Path
    deck_created: bool
    card_line: int
    verifier_ref: str
    verifier_path: Path
    verifier_created: bool
    schema_path: Path | None

    @property
    def key(self) -> str:
        return f"{self.deck_id}/{self.card_id}"


def verifier_module_name(card_id: str) -> str:
    """`receptive-field` → `receptive_field`: verifier files are importable Python module names."""
    return card_id.replace("-", "_")


def resolve_deck(deck: str, root: Path) -> tuple[Path, str | None]:
    """The deck file meant by DECK (a path, or an id looked up in `root/decks`) and its id if it exists.

    A path is anything ending in `.toml` or containing a slash; an id names `root/decks/<id>.toml`
    unless another file in that folder already declares `id = "<id>"`.
    """
    if deck.endswith(".toml") or "/" in deck or "\\" in deck:
        path = Path(deck)
        if path.suffix != ".toml":
            raise AuthoringError(f"{deck}: a deck file must end in .toml (or give a deck id such as 'cnn')")
        return path, (_declared_id(path) if path.exists() else None)
    if not re.fullmatch(SLUG, deck):
        raise AuthoringError(
            f"deck id {deck!r} must be lower-case letters, digits and hyphens (e.g. 'my-deck'), "
            "or give a path ending in .toml"
        )
    folder = root / "decks"
    if folder.is_dir():
        for path in deck_files([folder]):
            if _declared_id(path, quiet=True) == deck:
                return path, deck
    return folder / f"{deck}.toml", None


def _declared_id(path: Path, quiet: bool = False) -> str | None:
    try:
        data = tomllib.loads(read_regular(path, MAX_DECK_BYTES).decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        if quiet:
            return None
        problem = f"TOML syntax error ({e})" if isinstance(e, tomllib.TOMLDecodeError) else f"cannot read it ({e})"
        raise AuthoringError(f"{path}: {problem}; fix it first (quizzer lint {path})") from None
    deck_id = data.get("id")
    return deck_id if isinstance(deck_id, str) else None


def create_card(
    deck: str, card_id: str, kind: str, root: Path | str = ".", title: str | None = None, params: bool = False
) -> NewCard:
    """Append a `kind` card `card_id` to DECK (creating the deck file) and write its verifier stub.

    `params`: a parametric card (`[cards.params]`, a worked `[[cards.examples]]`, a verifier that
    reads `ctx.params`).

    Raises `AuthoringError` (nothing written) for a bad id or kind, an unreadable deck, a card id
    the deck already has, or a path the system refuses to look at (a name too long, a symlink loop).
    """
    try:
        return _create_card(deck, card_id, kind, Path(root), title, params)
    except OSError as e:  # looking at a path: ENAMETOOLONG, ELOOP, EACCES (writing has its own sentence)
        raise AuthoringError(f"cannot use {e.filename or deck}: {e.strerror or e}; nothing was written") from None
    except RuntimeError as e:  # pathlib's resolve() on a symlink loop (Python 3.11)
        raise AuthoringError(f"{e}; nothing was written (replace the link with a real file or folder)") from None


def _create_card(deck: str, card_id: str, kind: str, root: Path, title: str | None, params: bool) -> NewCard:
    if kind not in ANSWER_KINDS:
        raise AuthoringError(f"unknown answer kind {kind!r}; use one of {', '.join(ANSWER_KINDS)}")
    if params and kind == "code":
        raise AuthoringError("a code card runs its own snippet and cannot be parametric; drop --params")
    if not re.fullmatch(SLUG, card_id):
        raise AuthoringError(
            f"card id {card_id!r} must be lower-case letters, digits and hyphens, e.g. 'receptive-field'"
        )
    deck_path, deck_id = resolve_deck(deck, root)
    creating = not deck_path.exists()
    if creating:
        deck_id = deck_path.stem
        if not re.fullmatch(SLUG, deck_id):
            raise AuthoringError(
                f"{deck_path}: a new deck's file name is its id and must be lower-case letters, digits and "
                f"hyphens (e.g. my-deck.toml)"
            )
        text = ""
    else:
        try:
            text = read_regular(deck_path, MAX_DECK_BYTES).decode("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise AuthoringError(
                f"{deck_path}: cannot read it ({e}); fix it first (quizzer lint {deck_path})"
            ) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise AuthoringError(f"{deck_path}: TOML syntax error ({e}); fix it (quizzer lint) first") from None
        deck_id = data.get("id")
        if not isinstance(deck_id, str) or not re.fullmatch(SLUG, deck_id):
            raise AuthoringError(f'{deck_path}: the deck has no valid `id = "..."`; add one at the top first')
        ids = [c.get("id") for c in data.get("cards", []) if isinstance(c, dict)]
        if card_id in ids:
            line = _line_of_card(text, card_id)
            raise AuthoringError(
                f"{deck_path}:{line}: deck '{deck_id}' already has a card '{card_id}'; "
                "choose another id (nothing was changed)"
            )

    verifier_ref = f"{deck_id}/{verifier_module_name(card_id)}.py"
    verifiers_root = verifiers_root_for(deck_path)
    verifier_path = verifiers_root / verifier_ref

    header = ""
    if creating:
        header = deck_header(deck_id, title or deck_id.replace("-", " ").capitalize())
    separator = "\n" if text and not text.endswith("\n") else ""
    stanza = card_stanza(card_id, kind, deck_id, verifier_ref) + (PARAMS_STANZA if params else "")
    card_line = len((header or text + separator).splitlines()) + 2  # after the blank line that opens the stanza

    written = header + stanza if creating else text + separator + stanza
    try:
        tomllib.loads(written)
    except tomllib.TOMLDecodeError as e:  # e.g. a deck that declares `cards = [...]` inline
        raise AuthoringError(
            f"{deck_path}: cannot append a [[cards]] table to this file ({e}); "
            "write its cards as [[cards]] tables first (nothing was changed)"
        ) from None

    folder = deck_path.absolute().parent.resolve()  # the deck's own folder, not where a linked deck leads
    project = folder.parent if folder.name == "decks" else folder
    for target in (deck_path, verifier_path, deck_path.parent / "schema.json"):
        _refuse_link_out_of(project, target)
        _refuse_special_file(target)
    verifier_created = not verifier_path.exists()
    schema_path = None
    made: list[Path] = []  # what this call created, undone if the deck cannot be written after the stub
    try:  # the stub first: a deck never names a verifier file that is not there
        if verifier_created:
            made += _make_folders(verifier_path.parent)
            verifier_path.write_text(verifier_stub(deck_id, card_id, kind, verifier_ref, params), encoding="utf-8")
            made.append(verifier_path)
        made += _make_folders(deck_path.parent)
        deck_path.write_text(written, encoding="utf-8")
    except OSError as e:
        _undo(made)
        where = e.filename or deck_path
        raise AuthoringError(f"cannot write {where}: {e.strerror or e}; nothing was written") from None
    try:
        if creating or _points_to_local_schema(text):
            schema_path = refresh_schema(deck_path.parent)
    except OSError as e:  # the card is in: only the editors' schema is missing
        raise AuthoringError(f"cannot write {e.filename or deck_path}: {e.strerror or e}") from None

    return NewCard(
        deck_id,
        card_id,
        kind,
        deck_path,
        creating,
        card_line,
        verifier_ref,
        verifier_path,
        verifier_created,
        schema_path,
    )


def _make_folders(folder: Path) -> list[Path]:
    """`folder.mkdir(parents=True, exist_ok=True)`, returning the folders it created (outermost first)."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(exist_ok=True)
    return list(reversed(missing))


def _undo(made: list[Path]) -> None:
    """Remove what `create_card` wrote before a later write failed: the stub, then the folders it made."""
    for path in reversed(made):
        with contextlib.suppress(OSError):
            path.rmdir() if path.is_dir() else path.unlink()


def _refuse_special_file(target: Path) -> None:
    """Refuse to write `target` if it exists and is not a regular file: writing a FIFO blocks forever."""
    if target.exists() and not target.is_file():
        raise AuthoringError(
            f"{target} exists and is not a regular file (a folder, FIFO or device); nothing was written"
            " (remove or rename it)"
        )


def _refuse_link_out_of(project: Path, target: Path) -> None:
    """Refuse to write `target` if it, or a folder on its way, is a symlink leading out of `project`.

    A dangling link counts too: writing it would create its target wherever it points. The loader
    refuses verifier paths that leave `verifiers/` the same way.
    """
    resolved = target.resolve()
    if not resolved.is_relative_to(project.resolve()):
        raise AuthoringError(
            f"{target} is a symlink to {resolved}, outside the project {project}/; nothing was written"
            " (replace the link with a real file or folder)"
        )


def refresh_schema(folder: Path) -> Path | None:
    """Write `schema.json` into `folder` unless it is already current; the path if written."""
    path = folder / "schema.json"
    schema = json_schema()
    try:
        if read_regular(path, len(schema.encode()) + 1) == schema.encode():
            return None
    except (FileNotFoundError, TooLarge):
        pass
    except NotARegularFile as error:  # an OSError: each caller says it could not write here
        error.strerror = f"{path.name} exists and is not a regular file (a FIFO or device); remove it"
        error.filename = str(path)
        raise
    path.write_text(schema, encoding="utf-8")
    return path


def _points_to_local_schema(text: str) -> bool:
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    return first.startswith(SCHEMA_DIRECTIVE) and first.split()[-1] in ("./schema.json", "schema.json")


def _line_of_card(text: str, card_id: str) -> int:
    pattern = re.compile(r"^\s*id\s*=\s*[\"']" + re.escape(card_id) + r"[\"']")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return 1


def problems_after(new: NewCard) -> list[str]:
    """Lint the deck as written; a fresh stanza should never add a problem."""
    return [str(p) for p in lint(new.deck_path)]


# ---------------------------------------------------------------------- templates


def _toml(text: str) -> str:
    """A TOML basic string (JSON string escapes are valid TOML)."""
    return json.dumps(text, ensure_ascii=False)


def deck_header(deck_id: str, title: str) -> str:
    return (
        f"{SCHEMA_DIRECTIVE} ./schema.json\n"
        f"id = {_toml(deck_id)}\n"
        f"title = {_toml(title)}\n"
        f'description = ""\n'
        "# LaTeX macros used in prompts, e.g. macros = { vec = '\\boldsymbol{#1}' }\n"
        "macros = {}\n"
    )


_ANSWERS = {
    "numeric": (
        "Typed as a decimal, a fraction a/b, a percentage or in e-notation. "
        "The verifier's computed number must equal `value` within `tolerance`.",
        'value = 0\ntolerance = 0\nunit = ""\n',
    ),
    "boolean": (
        "Typed as true/false/yes/no. The verifier returns True or False.",
        "value = true\n",
    ),
    "choice": (
        "The learner picks one of `options` (by text, prefix or number); `value` is the right one.",
        'options = ["TODO: first option", "TODO: second option"]\nvalue = "TODO: first option"\n',
    ),
    "expression": (
        "A formula in `variables`; typed forms are compared for equivalence. The verifier returns\n"
        "# measurements (quizzer.verifier.samples) that the formula must reproduce.",
        'value = "x"\nvariables = ["x"]\n# domain = { x = [0.0, 1.0] }\n',
    ),
    "shape": (
        "A tensor shape, typed as whole numbers in parentheses or torch.Size([...]). "
        "The verifier returns tuple(t.shape).",
        "value = [1]\n",
    ),
    "tensor": (
        "A tensor formula in `variables` (numpy-like: @, .T, sum(x, axis=0), sigmoid...). The verifier returns\n"
        "# sample tensors and their autograd truth (quizzer.verifier.tensor_samples) that the formula must reproduce.",
        'value = "x"\nvariables = ["x"]\n',
    ),
    "code": (
        "A snippet, self-graded; the verifier runs exactly this code (ctx.run_snippet()).",
        'language = "python"\n'
        "value = '''\n"
        'assert False, "TODO: write the snippet the learner should produce"\n'
        "'''\n",
    ),
    "text": (
        "A free explanation, self-graded; the verifier's claims are the measurable facts it rests on.",
        "value = '''\nTODO: the model answer (Markdown, math between $...$).\n'''\n",
    ),
}


def card_stanza(card_id: str, kind: str, deck_id: str, verifier_ref: str) -> str:
    comment, fields = _ANSWERS[kind]
    return (
        "\n[[cards]]\n"
        f"id = {_toml(card_id)}\n"
        'source = ""  # where the question comes from, e.g. "CNNs, question 3"\n'
        f"tags = [{_toml(deck_id)}]\n"
        "prompt = '''\n"
        "TODO: the question, in Markdown. Math between `$...$` or `$$...$$`, e.g. $r = k + (k-1)(L-1)$.\n"
        "'''\n"
        "explanation = '''\n"
        "TODO: why the answer is right, and what the verifier measured to show it.\n"
        "'''\n"
        f"verifier = {_toml(verifier_ref)}\n"
        "\n"
        "[cards.answer]\n"
        f"# {comment}\n"
        f"kind = {_toml(kind)}\n"
        f"{fields}"
    )


PARAMS_STANZA = """
# Parameters, drawn afresh for each review; the prompt, part labels and explanation cite them as {{ n }}.
# Integers: { min = 1, max = 8 } (inclusive, `step` optional); floats need a step; or { choices = [3, 5, 7] }.
[cards.params]
n = { min = 1, max = 8 }

# A worked instance with its stated answer, checked by `quizzer verify` like a fixed card
# (`answer = ...` here; default: the value in [cards.answer] above).
[[cards.examples]]
params = { n = 1 }
"""

_VALUE_HINTS = {
    "numeric": "r.value = float(measured)          # compared with the card's `value` within `tolerance`",
    "boolean": "r.value = bool(measured)           # compared with the card's true/false",
    "choice": 'r.value = "TODO: first option"     # must be one of the card\'s `options`',
    "expression": (
        'r.value = samples([({"x": x}, measure(x)) for x in (0.1, 0.5, 0.9)], tolerance=1e-6)\n'
        "    #   the card's formula must reproduce every measurement (import samples from quizzer.verifier)"
    ),
    "shape": "r.value = tuple(output.shape)      # compared with the card's shape",
    "tensor": (
        'r.value = tensor_samples([({"x": x}, truth)])  # tensors: the inputs and the value the formula must give\n'
        "    #   (import tensor_samples from quizzer.verifier; truth computed with torch, e.g. by autograd)"
    ),
    "code": (
        "namespace, printed = ctx.run_snippet()   # runs the card's own code; a failing assert fails the card\n"
        '    #   then claim what the snippet\'s results must show, e.g. r.claim("loss decreases", ...)'
    ),
    "text": "# (no value: a text card is verified by its claims)",
}


def verifier_stub(deck_id: str, card_id: str, kind: str, verifier_ref: str, params: bool = False) -> str:
    takes_context = kind == "code" or params
    signature = "verify(ctx: Context) -> Result" if takes_context else "verify() -> Result"
    extra = {"expression": ", samples", "tensor": ", tensor_samples"}.get(kind, "")
    names = ("Context, " if takes_context else "") + "Result" + extra
    imports = f"from quizzer.verifier import {names}" + ("  # noqa: F401" if extra else "")
    parametric = (
        "    p = ctx.params  # this instance's parameters, e.g. p['n'] (the worked example's, then each draw's)\n"
        '    # ctx.require(p["n"] <= 6, "why a draw is unusable")  # a false condition draws the parameters again\n\n'
        if params
        else ""
    )
    return f'''"""Verifier for {deck_id}/{card_id} ({kind} card).

TODO: compute the card's answer with code (never type the answer in), claim the facts the
explanation rests on, and write notes a learner reads after answering. A good verifier can fail:
change the card's answer (or break the code under test) and check that `quizzer verify` says so.
Seeded, deterministic, CPU only, a few seconds. See AUTHORING.md.
"""

{imports}


def {signature}:
{parametric}    r = Result()

    # 1. Compute the answer (import torch inside this function if you need it), then:
    #    {_VALUE_HINTS[kind]}
    # 2. Claims: named facts that must all hold; `measured` shows the numbers behind them.
    #    r.claim("gradient reaches exactly the 112x112 patch", reached == 112 * 112, f"{{reached}} pixels")
    # 3. Notes: the demonstration shown after answering (Markdown, math between $...$).
    #    r.note("Measured with autograd: ...")

    # This stub fails on purpose until it is written. Delete the next line when it computes the answer.
    r.claim("write this verifier", False, "edit verifiers/{verifier_ref}")
    return r
'''


def next_steps(new: NewCard, shown_deck: str, shown_verifier: str | None = None) -> str:
    """What to edit next, printed after `quizzer new`: the files as `shown_deck` / `shown_verifier` name them
    (from the current folder, as the lines above say; default `verifiers/<ref>`, for the project folder)."""
    target = f"{shown_deck}::{new.card_id}"
    verifier = shown_verifier or f"verifiers/{new.verifier_ref}"
    lines = [
        f"1. Edit {shown_deck}:{new.card_line} — the prompt, the answer (kind = {new.kind}), the explanation,",
        "   tags and source. Your editor validates it against schema.json (the #:schema line).",
        f"2. Edit {verifier} — compute the answer with code, add claims and notes,",
        "   and delete the failing 'write this verifier' claim.",
        f"3. quizzer lint {shown_deck}",
        f"4. quizzer verify {target}",
        f"5. quizzer show {target}",
    ]
    return "\n".join(lines)
