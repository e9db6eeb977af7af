"""`quizzer review --plain`, `quizzer due` and `quizzer stats` through the command line."""

import json
import shlex
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizzer.cli import main
from quizzer.core.sm2 import NEW_CARD
from quizzer.store import Store

DECKS = Path(__file__).parent / "fixtures" / "scheduling-decks"
ALPHA, BETA = DECKS / "alpha.toml", DECKS / "beta.toml"
TODAY = "2024-03-01"


@pytest.fixture
def db(tmp_path):
    return tmp_path / "state" / "quizzer.db"


def run(*args, input="", db=None):
    options = ["--db", str(db), "--today", TODAY] if db else []
    command, *rest = args
    return CliRunner().invoke(main, [command, *options, *rest], input=input)


def card(db, key):
    with Store.open(db) as store:
        return store.card(key)


def test_printf_piped_review_then_the_cards_are_no_longer_due_the_same_day(db):
    quizzer = shutil.which("quizzer") or str(Path(sys.executable).parent / "quizzer")
    command = f"{shlex.quote(quizzer)} review --plain --db {shlex.quote(str(db))} --today {TODAY} {BETA}"
    first = subprocess.run(f"printf '2\\n\\n4\\n5\\n' | {command}", shell=True, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "✓ correct: 2" in first.stdout and "✓ correct: 4" in first.stdout
    assert "2 answer(s) on 2 card(s): 2 new" in first.stdout
    assert "Traceback" not in first.stdout + first.stderr
    second = subprocess.run(f"printf '' | {command}", shell=True, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert "Nothing to review today." in second.stdout
    due = json.loads(run("due", str(BETA), "--json", db=db).output)
    assert due == [{"deck": "beta", "title": "Beta", "due": 0, "learning": 0, "new": 0, "due_total": 0, "new_total": 1}]
    assert card(db, "beta/one").state.due == date(2024, 3, 2)
    assert card(db, "beta/two").state.ef_thousandths == 2600


def test_undo_restores_the_exact_previous_state(db):
    run("due", str(ALPHA), db=db)  # syncs the deck: every card new
    before = {key: card(db, key) for key in ("alpha/bool", "alpha/num")}
    result = run("review", "--plain", str(ALPHA), input="false\n5\n112\n4\nu\nu\nq\n", db=db)
    assert result.exit_code == 0, result.output
    assert result.output.count("↶ undone") == 2
    assert {key: card(db, key) for key in before} == before
    assert before["alpha/bool"].state == NEW_CARD
    assert "No answers recorded." in result.output


def test_undo_at_the_grade_prompt_brings_back_the_previous_card(db):
    result = run("review", "--plain", str(ALPHA), input="false\n5\n112\nu\nfalse\n3\n", db=db)
    assert result.exit_code == 0, result.output
    assert result.output.count("alpha/bool (new)") == 2
    with Store.open(db) as store:
        assert store.card("alpha/bool").state.drill
        assert [r[0] for r in store.db.execute("SELECT quality FROM reviews WHERE undone = 0")] == [3]


def test_quit_and_end_of_input_end_with_a_summary(db):
    quit_ = run("review", "--plain", str(ALPHA), input="false\n\nq\nnot read\n", db=db)
    assert quit_.exit_code == 0
    assert "1 answer(s) on 1 card(s)" in quit_.output and "6 card(s) left for today." in quit_.output
    eof = run("review", "--plain", str(ALPHA), input="112\n", db=db)
    assert eof.exit_code == 0 and "No answers recorded." in eof.output


def test_mistyped_answers_and_grades_are_asked_again(db):
    result = run("review", "--plain", str(ALPHA), input="maybe\nfalse\n7\nfour\n4\n", db=db)
    assert result.exit_code == 0, result.output
    assert "not true/false" in result.output
    assert result.output.count("a grade is a digit from 0 to 5") == 2
    assert card(db, "alpha/bool").state.repetitions == 1


def test_each_card_shown_is_prefetched_for_its_answer(db, monkeypatch):
    shown = []
    monkeypatch.setattr(Store, "prefetch", lambda store, key: shown.append(key))
    result = run("review", "--plain", str(BETA), input="2\n\n4\n5\n", db=db)
    assert result.exit_code == 0, result.output
    answered = [line.split(" · ")[1].split(" (")[0] for line in result.output.splitlines() if line.startswith("── ")]
    assert shown == answered and len(shown) == 2


def test_a_blank_answer_reveals_and_suggests_a_fail(db):
    result = run("review", "--plain", str(ALPHA), input="\n\n", db=db)
    assert "✗ incorrect (no answer given)" in result.output and "grade 0-5 [1]>" in result.output
    assert "→ again in this session" in result.output
    assert card(db, "alpha/bool").state.repetitions == 0


def test_self_graded_kinds_show_the_answer_and_need_a_grade(db):
    result = run("review", "--plain", str(ALPHA), "--new", "7", input="\n0\n" * 5 + "\n\n5\n", db=db)
    assert "Answer: The input region a unit depends on." in result.output
    assert "grade 0-5> " in result.output and "a grade is a digit" in result.output
    assert card(db, "alpha/text").state.repetitions == 1


MARKDOWN_ANSWERS = """\
id = "md"
title = "Markdown answers"

[[cards]]
id = "single"
prompt = "Why does inverted dropout scale?"
explanation = "See **the answer**."
answer = { kind = "text", value = "It keeps the **expected** activation: `x / (1 - p)`." }

[[cards]]
id = "parts"
prompt = "Compare two ways."
explanation = "Both grow the field."

[[cards.parts]]
id = "size"
label = "Its size"
answer = { kind = "numeric", value = 7 }

[[cards.parts]]
id = "why"
label = "Why"
answer = { kind = "text", value = \"\"\"
1. **Stride** multiplies the jump, so `J` grows.
2. *Dilation* spreads the taps.

| way | weights |
|---|---|
| stride | k² |
| dilation | k² |
\"\"\" }
"""


def test_a_text_answer_is_shown_as_readable_text_not_markdown(db, tmp_path):
    """The model answer of a text card (or part) is Markdown like its explanation, and is printed as
    the explanation is: no asterisks, backticks or table pipes; one line stays beside "Answer:"."""
    deck = tmp_path / "md.toml"
    deck.write_text(MARKDOWN_ANSWERS)
    result = run("cram", "--plain", str(deck), input="\n3\n7\n3\n", db=db)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Answer: It keeps the expected activation: x / (1 - p)." in out
    revealed = out[out.index("why: · yours") :]
    answer = revealed[: revealed.index("Both grow the field.")]
    assert "1 Stride multiplies the jump, so J grows." in answer  # rich numbers a list so
    assert "2 Dilation spreads the taps." in answer
    assert [line.split() for line in answer.splitlines() if "stride" in line and "k²" in line] == [["stride", "k²"]]
    for raw in ("**", "`", "|", "*Dilation*", "\x1b["):  # no Markdown left, no colour outside a terminal
        assert raw not in out, raw
    assert answer.splitlines()[1:2] == ["  answer:"]  # a block of several lines goes below its label, indented
    assert all(line.startswith("    ") or not line for line in answer.splitlines()[2:]), answer


def test_a_text_answer_is_rendered_once_and_a_long_line_goes_below_its_label(db, tmp_path, monkeypatch):
    """Each text answer's Markdown is rendered once (the list+table answer was rendered twice: beside
    the label, then again indented); a one-line answer too long to sit beside "Answer:" goes below it."""
    from quizzer.review import plain_review

    rendered: list[str] = []
    markdown_lines = plain_review._markdown_lines

    def counted(text, macros, margin=0):
        rendered.append(text)
        return markdown_lines(text, macros, margin)

    monkeypatch.setattr(plain_review, "_markdown_lines", counted)
    monkeypatch.setenv("COLUMNS", "60")
    long_line = "Scaling by 1/(1-p) keeps the expected activation equal."  # 55: past 52 beside, within 58 below
    assert len(long_line) == 55
    deck = tmp_path / "md.toml"
    deck.write_text(
        MARKDOWN_ANSWERS
        + f"""
[[cards]]
id = "long"
prompt = "And in one sentence?"
explanation = "Same."
answer = {{ kind = "text", value = "{long_line}" }}
"""
    )
    result = run("cram", "--plain", str(deck), input="\n3\n7\n3\n\n3\n", db=db)
    assert result.exit_code == 0, result.output
    answers = [text for text in rendered if "expected" in text or "Stride" in text]  # the three text answers
    assert len(answers) == 3 and len(set(answers)) == 3, answers  # each rendered once
    out = result.output
    assert "Answer: It keeps the expected activation: x / (1 - p)." in out  # 46 columns: fits beside
    assert f"Answer:\n  {long_line}\n" in out  # one line, too long beside the label: below it, whole


def test_without_plain_in_a_pipe_it_points_to_plain(db):
    result = run("review", str(BETA), input="2\n4\n", db=db)
    assert result.exit_code == 1 and "--plain" in result.output
    assert isinstance(result.exception, SystemExit)


def test_limits_on_the_command_line(db):
    result = run("due", str(ALPHA), str(BETA), "--new", "1", "--json", db=db)
    assert [row["new"] for row in json.loads(result.output)] == [1, 1]
    assert [row["new"] for row in json.loads(run("due", str(ALPHA), str(BETA), "--json", db=db).output)] == [7, 2]


def test_without_deck_arguments_the_default_decks_folder_is_used(db, monkeypatch):
    monkeypatch.setattr("quizzer.cli.default_decks", lambda: DECKS)
    assert {row["deck"] for row in json.loads(run("due", "--json", db=db).output)} == {"alpha", "beta"}


def test_due_table(db):
    result = run("due", str(ALPHA), str(BETA), db=db)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["deck", "due", "learning", "new", "unseen"]
    assert lines[1].split() == ["alpha", "0", "0", "7", "7"]
    assert lines[-1].split() == ["total", "0", "0", "9", "10"]


def test_stats_text_and_json(db):
    run("review", "--plain", str(BETA), input="2\n4\n3\n1\n", db=db)
    report = json.loads(run("stats", "--json", "--days", "3", db=db).output)
    assert report["reviews_per_day"][-1] == {"day": TODAY, "reviews": 2, "passed": 1}
    assert report["retention"]["all_time"] == {"passed": 0, "reviews": 0}
    assert list(report["forecast"]) == ["2024-03-01", "2024-03-02", "2024-03-03"]
    assert report["forecast"]["2024-03-02"] == 1
    text = run("stats", str(BETA), db=db).output
    assert "Answers per day" in text and "Retention" in text and "Forecast" in text
    other = json.loads(run("stats", str(ALPHA), "--json", db=db).output)
    assert sum(day["reviews"] for day in other["reviews_per_day"]) == 0


def test_quizzer_home_sets_the_default_database(tmp_path, monkeypatch):
    monkeypatch.setenv("QUIZZER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("QUIZZER_DB", raising=False)
    assert run("due", str(BETA)).exit_code == 0
    assert (tmp_path / "home" / "quizzer.db").exists()


@pytest.mark.parametrize("bad", ["under-a-file", "garbage"])
def test_an_unusable_database_is_a_message_not_a_traceback(tmp_path, bad):
    (tmp_path / "file").write_bytes(b"this is not a database" * 100)
    path = tmp_path / "file" / "quizzer.db" if bad == "under-a-file" else tmp_path / "file"
    result = run("review", "--plain", str(BETA), db=path)
    assert result.exit_code == 1
    expected = {"under-a-file": "a file stands where its folder should be", "garbage": "is damaged"}[bad]
    assert f"the state database {path}" in result.output and expected in result.output
    assert isinstance(result.exception, SystemExit), "an error message, not an exception"


def test_a_broken_deck_is_reported_and_the_others_still_review(db, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text('id = "broken"\ntitle = "B"\n[[cards]]\nid = "x"\n')
    result = run("review", "--plain", str(broken), str(BETA), input="2\n\n", db=db)
    assert result.exit_code == 0
    assert "broken.toml" in result.stderr and "1 answer(s)" in result.stdout
    only_broken = run("review", "--plain", str(broken), db=db)
    assert only_broken.exit_code == 1 and "no usable deck files" in only_broken.output


def test_duplicate_deck_ids_are_a_message(db, tmp_path):
    shutil.copy(BETA, tmp_path / "copy.toml")
    result = run("review", "--plain", str(BETA), str(tmp_path / "copy.toml"), db=db)
    assert result.exit_code == 1 and "beta" in result.output and "more than one deck file" in result.output


def test_a_bad_date_is_a_usage_error(db):
    result = CliRunner().invoke(main, ["due", "--db", str(db), "--today", "yesterday", str(BETA)])
    assert result.exit_code == 2 and "not a date" in result.output


def test_plain_review_shows_math_as_unicode_and_the_cards_verification(tmp_path):
    fixture = Path(__file__).parent / "fixtures" / "verify"
    db = tmp_path / "state.db"
    deck = tmp_path / "decks" / "math.toml"
    deck.parent.mkdir()
    shutil.copytree(fixture / "verifiers", tmp_path / "verifiers")
    deck.write_text(
        'id = "math"\ntitle = "Math"\nmacros = { vec = \'\\boldsymbol{#1}\' }\n'
        '[[cards]]\nid = "sum"\nprompt = "What is $\\\\sum_{i=0}^{4} i$ for $\\\\vec{x}_1$?"\n'
        'explanation = "$0+1+2+3+4$."\nverifier = "behaviours.py::passes"\n'
        'answer = { kind = "numeric", value = 10 }\n'
    )
    before = run("review", "--plain", str(deck), input="10\n5\n", db=db)
    assert "What is ∑ᵢ₌₀⁴ i for x₁?" in before.output
    assert "not verified yet — run quizzer verify" in before.output
    verified = CliRunner().invoke(main, ["verify", "--db", str(db), str(deck)])
    assert verified.exit_code == 0, verified.output
    after = run("review", "--plain", str(deck), "--today", "2024-03-02", input="10\n5\n", db=db)
    assert "✓ passed" in after.output and "0+1+2+3+4 = 10" in after.output


def test_a_self_graded_part_is_not_offered_for_typing(db, tmp_path):
    """A card's text part reads no input in --plain (it is shown at the reveal): its hint must not say
    "type it; Enter reveals", or the line typed for it goes to the next question (here the grade)."""
    deck = tmp_path / "parts.toml"
    deck.write_text(
        'id = "parts"\ntitle = "Parts"\n[[cards]]\nid = "two"\nprompt = "Count, then say why."\n'
        'explanation = "Because."\n'
        '[[cards.parts]]\nid = "n"\nlabel = "A number"\nanswer = { kind = "numeric", value = 3 }\n'
        '[[cards.parts]]\nid = "why"\nlabel = "Why"\nanswer = { kind = "text", value = "Three." }\n'
    )
    result = run("review", "--plain", str(deck), input="3\n5\n", db=db)
    assert result.exit_code == 0, result.output
    assert "2. Why\n(answer it in your head: it is shown at the reveal, for you to grade yourself)\n" in result.output
    assert "type it" not in result.output and "why> " not in result.output
    assert "n: ✓ correct" in result.output and card(db, "parts/two").state.repetitions == 1


def test_the_app_on_a_folder_without_decks_says_so_and_does_not_open_the_bundled_decks(tmp_path, monkeypatch):
    import quizzer.cli

    def opened(*args, **kwargs):
        raise AssertionError(f"the app opened on {args[1]!r}")

    monkeypatch.setattr(quizzer.cli, "_open_app", opened)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "q.db"), "review", str(empty)])
    assert result.exit_code == 1, result.output
    assert f"no deck files (*.toml) found in {empty}" in result.output
