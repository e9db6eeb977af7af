"""JSON quizzer reads but did not just write is hostile: deep nesting and huge numbers are refusals, not tracebacks.

Every reader is tried: `--merge` reports, `--cache-file` files, a cached outcome row (a damaged database or a
verifier process's report), and the deck and verifier-source caches beside the database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from quizzer.cards import deckcache
from quizzer.core import jsontext
from quizzer.verify import sources
from quizzer.verify.ci import CIError, read_cache_file
from quizzer.verify.execution import Outcome
from quizzer.verify.reporting import ReportError, read_reports

HOSTILE = {
    "nested": "[" * 100_000 + "]" * 100_000,
    "nested-object": '{"a":' * 50_000 + "1" + "}" * 50_000,
    "huge-integer": '[{"line": ' + "9" * 5000 + "}]",
}


@pytest.fixture(params=sorted(HOSTILE))
def hostile(request, tmp_path):
    path = tmp_path / f"{request.param}.json"
    path.write_text(HOSTILE[request.param])
    return path


def test_the_reader_turns_depth_and_number_size_into_decode_errors(hostile):
    with pytest.raises(json.JSONDecodeError):
        jsontext.loads(hostile.read_text())
    assert jsontext.loads('{"ok": [1, 2.5, "x"]}') == {"ok": [1, 2.5, "x"]}


def test_a_merge_report_is_refused_in_one_sentence(hostile):
    with pytest.raises(ReportError, match="not a JSON report"):
        read_reports([hostile])


def test_a_cache_file_is_refused_in_one_sentence(hostile):
    with pytest.raises(CIError, match="not a quizzer verification cache"):
        read_cache_file(hostile)


def test_a_cached_outcome_is_unreadable_not_a_crash(hostile):
    with pytest.raises(ValueError):
        Outcome.from_json(hostile.read_text())


def test_a_damaged_deck_cache_entry_is_a_miss(hostile, tmp_path):
    deck = tmp_path / "deck.toml"
    deck.write_text('id = "d"\ntitle = "D"\n')
    deckcache._entry(deck, tmp_path).write_text(hostile.read_text())
    assert deckcache.header(deck, deck.read_text(), tmp_path) is None


def test_a_damaged_source_cache_entry_is_a_miss(hostile, tmp_path):
    verifier = tmp_path / "v.py"
    verifier.write_text("def f():\n    return 1\n")
    cache = tmp_path / "cache"
    cache.mkdir()
    first = sources.facts(verifier, cache)  # writes the entry
    (entry,) = cache.glob("*.json")
    entry.write_text(hostile.read_text())
    sources._facts.cache_clear()  # this process keeps facts too: read the entry again, as the next command does
    assert sources.facts(verifier, cache) == first  # computed again from the file


@pytest.mark.parametrize("option", ["--merge", "--cache-file"])
def test_the_command_line_says_one_sentence(hostile, option, tmp_path):
    env = {**os.environ, "QUIZZER_HOME": str(tmp_path / "home")}
    env.pop("QUIZZER_DB", None)
    args = ["--merge", str(hostile)] if option == "--merge" else ["--cache-file", str(hostile), "no-such-folder"]
    result = subprocess.run(
        [sys.executable, "-m", "quizzer", "verify", *args], capture_output=True, text=True, env=env, timeout=600
    )
    assert result.returncode in (1, 2) and "Traceback" not in result.stderr, result.stderr
    assert str(hostile) in result.stderr
