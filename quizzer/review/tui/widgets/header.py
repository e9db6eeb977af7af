"""The title bar at the top of every screen: one widget drawing what Textual's `Header` drew with four."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.content import Content
from textual.reactive import reactive
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.visual import RenderOptions
from textual.widget import Widget

from quizzer.review.tui.widgets.drawn import fold_styles, visual_style

ICON = "⭘"
ICON_WIDTH = 8
"""Columns of the icon at the left, as `HeaderIcon` took them (one of padding each side)."""
CLOCK_WIDTH = 10
"""Columns kept blank at the right, as `HeaderClockSpace` kept them (the clock is not shown)."""


class TitleBar(Widget):
    """The screen's title and sub-title, centred between the icon and the clock's space, in one widget.

    Textual's `Header` is four widgets (the header, its icon, its title and the clock's space): each a
    node mounted, styled and drawn before the decks screen's first frame, about 8 ms of CPU with the
    title's watchers and the layouts they asked for. This one draws the same line itself: the icon
    (highlighted under the mouse, with the palette's tooltip; a click opens the command palette), the
    title (`App.format_title`, cut with an ellipsis when it does not fit) and the blank clock space, each
    with the styles Textual gave that part (`fold_styles`); a click elsewhere toggles the tall, three-line
    form (`-tall`), as Header's does. The title follows the app's and the screen's title and sub-title.
    """

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"title-bar--icon-hover", "title-bar--title"}
    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        width: 100%;
        background: $panel;
        color: $foreground;
        height: 1;
        &.-tall {
            height: 3;
        }
        .title-bar--icon-hover {
            background: $foreground 10%;
        }
        .title-bar--title {
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
    }
    """

    tall: reactive[bool] = reactive(False)
    """Three lines high rather than one."""

    def __init__(self) -> None:
        super().__init__()
        self._icon_hovered = False

    def watch_tall(self, tall: bool) -> None:
        self.set_class(tall, "-tall")

    def on_mount(self) -> None:
        for node in (self.app, self.screen):
            self.watch(node, "title", self._title_changed, init=False)
            self.watch(node, "sub_title", self._title_changed, init=False)

    def _title_changed(self) -> None:
        self.refresh()

    @property
    def title_text(self) -> Content:
        """What the title shows: the screen's title and sub-title, else the app's (as `Header` chose them)."""
        screen, app = self.screen, self.app
        title = screen.title if screen.title is not None else app.title
        sub_title = screen.sub_title if screen.sub_title is not None else app.sub_title
        return app.format_title(title, sub_title)

    # ------------------------------------------------------------------ mouse

    def _over_icon(self, x: int | None) -> bool:
        return x is not None and 0 <= x < ICON_WIDTH

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._hover(self._over_icon(event.x))

    def on_leave(self, _event: events.Leave) -> None:
        self._hover(False)

    def _hover(self, over_icon: bool) -> None:
        if over_icon == self._icon_hovered:
            return
        self._icon_hovered = over_icon
        self.tooltip = "Open the command palette" if over_icon and self.app.ENABLE_COMMAND_PALETTE else None
        self.refresh()

    async def on_click(self, event: events.Click) -> None:
        if self._over_icon(event.x):  # the icon: the palette (Header's icon stopped the click there)
            event.stop()
            if self.app.ENABLE_COMMAND_PALETTE:
                await self.run_action("app.command_palette")
            return
        self.toggle_class("-tall")

    # ------------------------------------------------------------------ drawing

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        title_width = max(0, width - ICON_WIDTH - CLOCK_WIDTH)
        bar_background = self.background_colors[1]
        blank = Style(bgcolor=bar_background.rich_color)  # a padding cell: the background alone
        strips = [self._icon_line(y, height, blank), self._title_line(y, title_width)]
        clock = self._clock_line(y, blank)
        segments = [segment for strip in (*strips, clock) for segment in strip]
        return Strip(segments).crop_extend(0, width, blank)

    def _icon_line(self, y: int, height: int, blank: Style) -> Strip:
        """HeaderIcon's line: a padding column each side of its content (the icon, left, on the middle line)."""
        hover = [self.get_component_styles("title-bar--icon-hover")] if self._icon_hovered else []
        background, color, style, under = fold_styles(self, *hover)
        if not hover:
            under = self.background_colors[1]  # the icon's own layer adds nothing: under it, the bar
        text_style = visual_style(background, color, style)
        inner = Style(bgcolor=(under + background).rich_color)
        content_width = ICON_WIDTH - 2
        lines = Content(ICON).render_strips(
            content_width, None, text_style, RenderOptions(self._get_style, self.styles)
        )
        lines = list(
            Strip.align(
                lines, (text_style + VisualStyle(reverse=False)).rich_style, content_width, height, "left", "middle"
            )
        )
        line = lines[y].adjust_cell_length(content_width, inner)
        pad = Segment(" ", inner)
        return Strip([pad, *line, pad], ICON_WIDTH)

    def _clock_line(self, y: int, blank: Style) -> Strip:
        """HeaderClockSpace's line: a padding column each side of nothing (below its one line of nothing, the
        blank Textual draws past a widget's rendered lines, in its own style)."""
        background, color, style, _ = fold_styles(self)
        own = visual_style(background, color, style).rich_style
        pad = Segment(" ", blank)
        if y:
            return Strip([pad, Segment(" " * (CLOCK_WIDTH - 2), own), pad], CLOCK_WIDTH)
        # Its one rendered line: an empty text in its style, made up to width with the background alone.
        return Strip([pad, Segment("", own), Segment(" " * (CLOCK_WIDTH - 2), blank), pad], CLOCK_WIDTH)

    def _title_line(self, y: int, width: int) -> Strip:
        """HeaderTitle's line: the title, cut with an ellipsis, centred. It is one line high (a tall bar has
        it on its first line, with the bar's background under it)."""
        background, color, style, _ = fold_styles(self)
        inner = Style(bgcolor=background.rich_color)
        if y or not width:
            return Strip([Segment(" " * width, inner)], width)
        text_style = visual_style(background, color, style)
        options = RenderOptions(self._get_style, self.get_component_styles("title-bar--title"))
        lines = self.title_text.render_strips(width, 1, text_style, options)
        rich_style = (text_style + VisualStyle(reverse=False)).rich_style
        (line,) = Strip.align(lines, rich_style, width, 1, "center", "middle")
        return line.adjust_cell_length(width, inner)
