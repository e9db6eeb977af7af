"""`quizzer verify --watch`: a saved verifier or deck is verified again, the others answer from the cache."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

VERIFIER = (
    "from quizzer.verifier import Result\n\n\ndef verify():\n    r = Result()\n    r.value = {value}\n    return r\n"
)
CARD = (
    '\n[[cards]]\nid = "{id}"\nprompt = "2 + 2?"\nexplanation = "Arithmetic."\nverifier = "{file}"\n'
    'answer = {{ kind = "numeric", value = 4 }}\n'
)


def _project(root: Path) -> Path:
    (root / "decks").mkdir(parents=True)
    (root / "verifiers").mkdir()
    (root / "verifiers" / "edited.py").write_text(VERIFIER.format(value=4))
    (root / "verifiers" / "other.py").write_text(VERIFIER.format(value=4))
    cards = CARD.format(id="edited", file="edited.py") + CARD.format(id="other", file="other.py")
    (root / "decks" / "sample.toml").write_text('id = "sample"\ntitle = "Sample"\n' + cards)
    return root


class Watch:
    """`quizzer verify --watch` in a subprocess, its output lines read as they come."""

    def __init__(self, root: Path, home: Path):
        env = {**os.environ, "QUIZZER_HOME": str(home), "COLUMNS": "200"}
        env.pop("QUIZZER_DB", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "quizzer", "verify", "--watch", "decks/"],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # Ctrl-C as from a terminal: a suite started in the background (`cmd &`) ignores SIGINT, and a
            # child that inherits the ignore never sees the test's Ctrl-C (the watch then ran on, idle)
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def until(self, text: str) -> list[str]:
        """Lines up to and including the first that contains `text` (a generous bound, not a time budget)."""
        seen = []
        while True:
            line = self.lines.get(timeout=300)
            seen.append(line)
            if text in line:
                return seen

    def stop(self) -> str:
        """Ctrl-C, then everything it printed since the last `until` (bounds only a hang, as in `until`)."""
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=300)
        self.reader.join(timeout=300)
        return "\n".join(self.lines.get() for _ in range(self.lines.qsize()))


def _zygote_guards(parent: int) -> set[int]:
    """The pool's guard processes under `parent` (spawned by multiprocessing), from the process table."""
    guards = set()
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if int(stat.rpartition(")")[2].split()[1]) == parent and b"spawn_main" in cmdline:
            guards.add(int(entry.name))
    return guards


def test_a_saved_verifier_is_verified_again_and_only_it_runs(tmp_path):
    root = _project(tmp_path / "course")
    watch = Watch(root, tmp_path / "home")
    try:
        first = watch.until("watching")
        assert any("PASS sample/edited" in line for line in first) and any(
            "PASS sample/other" in line for line in first
        )
        guards = _zygote_guards(watch.process.pid)
        assert len(guards) == 1, guards  # one pool, its zygote kept warm for the next save
        (root / "verifiers" / "edited.py").write_text(VERIFIER.format(value=5))
        second = watch.until("watching")
        assert _zygote_guards(watch.process.pid) == guards  # the save ran in the same zygote: no torch import
        assert any("FAIL sample/edited" in line for line in second), second
        assert any("PASS sample/other (cached)" in line for line in second), second
        deck = root / "decks" / "sample.toml"
        deck.write_text(deck.read_text().replace("value = 4 }", "value = 5 }", 1))  # the card now agrees
        third = watch.until("watching")
        assert any("PASS sample/edited" in line for line in third), third
        deck.write_text("not toml [")  # broken mid-edit: reported, and the watch goes on
        fourth = watch.until("watching")
        assert any("sample.toml" in line for line in fourth), fourth
        assert any("1 broken deck file(s) skipped" in line for line in fourth), fourth  # not "all verified" alone
        assert watch.process.poll() is None
    finally:
        rest = watch.stop()
    assert "stopped watching" in rest and "Traceback" not in rest
