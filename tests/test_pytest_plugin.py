"""The pytest plugin: each card of a deck file is a test item; failures show expected vs computed."""

import shutil
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "verify"


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    shutil.copytree(FIXTURE / "decks", pytester.path / "decks")
    shutil.copytree(FIXTURE / "verifiers", pytester.path / "verifiers")
    return pytester


def test_cards_are_collected_as_items(project):
    result = project.runpytest_subprocess("decks", "--collect-only", "-q")
    assert "decks/fixture.toml::passes" in result.stdout.str()
    assert "decks/fixture.toml::uses-torch" in result.stdout.str()


def test_k_selects_cards_and_failures_show_expected_vs_computed(project):
    result = project.runpytest_subprocess("decks", "-k", "passes or wrong or no-verifier")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["*fixture/wrong-value: failed: the card says 10 but the verifier computed 11*", "expected: 10", "computed: 11"]
    )


def test_strict_fails_cards_without_verifier(project):
    result = project.runpytest_subprocess("decks", "-k", "no-verifier", "--verify-strict")
    result.assert_outcomes(failed=1)


def test_crash_fails_one_item_and_the_run_goes_on(project):
    result = project.runpytest_subprocess("decks", "-k", "segfaults or passes or uses-torch")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*fixture/segfaults: crashed: signal 11*"])


def test_works_with_xdist(project):
    result = project.runpytest_subprocess("decks", "-n", "2", "-k", "passes or uses-torch or wrong")
    result.assert_outcomes(passed=2, failed=1)


def test_broken_deck_is_one_failing_item_with_the_lint_message(project):
    (project.path / "decks" / "broken.toml").write_text('id = "b"\ntitle = \n')
    result = project.runpytest_subprocess("decks/broken.toml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*decks/broken.toml:2:9: TOML syntax error: Invalid value*"])
