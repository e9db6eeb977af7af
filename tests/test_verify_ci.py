"""quizzer in CI: `lint`/`verify --format github`, `--junit`, `--shard I/N`, `--merge` and `--cache-file`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from quizzer.cards.loader import load_deck
from quizzer.store import Store, VerificationRecord
from quizzer.verify.ci import CIError, parse_shard, read_cache_file, split, write_cache_file
from quizzer.verify.reporting import github_command
from quizzer.verify.runner import Job

VERIFIERS = """
from quizzer.verifier import Result


def four():
    r = Result()
    r.value = 4
    return r


def five():
    r = Result()
    r.value = 5
    return r
"""


def card(card_id: str, verifier: str | None) -> str:
    line = f'verifier = "cheap.py::{verifier}"\n' if verifier else ""
    return (
        f'\n[[cards]]\nid = "{card_id}"\nprompt = "2 + 2?"\nexplanation = "Arithmetic."\n{line}'
        'answer = { kind = "numeric", value = 4 }\n'
    )


@pytest.fixture
def project(tmp_path):
    """A deck repository: six cards that pass, one whose verifier disagrees (c3), one with no verifier."""
    root = tmp_path / "course"
    (root / "decks").mkdir(parents=True)
    (root / "verifiers").mkdir()
    (root / "verifiers" / "cheap.py").write_text(VERIFIERS)
    cards = [card(f"c{i}", "five" if i == 3 else "four") for i in range(7)] + [card("free", None)]
    (root / "decks" / "sample.toml").write_text('id = "sample"\ntitle = "Sample"\n' + "".join(cards))
    return root


def quizzer(root: Path, *args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "QUIZZER_HOME": str(home), "COLUMNS": "200"}
    env.pop("QUIZZER_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "quizzer", *args], cwd=root, capture_output=True, text=True, env=env, timeout=600
    )


def test_github_commands_are_escaped_as_the_runner_reads_them():
    command = github_command("error", "100% wrong\nsecond line", file="decks/a,b.toml", line=3, title="x: y")
    assert command == "::error file=decks/a%2Cb.toml,line=3,title=x%3A y::100%25 wrong%0Asecond line"


def test_lint_annotates_the_problem_line(tmp_path):
    deck = tmp_path / "decks" / "bad.toml"
    deck.parent.mkdir()
    deck.write_text('id = "bad"\ntitle = "Bad"\n\n[[cards]]\nid = "x"\nprompt = "p"\nexplanation = "e"\nanswr = 1\n')
    result = quizzer(tmp_path, "lint", "--format", "github", "decks/", home=tmp_path)
    assert result.returncode == 1
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::error ")]
    problems = [line for line in result.stdout.splitlines() if line.startswith("decks/bad.toml:")]
    assert len(annotations) == len(problems) >= 1  # one annotation per problem listed
    assert annotations[0].startswith("::error file=decks/bad.toml,line=8,col=1::unknown key 'answr'")


def test_verify_annotates_the_failing_card_and_writes_junit(project, tmp_path):
    result = quizzer(project, "verify", "--format", "github", "--junit", "junit.xml", home=tmp_path)
    assert result.returncode == 1
    stop, resume, *annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    token = stop.removeprefix("::stop-commands::")  # the text report: no line of it is read as a workflow command
    assert len(token) == 32 and resume == f"::{token}::", (stop, resume)
    lines = (project / "decks" / "sample.toml").read_text().splitlines()
    c3_line, free_line = lines.index('id = "c3"'), lines.index('id = "free"')  # the [[cards]] line before each
    assert annotations == [
        f"::error file=decks/sample.toml,line={c3_line},title=sample/c3%3A failed::the card says 4 but the verifier "
        "computed 5%0Aexpected: 4%0Acomputed: 5",
        f"::warning file=decks/sample.toml,line={free_line},title=sample/free%3A unverified::no verifier: this "
        "card's answer is not checked by code",
    ]
    suite = ET.parse(project / "junit.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("8", "1", "1")
    failing = suite.find("testcase[@name='c3']")
    assert failing.find("failure").get("type") == "failed" and failing.get("line") == str(c3_line)


def test_two_shards_cover_every_card_once_and_merge_into_one_result(project, tmp_path):
    reports = []
    for index in (1, 2):
        home = tmp_path / f"shard{index}"
        result = quizzer(
            project, "verify", "--strict", "--shard", f"{index}/2", "--json", f"r{index}.json",
            "--cache-file", f"cache{index}.json", home=home,
        )  # fmt: skip
        assert f"shard {index}/2: 4 of 8 cards" in result.stderr, result.stderr
        reports.append(json.loads((project / f"r{index}.json").read_text()))
    keys = [{row["card"] for row in report} for report in reports]
    assert not keys[0] & keys[1] and keys[0] | keys[1] == {f"c{i}" for i in range(7)} | {"free"}
    merged = quizzer(
        project, "verify", "--merge", "--strict", "r1.json", "r2.json", "--junit", "all.xml",
        "--cache-file", "cache.json", "--cache-file", "cache1.json", "--cache-file", "cache2.json",
        home=tmp_path / "merge",
    )  # fmt: skip
    assert merged.returncode == 1
    assert "8 cards: 6 verified, 1 failed, 1 without a verifier" in merged.stdout
    assert ET.parse(project / "all.xml").getroot().get("tests") == "8"
    assert len(read_cache_file(project / "cache.json")) == 7  # every card with a verifier
    rerun = quizzer(project, "verify", "--cache-file", "cache.json", home=tmp_path / "laptop")
    assert rerun.stdout.count("(cached)") == 7, rerun.stdout  # a laptop starts from CI's results


def test_merge_refuses_reports_that_do_not_fit_together(project, tmp_path):
    quizzer(project, "verify", "--shard", "1/2", "--json", "r1.json", home=tmp_path / "a")
    only_one = quizzer(project, "verify", "--merge", "r1.json", home=tmp_path / "m")
    assert only_one.returncode == 1 and "hold 4 of the 8 cards" in only_one.stderr, only_one.stderr
    twice = quizzer(project, "verify", "--merge", "r1.json", "r1.json", home=tmp_path / "m")
    assert "run the shards again" in twice.stderr
    (project / "junk.json").write_text("{not json")
    junk = quizzer(project, "verify", "--merge", "junk.json", home=tmp_path / "m")
    assert junk.returncode == 1 and "junk.json: not a JSON report" in junk.stderr and "Traceback" not in junk.stderr


def _jobs(project: Path) -> list[Job]:
    loaded = load_deck(project / "decks" / "sample.toml")
    return [Job(loaded, c) for c in loaded.deck.cards]


def test_the_split_balances_on_last_durations(project):
    jobs = _jobs(project)
    durations = {"sample/c0": 10.0, "sample/c1": 6.0, "sample/c2": 5.0, "sample/c3": 4.0, "sample/c4": 1.0}
    shards = split(jobs, 2, durations)  # unknown c5, c6 count as the median (5 s); `free` costs nothing
    loads = [sum(durations.get(j.key, 5.0) for j in shard if j.card.verifier) for shard in shards]
    assert sorted(loads) == [17.0, 19.0]  # longest first: 10+5+4 against 6+5+5+1 (by count alone: 4 cards each)
    assert sorted(j.key for shard in shards for j in shard) == sorted(j.key for j in jobs)
    assert split(list(reversed(jobs)), 2, durations)[0] == list(reversed(shards[0]))  # order of input is kept


def test_without_durations_the_split_is_even_by_count(project):
    sizes = [len(shard) for shard in split(_jobs(project), 3, {})]
    assert sorted(sizes) == [2, 3, 3]


@pytest.mark.parametrize(
    "spec",
    [
        "0/2",
        "3/2",
        "1",
        "a/b",
        "1/0",
        "",
        " 1/2",
        "+1/2",
        "²/3",
        "١/٢",
        pytest.param("1/" + "9" * 5000, id="5000-digit-N"),
    ],
)
def test_a_bad_shard_spec_is_refused(spec):
    with pytest.raises(CIError, match="I/N"):
        parse_shard(spec)


@pytest.mark.parametrize("spec", ["1/257", "1/99999999999"])
def test_a_shard_count_past_the_matrix_limit_is_refused_before_any_split(spec):
    with pytest.raises(CIError, match="at most 256 shards"):
        parse_shard(spec)


def test_an_empty_shard_spec_on_the_command_line_is_an_error_not_every_card(project, tmp_path):
    result = quizzer(project, "verify", "--shard", "", "decks", home=tmp_path)
    assert result.returncode == 2
    assert "--shard '': write I/N" in result.stderr


def test_a_cache_file_only_adds_newer_results(tmp_path):
    old = VerificationRecord("d/c", "k1", "passed", "{}", "2.13", "2026-01-01T00:00:00+0000", 1.0)
    new = VerificationRecord("d/c", "k2", "failed", "{}", "2.13", "2026-02-01T00:00:00+0000", 2.0)
    with Store.open(tmp_path / "q.db") as store:
        assert store.merge_verifications([new]) == 1
        assert store.merge_verifications([old]) == 0
        assert store.verification("d/c") == new
    write_cache_file(tmp_path / "cache.json", [old, new])
    assert read_cache_file(tmp_path / "cache.json") == [old, new]


@pytest.mark.parametrize(
    "content",
    ["{", '{"format": "something else", "records": []}', '{"format": "quizzer verification cache", "version": 1, '
     '"records": [{"key": 1}]}'],
)  # fmt: skip
def test_a_broken_cache_file_is_one_sentence(project, tmp_path, content):
    (project / "cache.json").write_text(content)
    result = quizzer(project, "verify", "--cache-file", "cache.json", home=tmp_path)
    assert result.returncode == 2 and "cache.json" in result.stderr and "Traceback" not in result.stderr
