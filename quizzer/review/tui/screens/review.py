"""The review screen: prompt → typed answer → verdict, explanation and verification → grade 0–5.

It drives a `quizzer.review.session.Session`: the session owns the queue, checking, SM-2 grading, the
same-session re-drill and undo; this screen only shows them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from functools import partial

from rich.cells import cell_len
from rich.color import Color as RichColor
from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Button, Input, Markdown, Static
from textual.worker import get_current_worker

from quizzer.cards.deck import SELF_GRADED, Part
from quizzer.cards.instance import Instance, grade, overall, pose, sample_shapes
from quizzer.core.checking import Verdict
from quizzer.core.safetext import shown
from quizzer.review.hints import input_hint
from quizzer.review.session import QueuedCard, Session, suggested_grade
from quizzer.review.tui.keys import TextInput, keys_read
from quizzer.review.tui.library import Caution
from quizzer.review.tui.widgets.badges import badge_color, rich_color
from quizzer.review.tui.widgets.footer import KeyFooter
from quizzer.review.tui.widgets.grades import GradeBar
from quizzer.review.tui.widgets.header import TitleBar
from quizzer.review.tui.widgets.mathmd import prepare
from quizzer.review.tui.widgets.verification import VerificationPanel
from quizzer.store import Review, StoreError, is_busy

GRADE_LOCK_WAIT_SECONDS = 1.0
"""How long each retry of a kept grade waits for the lock (short, so quitting never waits long)."""


class ReviewScreen(Screen):
    """One session: each card's prompt, a typed answer, the reveal, and a grade."""

    TITLE = "Review"  # what the help screen calls it; the header shows the session's title (on_mount)
    BINDINGS = [
        Binding("enter", "grade_suggested", "Grade", show=True),
        Binding("ctrl+z", "undo", "Undo"),
        Binding("u", "undo", "Undo", show=False),
        Binding("ctrl+n", "skip", "Skip"),
        Binding("s", "skip", "Skip", show=False),
        Binding("ctrl+s", "suspend", "Suspend"),
        Binding("ctrl+o", "edit", "Edit"),  # a control key: it works while an answer box has the focus
        Binding("e", "edit", "Edit", show=False),
        Binding("escape", "end", "End"),
        Binding("ctrl+r", "reverify", "Verify"),  # last: at 60 columns the help screen names it
        Binding("v", "reverify", "Re-verify", show=False),
        Binding("pageup", "scroll_card(-1)", "Scroll up", show=False),
        Binding("pagedown", "scroll_card(1)", "Scroll down", show=False),
        # Priority: the focus moves as the key arrives, so what is typed right after it lands in the next
        # part's box (a binding of the box itself runs only once the box reads the key, after the keys
        # already queued behind it were sent to the same box).
        Binding("tab", "app.focus_next", "Next part", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous part", show=False, priority=True),
        Binding("enter", "answer_enter", "Next part or check", show=False, priority=True),  # the same, for Enter
        *[Binding(str(q), f"grade({q})", f"Grade {q}", show=False) for q in range(6)],
    ]

    revealed: reactive[bool] = reactive(False, init=False)

    def __init__(self, session: Session, title: str = "Review", deck_ids: list[str] | None = None) -> None:
        super().__init__()
        self.session = session
        self.deck_ids = deck_ids
        self.session_title = title
        self.verdict: Verdict | None = None  # the whole card's, for the log and the suggested grade
        self.verdicts: dict[str, Verdict] = {}  # per part
        self.instance: Instance | None = None
        self.typed = ""
        self.shown_at: datetime | None = None
        self.answered = 0
        self.last_feedback: Text | None = None
        self.caution: Caution | None = None
        self._revealing = False
        self._reverifying: str | None = None  # ctrl+r's card, until its result is announced
        self.saving: int | None = None
        """The grade kept while the database is locked by another program (saved by a worker)."""

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield TitleBar()
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
        yield Static("↓ more below: the question continues (PgDn scrolls)", id="more-cue")
        with Horizontal(id="answer-row"):
            with Vertical(id="inputs"):
                yield TextInput(id="answer")
                yield Vertical(id="part-inputs")
            yield Button("Check", id="check", variant="primary", compact=True)
        yield Static(id="answer-help")
        yield Static(id="hint")
        yield GradeBar(id="grades")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.title = self.session_title
        self.watch(self.app, "verification_generation", self._verification_changed, init=False)
        self.watch(self.app, "data_generation", self._data_changed, init=False)
        card = self.query_one("#card", VerticalScroll)
        self.watch(card, "scroll_y", self._more_cue, init=False)
        self.watch(card, "virtual_size", self._more_cue, init=False)  # the Markdown has been laid out
        self.show_card()

    def on_resize(self) -> None:
        self.call_after_refresh(self._more_cue)
        self.call_after_refresh(self._show_answer_help)

    def on_descendant_focus(self) -> None:
        self.call_after_refresh(self._show_answer_help)

    def _show_answer_help(self) -> None:
        """A placeholder wider than its box (a tensor formula's variables and syntax, a long choice list)
        is cut by the box, and a part's label by its column (the label is the part's question: "Trained
        on the same near-identi…"): the focused box's whole label and placeholder are then written out,
        wrapped, below the boxes."""
        help_line = self.query_one("#answer-help", Static)
        focused = self.focused
        boxes = list(self.query("#inputs Input").results(Input)) if self.instance is not None else []
        box = focused if focused in boxes else next((b for b in boxes if b.display), None)
        shown = Text()
        label, label_text = getattr(box, "label_widget", None), getattr(box, "label_text", "")
        if label is not None and cell_len(f"{label_text}:") > label.content_region.width:
            shown.append(f"{label_text}: ", style="bold")
        if box is not None and (shown or cell_len(box.placeholder) > box.content_region.width):
            shown.append(box.placeholder)
        help_line.update(shown)
        help_line.display = bool(shown) and not self.revealed

    def _more_cue(self) -> None:
        """Say so when the prompt runs past the bottom of the card: the question is often its last line."""
        self.call_after_refresh(self._update_more_cue)

    def _update_more_cue(self) -> None:
        card = self.query_one("#card", VerticalScroll)
        self.query_one("#more-cue").display = not self.revealed and card.scroll_y < card.max_scroll_y - 0.5

    def _data_changed(self) -> None:
        """Another screen suspended a card or edited a deck during the sitting: the queue follows."""
        library, before = self.app.library, self.item
        for deck in self.session.decks:
            current = library.deck(deck.id).deck if library else deck
            if current is not deck:
                self.session.replace_deck(current)
        gone = self.session.drop_suspended()
        if before is not None and (
            self.item is None or self.item.key != before.key or self.item.card is not before.card
        ):
            note = f"{before.key} was suspended: it left this sitting" if before.key in gone else "the deck was edited"
            self.show_card(Text(note, style="italic"))
        else:
            self._status()

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
        self.verdict, self.verdicts = None, {}
        self.typed = ""
        self.revealed = False
        self.shown_at = self.app.clock()
        self.session.store.prefetch(item.key)
        self.instance = instance = self._pose(item)
        self.query_one("#prompt", Markdown).update(prepare(instance.render(card.prompt), deck.macros))
        self._show_choices(instance)
        self._show_inputs(instance)
        checkable = any(part.checkable for part in instance.parts)
        self.query_one("#check", Button).label = "Check" if checkable else "Reveal"
        self._hint(feedback)
        self._show_caution()
        self.query_one("#card", VerticalScroll).scroll_home(animate=False)
        self._status()
        self.call_after_refresh(self._more_cue)
        self.call_after_refresh(self._show_answer_help)

    def _pose(self, item: QueuedCard) -> Instance:
        """How this review asks the card: as written with its cached figures and samples, or for a
        parametric card an instance of its verified pool the learner has not seen (else seen longest ago)."""
        library = self.app.library
        outcome = library.verification(item.key).outcome() if library is not None else None
        seen = self.session.store.seen_instances(item.key) if item.card.parametric else ()
        return pose(item.card, outcome, seen)

    def _show_inputs(self, instance: Instance) -> None:
        """One input per asked part: the usual answer box for one, a labelled line each for several."""
        single = self.query_one("#answer", Input)
        rows = self.query_one("#part-inputs", Vertical)
        rows.remove_children()
        asked = instance.asked
        labelled = len(instance.parts) > 1  # a card in parts names the part it asks, even just one
        single.display = not labelled
        rows.display = labelled
        if not labelled:
            single.value = ""
            single.placeholder = input_hint(asked[0].answer, sample_shapes(instance, asked[0]))
            single.focus()
            return
        widgets, boxes = [], []
        widest = max(len(instance.render(part.label)) for part in asked)
        for part in asked:
            box = TextInput(
                placeholder=input_hint(part.answer, sample_shapes(instance, part)),
                id=f"answer-{part.id}",
                classes="part-input",
                compact=True,
            )
            box.part_id = part.id  # type: ignore[attr-defined]
            box.label_text = instance.render(part.label)  # type: ignore[attr-defined]
            box.label_widget = _part_label(box.label_text, widest)  # type: ignore[attr-defined]
            boxes.append(box)
            widgets.append(Horizontal(box.label_widget, box, classes="part-row"))  # type: ignore[attr-defined]
        rows.mount_all(widgets)
        self.call_after_refresh(self._focus_first_part, boxes[0])

    def _focus_first_part(self, box: Input) -> None:
        """Focus this card's first box, never one found by query: the last card's boxes may still be
        on their way out (same ids when the cards share part ids), and focusing one loses the focus."""
        if box.is_attached and not self.revealed:
            box.focus()

    def _inputs(self) -> dict[str, Input]:
        """Part id → its input box, for the parts this review asks."""
        assert self.instance is not None
        if len(self.instance.parts) == 1:
            return {self.instance.parts[0].id: self.query_one("#answer", Input)}
        return {box.part_id: box for box in self.query(".part-input").results(Input)}  # type: ignore[attr-defined]

    def _hint(self, text: Text | str | None) -> None:
        hint = self.query_one("#hint", Static)
        hint.update(text or "")
        hint.display = bool(text)

    def _show_caution(self) -> None:
        """Before answering: say so when the card's verification failed or is stale (never after grading it)."""
        item, library = self.item, self.app.library
        if item is None or library is None:
            return
        self.caution = library.verification(item.key).caution(self.instance)
        banner = self.query_one("#caution", Static)
        banner.set_class(self.caution is not None and self.caution.badge == "failed", "-failed")
        banner.update(Text("⚠ " + self.caution.text) if self.caution else "")
        banner.display = self.caution is not None

    def _verification_changed(self) -> None:
        if not self.revealed and self.item is not None:
            self.instance = self._pose(self.item)  # a verification that just landed may dispute an answer
            self._show_caution()
        self._refresh_verification()
        library, key = self.app.library, self._reverifying
        if library is not None and key is not None and key not in library.verifying:
            self._reverifying = None
            self._hint(Text(f"Verification of {key} finished: {library.verification(key).label}", style="italic"))

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
        kinds = [part.answer.kind for part in item.card.parts]
        line.append(f"  · {kinds[0]}" if len(kinds) == 1 else f"  · {len(kinds)} parts", style="dim")
        if self.instance is not None and self.instance.label:
            line.append(f"  · {self.instance.label}", style="bold")
        if item.card.source:
            line.append(f"  · {item.card.source}", style="dim")
        self.query_one("#status-line", Static).update(line)

    def _show_choices(self, instance: Instance) -> None:
        """Buttons for a card that asks one choice or true/false question (several parts are typed)."""
        choices = self.query_one("#choices", Horizontal)
        choices.remove_children()
        answer = instance.asked[0].answer
        options: list[str] = []
        if len(instance.parts) > 1:  # typed on the part's line (its options are its placeholder)
            answer = None
        if answer is not None and answer.kind == "choice":
            options = list(answer.options)
        elif answer is not None and answer.kind == "boolean":
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
        self.query_one("#answer-help").display = False if revealed else self.query_one("#answer-help").display
        self.query_one("#more-cue").display = False if revealed else self.query_one("#more-cue").display
        for box in self.query("#inputs Input").results(Input):
            box.disabled = revealed
        self.query_one("#check", Button).disabled = revealed
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if self.saving is not None and action in ("grade", "grade_suggested", "undo", "skip", "suspend", "end"):
            return False  # a kept grade is being saved: the card stays until it is
        if action == "answer_enter":
            return self.focused in self._answer_boxes()
        if action in ("grade", "grade_suggested"):
            if not self.revealed:
                return False
            if action == "grade_suggested":
                return self.verdict is not None and suggested_grade(self.verdict) is not None
        if action == "undo":
            return self.session.can_undo
        if action in ("skip", "reverify", "edit", "suspend"):
            return self.item is not None
        return True

    # ------------------------------------------------------------------ answering

    def _answer_boxes(self) -> list[Input]:
        """The boxes still being typed in, in order (none once the card is revealed)."""
        return list(self._inputs().values()) if self.instance is not None and not self.revealed else []

    async def action_answer_enter(self) -> None:
        """Enter in an answer box (a priority binding, run as the key arrives, with the focus set at once):
        on a part's line it moves to the next part, on the last one (or the only box) it checks, and the
        keys typed after it are read only once it has, and it checks only once every box has read the
        keys typed before it (`keys_read`). The box's own Enter ran after the keys queued behind it had
        been sent to the same box, and `Widget.focus()` moves the focus only after them.
        Anywhere else Enter is left to the screen and the focused widget (grading, buttons): see
        `check_action`, which also keeps this binding out of the key bar's ⏎ Grade."""
        boxes = self._answer_boxes()
        focused = self.focused
        if focused not in boxes:
            raise SkipAction()
        if focused is not boxes[-1]:
            self.set_focus(boxes[boxes.index(focused) + 1])  # now: Widget.focus() waits behind the queued keys
            return
        await keys_read(*boxes)  # the keys typed just before this Enter may not have reached their boxes yet
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
        instance = self.instance
        assert instance is not None
        boxes = self._inputs()
        typed = {part_id: box.value for part_id, box in boxes.items()}
        verdicts = grade(instance, typed)
        unreadable = next((part for part in instance.asked if verdicts[part.id].status == "unparsable"), None)
        if unreadable is not None:
            where = f"{instance.render(unreadable.label)}: " if len(instance.parts) > 1 else ""
            message = shown(verdicts[unreadable.id].message)  # it may quote what was pasted
            self._hint(Text(f"⚠ {where}{message} — fix it, or clear the box and press Enter to see the answer."))
            self.set_focus(boxes[unreadable.id])
            return
        self.verdicts = verdicts
        if len(instance.parts) == 1:
            self.typed, verdict = typed[instance.parts[0].id], verdicts[instance.parts[0].id]
        else:  # the log keeps every part's typed answer
            self.typed = json.dumps(typed, ensure_ascii=False)
            verdict = Verdict(overall(verdicts), self.typed)
        self.verdict = verdict
        card, deck = item.card, item.deck
        self.query_one("#verdict", Static).update(self._verdicts_text(instance, verdicts, typed))
        self._revealing = True
        try:
            await self.query_one("#stated-answer", Markdown).update(self._answer_markdown(instance, deck.macros))
            await self.query_one("#explanation", Markdown).update(
                prepare(instance.render(card.explanation), deck.macros)
            )
        finally:
            self._revealing = False
        self._refresh_verification()
        self.revealed = True
        self._hint(None)
        self.query_one(GradeBar).suggest(suggested_grade(*verdicts.values()), _reason(verdicts))
        card_view = self.query_one("#card", VerticalScroll)
        self.set_focus(card_view)
        # After the new Markdown is laid out: bring the verdict up, keeping the prompt's last lines in view.
        self.call_after_refresh(self._scroll_to_reveal)

    def _scroll_to_reveal(self, previous: int | None = None, rounds: int = 8) -> None:
        """Scroll so the verdict shows; while the layout above it still settles (the Markdown's blocks, the
        verification banner), the verdict moves: follow it after each refresh until it holds still."""
        if not self.is_mounted or not self.revealed:
            return
        card_view = self.query_one("#card", VerticalScroll)
        reveal = self.query_one("#reveal")
        if not reveal.virtual_region.height:
            # Shown but not laid out yet: while a Markdown mounts its blocks (in an app batch) the screen
            # runs refresh callbacks without laying out, so the first look comes after the next layout.
            def laid_out(_screen) -> None:
                self.screen_layout_refresh_signal.unsubscribe(reveal)
                self._scroll_to_reveal(previous, rounds)

            self.screen_layout_refresh_signal.subscribe(reveal, laid_out)
            return
        target = max(0, reveal.virtual_region.y - 4)
        card_view.scroll_to(y=target, animate=False)
        if target != previous and rounds > 1:
            self.call_after_refresh(self._scroll_to_reveal, target, rounds - 1)

    def _verdicts_text(self, instance: Instance, verdicts: dict[str, Verdict], typed: dict[str, str]) -> Text:
        """One line per part (the usual sentence for a single answer)."""
        if len(instance.parts) == 1:
            part_id = instance.parts[0].id
            return self._verdict_text(verdicts[part_id], typed.get(part_id, ""))
        text = Text()
        for part in instance.parts:
            if text:
                text.append("\n")
            text.append(f"{instance.render(part.label)}: ", style="bold")
            text.append_text(self._verdict_text(verdicts[part.id], typed.get(part.id, ""), short=True))
        return text

    def _verdict_text(self, verdict: Verdict, typed: str, short: bool = False) -> Text:
        """What was typed (or pasted: control characters and all) is `shown`, in the verdict's words too."""
        app = self.app
        typed = shown(typed)
        verdict = Verdict(verdict.status, shown(verdict.normalized), shown(verdict.message))
        if verdict.status == "correct":
            text = Text("✓ Correct", style=Style(color=badge_color(app, "verified"), bold=True))
            text.append(f" — you answered {verdict.normalized}", style="")
        elif verdict.status == "incorrect":
            text = Text("✗ Not right", style=Style(color=badge_color(app, "failed"), bold=True))
            answered = verdict.normalized or "nothing"
            text.append(f" — you answered {answered}" + (f"; {verdict.message}" if verdict.message else ""))
        else:
            text = Text("Self-graded", style=Style(bold=True))
            if verdict.message and verdict.message != SELF_GRADED:
                text.append(f" ({verdict.message})", style=Style(color=badge_color(app, "stale")))
            if short:
                text.append(f" — you wrote {typed.strip()}" if typed.strip() else " — compare with the answer below")
                return text
            text.append(" — compare your answer with the one below" + (":" if typed.strip() else "."))
            if typed.strip():
                text.append(f"\n{typed.strip()}", style="italic")
        return text

    def _answer_markdown(self, instance: Instance, macros: dict) -> str:
        """The answer to grade against: each part's (for a variant, as its verifier computed it)."""
        if len(instance.parts) == 1:
            heading = "Answer" if instance.seed is None else "Answer for this instance"
            return self._part_markdown(instance, instance.parts[0], heading, macros)
        return "\n\n".join(
            self._part_markdown(instance, part, prepare(instance.render(part.label), macros), macros)
            for part in instance.parts
        )

    def _part_markdown(self, instance: Instance, part: Part, heading: str, macros: dict) -> str:
        answer = part.answer
        if answer.kind == "code":
            return f"**{heading}** (code):\n\n```{answer.language}\n{answer.value.strip()}\n```"
        if answer.kind == "text":
            return f"**{heading}:**\n\n" + prepare(instance.render(answer.value.strip()), macros)
        if part.id in instance.disputed:
            return f"**{heading}** (stated): `{answer.display()}` — *disputed: {instance.disputed[part.id]}*"
        return f"**{heading}:** `{answer.display()}`"

    def _refresh_verification(self) -> None:
        item = self.item
        library = self.app.library
        if item is None or library is None or not self.is_mounted:
            return
        loaded = library.loaded_for(item.key)
        instance = self.instance
        labels = (
            {p.id: instance.render(p.label) for p in instance.parts} if instance and len(instance.parts) > 1 else None
        )
        self.query_one(VerificationPanel).show(
            library.verification(item.key),
            deck_path=str(loaded.path),
            macros=item.deck.macros,
            labels=labels,
            instance=instance.verification if instance is not None else None,
        )

    # ------------------------------------------------------------------ grading, undo, skip

    def action_grade(self, quality: int) -> None:
        """Record the grade now if the database is free; if another program holds it, keep the grade
        and save it from a worker (the UI never waits on the lock), then move on."""
        if not self.revealed or self.item is None or self.saving is not None:
            return
        item = self.item
        now = self.app.clock()
        ms = max(0, int((now - self.shown_at).total_seconds() * 1000) if self.shown_at else 0)
        seed = self.instance.seed if self.instance is not None else None  # which variant was asked
        record = partial(self.session.grade, quality, now=now, typed=self.typed, verdict=self.verdict, ms=ms, seed=seed)
        try:
            review = record(lock_wait=0)
        except sqlite3.OperationalError as error:
            if not is_busy(error):
                raise
            self.saving = quality
            self._hint_locked(quality, attempts=1)
            self._save_when_free(item, quality, record)
            return
        self._graded_saved(item, quality, review)

    @work(thread=True, exclusive=True, group="grade")
    def _save_when_free(self, item: QueuedCard, quality: int, grade: Callable[..., Review]) -> None:
        """Retry the kept grade until the database is free (or the app quits: then nothing was acknowledged)."""
        worker = get_current_worker()
        attempts = 1
        while not worker.is_cancelled:
            try:
                review = grade(lock_wait=GRADE_LOCK_WAIT_SECONDS)
            except sqlite3.OperationalError as error:
                if not is_busy(error):
                    raise
                attempts += 1
                self.app.call_from_thread(self._hint_locked, quality, attempts)
                continue
            self.app.call_from_thread(self._graded_saved, item, quality, review)
            return

    def _hint_locked(self, quality: int, attempts: int) -> None:
        self._hint(
            Text(
                f"⏳ Grade {quality} kept, not saved yet: another program holds the state database"
                f" (tried {attempts}×, retrying). It is saved as soon as the database is free.",
                style=Style(color=badge_color(self.app, "stale")),
            )
        )
        if attempts == 1:
            self.notify("The state database is locked by another program; your grade is kept.", title="Waiting")
        self.refresh_bindings()

    def _graded_saved(self, item: QueuedCard, quality: int, review: Review) -> None:
        """The grade is committed (durably): only now is it acknowledged and the next card shown."""
        self.saving = None
        self.answered += 1
        self.app.answered()
        self.show_card(_feedback(self.app, item.key, quality, review, self.session.today))

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
            self.notify(str(error), title="Cannot undo", severity="error", markup=False)
            return
        self.app.answered()
        self.show_card(Text(f"↶ undid the last step of {item.key}", style="italic"))

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
        """ctrl+r: the outcome is said in the hint under the card, where the learner is looking."""
        if self.item is not None:
            self._reverifying = self.item.key
            self._hint(Text(self.app.reverify(self.item.key, announce=False), style="italic"))

    def action_edit(self) -> None:
        """ctrl+o (or `e` once revealed): the card's deck file in $EDITOR; on return the card is shown
        afresh with the sitting as it was (nothing was graded; an answer being typed is kept)."""
        item = self.item
        if item is None:
            return
        typed = {} if self.revealed else {part_id: box.value for part_id, box in self._inputs().items()}
        if self.app.edit_card(item.key) is not None:
            self._data_changed()
            self.call_after_refresh(self._retype, item.key, typed)  # once a card in parts has its boxes

    def _retype(self, key: str, typed: dict[str, str]) -> None:
        """Put back what was typed before an edit, in the boxes of the parts the edited card still asks."""
        if self.item is None or self.item.key != key or self.revealed:
            return
        for part_id, box in self._inputs().items():
            box.value = typed.get(part_id, box.value)
            box.cursor_position = len(box.value)  # typing goes on at its end

    def action_suspend(self) -> None:
        """ctrl+s: suspend the card, as the browser's space does; it leaves this sitting, ctrl+z brings it back."""
        if self.item is None or self.saving is not None:
            return
        item = self.session.suspend_current()
        self.app.answered()  # the decks screen and the browser count it suspended
        self.show_card(Text(f"{item.key} suspended: it left this sitting (ctrl+z takes it back)", style="italic"))

    def action_scroll_card(self, direction: int) -> None:
        card = self.query_one("#card", VerticalScroll)
        (card.scroll_page_down if direction > 0 else card.scroll_page_up)(animate=False)

    def action_end(self) -> None:
        self.finish()

    def finish(self) -> None:
        from quizzer.review.tui.screens.summary import SummaryScreen

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


def _part_label(label: str, widest: int) -> Static:
    """A part's label, as wide as the widest (capped), so the input boxes line up."""
    widget = Static(f"{label}:", classes="part-label", markup=False)  # a deck's label is no markup
    widget.styles.width = min(widest + 4, 36)  # the colon, the padding and a space
    return widget


def _reason(verdicts: dict[str, Verdict]) -> str:
    status = overall(verdicts)
    if status == "correct":
        unchecked = any(v.status == "self-graded" for v in verdicts.values())
        return ": your answer checked correct" + ("; judge the rest yourself" if unchecked else "")
    if status == "incorrect":
        return ": your answer checked wrong" if len(verdicts) == 1 else ": a part checked wrong"
    return ""


def _phase_color(app, phase: str) -> RichColor:
    theme = app.current_theme
    phases = {"new": theme.accent, "learning": theme.warning, "review": theme.success}
    return rich_color(phases.get(phase) or theme.primary)


def _feedback(app, key: str, quality: int, review: Review, today) -> Text:
    """What the grade did. A cram answer schedules nothing (its `after` is the schedule as it was), and
    a miss is asked again in the sitting: `Session.grade`, as `plain_review` says it."""
    text = Text(f"✔ {key} graded {quality}: ", style="dim")
    after = review.after
    if review.kind == "cram":
        again = quality < 3
        text.append(
            "again later in this session (cram: no schedule changes)" if again else "cram: schedule unchanged",
            style=Style(color=badge_color(app, "failed" if again else "verified")),
        )
    elif after.drill:
        text.append("drill — asked again until you grade 4+", style=Style(color=badge_color(app, "stale")))
    elif after.is_due(today):
        text.append("again later in this session", style=Style(color=badge_color(app, "failed")))
    else:
        days = after.interval
        text.append(f"next in {days} day{'s' if days != 1 else ''}", style=Style(color=badge_color(app, "verified")))
    return text
