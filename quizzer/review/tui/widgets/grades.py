"""The grade bar: SM-2 qualities 0–5 as buttons, with their meanings and the suggested grade marked."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Static

from quizzer.core.sm2 import QUALITY_MEANINGS

SHORT = {0: "blackout", 1: "wrong", 2: "almost", 3: "hard", 4: "good", 5: "perfect"}
TINY = {0: "blank", 1: "wrong", 2: "almost", 3: "hard", 4: "good", 5: "easy"}
"""Labels that fit six buttons across a 60-column terminal (8 cells each inside the button)."""
TINY_BELOW = 70


class GradeBar(Vertical):
    """Six buttons (mouse) mirroring the 0–5 keys; posts `GradeBar.Graded`."""

    class Graded(Message):
        def __init__(self, quality: int) -> None:
            super().__init__()
            self.quality = quality

    def compose(self) -> ComposeResult:
        with Horizontal(id="grade-buttons"):
            for quality in range(6):
                button = Button(
                    f"{quality} {SHORT[quality]}",
                    id=f"grade-{quality}",
                    classes=f"grade {'-fail' if quality < 3 else '-pass'}",
                    compact=True,
                )
                button.tooltip = f"{quality}: {QUALITY_MEANINGS[quality]}"
                yield button
        yield Static(id="grade-meaning")

    def on_resize(self) -> None:
        tiny = self.app.size.width < TINY_BELOW
        self.set_class(tiny, "-tiny")
        words = TINY if tiny else SHORT
        for quality in range(6):
            self.query_one(f"#grade-{quality}", Button).label = f"{quality} {words[quality]}"

    def suggest(self, quality: int | None, reason: str = "") -> None:
        for button in self.query(Button):
            button.set_class(button.id == f"grade-{quality}", "-suggested")
        meaning = self.query_one("#grade-meaning", Static)
        if quality is None:
            meaning.update(
                f"Grade yourself: [b]0–2[/b] wrong (asked again today) · [b]3[/b] {QUALITY_MEANINGS[3]}"
                " (drilled) · [b]4[/b] after a hesitation · [b]5[/b] perfect"
            )
        else:
            meaning.update(f"Suggested [b]{quality}[/b] — {QUALITY_MEANINGS[quality]}{reason} · [b]⏎[/b] accepts")

    @on(Button.Pressed, ".grade")
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.Graded(int(str(event.button.id).rpartition("-")[2])))
