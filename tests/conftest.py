import shutil
import textwrap
from pathlib import Path

import pytest
from hypothesis import settings

pytest_plugins = ["pytester"]

# Hypothesis fails an example slower than 200 ms by default: a wall-clock threshold that a loaded
# machine crosses. Every property test here checks what its examples compute, never how fast.
settings.register_profile("quizzer", deadline=None)
settings.load_profile("quizzer")


@pytest.fixture
def deck_dir(tmp_path: Path):
    """A project folder with decks/ and verifiers/; returns a function writing a deck file."""
    (tmp_path / "decks").mkdir()
    (tmp_path / "verifiers").mkdir()

    def write(text: str, name: str = "deck.toml") -> Path:
        path = tmp_path / "decks" / name
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    write.root = tmp_path
    return write


@pytest.fixture
def authoring_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of tests/fixtures/authoring (decks/ + verifiers/), made the current directory."""
    fixture = Path(__file__).parent / "fixtures" / "authoring"
    shutil.copytree(fixture / "decks", tmp_path / "decks")
    shutil.copytree(fixture / "verifiers", tmp_path / "verifiers")
    monkeypatch.chdir(tmp_path)
    return tmp_path
