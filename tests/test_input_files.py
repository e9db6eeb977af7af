"""Every file a command reads because someone named it: a FIFO or a device is one sentence, never a hang.

`quizzer import csv|anki`, `verify --merge` and `verify --cache-file` read their files with a plain
read: a FIFO blocked forever and /dev/zero read without end. Decks were already guarded; all now share
`quizzer.files`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from quizzer.files import NotARegularFile, TooLarge, read_regular

COMMANDS = {
    "import csv": lambda file, out: ["import", "csv", file, "-o", out],
    "import anki": lambda file, out: ["import", "anki", file, "-o", out],
    "verify --merge": lambda file, out: ["verify", "--merge", file],
    "verify --cache-file": lambda file, out: ["verify", "--cache-file", file, "no-such-deck"],
    "lint": lambda file, out: ["lint", file],
}


@pytest.fixture(params=["fifo", "/dev/zero"])
def special(request, tmp_path):
    if request.param == "fifo":
        path = tmp_path / "named.toml"
        os.mkfifo(path)
        return path
    return request.param


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_fifo_or_device_is_refused_in_one_sentence(command, special, tmp_path):
    env = {**os.environ, "QUIZZER_HOME": str(tmp_path / "home")}
    env.pop("QUIZZER_DB", None)
    args = COMMANDS[command](str(special), str(tmp_path / "out"))
    # the timeout bounds only a hang (the defect), it is no time budget
    result = subprocess.run(
        [sys.executable, "-m", "quizzer", *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode in (1, 2) and "Traceback" not in result.stderr, result.stderr
    assert "not a regular file" in result.stdout + result.stderr
    assert not (tmp_path / "out").exists()


def test_the_reader_bounds_what_it_reads(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    assert read_regular(path, 10) == b"x" * 10
    with pytest.raises(TooLarge):
        read_regular(path, 9)
    with pytest.raises(NotARegularFile):
        read_regular("/dev/zero", 1 << 30)
    with pytest.raises(IsADirectoryError):
        read_regular(tmp_path, 10)


@pytest.mark.parametrize("fifo", ["decks/schema.json", "decks/d.toml"])
def test_quizzer_new_beside_a_fifo_refuses_and_writes_nothing(fifo, tmp_path):
    (tmp_path / "decks").mkdir()
    os.mkfifo(tmp_path / fifo)
    env = {**os.environ, "QUIZZER_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-m", "quizzer", "new", "d", "c", "-k", "numeric", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1 and "not a regular file" in result.stderr, result.stderr
    assert sorted(p.name for p in (tmp_path / "decks").iterdir()) == [Path(fifo).name]
    assert not (tmp_path / "verifiers").exists()


def test_an_import_into_a_folder_whose_schema_is_a_fifo_refuses_and_writes_nothing(tmp_path):
    (tmp_path / "out").mkdir()
    os.mkfifo(tmp_path / "out" / "schema.json")
    (tmp_path / "cards.csv").write_text("prompt,answer\nq,a\n")
    env = {**os.environ, "QUIZZER_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [sys.executable, "-m", "quizzer", "import", "csv", str(tmp_path / "cards.csv"), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1 and "schema.json exists and is not a regular file" in result.stderr, result.stderr
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["schema.json"]


@pytest.mark.parametrize("content", ["package", "not a zip"])
def test_reading_a_package_closes_the_file_it_opened(tmp_path, content):
    """The .apkg was opened for zipfile, which never closes a file it is handed: one descriptor leaked per import."""
    import gc
    import warnings

    import genanki

    from quizzer.authoring.importing import ImportProblem, read_package

    path = tmp_path / "deck.apkg"
    if content == "package":
        model = genanki.Model(1607392319, "Basic", fields=[{"name": "Front"}, {"name": "Back"}],
                              templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{Back}}"}])  # fmt: skip
        deck = genanki.Deck(2059400110, "D")
        deck.add_note(genanki.Note(model, ["q", "a"]))
        genanki.Package(deck).write_to_file(path)
    else:
        path.write_text("not a zip")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            read_package(path)
        except ImportProblem:
            assert content == "not a zip"
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)], [str(w.message) for w in caught]
