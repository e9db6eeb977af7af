"""The key bar at the bottom of every screen: Textual's `Footer`, minus a leak."""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.compose import compose
from textual.geometry import Size
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class CountedKey(FooterKey):
    """Footer's key, whose width is counted from its text rather than drawn and measured.

    A key is `width: auto`: Textual measured each by rendering it, twice per layout of the bar before
    the first frame (the ten keys of the decks screen were rendered 30 times before its ready point,
    about 20 ms). The columns are those of the text `FooterKey.render` assembles: the key between its
    component's padding, then the description between its own (the key alone when there is none).
    """

    def get_content_width(self, container: Size, viewport: Size) -> int:
        width = cell_len(self.key_display)
        if self.description:
            key = self.get_component_styles("footer-key--key").padding
            description = self.get_component_styles("footer-key--description").padding
            width += key.left + key.right + description.left + cell_len(self.description) + description.right
        if self.expand:
            width = max(container.width, width)
        if self.shrink:
            width = min(width, container.width)
        return width


class KeyFooter(Footer):
    """`Footer` that lets go of the keys it replaces.

    Footer rebuilds its keys whenever the active bindings change (every card in a review), binding
    each new key's `compact` to itself with a watcher. Textual drops the watchers of removed widgets
    only when that value changes, which it never does here: every key ever shown stayed alive
    (thousands after a sitting, and a garbage collector pausing the UI for 0.3 s). Nudging the value
    after each rebuild prunes them.

    It also rebuilds once for all the binding changes queued before the rebuild runs (a screen's first
    showing changes them two or three times, and each rebuild mounts and styles every key anew), not
    at all when the keys that fit are the ones already shown (a resize within the same width class, a
    focus change that leaves the bindings as they were), and styles each new key once: it is made
    in the footer's compact state, not made compact and then restyled by the binding. When neither
    the width nor the shown bindings changed since the last compose (`_inputs`), a rebuild does not
    even make the keys to compare (the decks screen's two rebuilds at start-up made twenty). Its keys
    are `CountedKey`s, whose widths are counted from their text.
    """

    NARROW = 100
    """Below this width the keys are drawn compact, and the palette and quit keys are left to the help
    screen (it names ctrl+p and ctrl+q), so a 60-column screen still shows the screen's own keys.
    Each screen lists its keys most important first: the keys that do not fit are dropped whole, the
    last first, never drawn cut (`_fitting`); every key still works."""

    LEFT_TO_HELP = ("quit",)

    _rebuilds_queued = 0
    _mounting = False
    _composed_width = -1
    """The width the keys were last composed for (0: before any layout, when every key is composed)."""
    _composed_for: tuple = ()
    """`_inputs()` when the keys were last composed."""

    @property
    def settled(self) -> bool:
        """The keys of the screen's bindings are mounted, and no rebuild is queued or under way."""
        return self._bindings_ready and not self._rebuilds_queued and not self._mounting

    def __init__(self) -> None:
        super().__init__()
        self.set_reactive(Footer._bindings_ready, True)  # the keys are in the screen's first frame

    @property
    def _width(self) -> int:
        """The footer's width; before its first layout, the terminal's (it docks at the bottom, full width)."""
        return self.size.width or self.app.size.width

    @property
    def narrow(self) -> bool:
        return 0 < self._width < self.NARROW

    def on_resize(self) -> None:
        self._fit_style()
        if self._width != self._composed_width:  # the keys that fit depend on the width, and only on it
            self.refresh(recompose=True)

    def _fit_style(self) -> None:
        if self.narrow != self.compact:
            self.compact = self.narrow
            self.show_command_palette = not self.narrow

    def compose(self) -> ComposeResult:
        """Textual's keys with `? Help` first, so it never falls off the right edge of a narrow terminal."""
        self._fit_style()
        self._composed_width = self._width
        self._composed_for = self._inputs()
        keys = list(super().compose())
        if self.narrow:
            keys = [key for key in keys if getattr(key, "action", None) not in self.LEFT_TO_HELP]
        first = [key for key in keys if getattr(key, "action", None) == "help"]
        for key in self._fitting(first + [key for key in keys if key not in first]):
            if type(key) is FooterKey:
                key.__class__ = CountedKey  # Footer's key, made by Footer's compose: only measured otherwise
            if isinstance(key, FooterKey) and not key.has_class("-command-palette"):  # bound to `compact`
                key.set_reactive(FooterKey.compact, self.compact)
                key.set_class(self.compact, "-compact", update=False)
            yield key

    def _fitting(self, keys: Iterable[Widget]) -> list[Widget]:
        """The keys up to the first that would run past the right edge (or into the palette key).

        Widths as Footer's CSS lays a key out: compact, `key description` and a one-column margin;
        otherwise one column of padding around the key and after the description; the palette key is
        drawn compact and docks right with a border and a padding column of its own. The pilot tests
        compare these widths with the keys' regions at 60, 80 and 100 columns.
        """
        keys = list(keys)
        width = self._width
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

    def _inputs(self) -> tuple:
        """What `compose` makes the keys from: the width (the style and the keys that fit follow from it)
        and the screen's active bindings that it shows (and the palette's), each with its state and tooltip."""
        palette = self.app.COMMAND_PALETTE_BINDING if self.app.ENABLE_COMMAND_PALETTE else None
        return (
            self._width,
            tuple(
                (key, binding, enabled, tooltip)
                for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items()
                if binding.show or key == palette
            ),
        )

    async def recompose(self) -> None:
        """Widget's recompose, unless the keys composed now are the keys shown."""
        if not self.is_attached or self._pruning:
            return
        if self._inputs() == self._composed_for:  # the keys would be made again only to be found equal
            return
        keys = compose(self)
        if [_shown_as(key) for key in keys] == [_shown_as(key) for key in self.children]:
            return
        self._mounting = True
        try:
            async with self.batch():
                await self.query_children("*").exclude(".-textual-system").remove()
                if self.is_attached:
                    await self.mount_all(keys)
        finally:
            self._mounting = False
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


def _shown_as(widget: Widget) -> tuple:
    """What a key bar's child shows and does: two keys equal here are drawn alike and act alike."""
    if not isinstance(widget, FooterKey):
        return (widget,)  # anything else (a binding group) never counts as already shown
    return (
        widget.key,
        widget.key_display,
        widget.description,
        widget.action,
        widget._disabled,
        str(widget.tooltip or ""),
        frozenset(widget.classes - {"-compact"}),
    )
