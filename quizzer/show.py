"""`quizzer show DECK/CARD`: a card as a learner sees it, then its answer and last verification.

Rendered with rich (Markdown, math through `quizzer.mathtext`). The verification comes from the
state database's cache: never run here, and marked stale when the card, its verifier or torch
changed since (the runner's cache key no longer matches).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from quizzer.deck import Card
from quizzer.execution import NO_VERIFIER, Outcome
from quizzer.loader import LoadedDeck
from quizzer.mathtext import render_math
from quizzer.paths import bundled_decks

STATUS_STYLE = {"passed": "bold green", "unverified": "yellow"}
FAILED_STYLE = "bold red"


def verify_target(loaded: LoadedDeck, card: Card) -> str:
    """How to name this card to `quizzer verify`: `deck/card` for a bundled deck, else `path.toml::card`."""
    path = loaded.path.resolve()
    if path.parent == bundled_decks().resolve():
        return f"{loaded.deck.id}/{card.id}"
    try:
        shown = path.relative_to(Path.cwd().resolve())
    except ValueError:
        shown = path
    return f"{shown}::{card.id}"


@dataclass(frozen=True)
class LastVerification:
    """The cached verification of a card as `show` and the Anki export present it."""

    status: str
    verified_at: str
    torch_version: str
    outcome: Outcome
    stale: bool
    stale_reason: str = ""

    @property
    def date(self) -> str:
        return format_date(self.verified_at)


def format_date(stamp: str) -> str:
    """`2026-11-26T11:27:10+0000` → `2026-11-26 11:27`; anything else as stored."""
    for pattern in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(stamp, pattern).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            continue
    return stamp


def last_verification(store, loaded: LoadedDeck, card: Card) -> LastVerification | None:
    """The card's cached verification from `store` (None if there is none or no store)."""
    if store is None:
        return None
    from quizzer.runner import Job, cache_key, torch_version

    job = Job(loaded, card)
    record = store.verification(job.key)
    if record is None:
        return None
    try:
        outcome = Outcome.from_json(record.outcome)
    except (ValueError, TypeError):
        outcome = Outcome(record.status, "the stored result could not be read; run quizzer verify again")
    reason = ""
    if record.cache_key != cache_key(job):
        if record.cache_key == cache_key(job, record.torch_version):
            reason = f"verified with torch {record.torch_version}, now {torch_version()}"
        else:
            reason = "the card or its verifier changed since"
    return LastVerification(record.status, record.verified_at, record.torch_version, outcome, bool(reason), reason)


# ---------------------------------------------------------------------- rendering


def _markdown(text: str, macros: dict[str, str]) -> Markdown:
    return Markdown(render_math(text.strip(), macros))


def prompt_view(loaded: LoadedDeck, card: Card) -> Panel:
    """The front of the card: what a learner is asked."""
    deck = loaded.deck
    parts: list[RenderableType] = [_markdown(card.prompt, deck.macros)]
    if card.answer.kind == "choice":
        options = "\n".join(f"{i}. {option}" for i, option in enumerate(card.answer.options, start=1))
        parts += [Text(""), _markdown(options, deck.macros)]
    subtitle = " · ".join(filter(None, [", ".join(card.tags), card.source]))
    return Panel(
        Group(*parts),
        title=f"[bold]{deck.title}[/] · {deck.id}/{card.id}",
        subtitle=subtitle or None,
        border_style="cyan",
        padding=(1, 2),
    )


def answer_view(loaded: LoadedDeck, card: Card) -> RenderableType:
    answer = card.answer
    heading = Text(f"Answer ({answer.kind})", style="bold")
    if answer.kind == "code":
        body: RenderableType = Syntax(answer.value.strip("\n"), answer.language or "text", word_wrap=True)
    elif answer.kind == "text":
        body = _markdown(answer.value, loaded.deck.macros)
    else:
        body = Text(answer.display(), style="bold green")
    return Group(heading, body)


def verification_view(loaded: LoadedDeck, card: Card, last: LastVerification | None, target: str) -> RenderableType:
    heading = Text("Verification", style="bold")
    if not card.verifier:
        return Group(heading, Text(NO_VERIFIER, style="yellow"))
    if last is None:
        return Group(
            heading,
            Text.assemble(("not verified yet", "yellow"), f" — run quizzer verify {target}"),
        )
    outcome = last.outcome
    style = STATUS_STYLE.get(last.status, FAILED_STYLE)
    mark = "✓" if last.status == "passed" else "✗"
    line = Text.assemble(
        (f"{mark} {last.status}", style),
        f" · {last.date} · torch {last.torch_version}",
        f" · {outcome.duration:.2f} s" if outcome.duration else "",
        f" · {card.verifier}",
    )
    parts: list[RenderableType] = [heading, line]
    if last.stale:
        parts.append(Text.assemble(("stale", "bold yellow"), f": {last.stale_reason}; run quizzer verify {target}"))
    if outcome.message:
        parts.append(Text(outcome.message, style=style if last.status != "passed" else ""))
    if outcome.expected or outcome.computed:
        parts.append(Text(f"card says {outcome.expected or '—'} · verifier computed {outcome.computed or '—'}"))
    for claim in outcome.claims:
        parts.append(
            Text.assemble(
                ("  ✓ " if claim["holds"] else "  ✗ ", "green" if claim["holds"] else "red"),
                claim["name"],
                (f" — {claim['measured']}" if claim.get("measured") else "", "dim"),
            )
        )
    for note in outcome.notes:
        parts.append(_markdown(note, loaded.deck.macros))
    if outcome.series:
        names = ", ".join(s["name"] for s in outcome.series)
        parts.append(Text(f"plots: {names} (shown in the review app)", style="dim"))
    if outcome.traceback:
        parts.append(Text(outcome.traceback.rstrip(), style="red"))
    return Group(*parts)


def render_card(console: Console, loaded: LoadedDeck, card: Card, last: LastVerification | None, target: str) -> None:
    console.print(prompt_view(loaded, card))
    console.print()
    console.print(answer_view(loaded, card))
    console.print()
    console.print(Text("Explanation", style="bold"))
    console.print(_markdown(card.explanation, loaded.deck.macros))
    console.print()
    console.print(verification_view(loaded, card, last, target))
