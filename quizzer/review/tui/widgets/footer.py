"""The key bar at the bottom of every screen: Textual's `Footer`, minus a leak."""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    """`Footer` that lets go of the keys it replaces.

    Footer rebuilds its keys whenever the active bindings change (every card in a review), binding
    each new key's `compact` to itself with a watcher. Textual drops the watchers of removed widgets
    only when that value changes, which it never does here: every key ever shown stayed alive
    (thousands after a sitting, and a garbage collector pausing the UI for 0.3 s). Nudging the value
    after each rebuild prunes them.

    It also rebuilds once for all the binding changes queued before the rebuild runs (a screen's first
    showing changes them two or three times, and each rebuild mounts and styles every key anew).
    """

    NARROW = 100
    """Below this width the keys are drawn compact, and the palette and quit keys are left to the help
    screen (it names ctrl+p and ctrl+q), so a 60-column screen still shows the screen's own keys.
    Each screen lists its keys most important first: the keys that do not fit whole are left out
    from the right (never one cut by the edge, `^r` without its `Verify`)."""

    LEFT_TO_HELP = ("quit",)

    _rebuilds_queued = 0

    @property
    def narrow(self) -> bool:
        return 0 < self.size.width < self.NARROW

    def on_resize(self) -> None:
        if self.narrow != self.compact:
            self.compact = self.narrow
            self.show_command_palette = not self.narrow
            self.refresh(recompose=True)
        elif self.narrow:  # which keys fit whole depends on the width
            self.refresh(recompose=True)

    def compose(self) -> ComposeResult:
        """Textual's keys with `? Help` first, so it never falls off the right edge of a narrow terminal."""
        keys = list(super().compose())
        if self.narrow:
            keys = [key for key in keys if getattr(key, "action", None) not in self.LEFT_TO_HELP]
        first = [key for key in keys if getattr(key, "action", None) == "help"]
        keys = first + [key for key in keys if key not in first]
        yield from self._whole(keys) if self.narrow else keys

    def _whole(self, keys: list) -> list:
        """The leading keys drawn whole within the footer's width, compact: a key, a space and its
        description, one column between keys."""
        kept, used = [], -1
        for key in keys:
            description = getattr(key, "description", "")
            used += 1 + cell_len(getattr(key, "key_display", "")) + (1 + cell_len(description) if description else 0)
            if used > self.size.width:
                break
            kept.append(key)
        return kept

    async def recompose(self) -> None:
        await super().recompose()
        self.mutate_reactive(Footer.compact)

    def bindings_changed(self, screen: Screen) -> None:
        """Footer's, but a rebuild queued behind another one is left to that one (it reads the bindings then)."""
        self._bindings_ready = True
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self._rebuilds_queued += 1
            self.call_after_refresh(self._rebuild_for_bindings)

    async def _rebuild_for_bindings(self) -> None:
        self._rebuilds_queued -= 1
        if not self._rebuilds_queued:
            await self.recompose()
