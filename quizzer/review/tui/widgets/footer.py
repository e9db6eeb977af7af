"""The key bar at the bottom of every screen: one widget that draws the screen's keys as Textual's `Footer` does."""

from __future__ import annotations

from typing import NamedTuple

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.color import Color
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from quizzer.review.tui.widgets.drawn import fold_styles


class BarKey(NamedTuple):
    """One key as the bar draws it: columns `x` to `x + width` of the bar."""

    key: str
    key_display: str
    description: str
    action: str
    enabled: bool
    tooltip: str
    x: int
    width: int
    palette: bool = False
    """The command palette's key, drawn at the right edge behind a thin rule."""

    @property
    def right(self) -> int:
        return self.x + self.width


class KeyFooter(Widget, can_focus=False):
    """The screen's shown bindings, `? Help` first, drawn in one line by one widget.

    Textual's `Footer` mounts a `FooterKey` widget per key and rebuilds them all whenever the active
    bindings change (every card in a review): each key's node, its two styled component nodes, its
    message loop and its drawing cost about 1.4 ms before the decks screen's first frame (14 ms for
    its ten keys), and its `compact` watchers kept every key ever shown alive (thousands after a
    sitting, and a garbage collector pausing the UI for 0.3 s). This bar has no children: it lays the
    keys out itself (`keys`) and draws them in `render_line` with the styles a `FooterKey` got (the
    same theme variables, folded the way Textual folds a node's ancestors, `_style`), so the screen
    looks as it did under `Footer`. What a `FooterKey` did, the bar does per key: a click runs the key
    (a disabled one rings the bell), the key under the mouse is highlighted, shows its tooltip and
    the pointer shape; a change of the bindings or the width only redraws the line.
    """

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {
        "key-bar--item",
        "key-bar--hover",
        "key-bar--disabled",
        "key-bar--key",
        "key-bar--description",
        "key-bar--palette-rule",
    }
    # `Footer` and `FooterKey`'s rules, as layers: the bar is the Footer, an item layer each key's
    # FooterKey (hovered, disabled), then its key or description component.
    DEFAULT_CSS = """
    KeyFooter {
        color: $footer-foreground;
        background: $footer-background;
        dock: bottom;
        height: 1;
        .key-bar--item {
            background: $footer-item-background;
        }
        .key-bar--hover {
            color: $footer-key-foreground;
            background: $block-hover-background;
        }
        .key-bar--disabled {
            text-style: dim;
        }
        .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .key-bar--palette-rule {
            color: $foreground 20%;
        }
    }
    """

    NARROW = 100
    """Below this width the keys are drawn compact, and the palette and quit keys are left to the help
    screen (it names ctrl+p and ctrl+q), so a 60-column screen still shows the screen's own keys.
    Each screen lists its keys most important first: the keys that do not fit are dropped whole, the
    last first, never drawn cut (`_lay_out`); every key still works."""

    LEFT_TO_HELP = ("quit",)

    compact = reactive(False, toggle_class="-compact", layout=False)
    """Drawn compact: below `NARROW` columns."""

    def __init__(self) -> None:
        super().__init__()
        self.set_reactive(KeyFooter.compact, self.narrow)  # styled once, in the state it is first drawn in
        self.set_class(self.compact, "-compact", update=False)
        self._laid_out: tuple[tuple, list[BarKey]] = ((), [])
        self._mouse_x: int | None = None
        self._hovered: BarKey | None = None
        self._styles_folded: dict[tuple, tuple[Style, Color, Color]] = {}

    @property
    def _width(self) -> int:
        """The bar's width; before its first layout, the terminal's (it docks at the bottom, full width)."""
        return self.size.width or self.app.size.width

    @property
    def narrow(self) -> bool:
        return 0 < self._width < self.NARROW

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen) -> None:
        self.refresh()
        self._follow_mouse()

    def on_resize(self) -> None:
        self.compact = self.narrow

    # ------------------------------------------------------------------ layout

    def _inputs(self) -> tuple:
        """What the keys are laid out from: the width (the style and the keys that fit follow from it) and
        the screen's active bindings that it shows (and the palette's), each with its state and tooltip."""
        palette = self.app.COMMAND_PALETTE_BINDING if self.app.ENABLE_COMMAND_PALETTE else None
        return (
            self._width,
            tuple(
                (key, binding, enabled, tooltip)
                for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items()
                if binding.show or key == palette
            ),
        )

    @property
    def keys(self) -> list[BarKey]:
        """The keys drawn now, left to right, the palette's last."""
        inputs = self._inputs()
        if inputs != self._laid_out[0]:
            self._laid_out = (inputs, self._lay_out())
        return self._laid_out[1]

    def _lay_out(self) -> list[BarKey]:
        """Footer's keys (the first binding of each action, in the bindings' order) with `? Help` first, up to
        the first that would run past the right edge (or into the palette key).

        Widths as Footer's CSS lays a key out: compact, `key description` and a one-column margin;
        otherwise one column of padding around the key and after the description; the palette key is
        drawn compact and docks right behind a one-column rule, with a padding column of its own.
        """
        width = self._width
        compact = self.narrow
        app = self.app
        active = self.screen.active_bindings
        first: dict[str, tuple] = {}  # action → (binding, enabled, tooltip): Footer shows one key per action
        for _, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in first:
                first[binding.action] = (binding, enabled, tooltip)
        if compact:
            for action in self.LEFT_TO_HELP:
                first.pop(action, None)
        order = [action for action in first if action == "help"] + [action for action in first if action != "help"]
        palette: list[BarKey] = []
        if not compact and app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
            _, binding, enabled, _ = active[app.COMMAND_PALETTE_BINDING]
            display = app.get_key_display(binding)
            text = cell_len(display) + (1 + cell_len(binding.description) if binding.description else 0)
            span = 1 + text + 1  # the rule, the compact key, the padding
            palette.append(
                BarKey(
                    binding.key,
                    display,
                    binding.description,
                    binding.action,
                    enabled,
                    binding.tooltip or binding.description,
                    max(0, width - span),
                    span,
                    palette=True,
                )  # fmt: skip
            )
        right = width - sum(key.width for key in palette)
        keys: list[BarKey] = []
        x = 0
        for action in order:
            binding, enabled, tooltip = first[action]
            display = app.get_key_display(binding)
            span = self._text_width(display, binding.description, compact)
            if width and x + span > right:  # not laid out yet (width 0): every key, the resize lays out again
                break
            keys.append(BarKey(binding.key, display, binding.description, action, enabled, tooltip or "", x, span))
            x += span + (1 if compact else 0)  # the margin between compact keys
        return keys + palette

    @staticmethod
    def _text_width(display: str, description: str, compact: bool) -> int:
        """Columns of a key drawn `compact` or not (a key without a description is its key alone)."""
        if not description:
            return cell_len(display)
        return cell_len(display) + 1 + cell_len(description) + (0 if compact else 2)

    def key_at(self, x: int) -> BarKey | None:
        """The key drawn at column `x` of the bar."""
        for key in self.keys:
            if key.x <= x < key.right:
                return key
        return None

    # ------------------------------------------------------------------ mouse

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._mouse_x = event.x
        self._follow_mouse()

    def on_leave(self, _event: events.Leave) -> None:
        self._mouse_x = None
        self._follow_mouse()

    def _follow_mouse(self) -> None:
        """The key under the mouse: highlighted, with its tooltip and the pointer shape."""
        key = None if self._mouse_x is None else self.key_at(self._mouse_x)
        if key == self._hovered:
            return
        self._hovered = key
        self.tooltip = (key.tooltip or None) if key is not None else None
        self.styles.pointer = "pointer" if key is not None else None
        self.screen.update_pointer_shape()
        self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        key = self.key_at(event.x)
        if key is None:
            return
        if not key.enabled:
            self.app.bell()
        else:
            self.app.simulate_key(key.key)

    # ------------------------------------------------------------------ drawing

    def notify_style_update(self) -> None:
        self._styles_folded.clear()
        super().notify_style_update()

    def _fold(self, item: tuple[str, ...], component: str | None = None) -> tuple[Style, Color, Color]:
        """The Rich style a `FooterKey` of this bar had (its component's, with `component`): the fold of the
        bar's ancestors and the bar (`fold_styles`), then the key's `item` layers (one node, as a FooterKey's
        own rules and its hover and disabled states were), then the component. With the background under
        the last layer and the last layer's own (for `item` alone: the bar's and the key's)."""
        cache_key = (item, component)
        if cache_key in self._styles_folded:
            return self._styles_folded[cache_key]
        layers = [self.get_component_styles(*item)]
        if component is not None:
            layers.append(self.get_component_styles(component))
        background, color, style, under = fold_styles(self, *layers)
        style += Style.from_color(
            (background + color).rich_color if (background.a or color.a) else None,
            background.rich_color if background.a else None,
        )
        folded = (style, under, background)
        self._styles_folded[cache_key] = folded
        return folded

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        keys = self.keys
        hovered = None if self._mouse_x is None else self.key_at(self._mouse_x)
        gap = Style(bgcolor=self.background_colors[1].rich_color)  # as Footer's own blank background
        segments: list[Segment] = []
        x = 0
        for key in keys:
            if key.x > x:
                segments.append(Segment(" " * (key.x - x), gap))
            segments.extend(self._draw(key, key == hovered))
            x = key.right
        if x < width:
            segments.append(Segment(" " * (width - x), gap))
        return Strip(segments).crop(0, width)

    def _draw(self, key: BarKey, hovered: bool) -> list[Segment]:
        """What `FooterKey.render` drew, within the padding and rule Textual drew around the palette key."""
        item = ("key-bar--item",) + (("key-bar--hover",) if hovered else ())
        item += () if key.enabled else ("key-bar--disabled",)
        base, under, background = self._fold(item)
        key_style = base + self._fold(item, "key-bar--key")[0]
        compact = self.compact or key.palette  # the palette's key is always drawn compact
        if not key.description:
            segments = [Segment(key.key_display, key_style)]
        else:
            description_style = base + self._fold(item, "key-bar--description")[0]
            pad = "" if compact else " "
            segments = [
                Segment(f"{pad}{key.key_display}{pad}", key_style),
                Segment(f"{' ' if compact else ''}{key.description}{pad}", description_style),
            ]
        if key.palette:
            inner = (under + background).rich_color  # the padding and the rule's cell: the key's background
            rule = under + self.get_component_styles("key-bar--palette-rule").color
            segments.insert(0, Segment("▏", Style(color=rule.rich_color, bgcolor=inner)))
            segments.append(Segment(" ", Style(bgcolor=inner)))
        return segments
