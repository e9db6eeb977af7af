"""The key bar at the bottom of every screen: Textual's `Footer`, minus a leak."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer


class KeyFooter(Footer):
    """`Footer` that lets go of the keys it replaces.

    Footer rebuilds its keys whenever the active bindings change (every card in a review), binding
    each new key's `compact` to itself with a watcher. Textual drops the watchers of removed widgets
    only when that value changes, which it never does here: every key ever shown stayed alive
    (thousands after a sitting, and a garbage collector pausing the UI for 0.3 s). Nudging the value
    after each rebuild prunes them.
    """

    def compose(self) -> ComposeResult:
        """Textual's keys with `? Help` first, so it never falls off the right edge of a narrow terminal."""
        keys = list(super().compose())
        first = [key for key in keys if getattr(key, "action", None) == "help"]
        yield from first + [key for key in keys if key not in first]

    async def recompose(self) -> None:
        await super().recompose()
        self.mutate_reactive(Footer.compact)
