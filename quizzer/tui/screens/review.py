"""The review screen: prompt → typed answer → verdict, explanation and verification → grade 0–5.

It drives a `quizzer.session.Session`: the session owns the queue, checking, SM-2 grading, the
same-session re-drill and undo; this screen only shows them.
"""

from __future__ import annotations

from datetime import datetime

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Button, Header, Input, Markdown, Static

from quizzer.checking import Verdict
from quizzer.deck import CHECKABLE_KINDS
from quizzer.hints import input_hint
from quizzer.session import QueuedCard, Session, suggested_grade
from quizzer.store import StoreError
from quizzer.tui.library import Caution
from quizzer.tui.widgets.badges import badge_color
from quizzer.tui.widgets.footer import KeyFooter
from quizzer.tui.widgets.grades import GradeBar
from quizzer.tui.widgets.mathmd import prepare
from quizzer.tui.widgets.verification import VerificationPanel


class ReviewScreen(Screen):
    """One session: each card's prompt, a typed answer, the reveal, and a grade."""

    BINDINGS = [
        Binding("enter", "grade_suggested", "Grade", show=True),
        Binding("ctrl+z", "undo", "Undo"),
        Binding("u", "undo", "Undo", show=False),
        Binding("ctrl+n", "skip", "Skip"),
        Binding("s", "skip", "Skip", show=False),
        Binding("ctrl+r", "reverify", "Verify"),
        Binding("v", "reverify", "Re-verify", show=False),
        Binding("escape", "end", "End"),
        Binding("pageup", "scroll_card(-1)", "Scroll up", show=False),
        Binding("pagedown", "scroll_card(1)", "Scroll down", show=False),
        *[Binding(str(q), f"grade({q})", f"Grade {q}", show=False) for q in range(6)],
    ]

    revealed: reactive[bool] = reactive(False, init=False)

    def __init__(self, session: Session, title: str = "Review", deck_ids: list[str] | None = None) -> None:
        super().__init__()
        self.session = session
        self.deck_ids = deck_ids
        self.session_title = title
        self.verdict: Verdict | None = None
        self.typed = ""
        self.shown_at: datetime | None = None
        self.answered = 0
        self.last_feedback: Text | None = None
        self.caution: Caution | None = None
        self._revealing = False

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="status-line")
        yield Static(id="caution")
        with VerticalScroll(id="card"):
            yield Markdown(id="prompt")
            yield Horizontal(id="choices")
            with Vertical(id="reveal"):
                yield Static(id="verdict")
                yield Markdown(id="stated-answer")
                yield Markdown(id="explanation")
                yield VerificationPanel(id="verification")
        with Horizontal(id="answer-row"):
            yield Input(id="answer")
            yield Button("Check", id="check", variant="primary", compact=True)
        yield Static(id="hint")
        yield GradeBar(id="grades")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = self.session_title
        self.watch(self.app, "verification_generation", self._verification_changed, init=False)
        self.show_card()

    # ------------------------------------------------------------------ showing a card

    @property
    def item(self) -> QueuedCard | None:
        return self.session.current

    def show_card(self, feedback: Text | None = None) -> None:
        item = self.item
        if item is None:
            self.finish()
            return
        card, deck = item.card, item.deck
        self.verdict = None
        self.typed = ""
        self.revealed = False
        self.shown_at = self.app.clock()
        self.query_one("#prompt", Markdown).update(prepare(card.prompt, deck.macros))
        self._show_choices(item)
        answer = self.query_one("#answer", Input)
        answer.value = ""
        answer.placeholder = input_hint(card.answer)
        self.query_one("#check", Button).label = "Check" if card.answer.kind in CHECKABLE_KINDS else "Reveal"
        self._hint(feedback)
        self._show_caution()
        self.query_one("#card", VerticalScroll).scroll_home(animate=False)
        self._status()
        answer.focus()

    def _hint(self, text: Text | str | None) -> None:
        hint = self.query_one("#hint", Static)
        hint.update(text or "")
        hint.display = bool(text)

    def _show_caution(self) -> None:
        """Before answering: say so when the card's verification failed or is stale (never after grading it)."""
        item, library = self.item, self.app.library
        if item is None or library is None:
            return
        self.caution = library.verification(item.key).caution(item.card)
        banner = self.query_one("#caution", Static)
        banner.set_class(self.caution is not None and self.caution.badge == "failed", "-failed")
        banner.update(Text("⚠ " + self.caution.text) if self.caution else "")
        banner.display = self.caution is not None

    def _verification_changed(self) -> None:
        if not self.revealed:
            self._show_caution()
        self._refresh_verification()

    def _status(self) -> None:
        item = self.item
        if item is None:
            return
        phase = item.state.phase
        tag = {"new": "new", "review": "review", "learning": "re-drill"}[phase]
        if item.state.drill:
            tag = "re-drill (graded 3: until a 4)"
        remaining = self.session.remaining
        self.sub_title = f"{remaining} card{'s' if remaining != 1 else ''} left"
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f" {tag} ", style=Style(bold=True, reverse=True, color=_phase_color(self.app, phase)))
        line.append(f"  {item.key}", style="bold")
        line.append(f"  · {item.card.answer.kind}", style="dim")
        if item.card.source:
            line.append(f"  · {item.card.source}", style="dim")
        self.query_one("#status-line", Static).update(line)

    def _show_choices(self, item: QueuedCard) -> None:
        choices = self.query_one("#choices", Horizontal)
        choices.remove_children()
        answer = item.card.answer
        options: list[str] = []
        if answer.kind == "choice":
            options = list(answer.options)
        elif answer.kind == "boolean":
            options = ["true", "false"]
        buttons = [
            Button(f"{i}. {option}" if answer.kind == "choice" else option, classes="choice", compact=True)
            for i, option in enumerate(options, start=1)
        ]
        for button, option in zip(buttons, options, strict=True):
            button.option = option  # type: ignore[attr-defined]
        choices.mount_all(buttons)
        choices.display = bool(buttons)

    def watch_revealed(self, revealed: bool) -> None:
        # Toggling `display` on three containers, not a class on the screen: a screen class restyles every
        # Markdown block of the card (~80 ms on a long explanation).
        self.query_one("#reveal").display = revealed
        self.query_one(GradeBar).display = revealed
        self.query_one("#answer-row").display = not revealed
        self.query_one("#answer", Input).disabled = revealed
        self.query_one("#check", Button).disabled = revealed
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("grade", "grade_suggested"):
            if not self.revealed:
                return False
            if action == "grade_suggested":
                return self.verdict is not None and suggested_grade(self.verdict) is not None
        if action == "undo":
            return self.session.can_undo
        if action in ("skip", "reverify"):
            return self.item is not None
        return True

    # ------------------------------------------------------------------ answering

    @on(Input.Submitted, "#answer")
    async def _submitted(self) -> None:
        await self.reveal()

    @on(Button.Pressed, "#check")
    async def _check_pressed(self) -> None:
        await self.reveal()

    @on(Button.Pressed, ".choice")
    async def _choice_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if not self.revealed:
            self.query_one("#answer", Input).value = event.button.option  # type: ignore[attr-defined]
            await self.reveal()

    async def reveal(self) -> None:
        """Check the typed answer; an unreadable one is explained and may be retyped."""
        item = self.item
        if item is None or self.revealed or self._revealing:
            return
        typed = self.query_one("#answer", Input).value
        verdict = self.session.answer(typed)
        if verdict.status == "unparsable":
            self._hint(Text(f"⚠ {verdict.message} — fix it, or clear the box and press Enter to see the answer."))
            return
        if self.caution is not None and self.caution.disputed:
            verdict = Verdict("self-graded", verdict.normalized, "not graded: its verifier disputes the stated answer")
        self.typed, self.verdict = typed, verdict
        card, deck = item.card, item.deck
        self.query_one("#verdict", Static).update(self._verdict_text(verdict, typed))
        self._revealing = True
        try:
            await self.query_one("#stated-answer", Markdown).update(self._answer_markdown(item))
            await self.query_one("#explanation", Markdown).update(prepare(card.explanation, deck.macros))
        finally:
            self._revealing = False
        self._refresh_verification()
        self.revealed = True
        self._hint(None)
        reason = {"correct": ": your answer checked correct", "incorrect": ": your answer checked wrong"}
        self.query_one(GradeBar).suggest(suggested_grade(verdict), reason.get(verdict.status, ""))
        card_view = self.query_one("#card", VerticalScroll)
        card_view.focus()
        # After the new Markdown is laid out: bring the verdict up, keeping the prompt's last lines in view.
        self.call_after_refresh(self._scroll_to_reveal)

    def _scroll_to_reveal(self) -> None:
        card_view = self.query_one("#card", VerticalScroll)
        reveal = self.query_one("#reveal")
        target = max(0, reveal.virtual_region.y - 4)
        card_view.scroll_to(y=target, animate=False)

    def _verdict_text(self, verdict: Verdict, typed: str) -> Text:
        app = self.app
        if verdict.status == "correct":
            text = Text("✓ Correct", style=Style(color=badge_color(app, "verified"), bold=True))
            text.append(f" — you answered {verdict.normalized}", style="")
        elif verdict.status == "incorrect":
            text = Text("✗ Not right", style=Style(color=badge_color(app, "failed"), bold=True))
            shown = verdict.normalized or "nothing"
            text.append(f" — you answered {shown}" + (f"; {verdict.message}" if verdict.message else ""))
        else:
            text = Text("Self-graded", style=Style(bold=True))
            if verdict.message:
                text.append(f" ({verdict.message})", style=Style(color=badge_color(app, "stale")))
            text.append(" — compare your answer with the one below" + (":" if typed.strip() else "."))
            if typed.strip():
                text.append(f"\n{typed.strip()}", style="italic")
        return text

    def _answer_markdown(self, item: QueuedCard) -> str:
        answer = item.card.answer
        if answer.kind == "code":
            return f"**Answer** (code):\n\n```{answer.language}\n{answer.value.strip()}\n```"
        if answer.kind == "text":
            return "**Answer:**\n\n" + prepare(answer.value.strip(), item.deck.macros)
        if self.caution is not None and self.caution.disputed:
            return f"**Stated answer:** `{answer.display()}` — *disputed by its verifier (see below)*"
        return f"**Answer:** `{answer.display()}`"

    def _refresh_verification(self) -> None:
        item = self.item
        library = self.app.library
        if item is None or library is None or not self.is_mounted:
            return
        loaded = library.loaded_for(item.key)
        self.query_one(VerificationPanel).show(
            library.verification(item.key), deck_path=str(loaded.path), macros=item.deck.macros
        )

    # ------------------------------------------------------------------ grading, undo, skip

    def action_grade(self, quality: int) -> None:
        if not self.revealed or self.item is None:
            return
        item = self.item
        now = self.app.clock()
        ms = int((now - self.shown_at).total_seconds() * 1000) if self.shown_at else 0
        review = self.session.grade(quality, now=now, typed=self.typed, verdict=self.verdict, ms=max(0, ms))
        self.answered += 1
        self.app.answered()
        self.show_card(_feedback(self.app, item.key, quality, review.after, self.session.today))

    def action_grade_suggested(self) -> None:
        if self.verdict is not None:
            quality = suggested_grade(self.verdict)
            if quality is not None:
                self.action_grade(quality)

    @on(GradeBar.Graded)
    def _graded(self, event: GradeBar.Graded) -> None:
        self.action_grade(event.quality)

    def action_undo(self) -> None:
        try:
            item = self.session.undo()
        except IndexError:
            self.notify("Nothing to undo in this session.")
            return
        except StoreError as error:
            self.notify(str(error), title="Cannot undo", severity="error")
            return
        self.app.answered()
        self.show_card(Text(f"↶ undid the last grade of {item.key}", style="italic"))

    def action_skip(self) -> None:
        item = self.item
        if item is None:
            return
        following = self.session.skip()
        if following is not None and following.key == item.key:
            self.show_card(Text("skipped — it is the only card left", style="italic"))
        else:
            self.show_card(Text(f"skipped {item.key}: it comes back at the end", style="italic"))

    def action_reverify(self) -> None:
        if self.item is not None:
            self.app.reverify(self.item.key)

    def action_scroll_card(self, direction: int) -> None:
        card = self.query_one("#card", VerticalScroll)
        (card.scroll_page_down if direction > 0 else card.scroll_page_up)(animate=False)

    def action_end(self) -> None:
        self.finish()

    def finish(self) -> None:
        from quizzer.tui.screens.summary import SummaryScreen

        if not self.session.can_undo:
            self.dismiss()
            return
        self.app.push_screen(SummaryScreen(self.session, self.deck_ids), self._after_summary)

    def _after_summary(self, result: str | None) -> None:
        if result == "undo":
            self.action_undo()
        elif result == "continue" and self.item is not None:
            self.show_card()
        else:
            self.dismiss()


def _phase_color(app, phase: str) -> str:
    theme = app.current_theme
    return {"new": theme.accent, "learning": theme.warning, "review": theme.success}.get(phase) or theme.primary


def _feedback(app, key: str, quality: int, after, today) -> Text:
    text = Text(f"✔ {key} graded {quality}: ", style="dim")
    if after.drill:
        text.append("drill — asked again until you grade 4+", style=Style(color=badge_color(app, "stale")))
    elif after.is_due(today):
        text.append("again later in this session", style=Style(color=badge_color(app, "failed")))
    else:
        days = after.interval
        text.append(f"next in {days} day{'s' if days != 1 else ''}", style=Style(color=badge_color(app, "verified")))
    return text
