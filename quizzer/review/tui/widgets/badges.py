"""Verification badges as Rich text in the current theme's colours."""

from __future__ import annotations

from collections import Counter

from rich.style import Style
from rich.text import Text
from textual.app import App

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


def badge_color(app: App, badge: str) -> str:
    theme = app.current_theme
    return {
        "verified": theme.success,
        "demonstrated": theme.secondary,
        "failed": theme.error,
        "interrupted": theme.warning,
        "stale": theme.warning,
        "verifying": theme.accent,
        "checking": theme.secondary,
    }.get(badge) or (theme.foreground or "white")


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
