"""Styles for widgets that draw, in one widget, what Textual drew with several (the key bar, the title bar)."""

from __future__ import annotations

from rich.style import Style
from textual.color import Color
from textual.style import Style as VisualStyle
from textual.widget import Widget


def fold_styles(widget: Widget, *layers) -> tuple[Color, Color, Style, Color]:
    """`DOMNode.rich_style`'s fold of the widget's ancestors and the widget, continued through `layers`
    (component styles, standing for the nodes a widget of Textual's drew under this one): the
    background, the colour and the text style of the last layer, and the background under it."""
    background = Color(0, 0, 0, 0)
    color = Color(255, 255, 255, 0)
    style = Style()
    opacity = 1.0
    under = background
    for styles in [node.styles for node in reversed(widget.ancestors_with_self)] + list(layers):
        has_rule = styles.has_rule
        opacity *= styles.opacity
        under = background
        if has_rule("background"):
            text_background = background + styles.background.tint(styles.background_tint)
            background += styles.background.tint(styles.background_tint).multiply_alpha(opacity)
        else:
            text_background = background
        if has_rule("color"):
            color = styles.color
        style += styles.text_style
        if has_rule("auto_color") and styles.auto_color:
            color = text_background.get_contrast_text(color.a)
    return background, color, style, under


def visual_style(background: Color, color: Color, style: Style) -> VisualStyle:
    """A Textual style as `Widget.visual_style` makes one from a fold."""
    return VisualStyle(
        background,
        color,
        bold=style.bold,
        dim=style.dim,
        italic=style.italic,
        reverse=style.reverse,
        underline=style.underline,
        strike=style.strike,
    )
