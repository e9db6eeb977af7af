"""Hostile text never reaches the terminal as is: typed answers, deck text and file names, verifiers' output,
the state database, command-line arguments, `--merge` reports, GitHub annotations and JUnit XML.

Each source had a path to stdout or stderr that printed it raw: a typed ESC [2J cleared the learner's screen
in `review --plain`, a deck file named with ESC ]0; retitled the window in `lint` and `due`, a verifier's
print and a hand-edited database row reached `show`, `verify` and the review, and a report's deck id was read
as rich markup. `quizzer.output` is where every line printed goes now, and `quizzer.core.safetext` what it does.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from quizzer.cli import main
from quizzer.core.safetext import UNSAFE, one_line, shown, shown_data, xml_text

ESC = "\x1b[2J\x1b]0;PWNED\x07"
HOSTILE = ESC + "\rCR\x08BS\x9b31m\u202eRTL\u2066ISO\u2028LS\x7fDEL"
MARKUP = "[red]MARKUPPROBE[/red][link=https://evil.example/]LINK[/link]"
DECK_TEXT = "\rCR\x7fDEL\u2028LS " + MARKUP  # what the loader lets into a deck (no C0, C1 or bidi control)
ROOT = Path(__file__).resolve().parent.parent


def raw(text: str) -> list[str]:
    """The unsafe characters `text` holds as they are (CR LF counts as a line end)."""
    return sorted({f"U+{ord(c):04X}" for c in UNSAFE.findall(text.replace("\r\n", "\n"))})


def markup_obeyed(text: str) -> bool:
    return text.count("MARKUPPROBE") != text.count("[red]MARKUPPROBE[/red]")


def toml(text: str) -> str:
    return json.dumps(text)  # \uXXXX escapes: a TOML basic string


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A deck project holding deck text with what the loader allows, and a deck file named with ESC."""
    monkeypatch.setenv("QUIZZER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "decks").mkdir()
    (tmp_path / "verifiers").mkdir()
    t = toml(DECK_TEXT)
    (tmp_path / "decks" / "hostile.toml").write_text(
        f'id = "hostile"\ntitle = {t}\n[[cards]]\nid = "num"\nprompt = {t}\nexplanation = {t}\nsource = {t}\n'
        f'verifier = "v.py::num"\nanswer = {{ kind = "numeric", value = 10 }}\n'
        f'[[cards]]\nid = "pick"\nprompt = "Pick"\nexplanation = "e"\n'
        f'answer = {{ kind = "choice", options = [{t}, "b"], value = "b" }}\n'
    )
    (tmp_path / "decks" / f"b{ESC}roken.toml").write_text('id = "broken"\ntitle = \n')
    (tmp_path / "verifiers" / "v.py").write_text("def num():\n    pass\n")
    return tmp_path


def cli(*args: str, input: str = "") -> tuple[str, str]:
    result = CliRunner().invoke(main, list(args), input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.stdout, result.stderr


# ---------------------------------------------------------------------- the helper itself


def test_shown_makes_every_unsafe_character_a_visible_escape_and_keeps_lines():
    assert shown("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert shown("x\u202ey\x9bz\x7f") == "x\\u202ey\\x9bz\\x7f"
    assert shown("one\r\ntwo\tthree\rfour") == "one\ntwo\tthree\\x0dfour"
    assert shown("\udcff") == "\\udcff"  # a file name that is not UTF-8
    assert shown("ünïcödé — ×, ‏RLM") == "ünïcödé — ×, ‏RLM"  # text and the bidi marks are kept
    assert shown(shown(HOSTILE)) == shown(HOSTILE) and not raw(shown(HOSTILE))


def test_one_line_text_cannot_start_a_line_of_its_own():
    assert one_line("a\n::error::x\r\ny\u2028z\n") == "a ⏎ ::error::x ⏎ y ⏎ z"
    assert "\n" not in one_line("p\x85q\x0br")


def test_xml_text_is_valid_xml_and_shown_data_reaches_every_string():
    element = ET.Element("x", message=xml_text(HOSTILE + "\ufffe\x00"))
    ET.fromstring(ET.tostring(element))  # parses: no character XML 1.0 forbids
    data = {"a" + ESC: [ESC, {"b": ESC, "n": 1}], "v": ESC}
    assert not raw(json.dumps(shown_data(data), ensure_ascii=False))
    assert shown_data({"x": "×"}, json.dumps({"x": "×"})) == {"x": "×"}  # nothing to walk


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_shown_and_one_line_hold_for_any_text(text):
    assert not UNSAFE.search(shown(text)) and shown(shown(text)) == shown(text)
    assert len(one_line(text).splitlines()) <= 1 and not UNSAFE.search(one_line(text))
    assert not UNSAFE.search(xml_text(text))


def test_the_console_drops_what_the_text_holds_and_keeps_its_own_styling():
    from rich.text import Text

    from quizzer.output import console

    made = console(force_terminal=True, color_system="standard", width=40)
    with made.capture() as captured:
        made.print(Text("a" + HOSTILE + "b", style="red"))
    out = captured.get()
    assert out.startswith("\x1b[31m")  # rich's own red is kept
    assert not UNSAFE.search(re.sub(r"\x1b\[[0-9;]*m", "", out)), repr(out)  # nothing else: no ESC [2J, CSI, RLO
    assert "PWNED" in out  # the text itself is kept, without its controls


# ---------------------------------------------------------------------- typed answers


def test_review_plain_echoes_a_typed_answer_with_its_escapes_visible(project):
    answers = "\n".join([HOSTILE, "3", HOSTILE, "2", "3", "q"]) + "\n"
    out, err = cli("review", "--plain", "hostile", input=answers)
    assert "answer> \\x1b[2J\\x1b]0;PWNED\\x07" in out  # the echo, and the verdict quoting the answer
    assert not raw(out + err), (raw(out + err), out)


# ---------------------------------------------------------------------- deck text and file names


def test_a_deck_file_named_with_esc_is_named_with_the_escape_visible(project):
    out, err = cli("lint", "decks")
    assert "decks/b\\x1b[2J\\x1b]0;PWNED\\x07roken.toml:2:9:" in out
    for args in (("lint", "decks"), ("due",), ("stats", "decks"), ("review", "--plain")):
        out, err = cli(*args)
        assert not raw(out + err), (args, out + err)


def test_show_keeps_a_titles_markup_as_text_and_no_control_reaches_the_terminal(project):
    out, err = cli("show", "hostile/num")
    assert f"{MARKUP} · hostile/num" in out  # the panel's title: `[red]` is text, not a style
    assert not markup_obeyed(out) and not raw(out + err), out


def test_click_errors_quoting_what_was_typed_show_its_escapes(project):
    for args in (
        ("lint", f"x{HOSTILE}.toml"),
        ("due", f"x{HOSTILE}.toml"),
        ("trust", f"/nowhere/{HOSTILE}"),
        ("due", "--today", HOSTILE),
        ("export", "anki", "-o", f"{HOSTILE}.apkg"),
        ("import", "csv", f"{HOSTILE}.csv"),
    ):
        out, err = cli(*args)
        assert "\\x1b[2J" in out + err and not raw(out + err), (args, out + err)


# ---------------------------------------------------------------------- the state database


def test_a_hand_edited_verification_in_the_database_reaches_no_command_raw(project):
    db = project / "home" / "quizzer.db"
    cli("due")  # creates the database
    from quizzer.cards.loader import load_deck
    from quizzer.store import Store
    from quizzer.verify.execution import Outcome
    from quizzer.verify.runner import Job, cache_key

    loaded = load_deck(project / "decks" / "hostile.toml")
    job = Job(loaded, loaded.deck.cards[0])
    outcome = Outcome("failed", HOSTILE + MARKUP, claims=[{"name": HOSTILE, "holds": False, "measured": HOSTILE}])
    outcome.traceback, outcome.notes = HOSTILE, [HOSTILE]
    with Store.open(db) as store:  # as `quizzer verify` of an old version, or a hand edit, would leave it
        store.save_verification(job.key, cache_key(job), "failed", outcome.to_json(), "2" + HOSTILE, "t" + ESC, 1.0)
    with sqlite3.connect(db) as connection:
        connection.execute("insert into trusted_projects(path, added_at) values (?, '')", (f"/p{HOSTILE}",))
    commands = ((("show", "hostile/num"), ""), (("review", "--plain", "hostile"), "\n3\nq\n"), (("trust",), ""))
    for args, typed in commands:
        out, err = cli(*args, input=typed)
        assert not raw(out + err) and not markup_obeyed(out), (args, out + err)
    assert "\\x1b[2J" in cli("show", "hostile/num")[0]


# ---------------------------------------------------------------------- verify: reports and verifiers


def merged_report(tmp_path: Path) -> Path:
    row = {"deck": "d" + HOSTILE + MARKUP, "card": "c" + HOSTILE + "\n::error::INJECTED" + MARKUP, "line": 3}
    row |= {"file": "f" + HOSTILE, "verifier": "v" + HOSTILE + MARKUP, "cached": False, "status": "failed" + MARKUP}
    row |= {"message": HOSTILE + "\n::warning::INJECTED %0A" + MARKUP, "output": "##[group]x\n::error::INJECTED"}
    path = tmp_path / "report.json"
    path.write_text(json.dumps([row]))
    return path


def test_verify_merge_of_a_hostile_report_prints_nothing_raw_and_no_workflow_command(project, tmp_path):
    junit = tmp_path / "junit.xml"
    out, err = cli("verify", "--merge", str(merged_report(tmp_path)), "--format", "github", "--junit", str(junit))
    assert not raw(out + err), out + err
    assert not markup_obeyed(out), out
    commands = [line for line in out.splitlines() if line.lstrip().startswith("::")]
    stop, *paused, resume, annotation = commands  # the text report, printed with the runner's commands stopped
    token = stop.removeprefix("::stop-commands::")
    assert len(token) == 32 and resume == f"::{token}::" and token not in "".join(paused), commands
    assert annotation.startswith("::error file="), annotation  # ours, one per card
    assert "%0A::warning::INJECTED %250A" in annotation and "%3A%3Aerror%3A%3AINJECTED" in annotation
    ET.parse(junit)  # valid XML 1.0


VERIFIER = f"""
import sys
from quizzer.verifier import Result
H = {HOSTILE!r}
def num():
    print(H)
    print(H, file=sys.stderr)
    r = Result()
    r.value = 11
    r.claim(H, False, H)
    r.note(H)
    return r
"""


def test_a_verifiers_output_and_claims_reach_verify_show_and_reports_escaped(project, tmp_path):
    (project / "verifiers" / "v.py").write_text(VERIFIER)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120"}
    junit, report = tmp_path / "j.xml", tmp_path / "r.json"
    args = ["verify", "hostile/num", "--junit", str(junit), "--json", str(report), "--format", "github"]
    result = subprocess.run(
        [sys.executable, "-m", "quizzer", *args], cwd=project, env=env, capture_output=True, text=True, timeout=300
    )
    assert "FAIL hostile/num" in result.stdout, result.stdout + result.stderr
    assert "\\x1b[2J" in result.stdout  # the verifier's print, shown
    assert not raw(result.stdout + result.stderr), result.stdout
    ET.parse(junit)
    assert not raw(json.dumps(json.loads(report.read_text()), ensure_ascii=False))
    out, err = cli("show", "hostile/num")
    assert "\\x1b[2J" in out and not raw(out + err), out


def test_the_pytest_plugins_failure_text_is_shown():
    from quizzer.verify.execution import Outcome
    from quizzer.verify.pytest_plugin import _describe

    class Loaded:
        class deck:
            id = "d"

        verifiers_root = Path("verifiers")

    class Card:
        id, verifier = "c", "v.py"

    described = _describe(Loaded, Card, Outcome("failed", HOSTILE, output=HOSTILE))
    assert "\\x1b[2J" in described and not raw(described)


# ---------------------------------------------------------------------- one place


def test_every_line_the_command_line_prints_goes_through_quizzer_output():
    """No module writes to the terminal but `quizzer.output` (the Textual app draws through Textual)."""
    pattern = re.compile(r"\bclick\.(?:echo|secho)\(|(?<![\w.])print\(|\bConsole\(|sys\.std(?:out|err)\.write\(")
    found = []
    for path in sorted((ROOT / "quizzer").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in ("quizzer/output.py", "quizzer/verifier.py") or "/tui/" in relative:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("#", 1)[0]
            if pattern.search(code) and '"""' not in code:
                found.append(f"{relative}:{number}: {line.strip()}")
    assert not found, "\n".join(found)
