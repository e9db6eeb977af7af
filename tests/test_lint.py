"""`quizzer lint`: every problem one `path:line:col: message` line, never a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from quizzer.cards.loader import DeckError, lint, load_deck

GOOD = """
    #:schema ./schema.json
    id = "demo"
    title = "Demo"

    [[cards]]
    id = "first"
    prompt = "What is 2 + 2?"
    explanation = "Arithmetic."
    answer = { kind = "numeric", value = 4 }

    [[cards]]
    id = "second"
    prompt = "Is 2 even?"
    explanation = "2 = 2 * 1."
    verifier = "parity.py::even"
    answer = { kind = "boolean", value = true }
"""


def messages(path: Path) -> list[str]:
    return [str(p) for p in lint(path)]


def test_good_deck_is_clean(deck_dir):
    (deck_dir.root / "verifiers" / "parity.py").write_text("def even():\n    pass\n")
    path = deck_dir(GOOD)
    assert messages(path) == []
    assert [c.id for c in load_deck(path).deck.cards] == ["first", "second"]


def test_toml_syntax_error_has_line_and_column(deck_dir):
    path = deck_dir('id = "demo"\ntitle = \n')
    assert messages(path) == [f"{path}:2:9: TOML syntax error: Invalid value"]


def test_unknown_key_suggests_the_right_one(deck_dir):
    path = deck_dir(GOOD.replace('prompt = "Is 2 even?"', 'promt = "Is 2 even?"'))
    out = messages(path)
    assert f"{path}:13:1: unknown key 'promt' in card #2; did you mean 'prompt'?" in out
    assert f"{path}:11:1: missing key 'prompt' in card #2; add it" in out


def test_unknown_key_inside_an_answer(deck_dir):
    path = deck_dir(GOOD.replace("value = 4 }", "value = 4, tolerence = 1 }"))
    assert messages(path)[0].startswith(
        f"{path}:9:1: unknown key 'tolerence' in card #1 (answer); did you mean 'tolerance'?"
    )


def test_wrong_type_names_the_field(deck_dir):
    path = deck_dir(GOOD.replace("value = 4 }", 'value = "four" }'))
    [message] = messages(path)
    assert message.startswith(f"{path}:9:1: cards.0.answer.value: Input should be a valid number")


def test_unknown_answer_kind(deck_dir):
    path = deck_dir(GOOD.replace('kind = "numeric"', 'kind = "number"'))
    [message] = messages(path)
    assert "unknown answer kind; use one of numeric, boolean, choice, expression, shape, tensor, code, text" in message
    assert message.startswith(f"{path}:9:1:")


def test_duplicate_card_ids(deck_dir):
    (deck_dir.root / "verifiers" / "parity.py").write_text("def even():\n    pass\n")
    path = deck_dir(GOOD.replace('id = "second"', 'id = "first"'))
    assert messages(path) == [f"{path}:12:1: duplicate card id 'first' (first at line 6); rename one"]


@pytest.mark.parametrize(
    "answer,fragment",
    [
        ('{ kind = "expression", value = "p1 +* p2", variables = ["p1"] }', "does not parse as a formula"),
        ('{ kind = "expression", value = "p1 + p3", variables = ["p1"] }', "unknown name 'p3'"),
        ('{ kind = "choice", options = ["a", "b"], value = "c" }', "value 'c' is not one of the options"),
        ('{ kind = "shape", value = [5, -1] }', "greater than or equal to 0"),
    ],
)
def test_answer_that_does_not_parse_for_its_kind(deck_dir, answer, fragment):
    path = deck_dir(GOOD.replace('{ kind = "numeric", value = 4 }', answer))
    [message] = messages(path)
    assert message.startswith(f"{path}:9:1:") and fragment in message


def test_missing_verifier_file(deck_dir):
    path = deck_dir(GOOD)
    [message] = messages(path)
    assert message.startswith(f"{path}:15:1: verifier file ") and "parity.py does not exist" in message


def test_verifier_function_missing(deck_dir):
    (deck_dir.root / "verifiers" / "parity.py").write_text("def odd():\n    pass\n")
    [message] = messages(deck_dir(GOOD))
    assert "has no function 'even'" in message


@pytest.mark.parametrize("ref", ["../outside.py", "/etc/passwd.py", "sub/../../outside.py"])
def test_verifier_path_leaving_the_root(deck_dir, ref):
    (deck_dir.root / "outside.py").write_text("def verify():\n    pass\n")
    [message] = messages(deck_dir(GOOD.replace("parity.py::even", ref)))
    assert "must be a path inside" in message


def test_verifier_symlink_out_of_the_root(deck_dir, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "evil.py"
    elsewhere.write_text("def even():\n    pass\n")
    os.symlink(elsewhere, deck_dir.root / "verifiers" / "parity.py")
    [message] = messages(deck_dir(GOOD))
    assert "outside" in message and "symlink" in message


def test_bad_macro_name(deck_dir):
    (deck_dir.root / "verifiers" / "parity.py").write_text("def even():\n    pass\n")
    path = deck_dir(GOOD.replace('title = "Demo"', 'title = "Demo"\nmacros = { "\\\\vec" = "x" }'))
    [message] = messages(path)
    assert "must be letters only" in message and message.startswith(f"{path}:4:1:")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "quizzer", *args], capture_output=True, text=True)


def test_cli_exit_codes_and_no_traceback(deck_dir):
    bad = deck_dir('id = "demo"\ntitle = \n', name="bad.toml")
    result = run_cli("lint", str(bad))
    assert result.returncode == 1
    assert result.stdout.startswith(f"{bad}:2:9: TOML syntax error")
    assert "Traceback" not in result.stdout + result.stderr
    assert run_cli("lint", "--no-such-flag").returncode == 2
    assert run_cli("lint", str(deck_dir.root / "decks" / "absent.toml")).returncode == 1


def test_cli_lints_the_bundled_decks_clean():
    result = run_cli("lint")
    assert result.returncode == 0, result.stdout + result.stderr


def test_review_app_loading_skips_only_the_verifier_checks(deck_dir):
    path = deck_dir(GOOD)  # parity.py does not exist
    assert [c.id for c in load_deck(path, check_verifiers=False).deck.cards] == ["first", "second"]
    duplicate = deck_dir(GOOD.replace('id = "second"', 'id = "first"'), name="dup.toml")
    with pytest.raises(DeckError, match="duplicate card id 'first'"):
        load_deck(duplicate, check_verifiers=False)


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (
            ('prompt = "What is 2 + 2?"', 'prompt = "' + "x" * 32_769 + '"'),
            "prompt: String should have at most 32768 characters",
        ),
        (('id = "first"', 'id = "' + "a" * 101 + '"'), "id: String should have at most 100 characters"),
        (('title = "Demo"', 'title = "' + "T" * 501 + '"'), "title: String should have at most 500 characters"),
    ],
)
def test_texts_and_ids_past_their_bounds_are_lint_problems(deck_dir, edit, fragment):
    """An 80 KB prompt of code fences took 3.5 s to show; a 100,000-character id was printed whole everywhere."""
    assert edit[0] in GOOD
    path = deck_dir(GOOD.replace(*edit, 1))
    (deck_dir.root / "verifiers" / "parity.py").write_text("def even():\n    pass\n")
    assert any(fragment in message for message in messages(path)), messages(path)


def test_a_file_with_thousands_of_problems_lists_the_first_and_counts_the_rest(deck_dir):
    """50,000 unknown keys took 2.7 s (a "did you mean" search each) and printed 50,000 lines."""
    from quizzer.cards.loader import MAX_PROBLEMS

    path = deck_dir(GOOD + "".join(f"k{i} = 1\n" for i in range(5000)))
    (deck_dir.root / "verifiers" / "parity.py").write_text("def even():\n    pass\n")
    found = lint(path)
    assert len(found) == MAX_PROBLEMS + 1 and sum(p.stands_for for p in found) == 5000
    assert str(found[-1]).endswith(f"and {5000 - MAX_PROBLEMS} more problem(s) not listed; fix these first")
    result = subprocess.run(
        [sys.executable, "-m", "quizzer", "lint", str(path)], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 1 and "1 deck file(s): 5000 problem(s)" in result.stderr
    assert len(result.stdout.splitlines()) == MAX_PROBLEMS + 1


MALFORMED_MATH = r"""
    id = "demo"
    title = "Demo"
    macros = { loop = '\loop x', vec = '\boldsymbol{#1}' }

    [[cards]]
    id = "first"
    prompt = 'Fine $\vec{x}^2$, then $x \frac$ and $\loop$, $x \frac$.'
    explanation = "Basic: $\\frac{a}$."
    answer = { kind = "choice", value = "a", options = ["a", 'b $\sqrt$'] }

    [[cards]]
    id = "second"
    prompt = '''
    Line one $x^2$.
    Then $$\left( x$$ and `$\frac$ in code`.'''
    explanation = "e"
    answer = { kind = "numeric", value = 4 }
"""


def test_math_that_cannot_be_read_is_a_lint_problem_at_its_place(deck_dir):
    r"""`$x \frac$` passed lint, then showed `x %s/%s` (and a pylatexenc WARNING) in `show`, `review --plain`
    and the app, and exported to Anki as MathJax that shows an error. Lint names each span the terminal
    shows as written, where it is; the deck still loads for review (the span shown as written)."""
    path = deck_dir(MALFORMED_MATH)
    assert messages(path) == [
        rf"{path}:7:34: cards.0.prompt: math $x \frac$: \frac is missing an argument; shown as written",
        rf"{path}:7:48: cards.0.prompt: math $\loop$: its macros nest more than 10 deep (\loop); shown as written",
        rf"{path}:7:57: cards.0.prompt: math $x \frac$: \frac is missing an argument; shown as written",
        rf"{path}:8:23: cards.0.explanation: math $\frac{{a}}$: \frac is missing an argument; shown as written",
        rf"{path}:9:61: cards.0.answer.options.1: math $\sqrt$: \sqrt is missing an argument; shown as written",
        rf"{path}:15:6: cards.1.prompt: math $$\left( x$$: 1 \left but 0 \right: each \left needs its \right;"
        " shown as written",
    ]
    assert [card.id for card in load_deck(path, check_verifiers=False).deck.cards] == ["first", "second"]
