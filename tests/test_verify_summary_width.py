"""`quizzer verify`'s summary table stays readable in an 80- and a 60-column terminal."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "tui"
HEADERS = ("cards", "passed", "demonstrated", "failed", "unverified", "cached", "seconds")


def summary(tmp_path, columns):
    env = {**os.environ, "COLUMNS": str(columns), "QUIZZER_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "quizzer", "verify", "decks"],
        cwd=FIXTURE, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr  # the fixture's extra/double fails
    lines = result.stdout.splitlines()
    start = lines.index("verification")
    end = next(i for i, line in enumerate(lines) if "extra/double — failed" in line)
    return lines[start + 1 : end]


@pytest.mark.parametrize("columns", [80, 60])
def test_the_summary_fits_with_whole_headers_and_a_legend_for_the_abbreviations(tmp_path, columns):
    table = summary(tmp_path, columns)
    text = "\n".join(table)
    assert "…" not in text, text
    assert all(len(line) <= columns for line in table), text
    header = next(line for line in table if "cards" in line).split()
    assert header == ["deck", "cards", "ok", "demo", "fail", "unver", "cache", "s"], text
    assert "ok=passed demo=demonstrated unver=unverified s=seconds" in text
    *counts, seconds = next(line for line in table if "basics" in line).split()
    assert counts == ["basics", "6", "3", "0", "0", "3", "0"], text
    assert float(seconds) >= 0, text  # how long its cards took: any figure, on a loaded machine too


def test_a_wide_terminal_keeps_the_full_headers(tmp_path):
    text = "\n".join(summary(tmp_path, 120))
    assert all(header in text for header in HEADERS) and "demo=demonstrated" not in text


@pytest.mark.parametrize("deck", ["cnn", "ab"])
def test_a_deck_id_shorter_than_its_header_still_fits_80_columns(deck):
    """The deck column is at least as wide as its header "deck": a 3-letter id (`quizzer verify cnn`)
    made the full table 81 columns wide, wrapped by an 80-column terminal."""
    import io

    from rich.console import Console

    from quizzer.verify.execution import Outcome
    from quizzer.verify.reporting import Row, VerifyReport

    console = Console(file=io.StringIO(), width=80, soft_wrap=True)  # as `quizzer verify` prints: never re-wrapped
    report = VerifyReport([], strict=False, console=console)
    report.rows.append(Row(deck, "card", f"decks/{deck}.toml", 1, "v.py", True, Outcome("passed")))
    report.print_summary()
    table = console.file.getvalue().splitlines()[1:-1]  # between the title and the closing line
    assert table and all(len(line) <= 80 for line in table), "\n".join(table)


def unchecked_deck(cards: int) -> str:
    """A deck of `cards` numeric cards, none with a verifier."""
    stanza = (
        '[[cards]]\nid = "c{0}"\nprompt = "{0}?"\nexplanation = "."\nanswer = {{ kind = "numeric", value = {0} }}\n'
    )
    return 'id = "plain"\ntitle = "Plain"\n' + "".join(stanza.format(n) for n in range(cards))


def _verify(target: Path, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "60", "QUIZZER_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "quizzer", "verify", str(target)], env=env, capture_output=True, text=True, timeout=600
    )


def test_the_closing_line_wraps_between_words(tmp_path):
    """`3 cards: 0 verified, 3 without a verifier (allowed; --strict counts them)` is 74 characters."""
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "plain.toml").write_text(unchecked_deck(3))
    result = _verify(tmp_path / "decks" / "plain.toml", tmp_path / "home")
    assert result.returncode == 0, result.stdout + result.stderr
    tail = result.stdout.splitlines()[-2:]
    assert all(len(line) <= 60 for line in tail), tail
    assert " ".join(line.strip() for line in tail).endswith(
        "3 cards: 0 verified, 3 without a verifier (allowed; --strict counts them)"
    ), tail


def test_all_verified_says_no_more_and_one_card_is_one(tmp_path):
    """The note on cards without a verifier came under every run, even when each card had one; "1 cards"."""
    deck = Path(__file__).parents[1] / "decks" / "dropout.toml"
    result = _verify(deck, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "3 cards: all verified", result.stdout
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "one.toml").write_text(unchecked_deck(1))
    result = _verify(tmp_path / "decks" / "one.toml", tmp_path / "home")
    tail = " ".join(line.strip() for line in result.stdout.splitlines()[-2:])
    assert tail == "1 card: 0 verified, 1 without a verifier (allowed; --strict counts them)", result.stdout
