"""`quizzer import anki|csv`: other people's cards → lint-clean TOML decks, progress carried over.

Every imported card is a self-graded `text` card with no verifier (unverified) until an author gives
it an answer kind and a verifier. Anki notes become one deck per Anki deck; HTML becomes Markdown
(MathJax `\\(..\\)`/`\\[..\\]` and Anki's `[$]..[/$]` LaTeX become `$..$`/`$$..$$`); a cloze note gives a
card per cloze number; media referenced by a card is copied into `<deck-id>-media/` beside the deck.

Card ids are stable, so importing the same package again names the same cards: a quizzer-exported
note keeps its `deck-id/card-id` (its Key field); any other note's card id is a hash of its GUID
(plus `-N` for the N-th card of a note with several). Scheduling state maps onto SM-2 as described in
docs/ARCHITECTURE.md ("Import"): `factor` → EF, `ivl` → interval, `due` → due date, the review log and
lapses → quizzer's review log.

Both package formats are read with the standard library plus `zstandard`: the legacy one
(`collection.anki2`/`collection.anki21`, SQLite with JSON note types) and the current one
(`collection.anki21b`: zstd-compressed SQLite, schema 18, protobuf note types and media map).
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import shutil
import sqlite3
import tempfile
import unicodedata
import urllib.parse
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

from quizzer.authoring.anki import MODEL_NAME as QUIZZER_MODEL
from quizzer.authoring.scaffold import refresh_schema
from quizzer.cards.deck import MAX_TEXT_CHARS, MAX_TITLE_CHARS
from quizzer.cards.loader import SCHEMA_DIRECTIVE, lint
from quizzer.core import jsontext, mathtext, sm2
from quizzer.core.safetext import CONTROL
from quizzer.core.sm2 import CardState
from quizzer.core.templates import escape
from quizzer.files import NotARegularFile, TooLarge, open_regular, read_regular
from quizzer.store import Review

MAX_COLLECTION_BYTES = 4 << 30  # an uncompressed collection beyond 4 GiB is refused, not unpacked
MAX_MEDIA_BYTES = 256 << 20  # per media file
MAX_FIELD_CHARS = 1 << 20  # a note field over a million characters is refused (no card is that long)
MAX_CSV_BYTES = 512 << 20  # a text export of 100,000 notes is about 30 MB


class ImportProblem(Exception):
    """A file that cannot be imported; the message names it and says what to do."""


# ---------------------------------------------------------------------- what an import produces


@dataclass
class ImportedCard:
    id: str
    prompt: str
    answer: str
    explanation: str
    tags: list[str] = field(default_factory=list)
    source: str = ""
    media: dict[str, str] = field(default_factory=dict)  # file name in the deck's media folder → package member
    progress: Progress | None = None


@dataclass
class ImportedDeck:
    id: str
    title: str
    description: str
    cards: list[ImportedCard] = field(default_factory=list)
    media_names: dict[str, str] = field(default_factory=dict)  # name in the package → file name in media_folder

    @property
    def media_folder(self) -> str:
        return f"{self.id}-media"

    def media_file(self, name: str) -> str:
        """The file name `name` gets in the deck's media folder: sanitised, and never one another name of this
        deck got (`é.png` and `ü.png` are two files), compared case-insensitively as macOS and Windows do."""
        if name not in self.media_names:
            taken = {file.casefold() for file in self.media_names.values()}
            stem, dot, extension = _safe_file_name(name).rpartition(".")
            if not stem:
                stem, dot, extension = extension, "", ""
            candidate, n = f"{stem}{dot}{extension}", 2
            while candidate.casefold() in taken:
                candidate, n = f"{stem}-{n}{dot}{extension}", n + 1
            self.media_names[name] = candidate
        return self.media_names[name]


@dataclass(frozen=True)
class LoggedAnswer:
    """One answer of the source's review log, as quizzer's log records it."""

    time: datetime
    kind: str
    quality: int
    before: CardState
    after: CardState
    ms: int
    verdict: str = "imported from Anki"


@dataclass(frozen=True)
class Progress:
    """A card's carried-over scheduling: its SM-2 state now, whether suspended, and its past answers."""

    state: CardState
    suspended: bool
    answers: tuple[LoggedAnswer, ...] = ()


@dataclass
class ImportSummary:
    decks: list[Path] = field(default_factory=list)
    cards: int = 0
    media: int = 0
    scheduled: int = 0
    answers: int = 0
    kept_progress: int = 0
    skipped: int = 0  # cards whose question is empty (or whose note type has no such template): not written
    too_long: int = 0  # cards whose question or answer is longer than a deck's text may be: not written
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (
            f"imported {self.cards} card(s) into {len(self.decks)} deck(s)"
            + (f" with {self.media} media file(s)" if self.media else "")
            + (
                f"; progress of {self.scheduled} card(s) and {self.answers} logged answer(s) carried over"
                if self.scheduled
                else ""
            )
        )
        if self.kept_progress:
            text += f"; {self.kept_progress} card(s) already had progress in the state database, kept as it was"
        if self.skipped:
            text += f"; {self.skipped} card(s) with an empty question skipped"
        if self.too_long:
            text += f"; {self.too_long} card(s) longer than a card's text may be ({MAX_TEXT_CHARS} characters) skipped"
        return text + ". Every card is unverified: give it an answer kind and a verifier to check it by code."


# ---------------------------------------------------------------------- ids and names


def slug(text: str, fallback: str) -> str:
    """A deck or card id (`[a-z0-9][a-z0-9-]*`) from a name: `Lang::Español` → `lang-espanol`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    made = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")
    return made or fallback


def guid_card_id(guid: str, length: int = 12) -> str:
    """A card id from an Anki note GUID: the same GUID always gives the same id."""
    return hashlib.sha256(guid.encode("utf-8")).hexdigest()[:length]


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}-{n}", n + 1
    taken.add(candidate)
    return candidate


# ---------------------------------------------------------------------- HTML → Markdown

_MATH_SPANS = re.compile(
    r"\\\((?P<inline>.*?)\\\)|\\\[(?P<display>.*?)\\\]|\[\$\](?P<ainline>.*?)\[/\$\]"
    r"|\[\$\$\](?P<adisplay>.*?)\[/\$\$\]|\[latex\](?P<latex>.*?)\[/latex\]",
    re.S,
)
_VOID = {"br", "img", "hr", "input", "meta", "link", "wbr", "source", "col", "area"}
_BLOCK = {"p", "div", "ul", "ol", "pre", "table", "blockquote", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "li"}
_SOUND = re.compile(r"\[sound:([^\]]+)\]")
_LINE_START = re.compile(r"^(\d*)([#+=-](?=\s|$)|[=-](?=[=-]*\s*$)|>|(?<=\d)[.)](?=\s|$))")
"""What would start a heading, list, quote or setext underline at the start of a line (escaped there)."""
_PLACEHOLDER = re.compile("\x00(\\d+)\x00")


@dataclass
class _Element:
    tag: str
    attrs: dict[str, str]
    children: list = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    """Lenient HTML → a small tree: unclosed tags close at their parent's end, stray end tags are ignored."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = _Element("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = _Element(tag, {k: v or "" for k, v in attrs})
        if tag == "p" and self.stack[-1].tag == "p":  # <p> implicitly closes an open <p>
            self.stack.pop()
        self.stack[-1].children.append(element)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(_Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


class _MarkdownWriter:
    """Renders the tree as CommonMark (+ tables, strikethrough, `$` math) that quizzer's renderers read."""

    def __init__(self, math: list[tuple[str, bool]], media: Callable[[str], str]):
        self.math = math
        self.media = media

    def blocks(self, nodes: Sequence, separator: str = "\n\n") -> str:
        out: list[str] = []
        run: list = []

        def flush():
            text = self._paragraph(self.inline(run))
            if text:
                out.append(text)
            run.clear()

        for node in nodes:
            if isinstance(node, _Element) and node.tag in _BLOCK:
                flush()
                rendered = self.block(node)
                if rendered.strip():
                    out.append(rendered)
            else:
                run.append(node)
        flush()
        return separator.join(out)

    def block(self, element: _Element) -> str:
        tag = element.tag
        if tag in ("p", "div", "li"):
            return self.blocks(element.children)
        if tag == "pre":
            return self._code_block(element)
        if tag in ("ul", "ol"):
            return self._list(element)
        if tag == "table":
            return self._table(element)
        if tag == "blockquote":
            return "\n".join(("> " + line).rstrip() for line in self.blocks(element.children).splitlines())
        if tag == "hr":
            return "---"
        level = int(tag[1])
        return "#" * level + " " + self.inline(element.children).strip()

    def inline(self, nodes: Sequence) -> str:
        parts = []
        for node in nodes:
            if isinstance(node, str):
                parts.append(_escape(re.sub(r"[ \t\r\f\v\xa0]+", " ", node)))
                continue
            tag, inner = node.tag, (lambda n=node: self.inline(n.children))
            if tag == "br":
                parts.append("\\\n")
            elif tag in ("b", "strong"):
                parts.append(_wrap(inner(), "**"))
            elif tag in ("i", "em"):
                parts.append(_wrap(inner(), "*"))
            elif tag in ("s", "del", "strike"):
                parts.append(_wrap(inner(), "~~"))
            elif tag == "code":
                parts.append(_inline_code(_text_of(node)))
            elif tag == "a" and node.attrs.get("href"):
                parts.append(f"[{inner()}]({_url(node.attrs['href'])})")
            elif tag == "img":
                parts.append(f"![{_escape(node.attrs.get('alt', ''))}]({self.media(node.attrs.get('src', ''))})")
            elif tag in ("audio", "video", "source") and node.attrs.get("src"):
                name = node.attrs["src"]
                parts.append(f"[{_escape(name)}]({self.media(name)})")
            elif tag == "sup":
                parts.append("^" + inner())
            elif tag == "sub":
                parts.append("\\_" + inner())
            elif tag in _BLOCK:
                parts.append(" " + self.blocks([node]).replace("\n\n", " ") + " ")
            elif tag not in ("script", "style", "head", "title"):
                parts.append(inner())
        return "".join(parts)

    def _paragraph(self, text: str) -> str:
        lines = [line.strip() for line in text.strip().splitlines()]
        lines = [_LINE_START.sub(lambda m: m[1] + "\\" + m[2], line) for line in lines]
        return "\n".join(lines).strip().removesuffix("\\").strip()

    def _code_block(self, element: _Element) -> str:
        code_element = next((c for c in element.children if isinstance(c, _Element) and c.tag == "code"), element)
        language = next(
            (
                c.removeprefix("language-")
                for c in code_element.attrs.get("class", "").split()
                if c.startswith("language-")
            ),
            "",
        )
        code = _text_of(code_element).strip("\n")
        fence = "```"
        while fence in code:
            fence += "`"
        return f"{fence}{language}\n{code}\n{fence}"

    def _list(self, element: _Element) -> str:
        items = [c for c in element.children if isinstance(c, _Element) and c.tag == "li"]
        loose = any(isinstance(g, _Element) and g.tag == "p" for item in items for g in item.children)
        start = _list_start(element.attrs.get("start", "")) if element.tag == "ol" else 0
        rendered = []
        for number, item in enumerate(items, start=start):
            marker = f"{number}. " if element.tag == "ol" else "- "
            body = self.blocks(item.children, "\n\n" if loose else "\n")
            indent = " " * len(marker)
            lines = body.splitlines() or [""]
            rendered.append(marker + lines[0] + "".join("\n" + (indent + line if line else "") for line in lines[1:]))
        return ("\n\n" if loose else "\n").join(rendered)

    def _table(self, element: _Element) -> str:
        rows = [
            [
                self.inline(cell.children).strip().replace("\\\n", " ")
                for cell in row.children
                if isinstance(cell, _Element) and cell.tag in ("td", "th")
            ]
            for row in _descendants(element, "tr")
        ]
        rows = [row for row in rows if row]
        if not rows:
            return ""
        width = max(map(len, rows))
        rows = [row + [""] * (width - len(row)) for row in rows]
        lines = ["| " + " | ".join(rows[0]) + " |", "| " + " | ".join(["---"] * width) + " |"]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows[1:]])


def _list_start(value: str) -> int:
    """An `<ol start>` as CommonMark takes it (0 to 999,999,999); 1 when it is not a number."""
    digits = re.match(r"\s*(\d{1,9})", value)
    return int(digits[1]) if digits else 1


def _descendants(element: _Element, tag: str) -> Iterator[_Element]:
    for child in element.children:
        if isinstance(child, _Element):
            if child.tag == tag:
                yield child
            else:
                yield from _descendants(child, tag)


def _text_of(element: _Element) -> str:
    parts = []
    for child in element.children:
        if isinstance(child, str):
            parts.append(child)
        elif child.tag == "br":
            parts.append("\n")
        else:
            parts.append(_text_of(child))
    return "".join(parts)


def _escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>$~|&])", r"\\\1", text)


def _wrap(text: str, mark: str) -> str:
    stripped = text.strip()
    if not stripped:
        return text
    lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    return f"{lead}{mark}{stripped}{mark}{trail}"


def _inline_code(code: str) -> str:
    fence = "`"
    while fence in code:
        fence += "`"
    pad = " " if code.startswith("`") or code.endswith("`") else ""
    return f"{fence}{pad}{code}{pad}{fence}"


def _url(href: str) -> str:
    return urllib.parse.quote(href, safe="/:?#&=%@+,;~.-_")


def html_to_markdown(source: str, media: Callable[[str], str] = lambda name: _url(name)) -> str:
    """An Anki field (HTML with MathJax) as Markdown with `$` math; `media` maps a file name to its link."""
    math: list[tuple[str, bool]] = []

    def hold(match: re.Match) -> str:
        groups = match.groupdict()
        display = groups["display"] is not None or groups["adisplay"] is not None or groups["latex"] is not None
        body = next(v for v in groups.values() if v is not None)
        latex = html.unescape(re.sub(r"<br\s*/?>", " ", re.sub(r"<(?!br)[^>]*>", "", body))).strip()
        math.append((latex, display))
        return f"\x00{len(math) - 1}\x00"

    source = source.replace("\x00", "")  # NUL is no text, and it marks the math held aside below
    held = _MATH_SPANS.sub(hold, source)
    held = _SOUND.sub(lambda m: f'<audio src="{html.escape(m[1])}"></audio>', held)
    builder = _TreeBuilder()
    builder.feed(held)
    builder.close()
    text = _MarkdownWriter(math, media).blocks(builder.root.children)

    def restore(match: re.Match) -> str:
        latex, display = math[int(match[1])]
        if not latex:  # `\\[\\]`: no formula (`$$$$` would open a display that the next `$$` closes)
            return ""
        span = f"$${latex}$$" if display else f"${latex}$"
        # Math that cannot be read (Anki's MathJax shows an error for it too) becomes text: as math it would be
        # a lint problem of the imported deck, and it is shown as written either way.
        return _escape(span) if mathtext.math_problems(span) else span

    return _PLACEHOLDER.sub(restore, text).strip()


def media_references(source: str) -> list[str]:
    """File names an Anki field refers to: `<img src>`, `[sound:...]`, `<audio>`/`<video>`/`<source>`."""
    names = re.findall(r"<(?:img|audio|video|source)\b[^>]*?\bsrc\s*=\s*[\"']?([^\"'>\s]+)", source, re.I)
    return [html.unescape(n) for n in names + _SOUND.findall(source) if "://" not in n and not n.startswith("data:")]


# ---------------------------------------------------------------------- Anki templates and clozes

_SECTION = re.compile(r"\{\{([#^])\s*([^}]+?)\s*\}\}(.*?)\{\{/\s*\2\s*\}\}", re.S)
_REPLACEMENT = re.compile(r"\{\{\s*([^#/^}][^}]*?)\s*\}\}")


def render_template(template: str, fields: dict[str, str], cloze: int | None = None, answer: bool = False) -> str:
    """Anki's card template language, enough for real decks: fields, `{{#F}}`/`{{^F}}` sections, filters."""
    for _ in range(10):  # nested sections, innermost last
        rendered = _SECTION.sub(
            lambda m: m[3] if (bool(_strip_html(fields.get(m[2], "")).strip()) == (m[1] == "#")) else "", template
        )
        if rendered == template:
            break
        template = rendered

    def replace(match: re.Match) -> str:
        *filters, name = [part.strip() for part in match[1].split(":")]
        if name == "FrontSide":
            return ""
        value = fields.get(name, "")
        for filter_name in reversed(filters):
            if filter_name == "cloze":
                value = cloze_side(value, cloze or 1, answer)
            elif filter_name == "text":
                value = html.escape(_strip_html(value))
            elif filter_name in ("type", "hint", "tts", "furigana", "kana", "kanji"):
                value = "" if filter_name == "type" else value
        return value

    return _REPLACEMENT.sub(replace, template)


@dataclass
class _Cloze:
    number: int
    children: list  # str | _Cloze
    hint: str | None = None


_CLOZE_TOKEN = re.compile(r"\{\{c(\d+)::|\}\}")


def _cloze_tree(text: str) -> list:
    """A cloze field as text and (nested) deletions, read as Anki does: `{{cN::` opens, `}}` closes the
    innermost open one, its hint is what follows `::` in its last text; an unclosed opener stays text."""
    root: list = []
    stack: list[tuple[_Cloze, str]] = []  # open deletions with the opener's text, in case one never closes
    position = 0

    def add(node) -> None:
        (stack[-1][0].children if stack else root).append(node)

    for match in _CLOZE_TOKEN.finditer(text):
        if match.start() > position:
            add(text[position : match.start()])
        position = match.end()
        if match[1] is not None:
            stack.append((_Cloze(int(match[1]), []), match[0]))
        elif stack:
            cloze, _ = stack.pop()
            if cloze.children and isinstance(cloze.children[-1], str) and "::" in cloze.children[-1]:
                cloze.children[-1], cloze.hint = cloze.children[-1].split("::", 1)
            add(cloze)
        else:
            add(match[0])
    if position < len(text):
        add(text[position:])
    while stack:  # never closed: the opener and what followed it are text
        cloze, opener = stack.pop()
        add(opener)
        for child in cloze.children:
            add(child)
    return root


def _cloze_text(nodes: Sequence, number: int | None, answer: bool) -> str:
    parts = []
    for node in nodes:
        if isinstance(node, str):
            parts.append(node)
        elif node.number != number:
            parts.append(_cloze_text(node.children, number, answer))
        elif answer:
            parts.append(f"<b>{_cloze_text(node.children, None, answer)}</b>")
        else:
            parts.append(f"<b>[{node.hint or '...'}]</b>")
    return "".join(parts)


def cloze_side(text: str, number: int, answer: bool) -> str:
    """A cloze field with deletion `number` hidden (`[...]`, or `[hint]`) or, on the answer side, shown in bold.

    Deletions nest (`{{c1::outer {{c2::inner}} end}}`): hiding c1 hides the inner one with it; hiding c2
    shows the outer text around `[...]`."""
    return _cloze_text(_cloze_tree(text), number, answer)


def cloze_deletions(text: str, number: int) -> list[str]:
    """The texts deletion `number` hides, with any deletions nested in them shown."""
    found: list[str] = []

    def walk(nodes: Sequence) -> None:
        for node in nodes:
            if isinstance(node, _Cloze):
                if node.number == number:
                    found.append(_cloze_text(node.children, None, False))
                else:
                    walk(node.children)

    walk(_cloze_tree(text))
    return found


def cloze_numbers(text: str) -> list[int]:
    return sorted({int(n) for n in re.findall(r"\{\{c(\d+)::", text)})


def _strip_html(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", text))


# ---------------------------------------------------------------------- reading .apkg packages


@dataclass(frozen=True)
class NoteType:
    name: str
    cloze: bool
    fields: tuple[str, ...]
    templates: tuple[tuple[str, str], ...]  # (question format, answer format) by template ord


@dataclass
class Package:
    """What an .apkg holds, read into plain rows (the SQLite file is closed afterwards)."""

    day_zero: date
    decks: dict[int, str]
    note_types: dict[int, NoteType]
    notes: dict[int, tuple[str, int, list[str], list[str]]]  # id → (guid, type id, fields, tags)
    cards: list[tuple]  # (id, nid, did, ord, type, queue, due, ivl, factor, reps, lapses, odue, odid)
    revlog: dict[int, list[tuple]]  # card id → [(id ms, ease, ivl, lastIvl, factor, time ms, type)]
    media: dict[str, str]  # file name → zip member
    zstd_media: bool
    archive: Path


def read_package(path: Path) -> Package:
    """Open an .apkg (legacy or current format); `ImportProblem` for anything that is not one."""
    try:
        stream = open_regular(path)
    except FileNotFoundError:
        raise ImportProblem(f"{path}: no such file") from None
    except NotARegularFile:
        raise ImportProblem(f"{path}: not a regular file (a FIFO, socket or device); name the .apkg file") from None
    except OSError as error:
        raise ImportProblem(f"{path}: not an Anki package (.apkg is a zip file): {error}") from None
    try:
        archive = zipfile.ZipFile(stream)  # a ZipFile never closes a file it was handed: `stream` is ours to close
    except (zipfile.BadZipFile, OSError) as error:
        stream.close()
        raise ImportProblem(f"{path}: not an Anki package (.apkg is a zip file): {error}") from None
    with stream, archive, tempfile.TemporaryDirectory(prefix="quizzer-import-") as scratch:
        names = set(archive.namelist())
        member = next((n for n in ("collection.anki21b", "collection.anki21", "collection.anki2") if n in names), None)
        if member is None:
            raise ImportProblem(f"{path}: no collection inside; export it from Anki as 'Anki Deck Package (*.apkg)'")
        info = archive.getinfo(member)
        if info.file_size > MAX_COLLECTION_BYTES:
            raise ImportProblem(f"{path}: its collection unpacks to {info.file_size} bytes, over the 4 GiB limit")
        database = Path(scratch) / "collection.sqlite"
        try:
            with archive.open(member) as stream, open(database, "wb") as out:
                if member.endswith("21b"):
                    _unzstd(stream, out, MAX_COLLECTION_BYTES, f"{path}: {member}")
                else:
                    shutil.copyfileobj(stream, out)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            raise ImportProblem(f"{path}: the zip file is damaged ({member}: {error}); export it again") from None
        zstd_media = member.endswith("21b")
        media = _media_map(archive, names, zstd_media, path)
        try:
            return _read_collection(database, media, zstd_media, path)
        except sqlite3.DatabaseError as error:
            raise ImportProblem(f"{path}: its collection is not a readable Anki database ({error})") from None
        except _DAMAGED as error:
            raise _damaged(path, error) from None


_DAMAGED = (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError, UnicodeError)
"""What reading a collection whose tables hold what Anki never writes raises (e.g. note types that are not
JSON objects, fields that are blobs): reported as one sentence, not a traceback."""


def _damaged(path: Path, error: Exception) -> ImportProblem:
    detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return ImportProblem(f"{path}: its collection holds data Anki does not write ({detail}); export it again from Anki")


def _unzstd(stream, out, limit: int, what: str) -> int:
    import zstandard

    written = 0
    try:
        with zstandard.ZstdDecompressor().stream_reader(stream) as reader:
            while chunk := reader.read(1 << 20):
                written += len(chunk)
                if written > limit:
                    raise ImportProblem(f"{what} unpacks to more than {limit} bytes; refused")
                out.write(chunk)
    except zstandard.ZstdError as error:
        raise ImportProblem(f"{what} is not valid zstd data ({error})") from None
    return written


def _media_map(archive: zipfile.ZipFile, names: set[str], zstd_media: bool, path: Path) -> dict[str, str]:
    if "media" not in names:
        return {}
    try:
        raw = archive.read("media")
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise ImportProblem(f"{path}: the zip file is damaged (media: {error}); export it again") from None
    if raw.startswith(b"\x28\xb5\x2f\xfd"):
        out = io.BytesIO()
        _unzstd(io.BytesIO(raw), out, 64 << 20, f"{path}: media")
        entries = _protobuf(out.getvalue()).get(1, [])
        mapping = {}
        for index, entry in enumerate(entries):
            fields = _protobuf(entry)
            name = fields.get(1, [b""])[0].decode("utf-8", "replace")
            member = str(fields[255][0]) if 255 in fields else str(index)
            mapping[name] = member
        return mapping
    try:
        listed = jsontext.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ImportProblem(f"{path}: its media list is not valid JSON") from None
    if not isinstance(listed, dict):
        raise ImportProblem(f"{path}: its media list is not a JSON object of member → file name")
    return {str(name): str(member) for member, name in listed.items()}


def _protobuf(data: bytes) -> dict[int, list]:
    """Just enough protobuf wire format for Anki's note types and media map: varints and byte strings."""
    fields: dict[int, list] = {}
    i = 0

    def varint() -> int:
        nonlocal i
        value = shift = 0
        while True:
            if i >= len(data):
                raise ImportProblem("truncated protobuf data in the package")
            byte = data[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    while i < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            fields.setdefault(number, []).append(varint())
        elif wire == 2:
            length = varint()
            fields.setdefault(number, []).append(data[i : i + length])
            i += length
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
        else:
            raise ImportProblem(f"unsupported protobuf wire type {wire} in the package")
    return fields


def _read_collection(database: Path, media: dict[str, str], zstd_media: bool, path: Path) -> Package:
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        crt, models_json, decks_json = conn.execute("SELECT crt, models, decks FROM col").fetchone()
        if "notetypes" in tables:  # schema 18 (collection.anki21b)
            note_types = _note_types_18(conn)
            decks = {did: name.replace("\x1f", "::") for did, name in conn.execute("SELECT id, name FROM decks")}
        else:
            note_types = {
                int(mid): NoteType(
                    m["name"],
                    m.get("type", 0) == 1,
                    tuple(f["name"] for f in sorted(m["flds"], key=lambda f: f["ord"])),
                    tuple((t["qfmt"], t["afmt"]) for t in sorted(m["tmpls"], key=lambda t: t["ord"])),
                )
                for mid, m in jsontext.loads(models_json).items()
            }
            decks = {int(did): d["name"] for did, d in jsontext.loads(decks_json).items()}
        notes = {}
        for nid, guid, mid, tags, flds in conn.execute("SELECT id, guid, mid, tags, flds FROM notes"):
            if len(flds) > MAX_FIELD_CHARS * 4:
                raise ImportProblem(
                    f"{path}: note {nid} holds {len(flds)} characters; refused (limit {MAX_FIELD_CHARS * 4})"
                )
            notes[nid] = (guid, mid, flds.split("\x1f"), tags.split())
        cards = conn.execute(
            "SELECT id, nid, did, ord, type, queue, due, ivl, factor, reps, lapses, odue, odid FROM cards"
            " ORDER BY nid, ord"
        ).fetchall()
        revlog: dict[int, list[tuple]] = {}
        for row in conn.execute("SELECT cid, id, ease, ivl, lastIvl, factor, time, type FROM revlog ORDER BY id"):
            revlog.setdefault(row[0], []).append(row[1:])
    finally:
        conn.close()
    try:
        day_zero = datetime.fromtimestamp(crt, UTC).astimezone().date()
    except (OverflowError, OSError, ValueError, TypeError):
        raise ImportProblem(f"{path}: its collection's creation time ({crt!r}) is not a date") from None
    return Package(day_zero, decks, note_types, notes, cards, revlog, media, zstd_media, path)


def _note_types_18(conn: sqlite3.Connection) -> dict[int, NoteType]:
    fields: dict[int, list[str]] = {}
    for ntid, name in conn.execute("SELECT ntid, name FROM fields ORDER BY ntid, ord"):
        fields.setdefault(ntid, []).append(name)
    templates: dict[int, list[tuple[str, str]]] = {}
    for ntid, config in conn.execute("SELECT ntid, config FROM templates ORDER BY ntid, ord"):
        parsed = _protobuf(config)
        question = parsed.get(1, [b""])[0].decode("utf-8", "replace")
        answer = parsed.get(2, [b""])[0].decode("utf-8", "replace")
        templates.setdefault(ntid, []).append((question, answer))
    types = {}
    for ntid, name, config in conn.execute("SELECT id, name, config FROM notetypes"):
        kind = _protobuf(config).get(1, [0])[0]
        types[ntid] = NoteType(name, kind == 1, tuple(fields.get(ntid, ())), tuple(templates.get(ntid, ())))
    return types


# ---------------------------------------------------------------------- scheduling: Anki → SM-2

_QUALITY = {1: 1, 2: 3, 3: 4, 4: 5}
"""Anki's buttons → SM-2 quality: Again → 1 (a lapse), Hard → 3, Good → 4, Easy → 5."""
_LOG_KIND = {0: "learning", 1: "review", 2: "learning", 3: "drill"}
"""Anki's revlog type (learn, review, relearn, filtered) → the kind quizzer's log counts it as."""


def repetitions_for(interval: int) -> int:
    """SM-2's n for a scheduled card: only n = 1 is special (its next interval is 6 days); beyond, ceil(I × EF)."""
    return 1 if interval <= 1 else 2


def carried_progress(row: tuple, day_zero: date, revlog: Sequence[tuple], today: date) -> Progress | None:
    """A card row's scheduling as quizzer's state, or None for a new card (see the module docstring)."""
    _, _, _, _, ctype, queue, due, ivl, factor, _, lapses, odue, odid = row
    if odid:  # in a filtered deck: its home deck's due date is kept in odue
        due = odue or due
    ef = max(sm2.MIN_EF, factor or sm2.INITIAL_EF)
    suspended = queue == -1
    if ctype == 0:
        return Progress(sm2.NEW_CARD, suspended) if suspended else None
    if ctype == 2:
        interval = min(max(ivl, 1), sm2.MAX_INTERVAL)
        state = CardState(ef, repetitions_for(interval), interval, _due_day(day_zero, due, today))
    else:  # learning or relearning: asked again today, as a lapsed card is in SM-2
        state = CardState(ef, 0, 0, today)
    answers = list(_logged_answers(revlog))
    lapses_logged = sum(1 for entry in revlog if entry[6] == 1 and entry[1] == 1)
    if lapses > lapses_logged:
        when = (state.due - timedelta(days=state.interval)) if state.interval else today
        stamp = datetime.combine(when, datetime.min.time()).astimezone()
        lapse = CardState(ef, 0, 0, when)
        answers[:0] = [
            LoggedAnswer(stamp, "review", 1, lapse, lapse, 0, "lapse carried over from Anki (date not in the package)")
        ] * (lapses - lapses_logged)
    return Progress(state, suspended, tuple(answers))


def _due_day(day_zero: date, due: int, today: date) -> date:
    """A review card's due (days since the collection's creation) as a date, at most `MAX_INTERVAL` days
    after today and not before 1970: a damaged or hand-edited collection's due of millions of days
    (beyond year 9999) is the latest date SM-2 schedules, not an overflow."""
    latest = (today + timedelta(days=sm2.MAX_INTERVAL) - day_zero).days
    earliest = (_EPOCH_DAY - day_zero).days
    return day_zero + timedelta(days=min(max(due, earliest), latest))


_EPOCH_DAY = date(1970, 1, 1)


def _logged_answers(revlog: Sequence[tuple]) -> Iterator[LoggedAnswer]:
    before = sm2.NEW_CARD
    latest = date.max - timedelta(days=sm2.MAX_INTERVAL + 1)
    for entry_id, ease, ivl, _last_ivl, factor, ms, rtype in revlog:
        if ease not in _QUALITY or rtype not in _LOG_KIND:
            continue  # manual reschedules and "set due date" rows are not answers
        try:
            moment = datetime.fromtimestamp(entry_id / 1000, UTC).astimezone()
        except (OverflowError, OSError, ValueError):
            continue  # a time no calendar holds (a damaged row) is no answer either
        day = moment.date()
        if not _EPOCH_DAY <= day <= latest:
            continue
        quality = _QUALITY[ease]
        ef = max(sm2.MIN_EF, factor or before.ef_thousandths)
        if ivl > 0:
            interval = min(ivl, sm2.MAX_INTERVAL)
            after = CardState(ef, repetitions_for(interval), interval, day + timedelta(days=interval))
        else:
            after = CardState(ef, 0, 0, day)
        kind = "new" if before.due is None else _LOG_KIND[rtype]
        yield LoggedAnswer(moment, kind, quality, before, after, max(0, int(ms)))
        before = after


# ---------------------------------------------------------------------- Anki notes → decks


def anki_decks(
    package: Package, today: date, skipped: list[str] | None = None, too_long: list[str] | None = None
) -> list[ImportedDeck]:
    """One deck per Anki deck that holds cards; cards in note order. The GUIDs of cards left out (empty
    question, no such template, no such note) are added to `skipped`, of cards too long for a deck to
    `too_long`."""
    skipped = [] if skipped is None else skipped
    too_long = [] if too_long is None else too_long
    decks: dict[str, ImportedDeck] = {}
    deck_ids: dict[int, str] = {}
    taken_decks: set[str] = set()
    card_ids: dict[str, set[str]] = {}
    for row in package.cards:
        card_id_anki, nid, did, ordinal = row[:4]
        if nid not in package.notes:
            skipped.append(f"card {card_id_anki}")
            continue
        guid, mid, fields, tags = package.notes[nid]
        note_type = package.note_types.get(mid)
        if note_type is None:
            raise ImportProblem(f"{package.archive}: note {nid} uses a note type missing from the package")
        values = dict(zip(note_type.fields, fields, strict=False))
        quizzer_key = values.get("Key", "") if note_type.name == QUIZZER_MODEL else ""
        home = row[12] or did
        if quizzer_key.count("/") == 1:
            deck_key, wanted_card_id = quizzer_key.split("/")
        else:
            deck_key, wanted_card_id = f"anki:{home}", None
        if deck_key not in decks:
            name = package.decks.get(home, "Default")
            deck_id = _unique(deck_key if wanted_card_id else slug(name, f"deck-{home}"), taken_decks)
            title = (name.removeprefix("Quizzer::") if wanted_card_id else name)[:MAX_TITLE_CHARS]
            decks[deck_key] = ImportedDeck(deck_id, title, f"Imported from {package.archive.name}")
            card_ids[deck_key] = set()
        deck = decks[deck_key]
        deck_ids[home] = deck.id
        card = _anki_card(package, note_type, values, ordinal, guid, wanted_card_id, tags, deck)
        if card is None:
            skipped.append(guid)
            continue
        if not _fits(card):
            too_long.append(guid)
            continue
        card.id = _unique(card.id, card_ids[deck_key])
        card.progress = carried_progress(row, package.day_zero, package.revlog.get(card_id_anki, []), today)
        deck.cards.append(card)
    return [deck for deck in decks.values() if deck.cards]


def _anki_card(package, note_type, values, ordinal, guid, wanted_card_id, tags, deck) -> ImportedCard | None:
    media: dict[str, str] = {}

    def link(name: str) -> str:
        if "://" in name or name.startswith("data:"):
            return _url(name)
        if name not in package.media and urllib.parse.unquote(name) in package.media:
            name = urllib.parse.unquote(name)  # a src written URL-encoded (`a%20b.png`)
        safe = deck.media_file(name)
        if name in package.media:
            media[safe] = package.media[name]
        return _url(f"{deck.media_folder}/{safe}")

    def markdown(source: str) -> str:
        return html_to_markdown(source, link)

    for value in values.values():
        if len(value) > MAX_FIELD_CHARS:
            raise ImportProblem(f"{package.archive}: a field of note {guid!r} is over {MAX_FIELD_CHARS} characters")
    if wanted_card_id:  # a card quizzer exported: its own fields, not the template's decoration
        options = markdown(values.get("Options", ""))
        prompt = markdown(values.get("Prompt", "")) + (f"\n\n{options}" if options else "")
        answer = markdown(values.get("Answer", ""))
        explanation = markdown(values.get("Explanation", ""))
        source = html.unescape(_strip_html(values.get("Source", "")))
        card_id = wanted_card_id
    else:
        if note_type.cloze:
            template = note_type.templates[0] if note_type.templates else ("{{cloze:Text}}", "{{cloze:Text}}")
            number = ordinal + 1
            prompt = markdown(render_template(template[0], values, number))
            answer_side = render_template(template[1], values, number, answer=True)
            text_field = next(iter(re.findall(r"\{\{cloze:([^}]+)\}\}", template[0])), note_type.fields[0])
            hidden = cloze_deletions(values.get(text_field, ""), number)
            answer = markdown("; ".join(hidden))
            explanation = markdown(answer_side)
            card_id = f"{guid_card_id(guid)}-c{number}"
        else:
            if ordinal >= len(note_type.templates):
                return None
            question_format, answer_format = note_type.templates[ordinal]
            prompt = markdown(render_template(question_format, values))
            answer_side = _ANSWER_RULE.sub("", render_template(answer_format, values, answer=True), count=1)
            answer = markdown(answer_side)
            explanation = f"Imported from Anki (note type “{note_type.name}”); no explanation yet."
            card_id = guid_card_id(guid) + (f"-{ordinal + 1}" if ordinal else "")
        source = f"Anki deck {deck.title}"
    if not prompt.strip():
        return None
    return ImportedCard(
        card_id,
        prompt,
        answer or "(no answer on the card)",
        explanation or "(no explanation on the card)",
        [t for t in tags if t],
        source,
        media,
    )


_ANSWER_RULE = re.compile(r"<hr[^>]*\bid\s*=\s*[\"']?answer[\"']?[^>]*>", re.I)


def _safe_file_name(name: str) -> str:
    """A base name that stays in its folder: no directory part, no leading dot, only letters (any script),
    digits, ` ._-`; at most 120 bytes in UTF-8 with its extension kept (file systems allow 255)."""
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    cleaned = re.sub(r"[^\w. -]", "_", base).lstrip(". ") or "file"
    stem, dot, extension = cleaned.rpartition(".")
    if not stem or len(extension) > 16:
        stem, dot, extension = cleaned, "", ""
    room = 120 - len(f"{dot}{extension}".encode())
    stem = stem.encode()[:room].decode("utf-8", "ignore").rstrip(". ") or "file"
    return f"{stem}{dot}{extension}"


# ---------------------------------------------------------------------- CSV → a deck

_CSV_COLUMNS = {
    "id": "id",
    "guid": "guid",
    "prompt": "prompt",
    "front": "prompt",
    "question": "prompt",
    "answer": "answer",
    "back": "answer",
    "explanation": "explanation",
    "extra": "explanation",
    "tags": "tags",
    "deck": "deck",
    "source": "source",
}
_SEPARATORS = {"tab": "\t", "comma": ",", "semicolon": ";", "space": " ", "pipe": "|", "colon": ":"}
_LOOKS_HTML = re.compile(r"<(br|div|p|b|i|u|span|img|ul|ol|li|sup|sub|code|pre|em|strong)\b", re.I)


def csv_decks(
    path: Path, deck: str | None = None, skipped: list[str] | None = None, too_long: list[str] | None = None
) -> list[ImportedDeck]:
    """A CSV or Anki "Notes in Plain Text" file: a header row naming columns, or prompt, answer[, tags].

    Anki's `#separator:`, `#html:`, `#tags column:`, `#deck column:`, `#guid column:` and `#columns:`
    header lines are honoured. Cells are HTML when `#html:true` or when they look like HTML, else
    Markdown as written. Ids come from an `id` column, else a `guid` column, else the prompt's hash.
    """
    try:
        text = read_regular(path, MAX_CSV_BYTES).decode("utf-8-sig")
    except FileNotFoundError:
        raise ImportProblem(f"{path}: no such file") from None
    except NotARegularFile:
        raise ImportProblem(f"{path}: not a regular file (a FIFO, socket or device); name the CSV file") from None
    except TooLarge:
        raise ImportProblem(f"{path}: larger than {MAX_CSV_BYTES >> 20} MiB; split it into several files") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ImportProblem(f"{path}: cannot read it as UTF-8 text ({error})") from None
    options: dict[str, str] = {}
    lines = text.splitlines(keepends=True)
    while lines and re.match(r"#[a-z ]+:", lines[0]):
        key, _, value = lines.pop(0)[1:].partition(":")
        options[key.strip().lower()] = value.strip()
    body = "".join(lines)
    if not body.strip():
        raise ImportProblem(f"{path}: no rows to import")
    separator = _SEPARATORS.get(options.get("separator", "").lower(), options.get("separator", "")[:1] or None)
    if separator is None:  # the candidate the first line uses most; tabs win ties (Anki's default)
        first_line = body.lstrip("\n").split("\n", 1)[0]
        separator = max("\t,;", key=first_line.count)
    # csv refuses cells over 128 KiB with a traceback: read up to the limit checked below,
    # and say where a file is not CSV.
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD_CHARS + 1))
    reader = csv.reader(io.StringIO(body), delimiter=separator, skipinitialspace=True)
    header_lines = len(text.splitlines()) - len(lines)
    rows, start, last_start = [], 1, 1
    try:
        for row in reader:
            start, last_start = reader.line_num + 1, start
            if any(cell.strip() for cell in row):
                rows.append(row)
    except csv.Error as error:
        raise ImportProblem(f"{path}: line {reader.line_num + header_lines}: {error}") from None
    if _unclosed_quote(body, last_start, separator):  # only the last row can run to the end in a quote
        raise ImportProblem(
            f"{path}: line {header_lines + last_start}: a quoted cell is never closed, so the rest of the file"
            ' would be one cell; close it with " (a " inside a quoted cell is written "")'
        )
    try:
        columns = _csv_columns(rows, options)
    except UnknownColumns as error:
        blank = next((i for i, line in enumerate(lines) if line.strip(f" \t\r\n{separator}")), 0)
        raise ImportProblem(f"{path}: line {len(text.splitlines()) - len(lines) + blank + 1}: {error}") from None
    if columns[0] == "header":
        rows, columns = rows[1:], columns[1:]
    if "prompt" not in columns:
        raise ImportProblem(f"{path}: no prompt column; name one 'prompt' or 'front' in a header row")
    as_html = options.get("html", "").lower() == "true" or any(_LOOKS_HTML.search(c) for r in rows[:200] for c in r)
    convert = html_to_markdown if as_html else str.strip
    decks: dict[str, ImportedDeck] = {}
    taken_decks: set[str] = set()
    ids: dict[str, set[str]] = {}
    for number, row in enumerate(rows, start=1):
        cells = dict(zip(columns, row, strict=False))
        if any(len(cell) > MAX_FIELD_CHARS for cell in row):
            raise ImportProblem(f"{path}: row {number} has a cell over {MAX_FIELD_CHARS} characters; refused")
        prompt = convert(cells.get("prompt", ""))
        if not prompt:
            if skipped is not None:
                skipped.append(f"row {number}")
            continue
        deck_name = cells.get("deck", "").strip() or deck or path.stem
        if deck_name not in decks:
            decks[deck_name] = ImportedDeck(
                _unique(slug(deck_name, "imported"), taken_decks),
                deck_name[:MAX_TITLE_CHARS],
                f"Imported from {path.name}",
            )
            ids[deck_name] = set()
        if cells.get("id", "").strip():
            card_id = slug(cells["id"], guid_card_id(cells["id"]))
        elif cells.get("guid", "").strip():
            card_id = guid_card_id(cells["guid"].strip())
        else:
            card_id = guid_card_id(prompt)
        card = ImportedCard(
            card_id,
            prompt,
            convert(cells.get("answer", "")) or "(no answer given)",
            convert(cells.get("explanation", "")) or f"Imported from {path.name}; no explanation yet.",
            cells.get("tags", "").split(),
            cells.get("source", "").strip(),
        )
        if not _fits(card):
            if too_long is not None:
                too_long.append(f"row {number}")
            continue
        card.id = _unique(card_id, ids[deck_name])
        decks[deck_name].cards.append(card)
    return [d for d in decks.values() if d.cards]


def _unclosed_quote(body: str, start: int, separator: str) -> bool:
    """Whether the row starting at line `start` of `body` runs to the end of the file inside a quoted cell:
    the lenient reader then returns the rest of the file as one cell, silently."""
    rest = "".join(body.splitlines(keepends=True)[start - 1 :])
    try:
        for _ in csv.reader(io.StringIO(rest), delimiter=separator, skipinitialspace=True, strict=True):
            return False  # the row closed
    except csv.Error as error:
        return "unexpected end of data" in str(error)
    return False


class UnknownColumns(ValueError):
    """A header row naming columns quizzer does not read: refused, so no header becomes a card."""

    def __init__(self, names: Sequence[str]) -> None:
        shown = ", ".join(repr(name.strip()[:40]) for name in names[:5]) + (", …" if len(names) > 5 else "")
        super().__init__(
            f"this looks like a header row, but quizzer does not know the column(s) {shown}; name the columns "
            "id, guid, prompt (or front, question), answer (or back), explanation (or extra), tags, deck and "
            "source (or, if this row is a card, put a line '#columns:prompt,answer' before it)"
        )


# Header words of flash-card files that are not quizzer's column names: a row of short labels using
# one is a header, not a card asking "term". (A row with a known name is read as a header too.)
_HEADER_WORDS = frozenset({
    "term", "definition", "word", "words", "meaning", "meanings", "translation", "notes", "note", "hint", "hints",
    "comment", "comments", "category", "topic", "concept", "description", "example", "examples", "sentence",
    "reading", "pronunciation", "side1", "side2", "field1", "field2", "text", "card",
})  # fmt: skip
_LABEL = re.compile(r"[a-z][a-z0-9_\- ]{0,23}")


def _is_header(first: Sequence[str]) -> bool:
    """Whether the first row names columns: two known names, or short labels with a known name or a
    common header word among them (`term, definition`). A row of words like `hola, hello` is a card."""
    named = [cell for cell in first if cell]
    known = sum(cell in _CSV_COLUMNS for cell in named)
    if known >= 2:
        return True
    labels = all(_LABEL.fullmatch(cell) and len(cell.split()) <= 3 for cell in named)
    return labels and (known >= 1 or any(cell.replace(" ", "") in _HEADER_WORDS for cell in named))


def _csv_columns(rows: list[list[str]], options: dict[str, str]) -> list[str]:
    """Column roles, first element "header" when the first row names them."""
    width = max(map(len, rows))
    if "columns" in options:
        names = re.split(r"[\t,;|]", options["columns"])
        return [_CSV_COLUMNS.get(n.strip().lower(), f"_{i}") for i, n in enumerate(names)]
    first = [cell.strip().lower() for cell in rows[0]]
    if _is_header(first):
        unknown = [cell for cell in rows[0] if cell.strip() and cell.strip().lower() not in _CSV_COLUMNS]
        if unknown:
            raise UnknownColumns(unknown)
        return ["header"] + [_CSV_COLUMNS.get(cell, f"_{i}") for i, cell in enumerate(first)]
    roles = [""] * width
    for key, role in (
        ("tags column", "tags"),
        ("deck column", "deck"),
        ("guid column", "guid"),
        ("notetype column", "_"),
    ):
        if options.get(key, "").isdecimal() and 0 < int(options[key]) <= width:
            roles[int(options[key]) - 1] = role
    free = iter(["prompt", "answer"] + ([] if "tags" in roles else ["tags"]))
    roles = [role or next(free, "_") for role in roles]
    return roles


# ---------------------------------------------------------------------- writing decks


def toml_string(text: str) -> str:
    """A multi-line literal string where the text allows it (readable), else a basic string; control
    characters dropped (see `_line`)."""
    text = CONTROL.sub("", text)
    if (
        "'''" not in text
        and not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text.replace("\r\n", "\n"))
        and "\r" not in text
    ):
        return "'''\n" + text.rstrip("\n") + "\n'''"
    return _line(text)


def _line(text: str) -> str:
    """A TOML basic string: JSON's escapes, and DEL (U+007F), which TOML forbids raw and JSON leaves, escaped.
    Control characters are dropped: they are no text, and a deck holding one fails lint (`safetext.CONTROL`)."""
    return json.dumps(CONTROL.sub("", text), ensure_ascii=False).replace("\x7f", "\\u007f")


def _fits(card: ImportedCard) -> bool:
    """Whether the card's texts, as they will be written (escaped), are within a deck's bounds."""
    return all(len(escape(text)) <= MAX_TEXT_CHARS for text in (card.prompt, card.explanation, card.answer))


def deck_toml(deck: ImportedDeck) -> str:
    parts = [
        f"{SCHEMA_DIRECTIVE} ./schema.json\n",
        f"id = {_line(deck.id)}\ntitle = {_line(deck.title)}\ndescription = {_line(deck.description)}\n",
    ]
    for card in deck.cards:
        parts.append(
            "\n[[cards]]\n"
            f"id = {_line(card.id)}\n"
            + (f"source = {_line(card.source)}\n" if card.source else "")
            + f"tags = [{', '.join(_line(t) for t in card.tags)}]\n"
            f"prompt = {toml_string(escape(card.prompt))}\n"
            f"explanation = {toml_string(escape(card.explanation))}\n"
            "[cards.answer]  # imported: self-graded, unverified until it gets an answer kind and a verifier\n"
            f'kind = "text"\nvalue = {toml_string(escape(card.answer))}\n'
        )
    return "".join(parts)


def write_decks(
    decks: Sequence[ImportedDeck], folder: Path, *, force: bool = False, package: Package | None = None, store=None
) -> ImportSummary:
    """Write each deck as `folder/<id>.toml` (+ media), lint it, and carry progress into `store`.

    All or nothing: the decks and their media are written into a staging folder inside `folder` first and
    moved into place only when every one was written, so a package that fails half-way (damaged media, a
    media file over the limit, a full disk) leaves no deck behind to be refused as existing on the retry."""
    summary = ImportSummary()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ImportProblem(f"{folder}: cannot create the output folder ({error.strerror or error})") from None
    targets = [folder / f"{deck.id}.toml" for deck in decks]
    existing = [str(t) for t in targets if t.exists()]
    if existing and not force:
        raise ImportProblem(f"{', '.join(existing)} already exist(s); pass --force to replace, or -o another folder")
    try:
        staging = Path(tempfile.mkdtemp(prefix=".quizzer-import-", dir=folder))
    except OSError as error:
        raise ImportProblem(f"{folder}: cannot write into the output folder ({error.strerror or error})") from None
    try:
        _stage_decks(decks, staging, package, summary)
        refresh_schema(folder)
        for deck, target in zip(decks, targets, strict=True):
            staged_media = staging / deck.media_folder
            if staged_media.is_dir():
                (folder / deck.media_folder).mkdir(exist_ok=True)
                for file in staged_media.iterdir():
                    file.replace(folder / deck.media_folder / file.name)
            (staging / target.name).replace(target)
            summary.decks.append(target)
            summary.cards += len(deck.cards)
            summary.problems += [str(p) for p in lint(target)]
    except OSError as error:
        raise ImportProblem(f"{folder}: cannot write the decks ({error.strerror or error})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if store is not None:
        for deck in decks:
            for card in deck.cards:
                if card.progress is None:
                    continue
                key = f"{deck.id}/{card.id}"
                progress = card.progress
                answers = [
                    Review(
                        0,
                        a.time.isoformat(timespec="milliseconds"),
                        a.time.date(),
                        key,
                        deck.id,
                        a.kind,
                        a.quality,
                        "",
                        a.verdict,
                        a.before,
                        a.after,
                        a.ms,
                    )
                    for a in progress.answers
                ]
                if store.carry_over(key, progress.state, progress.suspended, answers):
                    summary.scheduled += 1
                    summary.answers += len(card.progress.answers)
                else:
                    summary.kept_progress += 1
    return summary


def _stage_decks(decks: Sequence[ImportedDeck], staging: Path, package: Package | None, summary: ImportSummary) -> None:
    archive = zipfile.ZipFile(package.archive) if package and any(c.media for d in decks for c in d.cards) else None
    try:
        for deck in decks:
            (staging / f"{deck.id}.toml").write_text(deck_toml(deck), encoding="utf-8")
            if archive is not None:
                summary.media += _copy_media(deck, staging / deck.media_folder, archive, package)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise ImportProblem(f"{package.archive}: the zip file is damaged ({error}); export it again") from None
    finally:
        if archive is not None:
            archive.close()


def _copy_media(deck: ImportedDeck, target: Path, archive: zipfile.ZipFile, package: Package) -> int:
    copied = 0
    wanted = {name: member for card in deck.cards for name, member in card.media.items()}
    for name, member in sorted(wanted.items()):
        try:
            info = archive.getinfo(member)
        except KeyError:
            continue  # listed but absent from the zip: the card keeps its (dangling) link
        if info.file_size > MAX_MEDIA_BYTES:
            raise ImportProblem(
                f"{package.archive}: media file {name} is {info.file_size} bytes, over the {MAX_MEDIA_BYTES >> 20} MiB"
                " limit; remove it from the deck in Anki and export again"
            )
        target.mkdir(parents=True, exist_ok=True)
        with archive.open(member) as stream, open(target / name, "wb") as out:
            if package.zstd_media:
                _unzstd(stream, out, MAX_MEDIA_BYTES, f"{package.archive}: media file {name}")
            else:
                shutil.copyfileobj(stream, out)
        copied += 1
    return copied


def import_anki(path: Path, folder: Path, *, today: date, force: bool = False, store=None) -> ImportSummary:
    package = read_package(path)
    skipped: list[str] = []
    too_long: list[str] = []
    try:
        decks = anki_decks(package, today, skipped, too_long)
    except _DAMAGED as error:
        raise _damaged(path, error) from None
    if not decks:
        detail = f" ({len(skipped)} card(s), every question empty)" if skipped else ""
        detail += f" ({len(too_long)} card(s) too long for a deck)" if too_long else ""
        raise ImportProblem(f"{path}: the package holds no cards{detail}")
    summary = write_decks(decks, folder, force=force, package=package, store=store)
    summary.skipped, summary.too_long = len(skipped), len(too_long)
    return summary


def import_csv(path: Path, folder: Path, *, deck: str | None = None, force: bool = False) -> ImportSummary:
    skipped: list[str] = []
    too_long: list[str] = []
    decks = csv_decks(path, deck, skipped, too_long)
    if not decks and too_long:
        raise ImportProblem(f"{path}: every row is longer than a card's text may be ({MAX_TEXT_CHARS} characters)")
    if not decks:
        raise ImportProblem(f"{path}: no row has a prompt ({len(skipped)} row(s), every prompt cell empty)")
    summary = write_decks(decks, folder, force=force)
    summary.skipped, summary.too_long = len(skipped), len(too_long)
    return summary
