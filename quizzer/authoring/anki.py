"""`quizzer export anki`: decks → an Anki package (.apkg) built with genanki.

One note per card. Everything Anki keys on is derived from names, so exporting again and
re-importing updates the notes instead of duplicating them: the note GUID is
`genanki.guid_for("deck-id/card-id")`, the note type's id hashes its name, each Anki deck's id
hashes the quizzer deck id. Prompts, answers and explanations are Markdown rendered to HTML
(markdown-it-py, code highlighted inline by Pygments); `$...$` / `$$...$$` become MathJax's
`\\(...\\)` / `\\[...\\]` with the deck's macros expanded, since Anki knows no deck macros. The
back shows the answer, the explanation and the verified demonstration (claims and notes) with the
date it was verified, read from the state database's verification cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import os
import re
import sqlite3
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from quizzer.cards.deck import Card
from quizzer.cards.instance import Instance, fixed
from quizzer.cards.loader import LoadedDeck
from quizzer.core import mathtext

MODEL_NAME = "quizzer card (verified by code)"
DECK_PREFIX = "Quizzer"
FIELDS = ("Key", "Prompt", "Options", "Answer", "Explanation", "Verification", "Source", "Deck")

FRONT = """<div class="quizzer-deck">{{Deck}}</div>
<div class="prompt">{{Prompt}}</div>
{{#Options}}<div class="options">{{Options}}</div>{{/Options}}"""

BACK = """{{FrontSide}}
<hr id="answer">
<div class="answer">{{Answer}}</div>
<div class="explanation">{{Explanation}}</div>
{{#Verification}}<div class="verification">{{Verification}}</div>{{/Verification}}
{{#Source}}<div class="source">{{Source}} · {{Key}}</div>{{/Source}}"""

CSS = """.card { font-family: system-ui, sans-serif; font-size: 18px; line-height: 1.45; text-align: left;
  color: #1d1d1f; background: #fff; max-width: 46em; margin: 0 auto; padding: 0 0.5em; }
.nightMode.card, .night_mode .card { color: #e6e6e6; background: #1e1e1e; }
.quizzer-deck, .source { font-size: 0.75em; color: #888; }
.answer { font-weight: 600; }
.answer .value { font-size: 1.2em; color: #1a7f37; }
.explanation, .verification { margin-top: 1em; }
.verification { border-left: 3px solid #1a7f37; padding-left: 0.8em; font-size: 0.92em; }
.verification .unverified, .verification .stale { color: #9a6700; }
.verification .failed { color: #cf222e; }
.verification .demonstrated { color: #0969da; }
.parts .label { font-weight: normal; color: #555; }
.claims { list-style: none; padding-left: 0; }
.claims .measured { color: #666; font-family: ui-monospace, monospace; font-size: 0.9em; }
pre { background: #f6f8fa; padding: 0.6em; overflow-x: auto; font-size: 0.85em; border-radius: 4px; }
.nightMode pre, .night_mode pre { background: #2d2d2d; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 0.2em 0.5em; }
"""


def stable_id(name: str) -> int:
    """A model/deck id in genanki's recommended range [2^30, 2^31), the same for the same name."""
    digest = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")
    return (1 << 30) + digest % (1 << 30)


def note_guid(deck_id: str, card_id: str) -> str:
    import genanki

    return genanki.guid_for(f"{deck_id}/{card_id}")


def anki_tag(tag: str) -> str:
    """Anki tags are space-separated: spaces (and other whitespace) become underscores."""
    return re.sub(r"\s+", "_", tag.strip())


# ---------------------------------------------------------------------- math → MathJax


def expand_macros(latex: str, macros: Mapping[str, str]) -> str:
    """The deck's macros expanded for MathJax by the terminal's own expander (`mathtext.expand_macros`: TeX's
    reading, bounded); a formula whose macros expand past `mathtext.MAX_EXPANDED_CHARS` is left as written."""
    try:
        return mathtext.expand_macros(latex, macros)
    except mathtext.MacroExpansionTooLarge:
        return latex


def mathjax(latex: str, display: bool, macros: Mapping[str, str]) -> str:
    """`x^2` → `\\(x^2\\)` (inline) or `\\[x^2\\]` (display), macros expanded, HTML-escaped."""
    body = html.escape(expand_macros(latex.strip(), macros), quote=False)
    return rf"\[{body}\]" if display else rf"\({body}\)"


# ---------------------------------------------------------------------- Markdown → HTML


@cache
def _markdown(macros_key: tuple[tuple[str, str], ...]):
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    macros = dict(macros_key)
    md = MarkdownIt("commonmark", {"html": False, "highlight": _highlight})
    md.enable(["table", "strikethrough"])
    md.use(
        dollarmath_plugin,
        allow_space=False,
        allow_digits=False,
        double_inline=True,
        renderer=lambda content, options: mathjax(content, bool(options.get("display_mode")), macros),
    )
    return md


def _highlight(code: str, language: str, attrs: str) -> str:
    """Code blocks as self-contained HTML (inline styles: Anki has no Pygments stylesheet)."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(language or "text")
    except ClassNotFound:
        return ""  # markdown-it then escapes the code itself
    return highlight(code, lexer, HtmlFormatter(noclasses=True, nowrap=True, style="friendly"))


_INLINE_DISPLAY = re.compile(r'<div class="math inline">(.*?)</div>', re.S)


def markdown_html(text: str, macros: Mapping[str, str] | None = None) -> str:
    """Markdown (with `$...$` math and fenced code) → HTML for an Anki field."""
    rendered = _markdown(tuple(sorted((macros or {}).items()))).render(text.strip()).strip()
    # `$$...$$` inside a paragraph: a <div> would break the <p> apart; MathJax's \[...\] displays it anyway.
    return _INLINE_DISPLAY.sub(r'<span class="math display">\1</span>', rendered)


# ---------------------------------------------------------------------- note fields


def answer_html(card: Card, macros: Mapping[str, str], instance: Instance | None = None) -> str:
    """The answer as HTML: a single answer's value, or the parts as a list of label and answer."""
    instance = instance or fixed(card, None)
    if card.declared_parts is None:
        return _answer_value_html(instance.parts[0].answer, macros, instance)
    items = []
    for part in instance.parts:
        label = _markdown(tuple(sorted(macros.items()))).renderInline(instance.render(part.label).strip())
        value = _answer_value_html(part.answer, macros, instance)
        items.append(f'<li><span class="label">{label}</span>: {value}</li>')
    return f'<ol class="parts">{"".join(items)}</ol>'


def _answer_value_html(answer, macros: Mapping[str, str], instance: Instance) -> str:
    if answer.kind == "text":
        return markdown_html(instance.render(answer.value), macros)
    if answer.kind == "code":
        fence = "~~~~" if "```" in answer.value else "```"
        return markdown_html(f"{fence}{answer.language}\n{answer.value.strip(chr(10))}\n{fence}", macros)
    if answer.kind == "choice":
        shown = _markdown(tuple(sorted(macros.items()))).renderInline(answer.value.strip())
    elif answer.kind in ("expression", "shape", "tensor"):
        shown = f"<code>{html.escape(answer.display(), quote=False)}</code>"
    else:
        shown = html.escape(answer.display(), quote=False)
    return f'<span class="value">{shown}</span>'


def options_html(card: Card, macros: Mapping[str, str]) -> str:
    """A single choice answer's numbered options (a parts card lists each part's options in its answer)."""
    if card.declared_parts is not None or card.answer.kind != "choice":
        return ""
    return markdown_html("\n".join(f"{i}. {o}" for i, o in enumerate(card.answer.options, start=1)), macros)


def verification_html(card: Card, last, macros: Mapping[str, str]) -> str:
    """The verified demonstration: status and date, notes, claims (`last` is a show.LastVerification)."""
    if not card.verifier:
        return '<div class="unverified">Not checked by code (this card has no verifier).</div>'
    if last is None:
        return '<div class="unverified">Not verified yet: run <code>quizzer verify</code> before exporting.</div>'
    outcome = last.outcome
    when = html.escape(f"{last.date} · torch {last.torch_version}")
    if last.status == "passed":
        head = f'<div class="verified">✓ Verified by code on {when}</div>'
    elif last.status == "demonstrated":
        reason = html.escape(outcome.demonstration)
        head = (
            f'<div class="demonstrated">◆ Demonstrated (true by construction, not verified) on {when}: {reason}</div>'
        )
    else:
        message = html.escape(outcome.message or last.status)
        head = f'<div class="failed">✗ Verification {html.escape(last.status)} on {when}: {message}</div>'
    parts = [head]
    if last.stale:
        parts.append(f'<div class="stale">Stale: {html.escape(last.stale_reason)}.</div>')
    parts += [f'<div class="note">{markdown_html(note, macros)}</div>' for note in outcome.notes]
    if outcome.claims:
        items = "".join(
            f"<li>{'✓' if c['holds'] else '✗'} {html.escape(c['name'])}"
            + (f' — <span class="measured">{html.escape(c["measured"])}</span>' if c.get("measured") else "")
            + "</li>"
            for c in outcome.claims
        )
        parts.append(f'<ul class="claims">{items}</ul>')
    return "\n".join(parts)


# ---------------------------------------------------------------------- the package


class ExportError(Exception):
    """The package cannot be written where asked (the message names the path and what to do)."""


@dataclass
class ExportSummary:
    path: Path
    decks: int = 0
    notes: int = 0
    verified: int = 0
    stale: int = 0
    demonstrated: int = 0
    failed: int = 0
    unverified: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"wrote {self.notes} note(s) from {self.decks} deck(s) to {self.path}: {self.verified} verified"
        if self.demonstrated:
            text += f", {self.demonstrated} demonstrated (true by construction, not verified)"
        if self.stale:
            text += f", {self.stale} verified for an earlier version (stale)"
        if self.failed:
            text += f", {self.failed} failing verification"
        if self.unverified:
            text += f", {len(self.unverified)} not verified yet"
        return text


@cache
def model():
    import genanki

    return genanki.Model(
        stable_id(f"quizzer model {MODEL_NAME}"),
        MODEL_NAME,
        fields=[{"name": name} for name in FIELDS],
        templates=[{"name": "Card", "qfmt": FRONT, "afmt": BACK}],
        css=CSS,
        sort_field_index=0,
    )


def build_note(loaded: LoadedDeck, card: Card, last):
    """One note; templates filled from the verification (a parametric card: its first verified instance,
    else its first worked example; Anki cannot draw new instances)."""
    import genanki

    from quizzer.review.show import instance_to_show

    deck = loaded.deck
    macros = deck.macros
    instance = instance_to_show(card, last)
    prompt = instance.render(card.prompt)
    if card.declared_parts is not None:
        prompt += "\n\n" + "\n".join(f"{n}. {instance.render(p.label)}" for n, p in enumerate(card.parts, 1))
    fields = [
        f"{deck.id}/{card.id}",
        markdown_html(prompt, macros),
        options_html(card, macros),
        answer_html(card, macros, instance),
        markdown_html(instance.render(card.explanation), macros),
        verification_html(card, last, macros),
        html.escape(card.source, quote=False),
        html.escape(deck.title, quote=False),
    ]
    tags = [t for t in (anki_tag(tag) for tag in card.tags) if t]
    return genanki.Note(model=model(), fields=fields, tags=tags, guid=note_guid(deck.id, card.id))


def export_anki(selection: Sequence[tuple[LoadedDeck, Sequence[Card]]], out: Path | str, store=None) -> ExportSummary:
    """Write the selected cards as an Anki package; verifications come from `store` (may be None)."""
    import genanki

    from quizzer.review.show import last_verification

    out = Path(out)
    summary = ExportSummary(out)
    anki_decks = []
    for loaded, cards in selection:
        deck = loaded.deck
        anki_deck = genanki.Deck(
            stable_id(f"quizzer deck {deck.id}"),
            f"{DECK_PREFIX}::{deck.title}",
            description=markdown_html(deck.description, deck.macros) if deck.description else "",
        )
        for card in cards:
            last = last_verification(store, loaded, card)
            if last is None or not card.verifier:
                summary.unverified.append(f"{deck.id}/{card.id}")
            elif not last.outcome.ok:
                summary.failed += 1
            elif last.stale:
                summary.stale += 1
            elif last.status == "demonstrated":
                summary.demonstrated += 1
            else:
                summary.verified += 1
            anki_deck.add_note(build_note(loaded, card, last))
            summary.notes += 1
        anki_decks.append(anki_deck)
        summary.decks += 1
    _write_package(genanki.Package(anki_decks), out)
    return summary


def _write_package(package, out: Path) -> None:
    """Write beside `out` and rename over it: a failed export leaves no half-written package behind.

    Any OS refusal (read-only folder, no permission, a name too long, a full disk) is an `ExportError`, and so
    is SQLite's while genanki writes the package's collection: it was caught as the state database's fault
    ("the state database ... failed (disk I/O error)") under a file-size limit.
    """
    temporary = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=out.parent, prefix=".quizzer-export-", suffix=".apkg")
        os.close(descriptor)
        package.write_to_file(temporary)
        os.replace(temporary, out)
    except (OSError, sqlite3.Error) as error:  # genanki builds the package's collection with SQLite
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        reason = getattr(error, "strerror", None) or str(error)
        raise ExportError(f"cannot write {out}: {reason}; choose another -o path") from None
