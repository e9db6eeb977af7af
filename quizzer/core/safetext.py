"""Text from outside, made safe to show: the one place that decides which characters never reach a
terminal, a CI log or a report as they are.

Deck text, typed answers, verifiers' output and messages, the state database, file names, imported
cards and JSON reports are all text someone else wrote. Printed raw, ESC [2J clears the learner's
screen, ESC ]0; retitles the window, CR and backspaces rewrite a line, C1 controls (U+009B is a
one-byte CSI) do what ESC does, and bidi overrides (U+202E) reorder what follows them to the end of
the line. `shown` turns each such character into a visible escape (`\\x1b`, `\\u202e`); what
`quizzer.output` prints always passes through it. Rich or Textual markup in such text is escaped where
it is handed to a renderer that reads markup (see docs/ARCHITECTURE.md, "Output").
"""

from __future__ import annotations

import functools
import re
from typing import Any

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x80-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters (C0 but tab and line ends, C1, and the bidi embeddings, overrides and isolates) a TOML
escape like \\u001b can put in a string: printed, a terminal obeys them (ESC [2J clears the screen, ESC ]0;
retitles the window, U+202E reverses the rest of the line), so no deck text holds one (`quizzer.cards.loader`
refuses them, the importer drops them). The app draws deck text through Textual, which passes them on."""

BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")

UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")
"""What is never printed as is: every C0 control but tab and line feed (so CR, BEL, BS, ESC), DEL, the C1
controls, the bidi embeddings, overrides and isolates (U+202A-E, U+2066-9: they reorder the rest of the
line, past the text that holds them), the Unicode line and paragraph separators, and lone surrogates (a
file name that is not UTF-8). The bidi marks (U+200E, U+200F, U+061C) are kept: they reorder nothing
beyond themselves, and right-to-left text needs them."""


def _escape(match: re.Match) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: str) -> str:
    """`text` with every `UNSAFE` character as a visible escape (ESC as `\\x1b`); line feeds and tabs kept,
    CR LF as a line feed."""
    text = str(text)
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return UNSAFE.sub(_escape, text)


def one_line(text: str) -> str:
    """`shown`, on one line: each line break (any of them, as str.splitlines finds them) becomes ` ⏎ `, so
    text quoted in a `path:line:col:` message or a verdict cannot start a line of its own (where a CI log
    would read `::error::` as a command)."""
    return shown(" ⏎ ".join(str(text).splitlines()))


@functools.cache
def _not_xml() -> re.Pattern:
    """What XML 1.0 forbids. Compiled on first use: this class (every plane) takes `re` about 5 ms, paid by
    every command at start-up (the app's first frame among them) when it was compiled on import."""
    return re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """`shown`, and nothing XML 1.0 forbids (U+FFFE, U+FFFF), so a JUnit report always parses."""
    return _not_xml().sub(_escape, shown(text))


_ESCAPED_UNSAFE = re.compile(r"\\(?:[rbf]|u(?:00[01]|00[89]|007f|202[89a-e]|206[6-9]|d[89a-f]))", re.IGNORECASE)
"""A JSON escape that may stand for an `UNSAFE` character (`\\u001b`, `\\r`): text without one, and without a raw
unsafe character, decodes to safe strings, and is not walked."""


def shown_data(data: Any, source: str | None = None) -> Any:
    """JSON-like `data` with every string in it (keys too) passed through `shown`, in place; `source`, the JSON
    text it was read from, lets data that cannot hold an unsafe character go unwalked. No recursion: the
    data is as deep as the JSON parser allowed."""
    if source is not None and not (UNSAFE.search(source) or _ESCAPED_UNSAFE.search(source)):
        return data
    if isinstance(data, str):
        return shown(data)
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key in list(item):
                value = item[key]
                if isinstance(value, str):
                    value = shown(value)
                elif isinstance(value, dict | list):
                    stack.append(value)
                if isinstance(key, str) and UNSAFE.search(key):
                    del item[key]
                    key = shown(key)
                item[key] = value
        elif isinstance(item, list):
            for index, value in enumerate(item):
                if isinstance(value, str):
                    item[index] = shown(value)
                elif isinstance(value, dict | list):
                    stack.append(value)
    return data
