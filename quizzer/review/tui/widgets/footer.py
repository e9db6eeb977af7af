"""The key bar at the bottom of every screen: Textual's `Footer`, minus a leak."""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


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
    Each screen lists its keys most important first: the keys that do not fit are dropped whole, the
    last first, never drawn cut (`_fitting`); every key still works."""

    LEFT_TO_HELP = ("quit",)

    _rebuilds_queued = 0

    @property
    def narrow(self) -> bool:
        return 0 < self.size.width < self.NARROW

    def on_resize(self) -> None:
        if self.narrow != self.compact:
            self.compact = self.narrow
            self.show_command_palette = not self.narrow
        self.refresh(recompose=True)  # the keys that fit depend on the width

    def compose(self) -> ComposeResult:
        """Textual's keys with `? Help` first, so it never falls off the right edge of a narrow terminal."""
        keys = list(super().compose())
        if self.narrow:
            keys = [key for key in keys if getattr(key, "action", None) not in self.LEFT_TO_HELP]
        first = [key for key in keys if getattr(key, "action", None) == "help"]
        yield from self._fitting(first + [key for key in keys if key not in first])

    def _fitting(self, keys: Iterable[Widget]) -> list[Widget]:
        """The keys up to the first that would run past the right edge (or into the palette key).

        Widths as Footer's CSS lays a key out: compact, `key description` and a one-column margin;
        otherwise one column of padding around the key and after the description; the palette key is
        drawn compact and docks right with a border and a padding column of its own. The pilot tests
        compare these widths with the keys' regions at 60, 80 and 100 columns.
        """
        keys = list(keys)
        width = self.size.width
        if not width:  # not laid out yet: the resize that follows composes again
            return keys
        palette = [key for key in keys if key.has_class("-command-palette")]
        right = width - sum(self._key_width(key, compact=True) + 2 for key in palette)
        fitting, x = [], 0
        for key in keys:
            if key in palette:
                continue
            x += self._key_width(key, self.compact)
            if x > right:
                break
            fitting.append(key)
            x += 1 if self.compact else 0  # the margin between compact keys
        return fitting + palette

    @staticmethod
    def _key_width(key: Widget, compact: bool) -> int:
        """Columns of a key drawn `compact` (the palette key always is: it is not bound to the footer's style)."""
        assert isinstance(key, FooterKey), key  # no binding groups here (they would need their own widths)
        if compact:
            return cell_len(key.key_display) + (1 + cell_len(key.description) if key.description else 0)
        return 1 + cell_len(key.key_display) + 1 + (cell_len(key.description) + 1 if key.description else 0)

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
