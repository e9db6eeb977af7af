"""One bad deck file never breaks a command: `lint` says `path:line:col: message`, the others skip it.

Each hostile file here gave a traceback (or hung) before the loader bounded its input: deep nesting
(RecursionError in tomllib), integers past Python's digit limit (ValueError), 5000-term and
100k-character formulas (RecursionError in ast), a FIFO or a device (a reader blocked forever).
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizzer.cards.deckfiles import MAX_DECK_BYTES
from quizzer.cards.loader import lint
from quizzer.cli import main
from quizzer.review.tui.library import Library
from quizzer.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = FIXTURES / "scheduling-decks" / "beta.toml"
PROBLEM = re.compile(r"^(?P<path>.+):(?P<line>\d+):(?P<col>\d+): (?P<message>.+)$")


def card_deck(answer: str, deck_id: str = "hostile") -> str:
    return (
        f'id = "{deck_id}"\ntitle = "Hostile"\n\n[[cards]]\nid = "a"\nprompt = "p"\nexplanation = "e"\n'
        f"answer = {answer}\n"
    )


HOSTILE_TEXTS = {
    "nested-arrays": ("x = " + "[" * 5000 + "]" * 5000 + "\n", "too deeply nested"),
    "nested-tables": ("x = " + "{a=" * 3000 + "1" + "}" * 3000 + "\n", "too deeply nested"),
    "digits-past-the-limit": (card_deck("{ kind = 'numeric', value = " + "9" * 5000 + " }"), "number too large"),
    "int-past-sqlite": ('id = "h"\ntitle = "H"\nnew_per_day = ' + "9" * 30 + "\n", "number too large"),
    "infinite-tolerance": (card_deck("{ kind = 'numeric', value = 1, tolerance = inf }"), "finite number"),
    "nan-value": (card_deck("{ kind = 'numeric', value = nan }"), "finite number"),
    "formula-5000-terms": (
        card_deck("{ kind = 'expression', value = '" + "+".join(["p"] * 5000) + "', variables = ['p'] }"),
        "too large",
    ),
    "range-past-a-float": (
        card_deck("{ kind = 'numeric', value = 1 }")
        + "[cards.params]\nn = { min = -1.7e308, max = 1.7e308, step = 1e-300 }\n"
        + "[[cards.examples]]\nparams = { n = 0.0 }\n",
        "at most 1000000",
    ),
    "range-step-denormal": (
        card_deck("{ kind = 'numeric', value = 1 }")
        + "[cards.params]\nn = { min = 0, max = 1, step = 5e-324 }\n[[cards.examples]]\nparams = { n = 0.0 }\n",
        "at most 1000000",
    ),
    "escape-sequence": (  # printed by `show`, `due`, the app: ESC [2J cleared the terminal, ESC ]0; retitled it
        'id = "h"\ntitle = "\\u001b[2J\\u001b]0;pwned\\u0007"\n',
        "title: control character U+001B in the text",
    ),
    "c1-control-in-a-key": ('id = "h"\ntitle = "H"\n"k\\u009b" = 1\n', "control character U+009B"),
    "bidi-override": (  # printed, U+202E reversed the rest of the terminal line: the app draws deck text as is
        'id = "h"\ntitle = "H"\n[[cards]]\nid = "a"\nprompt = "the \\u202eanswer"\nexplanation = "e"\n'
        "answer = { kind = 'numeric', value = 1 }\n",
        "cards.0.prompt: bidi control U+202E in the text",
    ),
    "bidi-isolate-in-a-title": ('id = "h"\ntitle = "H\\u2066"\n', "title: bidi control U+2066 in the text"),
    "tensor-formula-5000-terms": (  # lint passed it: the stated tensor formula was read only at verify time
        card_deck("{ kind = 'tensor', value = '" + "+".join(["W"] * 5000) + "', variables = ['W'] }"),
        "does not parse as a tensor formula",
    ),
    "tensor-formula-100k-chars": (
        card_deck("{ kind = 'tensor', value = '" + "(" * 50_000 + "W" + ")" * 50_000 + "', variables = ['W'] }"),
        "does not parse as a tensor formula",
    ),
    "tensor-formula-unknown-name": (
        card_deck("{ kind = 'tensor', value = 'W @ x', variables = ['W'] }"),
        "does not parse as a tensor formula",
    ),
    "formula-100k-chars": (
        card_deck("{ kind = 'expression', value = '" + "(" * 50_000 + "p" + ")" * 50_000 + "', variables = ['p'] }"),
        "too large",
    ),
}


def only_problem(path: Path) -> re.Match:
    problems = [str(p) for p in lint(path)]
    assert len(problems) == 1, problems
    match = PROBLEM.match(problems[0])
    assert match and match["path"] == str(path), problems[0]
    assert len(problems[0]) < 300, "a message never echoes a whole value"
    return match


@pytest.mark.parametrize("name", HOSTILE_TEXTS)
def test_hostile_text_is_one_located_problem(tmp_path, name):
    text, expected = HOSTILE_TEXTS[name]
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    match = only_problem(path)
    assert expected in match["message"]


def test_a_number_past_the_digit_limit_is_located_at_its_line(tmp_path):
    path = tmp_path / "deck.toml"
    path.write_text(card_deck("{ kind = 'numeric', value = " + "9" * 5000 + " }"))
    match = only_problem(path)
    assert (match["line"], match["col"]) == ("8", "38")


def test_a_byte_order_mark_is_named(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.read_bytes())
    assert "byte-order mark" in only_problem(path)["message"]


def test_text_that_is_not_utf8_is_located(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'id = "l"\ntitle = "caf\xe9"\n')
    match = only_problem(path)
    assert (match["line"], match["col"], "not UTF-8" in match["message"]) == ("2", "13", True)


def test_a_file_over_the_size_bound_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.toml"
    path.write_text("# " + "x" * MAX_DECK_BYTES + "\n")
    assert "larger than" in only_problem(path)["message"]


def test_a_folder_named_like_a_deck_is_a_problem(tmp_path):
    (tmp_path / "folder.toml").mkdir()
    assert "is a folder" in only_problem(tmp_path / "folder.toml")["message"]


def lint_in_a_subprocess(*paths: Path) -> subprocess.CompletedProcess:
    """For inputs that used to hang: the timeout is a hang guard hundreds of times the real cost, not a benchmark."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    command = [sys.executable, "-m", "quizzer", "lint", *map(str, paths)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


def test_a_fifo_or_a_device_is_refused_without_blocking(tmp_path):
    fifo, device = tmp_path / "fifo.toml", tmp_path / "device.toml"
    os.mkfifo(fifo)
    device.symlink_to("/dev/zero")
    result = lint_in_a_subprocess(fifo, device)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines == [
        f"{fifo}:1:1: is not a regular file (a FIFO, socket or device); a deck is a .toml file",
        f"{device}:1:1: is not a regular file (a FIFO, socket or device); a deck is a .toml file",
    ]


def test_the_key_locator_is_linear_in_the_line_length(tmp_path):
    """A line starting with `[` and many spaces inside a multi-line array: the old header regex
    backtracked cubically (3,000 spaces took 8 s of CPU; this line would take hours)."""
    path = tmp_path / "deck.toml"
    line = "[" + " " * 200_000 + "5],"
    path.write_text(card_deck("{ kind = 'shape', value = [\n" + line + "\n] }"))
    result = lint_in_a_subprocess(path)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{path}:8:1: cards.0.answer.value.0: Input should be a valid integer")


def test_headers_with_spaces_and_comments_are_still_located(tmp_path):
    path = tmp_path / "deck.toml"
    path.write_text(
        'id = "d"\ntitle = "D"\n\n[[ cards ]]  # first\nid = "a"\nprompt = "p"\nexplanation = "e"\n'
        '[ cards.answer ]\nkind = "numeric"\nvalue = "x"\n'
    )
    assert [str(p).split(": ")[0] for p in lint(path)] == [f"{path}:10:1"]


# ---------------------------------------------------------------------- the other commands skip a bad deck


def deck_project(root: Path, monkeypatch, name: str, content: bytes) -> Path:
    """A deck project in `root`, made the working folder: decks/ holds beta.toml (a good deck) and
    `name` with `content` beside it; verifiers/ is empty."""
    decks = root / "decks"
    decks.mkdir()
    (root / "verifiers").mkdir()
    shutil.copy(GOOD, decks / "beta.toml")
    (decks / name).write_bytes(content)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A deck project whose decks/ holds one good deck and one that used to crash every command."""
    return deck_project(tmp_path, monkeypatch, "nested.toml", HOSTILE_TEXTS["nested-arrays"][0].encode())


def invoke(*args, input=""):
    return CliRunner().invoke(main, list(args), input=input)


def assert_one_warning(result, project: Path):
    warnings = [line for line in result.stderr.splitlines() if "nested.toml" in line]
    assert warnings == [
        "warning: skipped a broken deck: decks/nested.toml:1:5004: too deeply nested or too large to check;"
        " flatten the values here or split the file"
    ]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "command",
    [
        ["due"],
        ["stats", "decks"],
        ["review", "--plain"],
        ["cram", "--plain"],
        ["export", "anki", "-o", "out.apkg"],
    ],
)
def test_commands_skip_the_bad_deck_with_one_line_and_go_on(project, command, tmp_path):
    result = invoke("--db", str(tmp_path / "q.db"), *command, input="q\n")
    assert_one_warning(result, project)
    assert result.exit_code == 0, result.output
    assert isinstance(result.exception, SystemExit | None)


def test_a_check_that_raises_is_a_problem_of_the_file_not_a_traceback(tmp_path, monkeypatch):
    """Whatever a validator of ours raises besides ValueError (an OverflowError, say) stays this file's
    problem, saying it is quizzer's fault; the fuzz tests fail on that message."""
    from quizzer.cards import loader

    def overflow(data):
        raise OverflowError("cannot convert float infinity to integer")

    monkeypatch.setattr(loader.Deck, "model_validate", overflow)
    path = tmp_path / "deck.toml"
    path.write_text(GOOD.read_text().replace('id = "beta"', 'id = "raises"'))
    message = only_problem(path)["message"]
    assert message.startswith(loader.INTERNAL_ERROR) and "OverflowError" in message
    with pytest.raises(loader.DeckError):
        loader.load_deck(path)


def test_show_finds_a_card_beside_the_bad_deck(project, tmp_path):
    result = invoke("--db", str(tmp_path / "q.db"), "show", "beta/one")
    assert result.exit_code == 0 and "1 + 1?" in result.stdout


def test_verify_skips_the_bad_deck_and_fails_because_of_it(project, tmp_path):
    result = invoke("--db", str(tmp_path / "q.db"), "verify")
    assert_one_warning(result, project)
    assert result.exit_code == 1
    assert "1 broken deck file(s) skipped" in result.stderr


def test_the_app_library_lists_the_bad_deck_and_loads_the_others(project, tmp_path):
    with Store.open(tmp_path / "q.db") as store:
        library = Library.load(store, [project / "decks"])
    assert [loaded.deck.id for loaded in library.decks] == ["beta"]
    assert library.problems == [
        f"{project / 'decks' / 'nested.toml'}:1:5004: too deeply nested or too large to check;"
        " flatten the values here or split the file"
    ]


# ---------------------------------------------------------------------- a hostile verifier file beside a deck


def verifier_deck(tmp_path: Path, verifier: str) -> Path:
    (tmp_path / "decks").mkdir()
    (tmp_path / "verifiers").mkdir()
    path = tmp_path / "decks" / "v.toml"
    path.write_text(
        f'id = "v"\ntitle = "V"\n\n[[cards]]\nid = "a"\nprompt = "p"\nexplanation = "e"\nverifier = "{verifier}"\n'
        "answer = { kind = 'numeric', value = 1 }\n"
    )
    return path


HOSTILE_VERIFIERS = {
    "fifo": (lambda path: os.mkfifo(path), "is not a regular file"),
    "folder": (lambda path: path.mkdir(), "is not a regular file"),
    "symlink-loop": (lambda path: path.symlink_to(path.name), "cannot be opened"),
    "nul-byte": (lambda path: path.write_bytes(b"def verify(ctx):\n    return 1\n\x00\n"), "null bytes"),
    "not-utf8": (lambda path: path.write_bytes(b"def verify(ctx):\n    return 'caf\xe9'\n"), "cannot be read"),
}


@pytest.mark.parametrize("name", HOSTILE_VERIFIERS)
def test_a_hostile_verifier_file_is_one_problem_at_the_verifier_line(tmp_path, name):
    """A FIFO named x.py blocked lint forever (the facts reader opened it); a folder named x.py was an
    IsADirectoryError. lint runs in a subprocess: the FIFO case used to hang."""
    make, expected = HOSTILE_VERIFIERS[name]
    path = verifier_deck(tmp_path, "x.py")
    make(tmp_path / "verifiers" / "x.py")
    result = lint_in_a_subprocess(path)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-500:]
    problems = result.stdout.splitlines()
    assert len(problems) == 1 and problems[0].startswith(f"{path}:8:1: verifier "), problems
    assert expected in problems[0] and ":None:" not in problems[0], problems[0]


def test_a_verifier_path_too_long_for_the_system_is_a_bounded_problem(tmp_path):
    """A 300-character verifier name (ENAMETOOLONG) gave lint, show, verify and export a traceback."""
    path = verifier_deck(tmp_path, "a" * 300 + ".py")
    (problem,) = [str(p) for p in lint(path)]
    assert problem.startswith(f"{path}:8:1: verifier file ") and "cannot be opened (File name too long)" in problem
    assert len(problem) < 400
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "q.db"), "show", f"{path}::a"])
    assert result.exit_code == 2 and "cannot be opened" in result.output and "Traceback" not in result.output


def test_a_message_that_echoes_a_long_value_is_clipped(tmp_path):
    """5,000 variables were listed in full: one 34,000-character warning line in every command."""
    variables = ", ".join(f"'v{i}'" for i in range(5000))
    path = tmp_path / "deck.toml"
    path.write_text(card_deck(f"{{ kind = 'expression', value = 'p', variables = [{variables}] }}"))
    match = PROBLEM.match(str(lint(path)[0]))
    assert "unknown name 'p'" in match["message"] and len(match["message"]) <= 400


# ---------------------------------------------------------------------- two deck files with one id


@pytest.fixture
def twin(tmp_path, monkeypatch):
    """decks/ holds beta.toml and a copy of it under another name: the same deck id twice."""
    return deck_project(tmp_path, monkeypatch, "copy.toml", GOOD.read_bytes())


@pytest.mark.parametrize(
    "command",
    [["due"], ["stats", "decks"], ["review", "--plain"], ["cram", "--plain"], ["export", "anki", "-o", "o.apkg"]],
)
def test_a_second_deck_with_the_same_id_is_skipped_with_one_line(twin, command, tmp_path):
    """`due` ended with 'Error: deck id beta is used by more than one deck file' (exit 1), reviewing nothing;
    export anki and stats went on without a word."""
    result = invoke("--db", str(tmp_path / "q.db"), *command, input="q\n")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "copy.toml" in line]
    assert warnings == [
        "warning: skipped a broken deck: decks/copy.toml:1:1: deck id 'beta' is already used by decks/beta.toml;"
        " rename one"
    ]


def test_lint_reports_a_second_deck_with_the_same_id(twin):
    """lint said 'no problems' for both files."""
    result = invoke("lint", "decks")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "decks/copy.toml:1:1: deck id 'beta' is already used by decks/beta.toml; rename one"
    ]


@pytest.mark.parametrize("command", [["review", "--plain"], ["verify"]])
def test_a_deck_named_through_a_symlink_loop_is_one_warning(project, command, tmp_path):
    """Naming decks/loop.toml (a link to itself) gave a RuntimeError traceback ('Symlink loop from ...') from
    resolving the names on the command line (47320eb); the loader says it cannot read it."""
    loop = project / "decks" / "loop.toml"
    loop.symlink_to("loop.toml")
    result = invoke("--db", str(tmp_path / "q.db"), *command, "decks/loop.toml", "decks/beta.toml", input="q\n")
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit | None), repr(result.exception)
    assert [line for line in result.stderr.splitlines() if "loop.toml" in line] == [
        "warning: skipped a broken deck: decks/loop.toml:1:1: cannot read: Too many levels of symbolic links"
    ]


def test_the_app_is_handed_a_deck_named_through_a_symlink_loop(project):
    """`quizzer review decks/loop.toml` resolved each named file before starting the app: a RuntimeError."""
    from quizzer.cli import _app_deck_files

    (project / "decks" / "loop.toml").symlink_to("loop.toml")
    assert _app_deck_files(("decks/loop.toml",)) == (Path("decks/loop.toml"),)
