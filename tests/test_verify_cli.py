"""`quizzer verify`: selection, exit codes, the failure report, --json, --strict and the cache."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "verify"
DECK = FIXTURE / "decks" / "fixture.toml"


def quizzer(*args: str, db: Path, trace_imports: bool = False) -> subprocess.CompletedProcess:
    """Run the CLI; with trace_imports, stderr ends with a line telling whether torch was imported."""
    code = "import sys, runpy; sys.argv = ['quizzer', *sys.argv[1:]]\n"
    if trace_imports:
        code += "import atexit; atexit.register(lambda: print('TORCH', 'torch' in sys.modules, file=sys.stderr))\n"
    code += "runpy.run_module('quizzer', run_name='__main__')"
    env = {**os.environ, "QUIZZER_DB": str(db), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)


@pytest.fixture
def db(tmp_path):
    return tmp_path / "state.db"


def test_passing_card_then_warm_run_from_cache_without_torch(db):
    cold = quizzer("verify", f"{DECK}::uses-torch", db=db, trace_imports=True)
    assert cold.returncode == 0, cold.stdout + cold.stderr
    assert "PASS fixture/uses-torch" in cold.stdout
    warm = quizzer("verify", f"{DECK}::uses-torch", db=db, trace_imports=True)
    assert warm.returncode == 0
    assert "PASS fixture/uses-torch (cached)" in warm.stdout
    assert warm.stderr.strip().endswith("TORCH False")


def test_no_cache_runs_again(db):
    quizzer("verify", f"{DECK}::passes", db=db)
    again = quizzer("verify", "--no-cache", f"{DECK}::passes", db=db)
    assert "(cached)" not in again.stdout and "PASS fixture/passes" in again.stdout


def test_failure_shows_expected_computed_and_verifier_path(db):
    result = quizzer("verify", f"{DECK}::wrong-value", f"{DECK}::passes", db=db)
    assert result.returncode == 1
    assert "FAIL fixture/wrong-value" in result.stdout and "PASS fixture/passes" in result.stdout
    assert "expected: 10" in result.stdout and "computed: 11" in result.stdout
    assert "verifier: behaviours.py::wrong_value" in result.stdout
    assert "2 cards: 1 verified, 1 failed" in result.stdout  # a failure is named as one


def test_card_without_verifier_fails_only_under_strict(db):
    lenient = quizzer("verify", f"{DECK}::no-verifier", db=db)
    assert lenient.returncode == 0 and "UNVERIFIED fixture/no-verifier" in lenient.stdout
    strict = quizzer("verify", "--strict", f"{DECK}::no-verifier", db=db)
    assert strict.returncode == 1


def test_json_report(db, tmp_path):
    out = tmp_path / "report.json"
    quizzer("verify", "--json", str(out), f"{DECK}::passes", f"{DECK}::failing-claim", db=db)
    report = {row["card"]: row for row in json.loads(out.read_text())}
    assert report["passes"]["status"] == "passed" and report["passes"]["notes"] == ["0+1+2+3+4 = 10"]
    assert report["failing-claim"]["status"] == "failed"
    assert report["failing-claim"]["claims"] == [
        {"name": "measured spread is small", "holds": False, "measured": "0.3 ≥ 0.1"}
    ]


def test_summary_table_per_deck(db):
    result = quizzer("verify", f"{DECK}::passes", f"{DECK}::wrong-value", db=db)
    row = next(line for line in result.stdout.splitlines() if line.startswith("│ fixture"))
    # deck, cards, passed, demonstrated, failed, unverified, cached
    assert [cell.strip() for cell in row.strip("│").split("│")][:7] == ["fixture", "2", "1", "0", "1", "0", "0"]


@pytest.mark.parametrize(
    "target,message",
    [
        ("no-such-deck", "no deck 'no-such-deck'"),
        (f"{DECK}::no-such-card", "deck 'fixture' has no card 'no-such-card'"),
        (f"{DECK}::passe", "did you mean 'passes'?"),
    ],
)
def test_unknown_targets_are_usage_errors(db, target, message):
    result = quizzer("verify", target, db=db)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("kind", ["empty folder", "folder named like a deck"])
def test_a_target_holding_no_deck_file_is_an_error_not_a_pass(db, tmp_path, kind):
    """`verify empty/` said "0 cards: all verified" and exited 0: a mistyped path in CI passed."""
    target = tmp_path / ("empty" if kind == "empty folder" else "x.toml")
    target.mkdir()
    result = quizzer("verify", str(target), db=db)
    assert result.returncode == 2, result.stdout
    assert f"no deck files (*.toml) found in {target}" in result.stderr and "all verified" not in result.stdout
