"""Priority key bindings that act on what was typed just before them.

A priority binding runs as its key reaches the app, but the keys before it were forwarded to the
focused widget's own message queue and may not have been read yet: a terminal delivers fast typing
(or tmux send-keys, or ssh with some latency) as one burst, so in `112⏎` the Enter arrives while
`112` still waits in the answer box. `keys_read` waits until the widgets named have read everything
already sent to them, so the binding sees what the learner typed. `TextInput`, every text box of the app, keeps its own
editing keys (backspace, the arrows) in order with the characters around them.
"""

from __future__ import annotations

import asyncio
import contextlib

from textual import events
from textual.widget import Widget
from textual.widgets import Input

KEYS_READ_LIMIT_SECONDS = 2.0
"""A widget that is being removed may never read its queue: past this the binding goes on regardless."""


async def keys_read(*widgets: Widget) -> None:
    """Return once each of `widgets` has handled the messages queued for it before this call."""
    waits = []
    for widget in widgets:
        done = asyncio.Event()
        if widget.is_attached and widget.call_later(done.set):  # behind the keys already in its queue
            waits.append(done.wait())
    if waits:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*waits), KEYS_READ_LIMIT_SECONDS)


class TextInput(Input):
    """The app's text box (every input on every screen is one; tests/test_tui.py checks): it runs its own
    key bindings (backspace, the arrows, home and end…) as it reads the key, in order with the characters
    typed around it.

    Textual runs a focused widget's bindings only when the key has gone back up to the app, after the
    characters queued behind it were typed: in one burst `1125`, backspace, `3` read "1125" (the 3 was
    typed, then deleted) and `12`, left, `1` read "121".
    """

    async def _on_key(self, event: events.Key) -> None:
        if not event.is_printable:
            for binding in self._bindings.key_to_bindings.get(event.key, ()):
                if not binding.priority and await self.app.run_action(binding.action, self):
                    event.stop()
                    event.prevent_default()
                    return
        await super()._on_key(event)
