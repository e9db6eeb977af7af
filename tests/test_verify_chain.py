"""Whatever breaks the chain `quizzer verify` → zygote → card → what the verifier started, nothing the
verifier started outlives it (issue 11, item 2), checked in /proc.

The card's verifier starts three sleeping children (one plain, one in a session of its own, one
orphaned at once by a double fork), each carrying a unique marker in its argv, writes down its
parent (the zygote) and hangs. Then one link of the chain is broken from outside: the zygote killed
as the OOM killer would, the pool's process killed, its whole process group hung up (the terminal
closed) or killed, or Ctrl-C. Afterwards no process with the marker may be left: polled with a
generous bound, never a measured threshold.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_isolation import SPAWNS, processes_with, project

from quizzer.cards.loader import load_deck
from quizzer.verify.runner import Job, WorkerPool

NAMES_ITS_PARENT = """

def names_its_parent_and_hangs():
    Path({parents!r}).write_text(f"{{os.getppid()}}\\n")  # the card process's parent: the zygote
    hangs()
"""

BOUND = 120.0  # seconds: generous, for a loaded machine; a pass never waits for it


def _wait_until(condition, bound: float = BOUND, step: float = 0.05) -> bool:
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def _hanging_project(tmp_path: Path, marker: str) -> tuple[Path, Path, Path]:
    """The deck, the file the sleepers write their pids to, and the one the card writes the zygote's pid to."""
    pids, parents = tmp_path / "pids.txt", tmp_path / "zygote.txt"
    verifiers = SPAWNS.format(pids=str(pids), marker=marker) + NAMES_ITS_PARENT.format(parents=str(parents))
    card = [("card", "names_its_parent_and_hangs", "{ kind = 'numeric', value = 1 }")]
    return project(tmp_path / "project", verifiers, card), pids, parents


def _running(pids: Path, parents: Path) -> bool:
    return pids.exists() and len(pids.read_text().split()) >= 3 and parents.exists() and parents.read_text().strip()


def _kill_leftovers(marker: str) -> None:
    """A failing run must not leave sleepers behind for the rest of the suite."""
    for pid in processes_with(marker):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_the_zygote_killed_while_a_card_runs_leaves_nothing_the_verifier_started(tmp_path):
    """The pool in this process; its zygote SIGKILLed (the OOM killer's way) while the card hangs."""
    marker = f"quizzer-test-chain-{os.getpid()}-pool-zygote"
    deck, pids, parents = _hanging_project(tmp_path, marker)
    loaded = load_deck(deck)

    def kill_the_zygote() -> None:
        if _wait_until(lambda: _running(pids, parents)):
            os.kill(int(parents.read_text()), signal.SIGKILL)

    killer = threading.Thread(target=kill_the_zygote, daemon=True)
    killer.start()
    try:
        with WorkerPool(1, timeout=600) as pool:
            [(_, outcome)] = list(pool.run([Job(loaded, loaded.deck.cards[0])]))
            assert len(pids.read_text().split()) == 3, "the verifier started its three children"
            assert outcome.status == "crashed" and "parent died" in outcome.message, outcome.message
            # the pool has noticed; the pool's own process (this one) is still running
            assert _wait_until(lambda: processes_with(marker) == []), f"still running: {processes_with(marker)}"
    finally:
        killer.join(timeout=BOUND)
        _kill_leftovers(marker)


def _zygote(verify: subprocess.Popen, parents: Path) -> None:
    os.kill(int(parents.read_text()), signal.SIGKILL)


def _parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as stat:
        return int(stat.read().rpartition(b")")[2].split()[1])


def _zygotes_parent(verify: subprocess.Popen, parents: Path) -> None:
    os.kill(_parent_of(int(parents.read_text())), signal.SIGKILL)


def _verify_itself(verify: subprocess.Popen, parents: Path) -> None:
    os.kill(verify.pid, signal.SIGKILL)


def _verify_while_the_zygote_is_stopped(verify: subprocess.Popen, parents: Path) -> None:
    """A zygote that cannot answer (SIGSTOP, as a verifier may send its parent) when the command is killed."""
    os.kill(int(parents.read_text()), signal.SIGSTOP)
    os.kill(verify.pid, signal.SIGKILL)


def _group(sig: signal.Signals):
    def send(verify: subprocess.Popen, parents: Path) -> None:
        os.killpg(verify.pid, sig)  # what a terminal sends its foreground job (Ctrl-C, closing it) or `kill -- -PGID`

    return send


BREAKS = {
    "zygote-SIGKILL": _zygote,
    "zygotes-parent-SIGKILL": _zygotes_parent,
    "verify-SIGKILL": _verify_itself,
    "verify-SIGKILL-zygote-stopped": _verify_while_the_zygote_is_stopped,
    "group-SIGHUP": _group(signal.SIGHUP),
    "group-SIGKILL": _group(signal.SIGKILL),
    "group-SIGINT": _group(signal.SIGINT),
}


@pytest.mark.parametrize("break_chain", BREAKS.values(), ids=BREAKS.keys())
def test_quizzer_verify_broken_anywhere_leaves_nothing_the_verifier_started(tmp_path, break_chain):
    marker = f"quizzer-test-chain-{os.getpid()}-{break_chain.__name__}-{tmp_path.name}"
    deck, pids, parents = _hanging_project(tmp_path, marker)
    env = {**os.environ, "QUIZZER_DB": str(tmp_path / "q.db"), "QUIZZER_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "quizzer", "verify", "--no-cache", "--jobs", "1", "--timeout", "600", str(deck)]
    # In a process group of its own, as a shell runs a job: the group signals reach only it.
    verify = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    try:
        assert _wait_until(lambda: _running(pids, parents) or verify.poll() is not None)
        assert verify.poll() is None, verify.stdout.read().decode(errors="replace")
        break_chain(verify, parents)
        output = verify.communicate(timeout=BOUND)[0].decode(errors="replace")
        assert verify.returncode != 0, output
        assert _wait_until(lambda: processes_with(marker) == []), f"still running: {processes_with(marker)}"
    finally:
        if verify.poll() is None:
            verify.kill()
            verify.wait()
        _kill_leftovers(marker)
        _kill_leftover_zygote(parents)


def _kill_leftover_zygote(parents: Path) -> None:
    """A stopped zygote that failed to go would otherwise stay for good (and keep its card)."""
    with contextlib.suppress(OSError, ValueError):
        zygote = int(parents.read_text())
        if b"multiprocessing" in Path(f"/proc/{zygote}/cmdline").read_bytes():
            os.kill(zygote, signal.SIGKILL)
