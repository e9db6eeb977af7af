"""Hostile deck files derived from the bundled decks: lint and load never raise, never hang.

Each example takes one bundled deck cut down to its header and one card (so an example costs
milliseconds), then applies one to three mutations: truncation, a line deleted or doubled, a
value replaced by something hostile (deep nesting, integers past Python's digit limit or SQLite's
range, inf/nan, wrong types, long or odd unicode strings, a 5000-term formula), a stray byte, a BOM,
CRLF line ends, a very long line. The file goes through `quizzer lint` (in-process, exit code 0 or
1, every line `path:line:col: message`) and `load_deck` (a deck or a `DeckError`, nothing else).
No wall-clock threshold is asserted; `slowest` records the slowest case for the closing note.
"""

from __future__ import annotations

import re
import time
import tomllib

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quizzer.cards.loader import INTERNAL_ERROR, DeckError, load_deck
from quizzer.cli import main
from quizzer.paths import bundled_decks

PROBLEM_LINE = re.compile(r"^.+:\d+:\d+: .+$")


def _bases() -> list[str]:
    """Every bundled card as a deck of its own: the bundled header plus that one [[cards]] stanza."""
    bases = []
    for path in sorted(bundled_decks().glob("*.toml")):
        header, *stanzas = re.split(r"(?m)^(?=\[\[cards\]\])", path.read_text(encoding="utf-8"))
        bases.extend(header + stanza for stanza in stanzas)
    return bases


BASES = _bases()

HOSTILE_VALUES = [
    "[" * 3000 + "]" * 3000,
    "{a=" * 2000 + "1" + "}" * 2000,
    "9" * 5000,
    "-" + "9" * 30,
    "nan",
    "-inf",
    "1e999",
    "true",
    "[1, 'two', 3.0]",
    "{ kind = 'numeric' }",
    "{ kind = 'expression', value = '" + "+".join(["p"] * 5000) + "', variables = ['p'] }",
    "{ kind = 'expression', value = '" + "(" * 300 + "p" + ")" * 300 + "', variables = ['p'] }",
    "{ kind = 'shape', value = [" + ", ".join(["9" * 19] * 50) + "] }",
    "{ kind = 'choice', options = [], value = '' }",
    '"' + "é" * 20_000 + '"',
    '"\\u0000\\u202e\\ud7ff"',
    '"""unterminated',
    "'''" + "x" * 1000,
    '"' + "\\U0010FFFF" * 100 + '"',
    "[ " + " " * 30_000 + "5],",
    "1979-05-27T07:32:00Z",
    "0x" + "f" * 2000,
    "",
    '"\\u001b[2J\\u009b"',  # control characters by escape (a terminal obeys them)
    '"' + "{{" * 5000 + '"',  # the template scanner was quadratic in unclosed fields
    "'$" + "\\frac{" * 800 + "1" + "}{2}" * 800 + "$'",  # nested math past the renderer's bounds
    "{ kind = 'tensor', value = '" + "W+" * 400 + "W', variables = ['W'] }",
    "{ min = -1.7e308, max = 1.7e308, step = 1e-300 }",  # a parameter range past a float's count
]

STRAY = ["\x00", "\ufeff", "\r", "\x7f", "\u2028", "]]", "[[cards]]", "=", '"', "'''", "\\", "\udcff"]


@st.composite
def hostile_decks(draw) -> bytes:
    text = draw(st.sampled_from(BASES))
    for _ in range(draw(st.integers(1, 3))):
        lines = text.splitlines(keepends=True) or [""]
        mutation = draw(st.sampled_from(["truncate", "value", "delete", "double", "stray", "text", "bom", "crlf"]))
        if mutation == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
        elif mutation == "value":
            keyed = [i for i, line in enumerate(lines) if re.match(r"\s*[A-Za-z_\-]+\s*=", line)]
            if keyed:
                i = draw(st.sampled_from(keyed))
                key = lines[i].split("=", 1)[0]
                lines[i] = f"{key}= {draw(st.sampled_from(HOSTILE_VALUES))}\n"
                text = "".join(lines)
        elif mutation in ("delete", "double"):
            i = draw(st.integers(0, len(lines) - 1))
            lines[i : i + 1] = [] if mutation == "delete" else [lines[i], lines[i]]
            text = "".join(lines)
        elif mutation in ("stray", "text"):
            at = draw(st.integers(0, len(text)))
            inserted = draw(st.sampled_from(STRAY)) if mutation == "stray" else draw(st.text(max_size=40))
            text = text[:at] + inserted + text[at:]
        elif mutation == "bom":
            text = "\ufeff" + text
        else:
            text = text.replace("\n", "\r\n")
    return text.encode("utf-8", errors="surrogatepass")


slowest: list[tuple[float, float, bytes]] = []
"""The three slowest cases of the last run: (CPU seconds, wall seconds, file), slowest CPU first."""


@settings(
    max_examples=1000,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(data=hostile_decks())
def test_hostile_deck_files_are_problems_never_tracebacks(tmp_path_factory, data: bytes):
    path = tmp_path_factory.getbasetemp() / "fuzz" / "deck.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    started, cpu = time.perf_counter(), time.process_time()

    result = CliRunner().invoke(main, ["lint", str(path)])
    assert result.exit_code in (0, 1), (result.exit_code, result.output, data[:200])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    *lines, summary = result.output.splitlines()
    assert all(PROBLEM_LINE.match(line) and line.startswith(str(path)) for line in lines), lines[:3]
    assert not any(INTERNAL_ERROR in line for line in lines), lines[:3]  # a check of ours that raised
    # A warning never fails lint: a deck grown from a bundled one keeps its id, which lint warns about.
    problems = [line for line in lines if not line.startswith(f"{path}:1:1: warning: ")]
    assert summary.startswith("1 deck file(s): ") and (result.exit_code == 1) == bool(problems), result.output

    try:
        loaded = load_deck(path, check_verifiers=False)
    except DeckError as error:
        assert error.problems and len(error.one_line().splitlines()) == 1
    else:
        assert loaded.deck.id and tomllib.loads(data.decode("utf-8"))  # what loads is real TOML

    slowest.append((time.process_time() - cpu, time.perf_counter() - started, data))
    slowest.sort(key=lambda case: -case[0])
    del slowest[3:]
