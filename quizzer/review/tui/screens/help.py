"""The help screen: the keys of the screen it was opened from, grades, badges and trust."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Markdown, Static

from quizzer.core.sm2 import QUALITY_MEANINGS

ANSWERING = """\
Type your answer and press **Enter**: the checker marks it right or wrong (numbers accept decimals,
scientific notation, fractions `a/b` and percentages; shapes a tuple or `torch.Size([...])`;
formulas are compared for equivalence; tensor formulas are evaluated on the verifier's sample
tensors). A card in parts asks one line per part: **Tab** or **Enter** moves to the next, Enter on
the last checks them all. A card whose verifier disputes its stated answer says so first, and you
grade yourself.
An empty answer reveals the card as "I don't know". Explanation-only cards are self-graded: write a
few words if you like, then compare.
"""
"""How to type an answer: syntax only, never a value (tests/test_hints.py scans it against every card)."""

GUIDE = """\
## Reviewing

{answering}

Then grade yourself **0–5** (the SM-2 quality), or press **Enter** for the suggested grade:

{grades}

A **3** drills the card again in this session until you give it a 4 or 5 (drill answers do not
change its schedule); **0–2** sends it to the back of the queue to be asked again today.
**ctrl+z** undoes the last grade or suspension (as many steps as you like), **ctrl+n** skips a card
to the end, **ctrl+s** suspends it (it leaves the sitting), **ctrl+o** (or **e** once revealed) opens
it in `$EDITOR`, **escape** ends the sitting with a summary.

## Verification badges

- **✓ verified** — the card's verifier ran on this exact card and verifier source, and agreed
- **◇ demonstrated, not verified** — the fact holds by construction of the verifier's own code (the
  shape its own `view` produces, say): shown, but not counted as verified
- **✗ failed** — the verifier disagrees with the card (or raised an error): read its message
- **⊘ timed out / crashed / ran out of memory: not verified** — its verifier was stopped before it
  returned: no verdict on the stated answer; tried again once in the background each time the app starts
- **↻ stale** — the card or its verifier changed since the last run; it is re-verified in the background
- **○ not yet verified** — no result yet; `quizzer verify` runs in the background
- **· no verifier** — the answer is not checked by code

Verifiers are code. quizzer runs them on its own (in a `quizzer verify` subprocess, never inside
this app) only for trusted deck projects (a project is the folder holding `decks/` and `verifiers/`):
the bundled decks, projects trusted with `quizzer trust PROJECT`, and projects where you ran
`quizzer verify` yourself. A project inside a trusted one's folder is not trusted. **ctrl+r**
re-verifies the current card.

## Everywhere

**ctrl+p** opens the command palette (review a deck, open a card, change the theme — your choice is
remembered), **?** or **F1** this help, **ctrl+q** quits. On the decks screen **o** opens the
settings and **v** verifies. Everything can be clicked with the mouse. Below 100 columns the key bar
leaves ctrl+p and ctrl+q out, and a screen's last keys when they do not fit; every key works anyway.
"""


_PLUMBING = {"app.focus_next", "app.focus_previous", "screen.copy_text", "focus_next", "focus_previous"}


def keys_table(screen: Screen) -> Table:
    """The keys active on `screen` (its own, its focused widget's, the app's), one line each."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", justify="right", min_width=8)
    table.add_column()
    seen = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if active.node not in (screen, screen.app):  # the focused widget's cursor keys are noise here
            continue
        if not binding.description or binding.action in _PLUMBING or binding.system:
            continue
        if (binding.action, binding.description) in seen:
            continue
        seen.add((binding.action, binding.description))
        table.add_row(binding.key_display or screen.app.get_key_display(binding), binding.description)
    return table


class HelpScreen(ModalScreen[None]):
    """Opened with ? or F1; escape closes it."""

    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", key_display="esc")]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.origin = screen

    def compose(self) -> ComposeResult:
        grades = "\n".join(f"- **{q}** — {QUALITY_MEANINGS[q]}" for q in range(5, -1, -1))
        title = getattr(self.origin, "TITLE", None) or "quizzer"
        with Vertical(id="help-dialog"):
            yield Static("[b]quizzer help[/b]  [dim]escape closes[/dim]", id="help-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(f"[b]Keys on the {title} screen[/b]", id="help-keys-title")
                yield Static(keys_table(self.origin), id="help-keys")
                yield Markdown(GUIDE.format(answering=ANSWERING, grades=grades), id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()
