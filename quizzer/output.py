"""Where the command line's text reaches the terminal: every line quizzer prints goes through here.

`echo` (plain lines, click's echo), `console` (a rich Console for styled output: show, verify's report,
the plain review's Markdown) and `SafeGroup` (click's own error messages, which quote what was typed)
pass all text through `quizzer.core.safetext.shown`, so no deck, answer, verifier, database, file name
or report can send a control sequence to the terminal, whatever path it took. The styling quizzer itself
emits (rich's colours, the progress bar's cursor moves) is added after, and kept. Rich markup is another
matter: a string handed to rich with markup on is read as markup, so text from outside is given as
`Text`, or escaped with `markup` (below).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import click

from quizzer.core.safetext import UNSAFE, shown

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult


def echo(message: Any = "", *, err: bool = False, nl: bool = True) -> None:
    """click.echo, with every unsafe character of `message` shown as an escape (`shown`)."""
    click.echo(shown(str(message)), err=err, nl=nl)


def echo_rendered(text: str, *, color: bool | None = None) -> None:
    """Text a `console()` rendered (already safe; on a terminal it carries rich's own colour codes)."""
    click.echo(text, color=color)


def markup(text: Any) -> str:
    """`text` for a string rich reads as markup: its own `[` escaped, so `[link=...]` stays text."""
    from rich.markup import escape

    return escape(str(text))


class _Safe:
    """A renderable rendered as `inner`, with the unsafe characters of its text dropped (rich counts them
    as zero cells wide, so the layout stays). Segments rich marks as control (cursor moves) are its own."""

    def __init__(self, inner: RenderableType):
        self.inner = inner

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.segment import Segment

        for segment in console.render(self.inner, options):
            if segment.control or not UNSAFE.search(segment.text):
                yield segment
            else:
                yield Segment(UNSAFE.sub("", segment.text), segment.style)


def console(**options: Any) -> Console:
    """A rich Console whose every printed renderable is passed through `_Safe`."""
    from rich.console import Console, RenderHook

    class Hook(RenderHook):
        def process_renderables(self, renderables):
            return [_Safe(renderable) for renderable in renderables]

    made = Console(**options)
    made.push_render_hook(Hook())
    return made


class SafeGroup(click.Group):
    """The `quizzer` group: a usage error or ClickException quoting what was typed, a file name or a
    database path is shown with its unsafe characters escaped, as everything else printed is."""

    def make_context(self, *args, **kwargs):
        with _safe_messages():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):
        with _safe_messages():
            return super().invoke(ctx)


class _safe_messages:
    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if isinstance(error, click.ClickException):
            error.message = shown(error.message)
        return False


@contextlib.contextmanager
def workflow_commands_paused(enabled: bool) -> Iterator[Callable[[], None]]:
    """`--format github`: the text report is printed between `::stop-commands::TOKEN` and `::TOKEN::`, so
    nothing in it is run as a workflow command by the GitHub runner (which reads `::name::` at the start
    of any line, and the legacy `##[name]` anywhere in one): a verifier's printed output, a traceback, a
    shard's report given to `--merge`. Yields `resume`, called before quizzer's own annotations (and on
    the way out if it was not)."""
    if not enabled:
        yield lambda: None
        return
    import secrets  # here: its import (random, hmac, base64) is paid by every command's start otherwise

    token = secrets.token_hex(16)
    echo(f"::stop-commands::{token}")
    resumed = False

    def resume() -> None:
        nonlocal resumed
        if not resumed:
            resumed = True
            echo(f"::{token}::")

    try:
        yield resume
    finally:
        resume()
