"""The app's background `quizzer verify`: a run that was stopped (timeout, crash) is no verdict on the card."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest
from test_isolation import SPAWNS, processes_with, project
from test_tui import NOW, SIZE, TODAY, async_test, settle, shown, wait_for_verification
from test_tui_daily import copy_decks

from quizzer.cards.loader import load_deck
from quizzer.store import Store
from quizzer.verify.runner import Job, cache_key
from quizzer.verify.zygote import live_descendants

SLEEPING_TOTAL = """

def total() -> Result:  # replaced by the test: never returns within the timeout
    import time

    time.sleep(600)
"""


@async_test
async def test_a_timed_out_card_says_not_verified_never_failed_and_is_retried_once_per_app_run(tmp_path, monkeypatch):
    from quizzer.review.tui.app import QuizzerApp
    from quizzer.review.tui.library import Library
    from quizzer.review.tui.screens.review import ReviewScreen

    decks = copy_decks(tmp_path)
    verifier = decks.parent / "verifiers" / "basics.py"
    verifier.write_text(verifier.read_text() + SLEEPING_TOTAL)  # the later `total` wins
    db = tmp_path / "q.db"
    basics = load_deck(decks / "basics.toml")
    timed_out = {"status": "timeout", "message": "timed out after 60 s and was stopped", "duration": 60.02}
    with Store.open(db) as store:  # the last app run's verification of basics/sum timed out
        key = cache_key(Job(basics, basics.deck.card("sum")))
        outcome = json.dumps(timed_out)
        store.save_verification("basics/sum", key, "timeout", outcome, "2.4.1", "2025-03-01T08:00:00+0000", 60.02)

    runs: list[tuple[str, ...]] = []
    spawn = asyncio.create_subprocess_exec

    async def counted(*argv, **kwargs):
        runs.append(argv)
        return await spawn(*argv, **kwargs)

    monkeypatch.setattr(asyncio, "create_subprocess_exec", counted)
    command = Library.verify_command
    monkeypatch.setattr(Library, "verify_command", lambda *a, **k: [*command(*a, **k), "--timeout", "1"])

    app = QuizzerApp(db, [decks], today=TODAY, clock=lambda: NOW, auto_verify=True, bundled=decks)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await wait_for_verification(pilot)
        assert len(runs) == 1 and any(target.endswith("::sum") for target in runs[0]), "retried in the background"
        sum_card = app.library.verification("basics/sum")
        assert sum_card.badge == "interrupted" and app.library.deck_badges("basics")["failed"] == 0
        assert re.fullmatch(r"⊘ timed out after \d+\.\d s: not verified", sum_card.label), sum_card.label
        assert float(sum_card.stopped.split()[-2]) >= 1, "it ran for its whole timeout this time"

        app.compute_cache_keys()  # what an edit does: badges recomputed, missing and stale cards verified
        await settle(pilot)
        await wait_for_verification(pilot)
        assert len(runs) == 1, "an interrupted card is retried once per app run, not in a loop"

        app.start_review(["basics"])
        screen = await shown(pilot, ReviewScreen)
        assert screen.item.key == "basics/sum" and not screen.revealed
        banner = screen.query_one("#caution")
        text = str(banner.render())
        assert text.startswith(f"⚠ Its verifier {sum_card.stopped}: not verified."), text
        assert "says nothing about the stated answer" in text and "failed" not in text
        assert not banner.has_class("-failed")
        await pilot.press("1", "0", "enter")  # graded against the stated answer, as any card not verified
        assert screen.revealed and screen.verdict.status == "correct"
        panel = screen.query_one("VerificationPanel")
        assert str(panel.query_one("#verification-badge").render()).startswith(sum_card.label)
        message = str(panel.query_one("#verification-message").render())
        assert message.startswith("timed out after 1 s and was stopped.") and "ctrl+r" in message


def _started(pid: int) -> bytes | None:
    """The start time of a live process (None once it has exited, zombies included): tells a pid reused apart."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rpartition(b")")[2].split()
    except OSError:
        return None
    return None if fields[0] in (b"Z", b"X") else fields[19]


def _wait_until(condition, bound: float, step: float = 0.1) -> bool:
    """Poll `condition` up to `bound` seconds (a generous bound, not a measured threshold)."""
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM], ids=lambda sig: sig.name)
def test_killing_the_app_while_it_verifies_leaves_no_verify_zygote_or_card_process(tmp_path, sig):
    """Closing the terminal (SIGHUP) or SIGTERM ends the app without its clean-up: `quizzer verify`,
    its zygote, the card process and what the card's verifier started must all go with it."""
    marker = f"quizzer-test-app-sleeper-{os.getpid()}-{sig.name}"
    pids = tmp_path / "pids.txt"
    # Eight cards that hang: left alone, `quizzer verify` would run for 8 x its 60 s timeout, far past the bound below.
    hanging = [(f"card{i}", "hangs", "{ kind = 'numeric', value = 1 }") for i in range(8)]
    deck = project(tmp_path / "project", SPAWNS.format(pids=str(pids), marker=marker), hanging)
    db = tmp_path / "q.db"
    with Store.open(db) as store:
        store.trust_project(deck.parent.parent)  # so the app verifies the deck in the background

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    output = bytearray()

    def drain() -> None:  # the app writes escape codes; a full pty buffer would block it
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            output.extend(chunk)

    threading.Thread(target=drain, daemon=True).start()
    env = dict(os.environ, QUIZZER_HOME=str(tmp_path / "home"), TERM="xterm-256color")
    command = [sys.executable, "-m", "quizzer", "review", str(deck), "--db", str(db)]
    app = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    try:
        running = _wait_until(lambda: pids.exists() and len(pids.read_text().split()) >= 3, bound=180)
        assert running, f"the card's verifier never started its children: {output[-2000:]!r}"
        tree = {pid: _started(pid) for pid in live_descendants(app.pid)}
        names = {pid: Path(f"/proc/{pid}/cmdline").read_bytes()[:80] for pid in tree}
        assert any(b"verify" in name for name in names.values()) and len(tree) >= 6, names  # zygote, card, 3 sleepers
        before_kill = len(output)
        os.kill(app.pid, sig)
        assert app.wait(timeout=60) == 128 + sig, "the app leaves through its own exit, with the shell's code"
        restored = _wait_until(lambda: b"\x1b[?1049l" in output[before_kill:], bound=60)
        assert restored, f"the terminal did not get its screen back after {sig.name}: {output[-300:]!r}"
        gone = _wait_until(lambda: all(_started(pid) != started for pid, started in tree.items()), bound=120)
        survivors = {names[pid] for pid, started in tree.items() if _started(pid) == started}
        assert gone, f"still running after the app was killed by {sig.name}: {survivors}"
        assert processes_with(marker) == []
    finally:
        if app.poll() is None:
            app.kill()
        os.close(master)
        for pid, started in tree.items() if "tree" in locals() else ():
            if _started(pid) == started:
                os.kill(pid, signal.SIGKILL)
