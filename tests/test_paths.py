"""Where quizzer looks: ./decks in a deck project, else the bundled decks; the database location."""

from pathlib import Path

from quizzer.paths import bundled_decks, default_db, default_decks


def test_bundled_decks_are_found():
    assert (bundled_decks() / "cnn.toml").is_file()


def test_a_deck_project_uses_its_own_decks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert default_decks() == bundled_decks()
    (tmp_path / "decks").mkdir()
    assert default_decks() == bundled_decks()  # an empty folder is not a deck project
    (tmp_path / "decks" / "mine.toml").write_text('id = "mine"\ntitle = "Mine"\n')
    assert default_decks() == Path("decks")


def test_quizzer_home_overrides_the_data_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("QUIZZER_HOME", str(tmp_path))
    assert default_db() == tmp_path / "quizzer.db"
