"""Every command names decks and cards the same way, and takes --db before or after the command name."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizzer.cli import main

ROOT = Path(__file__).resolve().parent.parent
DECKS = Path(__file__).parent / "fixtures" / "scheduling-decks"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A deck project (decks/alpha.toml, decks/beta.toml) as the current directory."""
    shutil.copytree(DECKS, tmp_path / "decks")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args, input=""):
    return CliRunner().invoke(main, list(args), input=input)


@pytest.mark.parametrize(
    "command",
    [
        ["review", "--plain", "beta"],
        ["due", "beta"],
        ["stats", "beta"],
        ["show", "beta/one"],
        ["export", "anki", "beta", "-o", "out.apkg"],
    ],
)
def test_a_deck_id_works_in_every_command(project, command):
    result = invoke(*command, "--db", str(project / "state.db"), input="q\n")
    assert result.exit_code == 0, result.output
    assert "no such file" not in result.output.lower()


@pytest.mark.parametrize("command", ["due", "stats"])
def test_an_unknown_deck_id_is_one_sentence_with_a_suggestion(project, command):
    result = invoke(command, "bet", "--db", str(project / "state.db"))
    assert result.exit_code == 2
    assert "no deck 'bet'" in result.output and "did you mean 'beta'?" in result.output


def test_a_broken_deck_elsewhere_in_the_folder_does_not_stop_an_id_from_resolving(project):
    (project / "decks" / "broken.toml").write_text('id = "broken"\n[[cards]]\nid = "x"\n')
    assert invoke("due", "beta", "--db", str(project / "state.db")).exit_code == 0
    missing = invoke("due", "broken", "--db", str(project / "state.db"))
    assert missing.exit_code == 2 and "1 deck file(s) there do not load" in missing.output


def test_a_card_missing_from_a_deck_named_by_id_names_the_file_that_was_read(project):
    """In a project with its own decks/drills.toml, `quizzer show drills/conv-output-shape` (AUTHORING's
    bundled card) said only "deck 'drills' has no card ...": the file says which deck was read."""
    result = invoke("show", "beta/no-such-card", "--db", str(project / "state.db"))
    assert result.exit_code == 2
    assert f"deck 'beta' ({Path('decks') / 'beta.toml'}) has no card 'no-such-card'" in result.output, result.output


def test_whole_deck_commands_refuse_a_single_card_with_the_way_to_drill_it(project):
    result = invoke("due", "alpha/bool", "--db", str(project / "state.db"))
    assert result.exit_code == 2 and "name the deck (alpha)" in result.output
    assert "quizzer cram DECK/CARD" in result.output


def test_the_review_app_opens_the_decks_an_id_names(project, monkeypatch):
    opened = []
    monkeypatch.setattr("quizzer.cli._open_app", lambda db, decks, **options: opened.append(decks))
    (project / "decks" / "broken.toml").write_text('id = "broken"\n')
    assert invoke("review", "beta", "decks/broken.toml").exit_code == 0
    assert opened == [(Path("decks/beta.toml"), Path("decks/broken.toml"))], "a broken deck goes to the app's list"


TARGETS = [  # target → (kind, name, card id), and the cards `select` gives (None: the whole deck)
    ("decks", ("folder", "decks", None), {"alpha": None, "beta": None}),
    ("decks/beta.toml", ("file", "decks/beta.toml", None), {"beta": None}),
    ("decks/beta.toml::two", ("file", "decks/beta.toml", "two"), {"beta": ["two"]}),
    ("decks::two", ("folder", "decks", "two"), "SelectionError"),  # alpha has no card 'two'
    ("decks/notes", ("file", "decks/notes", None), "DeckError"),  # an existing path, not .toml: a deck file
    ("beta", ("id", "beta", ""), {"beta": None}),
    ("beta/two", ("id", "beta", "two"), {"beta": ["two"]}),
    ("beta::two", ("id", "beta", ""), {"beta": None}),  # '::' after an id is dropped, as it always was
]


@pytest.mark.parametrize(("target", "classified", "selected"), TARGETS)
def test_one_classification_of_targets_for_select_and_the_review_app(
    project, monkeypatch, target, classified, selected
):
    """`deckfiles.classify_target` is how `loader.select` reads a target and how `quizzer review` decides
    to hand folders and files to the app unparsed (before, cli._names_whole_files repeated select's tests).
    """
    from quizzer import cli
    from quizzer.cards.deckfiles import classify_target
    from quizzer.cards.loader import DeckError, SelectionError, select

    (project / "decks" / "notes").write_text("not a deck\n")
    kind, name, card_id = classify_target(target)
    assert (kind, name, card_id) == classified
    try:
        chosen = {
            loaded.deck.id: None if len(cards) == len(loaded.deck.cards) else [c.id for c in cards]
            for loaded, cards in select([target], project / "decks")
        }
    except (SelectionError, DeckError) as error:
        chosen = type(error).__name__
    assert chosen == selected

    parsed = []
    monkeypatch.setattr(cli, "_select", lambda *args, **kw: parsed.append(args) or [])
    cli._app_deck_files((target,))
    assert (parsed == []) == (kind != "id" and card_id is None), "only ids and cards are resolved by parsing"


@pytest.mark.parametrize("where", ["before", "after"])
def test_db_is_honoured_before_or_after_the_command_name(project, monkeypatch, where):
    monkeypatch.setenv("QUIZZER_HOME", str(project / "home"))
    monkeypatch.delenv("QUIZZER_DB", raising=False)
    db = project / "chosen.db"
    command = ["review", "--plain", "beta"]
    args = ["--db", str(db), *command] if where == "before" else [*command, "--db", str(db)]
    assert invoke(*args, input="2\n\nq\n").exit_code == 0
    assert db.exists() and not (project / "home" / "quizzer.db").exists()
    due = json.loads(invoke("--db", str(db), "due", "beta", "--json").output)
    assert due[0]["new"] == 1, "the answer went to the chosen database and is read back from it"


def test_the_commands_own_db_wins_over_the_groups_and_the_environment(project, monkeypatch):
    monkeypatch.setenv("QUIZZER_DB", str(project / "env.db"))
    invoke("--db", str(project / "group.db"), "due", "beta", "--db", str(project / "own.db"))
    assert (project / "own.db").exists() and not (project / "group.db").exists()
    invoke("due", "beta")
    assert (project / "env.db").exists()


def test_the_readme_piped_review_example_works_as_written(tmp_path):
    readme = (ROOT / "README.md").read_text()
    line = re.search(r"^(printf .*\| quizzer review --plain \S+.*)$", readme, re.M).group(1)
    env = {**os.environ, "QUIZZER_HOME": str(tmp_path), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.pop("QUIZZER_DB", None)
    result = subprocess.run(line, shell=True, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "1 answer(s) on 1 card(s)" in result.stdout and "Traceback" not in result.stderr
    assert (tmp_path / "quizzer.db").exists()


def test_the_quickstart_installs_the_cpu_torch_wheel_before_anything_pulls_torch():
    readme = (ROOT / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", quickstart, re.S).group(1).splitlines()
    cpu = next(i for i, line in enumerate(block) if "download.pytorch.org/whl/cpu" in line)
    first_install = next(i for i, line in enumerate(block) if "pip install -e" in line)
    assert cpu < first_install
    index = "https://download.pytorch.org/whl/cpu"
    assert f"--index-url {index}" in block[cpu]
    workflow = (ROOT / "docs" / "deck-repo-ci.yml").read_text()
    assert f"TORCH_INDEX: {index}" in workflow and '--index-url "$TORCH_INDEX"' in workflow
