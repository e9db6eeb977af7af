import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]


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
