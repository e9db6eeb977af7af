"""Start-up benchmark: time from launching `quizzer` to the decks screen showing today's counts.

Runs the real command in a pseudo-terminal (100×30) on the bundled decks, several times, with
`QUIZZER_TUI_READY_FILE` set: the app writes the wall-clock time at which the decks screen is ready
(counts on screen) into that file and exits. Budget (DESIGN.md): median < 0.5 s.

    python benchmarks/bench_startup.py            # 9 runs
    python benchmarks/bench_startup.py --runs 15 --decks path/to/decks
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

BUDGET = 0.5


def launch_once(command: list[str], workdir: Path, columns: int = 100, rows: int = 30) -> float:
    ready = workdir / "ready"
    ready.unlink(missing_ok=True)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = dict(os.environ, QUIZZER_TUI_READY_FILE=str(ready), TERM=os.environ.get("TERM", "xterm-256color"))

    def drain() -> None:  # the app writes escape codes; a full pty buffer would block it
        while True:
            try:
                if not os.read(master, 65536):
                    return
            except OSError:
                return

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    started = time.time()
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    try:
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    if not ready.exists():
        raise SystemExit(f"the app exited ({process.returncode}) without reaching the decks screen: {command}")
    return float(ready.read_text()) - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--decks", help="deck folder (default: the bundled decks)")
    args = parser.parse_args()

    executable = shutil.which("quizzer") or sys.executable
    base = [executable] if executable.endswith("quizzer") else [sys.executable, "-m", "quizzer"]
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        db = workdir / "bench.db"
        command = [*base, "review", "--db", str(db)] + ([args.decks] if args.decks else [])
        cold = launch_once(command, workdir)  # creates and migrates the database, syncs the decks
        times = [launch_once(command, workdir) for _ in range(args.runs)]
    median = statistics.median(times)
    print(f"command: {' '.join(command)}")
    print(f"first launch (new database): {cold * 1000:.0f} ms")
    print(f"launch → decks screen ready, {args.runs} runs: " + ", ".join(f"{t * 1000:.0f}" for t in times) + " ms")
    print(f"median {median * 1000:.0f} ms, min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")
    print(f"budget {BUDGET * 1000:.0f} ms: {'OK' if median < BUDGET else 'OVER BUDGET'}")
    sys.exit(0 if median < BUDGET else 1)


if __name__ == "__main__":
    main()
