"""`quizzer new`: a lint-clean card stanza and a verifier stub that fails until it is written."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizzer.authoring.scaffold import AuthoringError, create_card
from quizzer.cards.deck import ANSWER_KINDS, json_schema
from quizzer.cards.loader import lint, load_deck
from quizzer.cli import main
from quizzer.verify.execution import execute


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty directory, made the current one (as a new user would start)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def new(*args: str):
    return CliRunner().invoke(main, ["new", *args])


def test_new_in_an_empty_directory_creates_the_deck_schema_and_a_failing_stub(project: Path):
    result = new("my-deck", "first-card", "--kind", "numeric")

    assert result.exit_code == 0, result.output
    deck_path = project / "decks" / "my-deck.toml"
    stub = project / "verifiers" / "my-deck" / "first_card.py"
    assert deck_path.is_file() and stub.is_file()
    text = deck_path.read_text()
    assert text.startswith("#:schema ./schema.json\n")
    data = tomllib.loads(text)
    assert data["id"] == "my-deck" and data["title"] == "My deck"
    assert [c["id"] for c in data["cards"]] == ["first-card"]
    assert data["cards"][0]["verifier"] == "my-deck/first_card.py"
    assert (project / "decks" / "schema.json").read_text() == json_schema()
    assert lint(deck_path) == []
    # it tells the author what to do next, with commands that work from here
    assert "decks/my-deck.toml:" in result.output
    assert "verifiers/my-deck/first_card.py" in result.output
    assert "quizzer verify decks/my-deck.toml::first-card" in result.output

    outcome = execute(load_deck(deck_path).deck.card("first-card"), project / "verifiers")
    assert outcome.status == "failed"
    assert outcome.message == (
        "claim failed: write this verifier (edit verifiers/my-deck/first_card.py); "
        "the verifier returned no value for a numeric card"
    )


@pytest.mark.parametrize("kind", ANSWER_KINDS)
def test_every_kind_gives_a_lint_clean_card_whose_stub_fails(project: Path, kind: str):
    made = create_card("kinds", f"a-{kind}", kind, project)

    assert made.deck_created and made.verifier_created
    assert lint(made.deck_path) == []
    loaded = load_deck(made.deck_path)
    card = loaded.deck.card(f"a-{kind}")
    assert card.answer.kind == kind
    outcome = execute(card, loaded.verifiers_root)
    assert outcome.status == "failed", outcome
    assert outcome.message.startswith(f"claim failed: write this verifier (edit verifiers/kinds/a_{kind}.py)")


def test_a_second_card_is_appended_and_the_first_left_as_written(project: Path):
    assert new("my-deck", "one", "--kind", "boolean").exit_code == 0
    deck_path = project / "decks" / "my-deck.toml"
    before = deck_path.read_text()

    result = new("my-deck", "two", "--kind", "text")

    assert result.exit_code == 0, result.output
    after = deck_path.read_text()
    assert after.startswith(before)
    assert [c.id for c in load_deck(deck_path).deck.cards] == ["one", "two"]
    assert "Added to deck 'my-deck'" in result.output
    line = int(result.output.split("decks/my-deck.toml:")[1].split()[0])
    assert after.splitlines()[line - 1] == "[[cards]]"
    assert after.splitlines()[line] == 'id = "two"'


def test_an_existing_card_id_is_refused_and_nothing_changes(project: Path):
    assert new("my-deck", "one", "--kind", "numeric").exit_code == 0
    deck_path = project / "decks" / "my-deck.toml"
    stub = project / "verifiers" / "my-deck" / "one.py"
    stub.write_text("# my work in progress\n")
    before = deck_path.read_text()

    result = new("my-deck", "one", "--kind", "text")

    assert result.exit_code == 1
    assert "already has a card 'one'" in result.output
    assert "decks/my-deck.toml:9:" in result.output  # the existing card's id line
    assert deck_path.read_text() == before
    assert stub.read_text() == "# my work in progress\n"


def test_an_existing_verifier_file_is_kept(project: Path):
    stub = project / "verifiers" / "my-deck" / "one.py"
    stub.parent.mkdir(parents=True)
    stub.write_text("def verify():\n    pass\n")

    result = new("my-deck", "one", "--kind", "numeric")

    assert result.exit_code == 0, result.output
    assert "Kept the existing verifier" in result.output
    assert stub.read_text() == "def verify():\n    pass\n"


def test_deck_given_as_a_path_and_dir_option(project: Path):
    result = new("elsewhere/decks/shapes.toml", "out-shape", "--kind", "shape", "--title", "Shapes")
    assert result.exit_code == 0, result.output
    assert (project / "elsewhere" / "verifiers" / "shapes" / "out_shape.py").is_file()
    assert load_deck(project / "elsewhere" / "decks" / "shapes.toml").deck.title == "Shapes"

    result = new("shapes", "second", "--kind", "numeric", "--dir", "elsewhere")
    assert result.exit_code == 0, result.output
    shown = os.path.join("elsewhere", "verifiers", "shapes", "second.py")
    assert f"Created verifier stub {shown} " in result.output
    assert f"2. Edit {shown} — compute" in result.output, result.output  # it said "verifiers/shapes/second.py"
    assert [c.id for c in load_deck(project / "elsewhere" / "decks" / "shapes.toml").deck.cards] == [
        "out-shape",
        "second",
    ]


def test_a_deck_is_found_by_its_id_whatever_its_file_name(project: Path):
    (project / "decks").mkdir()
    (project / "decks" / "course-part-1.toml").write_text('id = "part1"\ntitle = "Part 1"\n')

    made = create_card("part1", "q1", "boolean", project)

    assert made.deck_path == project / "decks" / "course-part-1.toml"
    assert made.verifier_ref == "part1/q1.py"
    assert not made.deck_created
    assert load_deck(made.deck_path).deck.card("q1")


def test_a_deck_without_final_newline_still_appends_cleanly(project: Path):
    (project / "decks").mkdir()
    (project / "decks" / "d.toml").write_text('id = "d"\ntitle = "D"')
    create_card("d", "q", "numeric", project)
    assert lint(project / "decks" / "d.toml") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["my-deck", "Bad_Id", "--kind", "numeric"], "card id 'Bad_Id' must be"),
        (["My Deck", "ok", "--kind", "numeric"], "deck id 'My Deck' must be"),
        (["decks/x.txt", "ok", "--kind", "numeric"], "must end in .toml"),
    ],
)
def test_bad_names_are_refused_with_the_fix(project: Path, args: list[str], message: str):
    result = new(*args)
    assert result.exit_code == 1
    assert message in result.output
    assert not (project / "decks").exists()


def test_unknown_kind_is_a_usage_error(project: Path):
    result = new("my-deck", "one", "--kind", "essay")
    assert result.exit_code == 2
    assert "numeric" in result.output


def test_a_broken_deck_is_not_touched(project: Path):
    (project / "decks").mkdir()
    broken = project / "decks" / "b.toml"
    broken.write_text('id = "b"\ntitle = \n')
    with pytest.raises(AuthoringError, match="TOML syntax error"):
        create_card("decks/b.toml", "q", "numeric", project)
    assert broken.read_text() == 'id = "b"\ntitle = \n'


def test_an_inline_cards_array_is_refused_not_corrupted(project: Path):
    (project / "decks").mkdir()
    deck = project / "decks" / "inline.toml"
    original = 'id = "inline"\ntitle = "I"\ncards = []\n'
    deck.write_text(original)
    with pytest.raises(AuthoringError, match=r"cannot append a \[\[cards\]\] table"):
        create_card("inline", "q", "numeric", project)
    assert deck.read_text() == original
    assert not (project / "verifiers").exists()


def test_the_stub_written_into_a_real_verifier_passes(project: Path):
    """The authoring loop in-process: new → fill in card and verifier → the card passes."""
    made = create_card("arith", "triangle-number", "numeric", project)
    text = made.deck_path.read_text().replace("value = 0\n", "value = 55\n")
    made.deck_path.write_text(text)
    made.verifier_path.write_text(
        "from quizzer.verifier import Result\n\n\n"
        "def verify() -> Result:\n"
        "    r = Result(value=sum(range(11)))\n"
        "    r.claim('Gauss: n(n+1)/2', r.value == 10 * 11 // 2, str(r.value))\n"
        "    r.note('1 + 2 + ... + 10 = 55')\n"
        "    return r\n"
    )
    card = load_deck(made.deck_path).deck.card("triangle-number")
    assert execute(card, project / "verifiers").status == "passed"


def test_new_does_not_import_torch(project: Path):
    import subprocess
    import sys

    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom quizzer.cli import main\n"
        "r = CliRunner().invoke(main, ['new', 'd', 'c', '--kind', 'numeric'])\n"
        "assert r.exit_code == 0, r.output\nassert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=project, env={**os.environ})


def test_new_user_walkthrough_new_edit_verify_show_review_export(project: Path):
    """From an empty directory, only through the commands: the loop AUTHORING.md describes."""
    runner = CliRunner()
    db = str(project / "state.db")
    assert new("arith", "triangle-number", "--kind", "numeric").exit_code == 0
    target = "decks/arith.toml::triangle-number"

    stub_run = runner.invoke(main, ["verify", target, "--db", db])
    assert stub_run.exit_code == 1
    assert "write this verifier" in stub_run.output

    deck = project / "decks" / "arith.toml"
    text = deck.read_text()
    text = text.replace(
        "TODO: the question, in Markdown. Math between `$...$` or `$$...$$`, e.g. $r = k + (k-1)(L-1)$.",
        "What is $\\sum_{i=1}^{10} i$?",
    )
    text = text.replace("value = 0\n", "value = 55\n")
    deck.write_text(text)
    (project / "verifiers" / "arith" / "triangle_number.py").write_text(
        "from quizzer.verifier import Result\n\n\n"
        "def verify() -> Result:\n"
        "    r = Result(value=sum(range(1, 11)))\n"
        "    r.claim('Gauss: n(n+1)/2', r.value == 10 * 11 // 2, str(r.value))\n"
        "    r.note('Added up: 1 + 2 + ... + 10 = 55')\n"
        "    return r\n"
    )
    assert runner.invoke(main, ["lint", "decks"]).exit_code == 0

    verified = runner.invoke(main, ["verify", target, "--db", db])
    assert verified.exit_code == 0, verified.output

    shown = runner.invoke(main, ["show", "arith/triangle-number", "--db", db])
    assert "✓ passed" in shown.output and "Added up: 1 + 2 + ... + 10 = 55" in shown.output

    review = runner.invoke(main, ["review", "decks", "--plain", "--db", db, "--today", "2026-03-01"], input="55\n\n")
    assert review.exit_code == 0, review.output
    assert "✓ correct" in review.output

    exported = runner.invoke(main, ["export", "anki", "arith", "-o", "arith.apkg", "--db", db])
    assert exported.exit_code == 0 and "1 verified" in exported.output


REPO = Path(__file__).resolve().parent.parent


def test_authoring_guide_names_only_real_commands():
    guide = (REPO / "AUTHORING.md").read_text()
    code = re.findall(r"`([^`\n]+)`", guide) + re.findall(r"^\s*(quizzer .*)$", guide, flags=re.M)
    commands = {name for span in code for name in re.findall(r"(?:^|[\s;&|(])quizzer ([a-z]+)", span)}
    assert {"new", "verify", "lint", "show", "export", "review"} <= commands
    assert commands <= set(main.commands), commands - set(main.commands)


def test_the_guides_bundled_card_ids_are_real_cards():
    """`quizzer verify cnn/receptive-field-size`, `quizzer show drills/conv-output-shape`...: every DECK/CARD
    the README and AUTHORING.md give a command names a card of the bundled decks (the guide once showed
    a `drills/conv-width` the bundled deck does not have)."""
    from quizzer.paths import bundled_decks

    cards = {
        f"{data['id']}/{card['id']}"
        for path in bundled_decks().glob("*.toml")
        for data in [tomllib.loads(path.read_text())]
        for card in data["cards"]
    }
    text = (REPO / "README.md").read_text() + (REPO / "AUTHORING.md").read_text()
    named = set(re.findall(r"quizzer (?:verify|show|cram) (?:--\S+ )*([a-z0-9-]+/[a-z0-9-]+)(?![\w./:-])", text))
    assert {"cnn/receptive-field-size", "drills/conv-output-shape"} <= named, named
    assert named <= cards, named - cards


def test_deck_repo_ci_workflow_lints_and_verifies_strictly():
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((REPO / "docs" / "deck-repo-ci.yml").read_text())
    assert workflow["env"]["TORCH_INDEX"] == "https://download.pytorch.org/whl/cpu"
    for job in ("lint", "verify"):
        runs = "\n".join(step.get("run", "") for step in workflow["jobs"][job]["steps"])
        cpu_torch = 'pip install "$TORCH" --index-url "$TORCH_INDEX"'
        assert runs.index(cpu_torch) < runs.index('install "$QUIZZER"')  # torch first: no CUDA build pulled
    lint = "\n".join(step.get("run", "") for step in workflow["jobs"]["lint"]["steps"])
    assert re.search(r"quizzer lint( --format github)? decks/", lint)
    assert "quizzer verify decks/ --strict" in runs


def test_a_stale_local_schema_is_refreshed_when_a_card_is_added(project: Path):
    assert new("my-deck", "one", "--kind", "numeric").exit_code == 0
    schema = project / "decks" / "schema.json"
    schema.write_text("{}\n")

    result = new("my-deck", "two", "--kind", "numeric")

    assert "Wrote decks/schema.json" in result.output
    assert schema.read_text() == json_schema()
    assert "Wrote" not in new("my-deck", "three", "--kind", "numeric").output  # already current


def test_an_unwritable_folder_is_a_clear_error(monkeypatch: pytest.MonkeyPatch):
    """/proc takes no new folder from anyone, root included (CI runs as root, so chmod would not do)."""
    monkeypatch.chdir("/proc")
    result = new("my-deck", "one", "--kind", "numeric")
    assert result.exit_code == 1
    assert result.output.startswith("error: cannot write /proc/"), result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, OSError)
    assert not Path("/proc/decks").exists()


def test_an_unwritable_path_is_a_clear_error(project: Path):
    (project / "decks").write_text("a file where the folder should be\n")
    result = new("my-deck", "one", "--kind", "numeric")
    assert result.exit_code == 1
    assert "cannot write" in result.output
    assert not isinstance(result.exception, OSError)
