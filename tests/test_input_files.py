"""Every file a command reads because someone named it: a FIFO or a device is one sentence, never a hang.

`quizzer import csv|anki`, `verify --merge` and `verify --cache-file` read their files with a plain
read: a FIFO blocked forever and /dev/zero read without end. Decks were already guarded; all now share
`quizzer.files`.
"""

from __future__ import annotations

import os
import subprocess
import sys

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
