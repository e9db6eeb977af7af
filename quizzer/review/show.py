"""`quizzer show DECK/CARD`: a card as a learner sees it, then its answer and last verification.

Rendered with rich (Markdown, math through `quizzer.core.mathtext`). The verification comes from the
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

from quizzer.cards.deck import Card
from quizzer.cards.instance import Instance, example, fixed, variant
from quizzer.cards.loader import LoadedDeck
from quizzer.core.mathtext import render_math
from quizzer.paths import bundled_decks
from quizzer.verify.execution import NO_VERIFIER, OK_STATUSES, Outcome
from quizzer.verify.statuses import INTERRUPTED

STATUS_STYLE = {"passed": "bold green", "demonstrated": "bold cyan", "unverified": "yellow"}
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
    """Why it is stale, in a few words after 'stale: ' ("the card or its verifier changed")."""
    stale_sentence: str = ""
    """The same said as one sentence, for a caution before the card is asked."""

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
    from quizzer.verify.runner import Job, cache_key, torch_version

    record = store.verification(Job(loaded, card).key)
    if record is None:
        return None
    try:
        outcome = Outcome.from_json(record.outcome)
    except (ValueError, TypeError):
        outcome = Outcome(record.status, "the stored result could not be read; run quizzer verify again")
    job = Job.as_verified(loaded, card, outcome)
    reason = sentence = ""
    if record.cache_key != cache_key(job):
        if record.cache_key == cache_key(job, record.torch_version):
            reason = f"verified with torch {record.torch_version}, now {torch_version()}"
            sentence = f"It was verified with torch {record.torch_version}; torch is now {torch_version()}."
        else:
            reason = "the card or its verifier changed"
            sentence = "The card or its verifier changed since it was verified."
    stale = bool(reason)
    return LastVerification(record.status, record.verified_at, record.torch_version, outcome, stale, reason, sentence)


# ---------------------------------------------------------------------- rendering


def _markdown(text: str, macros: dict[str, str]) -> Markdown:
    return Markdown(render_math(text.strip(), macros))


def prompt_view(loaded: LoadedDeck, card: Card, instance: Instance | None = None) -> Panel:
    """The front of the card: what a learner is asked (this posing of it, templates filled)."""
    deck = loaded.deck
    instance = instance or fixed(card, None)
    shown: list[RenderableType] = []
    if instance.label:
        shown += [Text(instance.label, style="dim"), Text("")]
    shown.append(_markdown(instance.render(card.prompt), deck.macros))
    single = card.declared_parts is None
    for number, part in enumerate(instance.parts, start=1):
        if not single:
            shown += [Text(""), Text(f"{number}. {instance.render(part.label)} ({part.answer.kind})", style="bold")]
        if part.answer.kind == "choice":
            options = "\n".join(f"{i}. {option}" for i, option in enumerate(part.answer.options, start=1))
            shown += [Text(""), _markdown(options, deck.macros)]
    subtitle = " · ".join(filter(None, [", ".join(card.tags), card.source]))
    return Panel(
        Group(*shown),
        title=Text.assemble((deck.title, "bold"), f" · {deck.id}/{card.id}"),  # Text: a title's `[` is no markup
        subtitle=Text(subtitle) if subtitle else None,
        border_style="cyan",
        padding=(1, 2),
    )


def answer_view(loaded: LoadedDeck, card: Card, instance: Instance | None = None) -> RenderableType:
    """Every part's answer, as this posing states it (a variant: as its verifier computed it)."""
    instance = instance or fixed(card, None)
    shown: list[RenderableType] = []
    single = card.declared_parts is None
    for part in instance.parts:
        answer = part.answer
        title = f"Answer ({answer.kind})" if single else f"{part.id} — {instance.render(part.label)} ({answer.kind})"
        if answer.kind == "code":
            body: RenderableType = Syntax(answer.value.strip("\n"), answer.language or "text", word_wrap=True)
        elif answer.kind == "text":
            body = _markdown(instance.render(answer.value), loaded.deck.macros)
        else:
            body = Text(answer.display(), style="bold green")
        shown += [Text(title, style="bold"), body]
        if part.id in instance.disputed:
            shown.append(Text(f"disputed: {instance.disputed[part.id]}", style=FAILED_STYLE))
    return Group(*shown)


def verification_view(
    loaded: LoadedDeck, card: Card, last: LastVerification | None, target: str, instance: Instance | None = None
) -> RenderableType:
    heading = Text("Verification", style="bold")
    if not card.verifier:
        return Group(heading, Text(NO_VERIFIER, style="yellow"))
    if last is None:
        return Group(
            heading,
            Text.assemble(("not verified yet", "yellow"), f" — run quizzer verify {target}"),
        )
    outcome = last.outcome
    style = STATUS_STYLE.get(last.status, "bold yellow" if last.status in INTERRUPTED else FAILED_STYLE)
    mark = "✓" if last.status == "passed" else ("◆" if last.status == "demonstrated" else "✗")
    status = last.status
    if status in INTERRUPTED:  # the verifier was stopped: no verdict on the card's answer
        mark, status = "⊘", f"{status}: not verified, no verdict on the stated answer"
    line = Text.assemble(
        (f"{mark} {status}", style),
        f" · {last.date} · torch {last.torch_version}",
        f" · {outcome.duration:.2f} s" if outcome.duration else "",
        f" · {card.verifier}",
    )
    parts: list[RenderableType] = [heading, line]
    if last.stale:
        parts.append(Text.assemble(("stale", "bold yellow"), f": {last.stale_reason}; run quizzer verify {target}"))
    if outcome.message:
        parts.append(Text(outcome.message, style=style if last.status != "passed" else ""))
    if card.parametric:
        passed = sum(entry.get("status") in OK_STATUSES for entry in outcome.pool)
        parts.append(
            Text(
                f"{len(card.examples)} worked example(s) checked; pool of {len(outcome.pool)} instance(s), "
                f"{passed} verified",
                style="dim",
            )
        )
    if outcome.expected or outcome.computed:
        which = "worked example #1: " if card.parametric else ""
        parts.append(Text(f"{which}card says {outcome.expected or '—'} · verifier computed {outcome.computed or '—'}"))
    if card.declared_parts is not None:
        for part_id, entry in outcome.parts.items():
            if entry["status"] == "self-graded":
                parts.append(Text(f"  · part {part_id}: self-graded (its facts are the claims)", style="dim"))
                continue
            ok = entry["status"] == "passed"
            parts.append(
                Text.assemble(
                    ("  ✓ " if ok else "  ✗ ", "green" if ok else "red"),
                    f"part {part_id}: card says {entry['expected'] or '—'}",
                    f" · verifier computed {entry['computed'] or '—'}",
                )
            )
    claims, notes = outcome.claims, outcome.notes
    pooled = next((e for e in outcome.pool if instance is not None and e.get("seed") == instance.seed), None)
    if pooled is not None:  # a variant has its own verification: its status, claims and notes
        style_of_pooled = STATUS_STYLE.get(pooled["status"], FAILED_STYLE)
        parts.append(Text(f"this {pooled.get('label', 'instance')}: {pooled['status']}", style=style_of_pooled))
        claims, notes = pooled.get("claims", []), pooled.get("notes", [])
    for claim in claims:
        parts.append(
            Text.assemble(
                ("  ✓ " if claim["holds"] else "  ✗ ", "green" if claim["holds"] else "red"),
                claim["name"],
                (f" — {claim['measured']}" if claim.get("measured") else "", "dim"),
            )
        )
    for note in notes:
        parts.append(_markdown(note, loaded.deck.macros))
    if outcome.series:
        names = ", ".join(s["name"] for s in outcome.series)
        parts.append(Text(f"plots: {names} (shown in the review app)", style="dim"))
    if outcome.missing_figures:
        parts.append(
            Text("cited but not produced by the verifier: " + ", ".join(outcome.missing_figures), style="yellow")
        )
    if outcome.traceback:
        parts.append(Text(outcome.traceback.rstrip(), style="red"))
    return Group(*parts)


def instance_to_show(card: Card, last: LastVerification | None, number: int | None = None) -> Instance:
    """`quizzer show`: a parametric card's pool instance `number` (1-based; default the first), else
    its first worked example; a fixed card as written. Raises `IndexError` for a number outside the pool."""
    outcome = last.outcome if last is not None else None
    if not card.parametric:
        if number is not None:
            raise IndexError("this card has no variants (it declares no [cards.params])")
        return fixed(card, outcome)
    pool = outcome.pool if outcome is not None else []
    if number is None and not pool:
        return example(card)
    number = number or 1
    if not 1 <= number <= len(pool):
        raise IndexError(f"the pool holds {len(pool)} instance(s) (quizzer verify computes it)")
    return variant(card, pool[number - 1])


def render_card(
    console: Console,
    loaded: LoadedDeck,
    card: Card,
    last: LastVerification | None,
    target: str,
    instance: Instance | None = None,
) -> None:
    instance = instance or instance_to_show(card, last)
    console.print(prompt_view(loaded, card, instance))
    console.print()
    console.print(answer_view(loaded, card, instance))
    console.print()
    console.print(Text("Explanation", style="bold"))
    console.print(_markdown(instance.render(card.explanation), loaded.deck.macros))
    console.print()
    console.print(verification_view(loaded, card, last, target, instance))
