"""Every bundled card's text renders to clean terminal text: no LaTeX left, nothing lost.

Each math span of every prompt, explanation, part label, choice option and text answer is rendered
as a learner sees it (`show`, `--plain`, the app). The rendering must leave no `\\command` and no
stray brace, and must keep every letter and digit of the source (a command pylatexenc cannot read
used to vanish with what followed it: `\\Phi^\\top\\Phi` rendered as `Φ`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import pytest

from quizzer.cards.loader import deck_files, load_deck
from quizzer.core.mathtext import latex_to_text, render_math
from quizzer.paths import bundled_decks

CODE = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]*`)", re.DOTALL)
MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$(?!\s)([^$\n]+?)(?<!\s)\$", re.DOTALL)


def texts(card):
    yield "prompt", card.prompt
    yield "explanation", card.explanation
    for part in card.parts:
        yield f"{part.id} label", part.label
        if part.answer.kind == "text":
            yield f"{part.id} answer", part.answer.value
        for option in getattr(part.answer, "options", None) or []:
            yield f"{part.id} option", str(option)


CASES = [
    (loaded.deck, card, where, text)
    for path in deck_files([bundled_decks()])
    for loaded in [load_deck(path, check_verifiers=False)]
    for card in loaded.deck.cards
    for where, text in texts(card)
    if "$" in text
]


def letters_and_digits(text: str) -> Counter:
    """ASCII letters, digits and Greek letters, reading ᵀ as T, ₁ as 1, 𝐖 as W, ŷ as y."""
    return Counter(ch for ch in unicodedata.normalize("NFKD", text) if ch.isalnum() and (ch.isascii() or greek(ch)))


def greek(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("GREEK")


def greek_letter(command: str) -> str:
    """`\\Phi` → Φ, `\\lambda` → λ; "" for any other command (their names are not shown)."""
    case = "CAPITAL" if command[0].isupper() else "SMALL"
    try:
        return unicodedata.lookup(f"GREEK {case} LETTER {command.upper()}")
    except KeyError:
        return ""


def source_letters_and_digits(latex: str) -> Counter:
    """What of a LaTeX span must be visible: a Greek command as its letter, no other command name."""
    latex = re.sub(r"\\(begin|end)\{[^}]*\}", "", latex)
    return letters_and_digits(re.sub(r"\\([A-Za-z]+)", lambda m: greek_letter(m[1]), latex))


def outside_code(text: str) -> list[str]:
    return CODE.split(text)[0::2]


@pytest.mark.parametrize(("deck", "card", "where", "text"), CASES, ids=[f"{d.id}/{c.id}:{w}" for d, c, w, _ in CASES])
def test_bundled_math_renders_cleanly(deck, card, where, text):
    rendered = " ".join(outside_code(render_math(text, deck.macros)))
    assert re.findall(r"\\[A-Za-z]+", rendered) == []
    assert rendered.count("{") == rendered.count("}")
    for segment in outside_code(text):
        for match in MATH.finditer(segment):
            span = match[1] or match[2]
            shown = latex_to_text(span, deck.macros)
            assert "*" not in shown, f"{span!r} renders as {shown!r}: Markdown reads a * as emphasis"
            lost = source_letters_and_digits(span) - letters_and_digits(shown)
            assert not lost, f"{span!r} renders as {shown!r}, losing {sorted(lost.elements())}"


def test_the_scan_catches_what_used_to_go_wrong():
    """The checks above would have failed on the renderings this file was written against."""
    assert source_letters_and_digits(r"\Phi^\top\Phi\,w") - letters_and_digits("Φ w") == Counter("Φ")
    assert source_letters_and_digits(r"\log\frac{p}{q}") - letters_and_digits("/q") == Counter("p")
    assert source_letters_and_digits(r"\text{fan\_in}") - letters_and_digits("fan") == Counter("in")
