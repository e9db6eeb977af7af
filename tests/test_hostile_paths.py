"""Writing files is refused where it would leave the project or cannot succeed (issue 11.9).

`quizzer new` writes a deck, a verifier stub and decks/schema.json; a symlink (dangling or not) that
leads out of the project must not carry any of those writes outside. `export anki -o` to a path the
system refuses is a message, not a traceback, and leaves no half-written package.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from quizzer.cli import main

DECK = Path(__file__).parent / "fixtures" / "scheduling-decks" / "beta.toml"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    (root / "decks").mkdir(parents=True)
    (root / "verifiers").mkdir()
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder


def new(*args: str):
    return CliRunner().invoke(main, ["new", *args])


def assert_refused(result, link: Path) -> None:
    assert result.exit_code == 1, result.output
    assert result.output.startswith("error: ") and f"{link} is a symlink to " in result.output, result.output
    assert "outside the project" in result.output and "nothing was written" in result.output


def test_a_schema_json_linked_out_of_the_project_is_not_written_through(project, outside):
    victim = outside / "precious.json"
    victim.write_text("{}\n")
    (project / "decks" / "schema.json").symlink_to(victim)
    result = new("my-deck", "one", "--kind", "numeric")
    assert_refused(result, Path("decks/schema.json"))
    assert victim.read_text() == "{}\n"
    assert not (project / "decks" / "my-deck.toml").exists(), "refused before anything is written"
    assert not list((project / "verifiers").rglob("*.py"))


def test_a_dangling_verifier_link_does_not_create_its_target(project, outside):
    (project / "verifiers" / "my-deck").mkdir()
    link = project / "verifiers" / "my-deck" / "one.py"
    link.symlink_to(outside / "planted.py")
    result = new("my-deck", "one", "--kind", "numeric")
    assert_refused(result, link.relative_to(project))
    assert not (outside / "planted.py").exists()


def test_a_verifier_folder_linked_out_is_refused(project, outside):
    (project / "verifiers" / "my-deck").symlink_to(outside)
    result = new("my-deck", "one", "--kind", "numeric")
    assert_refused(result, Path("verifiers/my-deck/one.py"))
    assert list(outside.iterdir()) == []


def test_a_deck_file_linked_out_is_refused(project, outside):
    target = outside / "theirs.toml"
    target.write_text('id = "my-deck"\ntitle = "Theirs"\n')
    (project / "decks" / "my-deck.toml").symlink_to(target)
    result = new("my-deck", "one", "--kind", "numeric")
    assert_refused(result, Path("decks/my-deck.toml"))
    assert target.read_text() == 'id = "my-deck"\ntitle = "Theirs"\n'


@pytest.mark.parametrize(
    "loop",
    ["decks/my-deck.toml", "decks/schema.json", "verifiers/my-deck"],
)
def test_a_symlink_loop_on_the_way_is_a_sentence(project, loop):
    """Each gave a traceback: RuntimeError 'Symlink loop from ...' from the check for links out of the project."""
    link = project / loop
    link.symlink_to(link.name)
    result = new("my-deck", "one", "--kind", "numeric")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.output.startswith("error: Symlink loop from ") and "nothing was written" in result.output
    assert not list(project.rglob("*.py")) and not (project / "decks" / "my-deck.toml").is_file()


def test_a_project_folder_name_too_long_for_the_system_is_a_sentence(tmp_path, monkeypatch):
    """`quizzer new --dir <300 characters>/p`: OSError ENAMETOOLONG from looking up the deck, a traceback."""
    monkeypatch.chdir(tmp_path)
    result = new("--dir", "x" * 300 + "/p", "my-deck", "one", "--kind", "numeric")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.output.startswith("error: cannot use ") and "File name too long; nothing was written" in result.output


def test_a_deck_that_cannot_be_written_leaves_no_verifier_stub(project, monkeypatch):
    """The stub is written first; when the deck then failed ('cannot write decks/my-deck.toml'), the stub and
    its folder stayed behind although nothing was said to be written."""
    real_write = Path.write_text

    def refuse_decks(self, *args, **kwargs):
        if self.suffix == ".toml":
            raise PermissionError(13, "Permission denied", str(self))
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", refuse_decks)
    result = new("my-deck", "one", "--kind", "numeric")
    assert result.exit_code == 1 and "cannot write" in result.output and "nothing was written" in result.output
    assert not (project / "verifiers" / "my-deck").exists(), list(project.rglob("*"))


def test_links_that_stay_inside_the_project_are_fine(project):
    (project / "shared").mkdir()
    (project / "verifiers" / "my-deck").symlink_to(project / "shared")
    result = new("my-deck", "one", "--kind", "numeric")
    assert result.exit_code == 0, result.output
    assert (project / "shared" / "one.py").exists()


# ---------------------------------------------------------------------- export anki -o


def export(output: str, tmp_path: Path):
    return CliRunner().invoke(main, ["--db", str(tmp_path / "q.db"), "export", "anki", "-o", output, str(DECK)])


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        ("/proc/quizzer.apkg", "cannot write /proc/quizzer.apkg"),  # refused even to root
        ("{tmp}/" + "n" * 300 + ".apkg", "File name too long"),
        ("{tmp}/a-file/deck.apkg", "cannot write"),  # a file where the folder should be
    ],
)
def test_an_output_path_the_system_refuses_is_a_message(tmp_path, where, reason):
    (tmp_path / "a-file").write_text("not a folder\n")
    output = where.replace("{tmp}", str(tmp_path))
    result = export(output, tmp_path)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stderr.startswith("Error: cannot write ") and reason in result.stderr
    assert result.stderr.rstrip().endswith("choose another -o path")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".quizzer-export-")], "no half-written package"


def test_a_good_output_path_is_written_whole(tmp_path):
    result = export(str(tmp_path / "deck.apkg"), tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "deck.apkg").read_bytes()[:2] == b"PK"
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".apkg") == ["deck.apkg"]


def test_sqlite_failing_while_the_package_is_built_is_the_output_s_fault(tmp_path, monkeypatch):
    """Under `ulimit -f 40` genanki's own SQLite raised 'disk I/O error' while building the package: it was
    reported as 'the state database ... failed (disk I/O error)', and the half-written temporary package stayed."""
    import sqlite3

    import genanki

    def fail(self, path, **kwargs):
        Path(path).write_bytes(b"half a package")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(genanki.Package, "write_to_file", fail)
    result = export(str(tmp_path / "deck.apkg"), tmp_path)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stderr.startswith(f"Error: cannot write {tmp_path / 'deck.apkg'}: disk I/O error")
    assert "state database" not in result.stderr
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".apkg"] == []
