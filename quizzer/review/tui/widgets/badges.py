"""Verification badges as Rich text in the current theme's colours."""

from __future__ import annotations

from collections import Counter

from rich.color import Color as RichColor
from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.color import Color

from quizzer.review.tui.library import BADGE_GLYPH, BADGE_TEXT

_ORDER = (
    "verified",
    "demonstrated",
    "failed",
    "interrupted",
    "stale",
    "verifying",
    "unverified",
    "untrusted",
    "checking",
    "none",
)


def badge_color(app: App, badge: str) -> RichColor:
    """The theme's colour for a badge, as Rich reads it. Parsed by Textual: the ANSI themes name their colours
    `ansi_red`, `ansi_default`, which Rich's parser refuses (choosing one from the palette ended the app)."""
    theme = app.current_theme
    value = {
        "verified": theme.success,
        "demonstrated": theme.secondary,
        "failed": theme.error,
        "interrupted": theme.warning,
        "stale": theme.warning,
        "verifying": theme.accent,
        "checking": theme.secondary,
    }.get(badge) or (theme.foreground or "white")
    return rich_color(value)


def rich_color(value: str) -> RichColor:
    """A theme's colour as Rich reads it (Textual's parser knows `ansi_red`, `ansi_default`; Rich's does not)."""
    return Color.parse(value).rich_color


def badge_text(app: App, badge: str, suffix: str = "", label: str = "") -> Text:
    """`label`: the badge's words when they say more than its kind's (`CardVerification.label`)."""
    dim = badge in ("unverified", "untrusted", "none", "checking")
    return Text(
        (label or BADGE_TEXT[badge]) + suffix, style=Style(color=badge_color(app, badge), dim=dim, bold=not dim)
    )


def badge_summary(app: App, badges: Counter[str]) -> Text:
    """`✓12 ✗1 ↻2 ○3`: how many cards of a deck have each badge (zero counts left out)."""
    text = Text()
    for badge in _ORDER:
        count = badges.get(badge, 0)
        if count:
            if text:
                text.append(" ")
            dim = badge in ("unverified", "untrusted", "none", "checking")
            text.append(f"{BADGE_GLYPH[badge]}{count}", style=Style(color=badge_color(app, badge), dim=dim))
    return text or Text("–")
