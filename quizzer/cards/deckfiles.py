"""Deck files before any parsing: finding them, reading them within bounds, where their verifiers live.

Also `LoadedDeck` (a deck with where it came from) and `load_header`, which lists a deck from its
deck-cache entry's header. Nothing here imports the deck models (pydantic): the app's decks screen
is drawn from these alone, and `quizzer.cards.loader` (parsing, validation, lint) builds on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

from quizzer.cards import deckcache
from quizzer.core.safetext import one_line
from quizzer.files import NotARegularFile, TooLarge, read_regular

if TYPE_CHECKING:
    from quizzer.cards.deck import Card, Deck

MAX_DECK_BYTES = 1 << 20
"""A deck file may hold at most 1 MiB (the largest bundled deck is 28 KB)."""
MAX_MESSAGE_CHARS = 400
"""A problem's message as printed is clipped here: its own words are shorter, what it quotes may not be."""


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    col: int
    message: str
    stands_for: int = 1  # problems this line counts for ("and 49950 more problem(s) not listed")

    def __str__(self) -> str:
        """One line, whatever the message quotes (a deck's text can hold any line break), and a bounded
        one, whatever it echoes (a 5,000-name variable list, a 100,000-character verifier path)."""
        message = one_line(self.message)  # and no control character: a file name or key can hold one
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[: MAX_MESSAGE_CHARS - 1] + "…"
        return f"{one_line(self.path)}:{self.line}:{self.col}: {message}"


class DeckError(Exception):
    """A deck that cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))

    def one_line(self) -> str:
        """The first problem, and how to see the rest: the warning of a command that skips this deck."""
        first = str(self.problems[0]) if self.problems else "unusable deck"
        more = sum(problem.stands_for for problem in self.problems) - 1
        return first + (f" (and {more} more; `quizzer lint {self.problems[0].path}` lists them)" if more > 0 else "")


@dataclass(frozen=True)
class LoadedDeck:
    """A validated deck with where it came from (verifier paths resolve against `verifiers_root`).

    `deck` is a `deckcache.DeckHeader` (fields and card ids, no models) in a deck listed by
    `load_header`; `quizzer.cards.loader.load_deck` always gives a `Deck`.
    """

    deck: Deck | deckcache.DeckHeader
    path: Path
    verifiers_root: Path

    def verifier_path(self, card: Card) -> Path | None:
        return self.verifiers_root / card.verifier_file if card.verifier_file else None


def verifiers_root_for(deck_path: Path) -> Path:
    """`verifiers/` beside the `decks/` folder holding the deck, else beside the deck file."""
    folder = deck_path.resolve().parent
    return (folder.parent if folder.name == "decks" else folder) / "verifiers"


def load_header(path: Path) -> LoadedDeck | None:
    """The deck at `path` listed from its deck-cache entry's header (ids only), or None.

    None when the file cannot be read as a deck or its entry does not match its text: then
    `quizzer.cards.loader.load_deck` parses it (or says what is wrong with it).
    """
    text, problem = read_deck_text(path, str(path))
    if problem is not None:
        return None
    header = deckcache.header(path, text, ids_only=True)
    return None if header is None else LoadedDeck(header, path, verifiers_root_for(path))


class Target(NamedTuple):
    """What a deck or card name on the command line names (`classify_target`)."""

    kind: Literal["folder", "file", "id"]
    name: str
    """The folder's or file's path as given, or the deck id."""
    card_id: str | None
    """After `::` or, for a deck id, after `/` (empty there when there is none); None: the whole deck."""

    @property
    def whole_files(self) -> bool:
        """A folder or a deck file, whole: nothing to look up or parse to know which files it names."""
        return self.kind != "id" and self.card_id is None


def classify_target(target: str) -> Target:
    """How `loader.select` reads `target`: `path::card`, a folder, a deck file (a `.toml` name or any path
    that exists), else `deck-id` or `deck-id/card-id`. Looks at the file system only, never parses."""
    card_id = None
    if "::" in target:
        target, card_id = target.split("::", 1)
    path = Path(target)
    if path.is_dir():
        return Target("folder", target, card_id)
    if path.suffix == ".toml" or path.exists():
        return Target("file", target, card_id)
    deck_id, _, card_id = target.partition("/")
    return Target("id", deck_id, card_id)


def deck_files(paths: Iterable[Path | str]) -> Iterator[Path]:
    """Deck files named directly or found (non-recursively, sorted) in named folders."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.glob("*.toml"))
        else:
            yield path


def read_deck_text(path: Path, shown: str) -> tuple[str, Problem | None]:
    """The file's text, or the one problem that keeps it from being read.

    Opened non-blocking and checked with fstat before reading, so a FIFO or a device named
    `x.toml` is refused at once instead of hanging the reader, and never more than
    `MAX_DECK_BYTES` + 1 bytes are read.
    """
    try:
        data = read_regular(path, MAX_DECK_BYTES)
    except FileNotFoundError:
        return "", Problem(shown, 1, 1, "no such file")
    except IsADirectoryError:
        return "", Problem(shown, 1, 1, "is a folder, not a deck file; rename it or move it out of decks/")
    except NotARegularFile:
        return "", Problem(shown, 1, 1, "is not a regular file (a FIFO, socket or device); a deck is a .toml file")
    except TooLarge:
        return "", Problem(shown, 1, 1, f"larger than {MAX_DECK_BYTES // 1024} KiB; split it into several decks")
    except OSError as e:
        return "", Problem(shown, 1, 1, f"cannot read: {e.strerror or e}")
    if data.startswith(b"\xef\xbb\xbf"):
        return "", Problem(shown, 1, 1, "starts with a byte-order mark (BOM); save it as UTF-8 without BOM")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        return "", Problem(shown, line, col, f"not UTF-8 text (byte 0x{data[e.start]:02x}); save it as UTF-8")
