"""Deck Markdown made ready for Textual's `Markdown` widget: LaTeX math as readable Unicode."""

from __future__ import annotations

from collections.abc import Mapping

from quizzer.core.mathtext import render_math


def prepare(markdown: str, macros: Mapping[str, str] | None = None) -> str:
    """Render `$...$`/`$$...$$` with the deck's macros; code blocks are left alone.

    A formula the converter cannot read is shown as written rather than breaking the screen.
    """
    if "$" not in markdown:
        return markdown
    try:
        return render_math(markdown, macros or {})
    except Exception:  # a deck's odd LaTeX must never take the review down
        return markdown
