"""Start-up benchmark: time from launching `quizzer` to the decks screen showing today's counts.

Runs the real command in a pseudo-terminal (100×30) on the bundled decks, several times, with
`QUIZZER_TUI_READY_FILE` set: the app writes the wall-clock time at which the decks screen is ready
(counts on screen) into that file and exits. Budget (DESIGN.md): median < 0.5 s.

Beside it, in the same harness and interleaved run by run (so a loaded machine weighs on both
alike), a one-label Textual app (`ONE_LABEL`) that writes the same file after its first refresh:
the floor any Textual app pays (interpreter, Textual's import, the first frame). Target (issue 15):
quizzer's median ≤ 1.5× the one-label app's.

    python benchmarks/bench_startup.py            # 9 runs of each
    python benchmarks/bench_startup.py --runs 15 --decks path/to/decks

It then drives a review in-process (Textual's pilot, bundled decks, a throw-away database) and
reports how long the UI thread spends checking a typed answer and revealing it, and recording a
grade and showing the next card: the work that must never make the screen stall.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
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
RATIO_TARGET = 1.5

ONE_LABEL = """
import os, time
from pathlib import Path
from textual.app import App
from textual.widgets import Label

class OneLabel(App):
    def compose(self):
        yield Label("ready")

    def on_mount(self):
        self.call_after_refresh(self.ready)

    def ready(self):
        Path(os.environ["QUIZZER_TUI_READY_FILE"]).write_text(repr(time.time()))
        self.exit()

OneLabel().run()
"""


def describe(samples: list[float], unit: str = "s") -> str:
    """Median and p95 (nearest rank) of the samples."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):.3f} {unit}, p95 {p95:.3f} {unit} (n={len(ordered)})"


def launch_once(command: list[str], workdir: Path, columns: int = 100, rows: int = 30) -> float:
    ready = workdir / "ready"
    ready.unlink(missing_ok=True)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = dict(os.environ, QUIZZER_TUI_READY_FILE=str(ready), TERM=os.environ.get("TERM", "xterm-256color"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as a learner runs it: byte code cached, not compiled each launch

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


def answer_latency(decks: str | None, answers: int = 30) -> tuple[list[float], list[float], list[float]]:
    """Seconds spent in the review screen's reveal and grade handlers, and in recording the grade, per answer."""
    import asyncio

    from quizzer.review.session import Session
    from quizzer.review.tui.app import QuizzerApp
    from quizzer.review.tui.screens.review import ReviewScreen

    reveal_times: list[float] = []
    grade_times: list[float] = []
    record_times: list[float] = []
    original_reveal, original_grade = ReviewScreen.reveal, ReviewScreen.action_grade
    original_record = Session.grade

    def timed_record(self, *args, **kwargs):
        started = time.perf_counter()
        review = original_record(self, *args, **kwargs)
        record_times.append(time.perf_counter() - started)
        return review

    async def timed_reveal(self) -> None:
        started = time.perf_counter()
        await original_reveal(self)
        reveal_times.append(time.perf_counter() - started)

    def timed_grade(self, quality: int) -> None:
        started = time.perf_counter()
        original_grade(self, quality)
        grade_times.append(time.perf_counter() - started)

    ReviewScreen.reveal, ReviewScreen.action_grade = timed_reveal, timed_grade
    Session.grade = timed_record

    async def drive(db: Path) -> None:
        app = QuizzerApp(db, [decks] if decks else None, auto_verify=False)
        async with app.run_test(size=(100, 30)) as pilot:
            for _ in range(3):
                await app.workers.wait_for_complete()
                await pilot.pause()
            await pilot.press("a")
            await pilot.pause()
            for _ in range(answers):
                if not isinstance(app.screen, ReviewScreen) or app.screen.item is None:
                    break
                await pilot.press("4", "2", "enter")
                await pilot.pause()
                if not app.screen.revealed:  # "42" does not read as this kind: give up on the card instead
                    await pilot.press("ctrl+u", "enter")
                    await pilot.pause()
                await pilot.press("3" if len(grade_times) % 3 else "1")
                await pilot.pause()

    try:
        with tempfile.TemporaryDirectory() as folder:
            asyncio.run(drive(Path(folder) / "answers.db"))
    finally:
        ReviewScreen.reveal, ReviewScreen.action_grade = original_reveal, original_grade
        Session.grade = original_record
    return reveal_times, grade_times, record_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--decks", help="deck folder (default: the bundled decks)")
    args = parser.parse_args()

    # The console script of this interpreter (as a venv or `pip install` puts it beside `python`), so both
    # sides start the same interpreter directly: a `quizzer` found first on PATH may be a version manager's
    # shim (pyenv's is a bash script that runs `pyenv exec`, about 0.3 s before Python starts).
    script = Path(sys.executable).parent / "quizzer"
    base = [str(script)] if script.is_file() else [sys.executable, "-m", "quizzer"]
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        db = workdir / "bench.db"
        command = [*base, "review", "--db", str(db)] + ([args.decks] if args.decks else [])
        baseline = [sys.executable, "-c", ONE_LABEL]
        cold = launch_once(command, workdir)  # creates and migrates the database, syncs the decks
        launch_once(baseline, workdir)
        times, floor = [], []
        for _ in range(args.runs):  # interleaved: a load spike weighs on both sides alike
            times.append(launch_once(command, workdir))
            floor.append(launch_once(baseline, workdir))
    median = statistics.median(times)
    ratio = median / statistics.median(floor)
    print(f"command: {' '.join(command)}")
    print(f"first launch (new database): {cold * 1000:.0f} ms")
    print(f"launch → decks screen ready, {args.runs} runs: " + ", ".join(f"{t * 1000:.0f}" for t in times) + " ms")
    print(f"  quizzer:         {describe(times)}")
    print(f"  one-label app:   {describe(floor)}  (python -c ONE_LABEL, same pty)")
    print(f"  quizzer / one-label (medians): {ratio:.2f}×  (target ≤ {RATIO_TARGET}×)")
    print(f"budget {BUDGET * 1000:.0f} ms: {'OK' if median < BUDGET else 'OVER BUDGET'}")

    reveals, grades, records = answer_latency(args.decks)
    for name, values in (
        ("check + reveal", reveals),
        ("grade + next card", grades),
        ("  of which recording the grade (SQLite)", records),
    ):
        if values:
            print(
                f"{name}, {len(values)} answers on the UI thread: median {statistics.median(values) * 1000:.1f} ms,"
                f" max {max(values) * 1000:.1f} ms"
            )
    sys.exit(0 if median < BUDGET and ratio <= RATIO_TARGET else 1)


if __name__ == "__main__":
    main()
