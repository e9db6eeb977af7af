"""`quizzer review --plain`: a line-based review through `Session`, for ssh, dumb terminals and pipes.

Every step reads one line, so `printf 'true\\n5\\n' | quizzer review --plain` works: a typed answer
(Enter alone reveals), then a grade 0–5 (Enter accepts the suggested one). `u` undoes the last
grade, `q` quits, end of input ends the sitting; each way prints the summary. Markdown is rendered
as text (rich: emphasis without asterisks, tables drawn, code blocks indented; colour only on a
terminal), with LaTeX math turned into Unicode; after the reveal comes the card's last
verification (status, claims and the verifier's demonstration).
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import time
from collections.abc import Callable, Mapping
from datetime import datetime

from rich.cells import cell_len

from quizzer.cards.deck import SINGLE_PART
from quizzer.cards.instance import Instance, grade, overall, pose, sample_shapes
from quizzer.cards.loader import LoadedDeck
from quizzer.core.checking import Verdict
from quizzer.core.mathtext import render_math
from quizzer.core.sm2 import QUALITY_MEANINGS
from quizzer.output import console, echo, echo_rendered
from quizzer.review.hints import input_hint
from quizzer.review.session import Elsewhere, QueuedCard, Session, Summary, suggested_grade
from quizzer.review.show import last_verification, verification_view, verify_target
from quizzer.store import Review, StoreError, is_busy

MARKS = {"correct": "✓ correct", "incorrect": "✗ incorrect", "unparsable": "? unreadable", "self-graded": "· yours"}


class _Quit(Exception):
    """The learner typed q or input ended."""


class _Undo(Exception):
    """The learner typed u."""


def run(session: Session, clock: Callable[[], datetime], loaded: Mapping[str, LoadedDeck]) -> Summary:
    """Review until the queue is empty, `q`, end of input or Ctrl-C; return the sitting's summary.

    `loaded` maps deck ids to their files, to show each card's verification after the reveal.
    """
    if session.current is None:
        if session.custom is None:
            echo("Nothing to review today. Custom study: `quizzer cram DECK` drills any card, no schedule changes;")
            echo("`quizzer review --ahead 7 DECK` reviews what falls due in the next 7 days.")
        else:
            echo("Nothing to study: no card falls due in those days." if session.custom.kind == "ahead" else "")
        return session.summary()
    what = {None: "to review", "cram": "to cram (answers change no schedule)", "ahead": "to review ahead"}
    echo(f"{session.remaining} card(s) {what[session.custom and session.custom.kind]}. Grades (SM-2):")
    for quality in sorted(QUALITY_MEANINGS, reverse=True):
        echo(f"  {quality}  {QUALITY_MEANINGS[quality]}")
    echo("Type your answer (Enter alone reveals it); 'u' undoes the last grade, 'q' quits.")
    try:
        while session.current is not None:
            try:
                _review_one(session, session.current, clock, loaded)
            except _Undo:
                _undo(session)
    except (_Quit, KeyboardInterrupt):
        echo()
    return session.summary()


def _review_one(
    session: Session, item: QueuedCard, clock: Callable[[], datetime], loaded: Mapping[str, LoadedDeck]
) -> None:
    """One card: how it is posed, each checkable part asked in turn, the reveal, a grade from the parts."""
    card, macros = item.card, item.deck.macros
    deck_file = loaded.get(item.deck.id)
    last = last_verification(session.store, deck_file, card) if deck_file is not None else None
    outcome = last.outcome if last is not None else None
    instance = pose(card, outcome, session.store.seen_instances(item.key) if card.parametric else ())
    session.store.prefetch(item.key)
    echo(f"\n── {item.deck.title} · {item.key} ({_phase(item)}) · {session.remaining} to go ──")
    if instance.label:
        echo(f"({instance.label})")
    _caution(card, last, instance)
    _print_markdown(instance.render(card.prompt), macros)
    single = card.declared_parts is None
    started = time.monotonic()
    typed: dict[str, str] = {}
    for number, part in enumerate(instance.parts, start=1):
        if not single:
            echo(f"{number}. {render_math(instance.render(part.label), macros)}")
        if not single and not part.checkable:  # a text or code part: nothing is read, it is self-graded
            echo("(answer it in your head: it is shown at the reveal, for you to grade yourself)")
            continue
        hint = _answer_hint(part, instance)
        if hint:
            echo(hint)
        while True:
            typed[part.id] = _read("answer> " if single else f"{part.id}> ")
            verdict = grade(instance, {part.id: typed[part.id]})[part.id]
            if verdict.status != "unparsable":
                break
            echo(f"? {verdict.message} — try again, or press Enter to reveal")
    verdicts = grade(instance, typed)
    ms = round((time.monotonic() - started) * 1000)
    _reveal(card, instance, verdicts, macros)
    if deck_file is not None:
        view = verification_view(deck_file, card, last, verify_target(deck_file, card), instance)
        console(highlight=False, soft_wrap=True).print(view)
    quality = _read_grade(suggested_grade(*verdicts.values()))
    shown_typed = typed.get(SINGLE_PART, "") if single else "; ".join(f"{k}: {v}" for k, v in typed.items())
    verdict = verdicts[SINGLE_PART] if single else Verdict(overall(verdicts))
    review = _grade_when_free(
        session, quality, now=clock(), typed=shown_typed, verdict=verdict, ms=ms, seed=instance.seed
    )
    echo(_outcome(review, session))


def _grade_when_free(session: Session, quality: int, **answer) -> Review:
    """Record the grade; while another program holds the database past the timeout, keep it and ask
    to try again (Enter) or quit without it (q). Nothing is acknowledged before it is committed."""
    while True:
        try:
            return session.grade(quality, **answer)
        except sqlite3.OperationalError as error:
            if not is_busy(error):
                raise
        echo(
            f"⏳ grade {quality} kept, not saved yet: another program holds the state database."
            " Enter tries again, q quits without it."
        )
        with contextlib.suppress(_Undo):  # nothing to undo while this grade waits: u retries too
            _read("retry> ")


def _caution(card, last, instance: Instance) -> None:
    """Before answering: say so when the card's verification failed or is stale, or a part is disputed."""
    if last is None or not card.verifier:
        return
    for part_id, reason in instance.disputed.items():
        which = "The stated answer" if card.declared_parts is None else f"Part {part_id}"
        echo(f"! {which} is disputed by its verification ({reason}): you grade it yourself this time.")
    if not last.outcome.ok and not instance.disputed:
        echo(f"! This card failed verification: {last.outcome.message}")
    if last.stale:
        echo(f"! {last.stale_sentence}")


def _phase(item: QueuedCard) -> str:
    return "drill" if item.state.drill else item.state.phase


def _answer_hint(part, instance: Instance) -> str:
    """What kind of input a part takes (never its answer: see `quizzer.review.hints`)."""
    answer = part.answer
    if answer.kind == "choice":
        return "\n".join(f"  {number}. {option}" for number, option in enumerate(answer.options, start=1))
    if answer.kind == "boolean":
        return "(true or false)"
    if answer.kind == "expression":
        return f"(a formula in {', '.join(answer.variables)})"
    if answer.kind == "tensor":
        return f"({input_hint(answer, sample_shapes(instance, part))})"
    if answer.kind in ("code", "text"):
        return "(answer in your head, or type it; Enter reveals)"
    return ""


def _reveal(card, instance: Instance, verdicts: Mapping[str, Verdict], macros) -> None:
    single = card.declared_parts is None
    for part in instance.parts:
        verdict = verdicts[part.id]
        shown = f": {verdict.normalized}" if verdict.normalized else ""
        prefix = "" if single else f"{part.id}: "
        echo(f"{prefix}{MARKS[verdict.status]}{shown}" + (f" ({verdict.message})" if verdict.message else ""))
        label = "Answer" if single else "  answer"
        if part.answer.kind != "text":
            echo(f"{label}: {render_math(part.answer.display(), macros)}")
            continue
        # A text answer is Markdown, as the explanation: one line stays beside its label, a longer one
        # goes below it, indented under the label. Rendered once, at the indented width: a single line
        # that also fits beside the label would have been the same line at that narrower width.
        indent = " " * (len(label) - len(label.lstrip()) + 2)
        lines, color = _markdown_lines(instance.render(part.answer.value), macros, margin=len(indent))
        beside = len(lines) == 1 and cell_len(lines[0]) <= _width() - len(label) - 2
        echo_rendered(f"{label}: {lines[0]}" if beside else f"{label}:", color=color)
        if not beside:
            echo_rendered("\n".join(indent + line if line else "" for line in lines), color=color)
    _print_markdown(instance.render(card.explanation), macros)


def _markdown_lines(text: str, macros: Mapping[str, str], margin: int = 0) -> tuple[list[str], bool]:
    """Markdown as readable lines (no `**`, pipes or fences; math as Unicode) as wide as the terminal
    less `margin`, and whether they may carry colour (only on a terminal)."""
    from rich.markdown import Markdown

    rendering = console(highlight=False)
    rendering.width = max(20, _width() - margin)
    with rendering.capture() as captured:
        rendering.print(Markdown(render_math(text.strip(), macros), hyperlinks=False))
    lines = [line.rstrip() for line in captured.get().splitlines()]
    while lines and not lines[0]:
        del lines[0]  # rich opens a list or a table with an empty line
    while lines and not lines[-1]:
        del lines[-1]
    return lines or [""], rendering.is_terminal


def _width() -> int:
    """The terminal's width, as rich finds it (COLUMNS, else the terminal, else 80)."""
    return console().width


def _print_markdown(text: str, macros: Mapping[str, str]) -> None:
    """Markdown as readable text; colour only on a terminal."""
    lines, color = _markdown_lines(text, macros)
    echo_rendered("\n".join(lines), color=color)


def _read_grade(suggestion: int | None) -> int:
    offer = f" [{suggestion}]" if suggestion is not None else ""
    while True:
        line = _read(f"grade 0-5{offer}> ").strip()
        if not line and suggestion is not None:
            return suggestion
        if line in {"0", "1", "2", "3", "4", "5"}:
            return int(line)
        echo("a grade is a digit from 0 to 5" + (", Enter takes the suggestion" if offer else ""))


def _outcome(review: Review, session: Session) -> str:
    if review.kind == "cram":
        return (
            "→ again in this session (cram: no schedule changes)"
            if review.quality < 3
            else "→ cram: schedule unchanged"
        )
    after = review.after
    if after.is_due(session.today):
        return "→ again in this session" + (" (until graded 4 or 5)" if after.drill else "")
    days = (after.due - session.today).days
    return f"→ next in {days} day{'s' * (days != 1)} ({after.due.isoformat()})"


def _undo(session: Session) -> None:
    if not session.can_undo:
        echo("nothing to undo")
        return
    try:
        item = session.undo()
    except StoreError as error:
        echo(f"cannot undo: {error}")
        return
    echo(f"↶ undone: {item.key} is back as it was")


def _read(prompt: str) -> str:
    """One line of input; u and q are commands at every prompt."""
    echo(prompt, nl=False)
    line = sys.stdin.readline()
    if not line:
        raise _Quit
    if not sys.stdin.isatty():
        echo(line.rstrip("\n"))  # echo piped input so the transcript reads like a session
    command = line.strip().lower()
    if command == "q":
        raise _Quit
    if command == "u":
        raise _Undo
    return line.rstrip("\n")


def format_summary(summary: Summary, elsewhere: Elsewhere | None = None) -> str:
    """The sitting in a few lines; `elsewhere` is what the day still holds in the decks outside it."""
    waiting = f" Still waiting today: {elsewhere} (`quizzer review` takes them all)." if elsewhere else ""
    if not summary.answers:
        return (
            "No answers recorded."
            + (f" {summary.remaining} card(s) still waiting." if summary.remaining else "")
            + waiting
        )
    minutes, seconds = divmod(round(summary.seconds), 60)
    lines = [
        f"{summary.answers} answer(s) on {summary.cards} card(s): {summary.new} new, {summary.reviews} review(s),"
        f" {summary.again} again; {summary.correct} checked correct; {minutes}m {seconds:02d}s answering.",
        "grades: " + ", ".join(f"{q}×{n}" for q, n in summary.qualities.items()),
    ]
    if summary.remaining:
        lines.append(f"{summary.remaining} card(s) left for today.")
    else:
        lines.append(("Done here." + waiting) if elsewhere else "Done for today.")
    return "\n".join(lines)
