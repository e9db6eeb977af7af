"""A faulty state database is one sentence (what is wrong, what to do), never a traceback or a write.

Faults as they happen: random bytes in the middle of the file, a newer schema, a read-only file, a
full disk, another program holding the lock. Each command that touches the database is run against
each; a damaged file must come out byte for byte as it went in.
"""

import contextlib
import hashlib
import os
import pty
import random
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_tui import HANG_SECONDS, until

from quizzer import store as store_module
from quizzer.cards.loader import load_deck
from quizzer.cli import main
from quizzer.review.session import sync_deck
from quizzer.store import DamagedDatabase, Store, explain_failure, is_busy

DECK = Path(__file__).parent / "fixtures" / "scheduling-decks" / "beta.toml"
TODAY, NOW = date(2024, 3, 1), datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
REPO = Path(__file__).parent.parent

COMMANDS = {
    "show": ["show", f"{DECK}::one"],
    "export": ["export", "anki", "-o", "{tmp}/out.apkg", str(DECK)],
    "verify": ["verify", str(DECK)],
    "due": ["due", "--today", "2024-03-01", str(DECK)],
    "stats": ["stats", "--today", "2024-03-01"],
    "review": ["review", "--plain", "--today", "2024-03-01", str(DECK)],
}
ANSWERS = "2\n5\n" * 3


def populated(path: Path) -> Path:
    """A real database: the deck synced, 3,000 answers in the log, a cached verification."""
    with Store.open(path) as store:
        store.db.execute("PRAGMA synchronous = OFF")  # set-up only: 3,000 fsyncs would take seconds
        sync_deck(store, load_deck(DECK).deck)
        for _ in range(3000):
            store.record_answer("beta/one", 4, today=TODAY, now=NOW, typed="x" * 50)
        store.save_verification("beta/one", "key", "passed", "{}", "2.4", "2024-03-01T09:00:00+0000", 0.1)
    return path


def damage(path: Path) -> None:
    """Random bytes over one page in the middle of the file (seeded: the same damage every run)."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2 // 4096 * 4096
    rng = random.Random(11)
    data[middle : middle + 4096] = bytes(rng.randrange(256) for _ in range(4096))
    path.write_bytes(bytes(data))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(name: str, db: Path, tmp_path: Path):
    args = [part.replace("{tmp}", str(tmp_path)) for part in COMMANDS[name]]
    return CliRunner().invoke(main, ["--db", str(db), *args], input=ANSWERS)


def assert_one_sentence(result, *expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), f"a message, not {result.exception!r}"
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and all(part in errors[0] for part in expected), result.stderr
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return populated(tmp_path_factory.mktemp("pristine") / "quizzer.db")


@pytest.fixture
def damaged(pristine, tmp_path) -> Path:
    path = tmp_path / "damaged.db"
    shutil.copy(pristine, path)
    damage(path)
    return path


@pytest.mark.parametrize("name", COMMANDS)
def test_a_damaged_file_is_never_written_and_is_named(damaged, tmp_path, name):
    before = digest(damaged)
    result = run(name, damaged, tmp_path)
    assert digest(damaged) == before, "quizzer wrote into a damaged database"
    if name in ("verify", "review", "stats"):  # they write, or read the damaged log
        assert_one_sentence(result, f"the state database {damaged} is damaged", "mv ", ".recover")
    else:  # they read only pages that are intact, and write nothing
        assert result.exit_code in (0, 1) and "Traceback" not in result.output
        assert isinstance(result.exception, SystemExit | None), repr(result.exception)


def test_the_integrity_check_runs_before_the_first_write_and_sticks(damaged):
    with Store.open(damaged) as store:
        with pytest.raises(DamagedDatabase):
            store.set_setting("theme", "x")
        with pytest.raises(DamagedDatabase):  # and again, without a second check
            store.record_answer("beta/two", 4, today=TODAY, now=NOW)


def test_a_clean_store_passes_the_integrity_check_once(pristine, tmp_path):
    path = tmp_path / "copy.db"
    shutil.copy(pristine, path)
    with Store.open(path) as store:
        store.check_integrity()
        store.record_answer("beta/two", 4, today=TODAY, now=NOW)
        assert store.history("beta/two")


@pytest.mark.parametrize("name", COMMANDS)
def test_a_newer_schema_is_one_sentence_and_untouched(pristine, tmp_path, name):
    path = tmp_path / "newer.db"
    shutil.copy(pristine, path)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA user_version = 99")
    before = digest(path)
    assert_one_sentence(run(name, path, tmp_path), "schema version 99, newer than this quizzer knows", "upgrade")
    assert digest(path) == before


@pytest.mark.parametrize("name", COMMANDS)
def test_another_programs_sqlite_file_is_refused_and_untouched(tmp_path, name):
    """quizzer added its tables to it and switched it to WAL mode (every command exited 0)."""
    path = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE bookmarks (url TEXT)")
        conn.commit()
    before = digest(path)
    assert_one_sentence(run(name, path, tmp_path), "an SQLite database of another program (tables bookmarks)")
    assert digest(path) == before and not Path(f"{path}-wal").exists()


def test_import_anki_with_a_damaged_database_writes_no_deck(damaged, tmp_path):
    """The decks and media were written, then the progress was refused: exit 1 with the decks left behind (a
    rerun said they already exist)."""
    package = Path(__file__).parent / "fixtures" / "anki" / "current-format.apkg"
    before, out = digest(damaged), tmp_path / "imported"
    result = CliRunner().invoke(main, ["--db", str(damaged), "import", "anki", str(package), "-o", str(out)])
    assert_one_sentence(result, "is damaged", "wrote nothing")
    assert digest(damaged) == before and not (out.exists() and any(out.iterdir()))


@pytest.mark.parametrize("kind", ["fifo", "device"])
@pytest.mark.parametrize("name", COMMANDS)
def test_a_fifo_or_device_as_the_database_is_one_sentence(tmp_path, name, kind):
    """SQLite opened them and failed with 'disk I/O error; check the disk' (a block device would be written)."""
    path = tmp_path / "q.db"
    os.mkfifo(path) if kind == "fifo" else path.symlink_to("/dev/zero")
    assert_one_sentence(run(name, path, tmp_path), f"the state database {path} is not a regular file")


@pytest.mark.parametrize("name", ["show", "export"])
def test_a_database_path_too_long_for_the_system_is_one_sentence(tmp_path, name):
    """A 300-character folder name: pathlib's exists() raised ENAMETOOLONG in the commands that only read."""
    assert_one_sentence(run(name, tmp_path / ("x" * 300) / "q.db", tmp_path), "state database")


def test_a_trusted_path_that_is_not_text_is_skipped_not_a_traceback(pristine, tmp_path):
    """Another writer left a BLOB (or NULL) where a path belongs: `quizzer trust` raised TypeError."""
    path = tmp_path / "odd.db"
    shutil.copy(pristine, path)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("INSERT INTO trusted_projects (path, added_at) VALUES (x'ff00', 'x'), ('/real/project', 'y')")
        conn.commit()
    result = CliRunner().invoke(main, ["--db", str(path), "trust"])
    assert result.exit_code == 0 and result.exception is None, result.output
    assert "/real/project" in result.output


@pytest.fixture
def read_only(pristine, tmp_path):
    """A database the process cannot write: chmod for a user, the immutable flag for root (chmod binds no root)."""
    path = tmp_path / "read-only.db"
    shutil.copy(pristine, path)
    if os.geteuid() != 0:
        path.chmod(0o444)
        yield path
        return
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("running as root on a filesystem without chattr +i: no way to make a file read-only")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.mark.parametrize("name", ["verify", "review"])
def test_a_read_only_file_is_one_sentence(read_only, tmp_path, name):
    assert_one_sentence(run(name, read_only, tmp_path), f"the state database {read_only} is read-only", "writable")


@pytest.mark.parametrize("name", ["show", "export", "stats"])
def test_reading_commands_still_read_a_read_only_file(read_only, tmp_path, name):
    result = run(name, read_only, tmp_path)
    assert result.exit_code == 0, result.output


def test_a_full_database_refuses_the_answer_with_a_sentence_and_keeps_nothing_half_done(pristine, tmp_path):
    """SQLITE_FULL for real: the database may not grow past its current pages (what a full disk does to it)."""
    path = tmp_path / "full.db"
    shutil.copy(pristine, path)
    with Store.open(path) as store:
        (pages,) = store.db.execute("PRAGMA page_count").fetchone()
        store.db.execute(f"PRAGMA max_page_count = {pages}")
        recorded = []
        with pytest.raises(sqlite3.OperationalError) as raised:
            for _ in range(500):
                recorded.append(store.record_answer("beta/two", 4, today=TODAY, now=NOW, typed="y" * 2000).id)
        assert explain_failure(path, raised.value).startswith(f"the disk holding the state database {path} is full")
        assert [review.id for review in store.history("beta/two")] == recorded  # the refused one left no row
        assert store.card("beta/two").last_review == (recorded[-1] if recorded else None)  # nor a state change


def test_a_disk_that_refuses_writes_is_a_sentence_not_a_traceback(pristine, tmp_path):
    """A file-size limit makes every write fail with an I/O error, as a failing or full disk does."""
    path = tmp_path / "limited.db"
    shutil.copy(pristine, path)

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "quizzer", "--db", str(path), "trust", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, preexec_fn=limit_file_size, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"Error: the state database {path} failed (disk I/O error)")


def test_a_lock_held_past_the_timeout_is_a_sentence(pristine, tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_SECONDS", 0.2)
    path = tmp_path / "locked.db"
    shutil.copy(pristine, path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = run("review", path, tmp_path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_one_sentence(result, f"the state database {path} stayed locked by another program", "try again")


def test_a_lock_waits_without_holding_the_connection(pristine, tmp_path, monkeypatch):
    """While one thread waits for the write lock, another thread's read on the same store is not blocked:
    the wait is between attempts, not inside SQLite's busy handler (which holds the connection's mutex)."""
    import threading
    import time
    from types import SimpleNamespace

    waiting = threading.Event()

    def sleep_between_attempts(seconds: float) -> None:
        waiting.set()  # the writer found the lock taken and waits for its next attempt
        time.sleep(seconds)

    monkeypatch.setattr(store_module, "time", SimpleNamespace(monotonic=time.monotonic, sleep=sleep_between_attempts))
    path = tmp_path / "shared.db"
    shutil.copy(pristine, path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with Store.open(path) as store:
        store.check_integrity()
        outcome = []

        def grade():
            try:
                store.record_answer("beta/two", 4, today=TODAY, now=NOW, lock_wait=600)
                outcome.append("recorded")
            except sqlite3.OperationalError as error:
                outcome.append(error)

        writer = threading.Thread(target=grade)
        writer.start()
        assert waiting.wait(timeout=HANG_SECONDS), "the writer never waited for the lock"
        reads = store.history("beta/one")  # would wait for the writer's whole lock wait if it held the mutex
        assert not outcome, "the read ran while the writer was still waiting"
        holder.execute("ROLLBACK")
        holder.close()
        writer.join()
    assert len(reads) == 3000 and outcome == ["recorded"]


def test_busy_and_damage_are_told_apart():
    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorname = "SQLITE_BUSY"
    assert is_busy(busy)
    assert not is_busy(sqlite3.OperationalError("no such table"))


# ---------------------------------------------------------------------- the app


def test_the_app_exits_non_zero_with_the_sentence_on_a_damaged_database(damaged):
    from quizzer.review.tui.app import QuizzerApp

    app = QuizzerApp(damaged, [DECK.parent], today=TODAY, auto_verify=False, bundled=DECK.parent)

    async def drive():
        async with app.run_test() as pilot:
            await until(pilot, lambda: app.return_code is not None, "the app exited")

    import asyncio

    before = digest(damaged)
    asyncio.run(drive())
    assert app.return_code == 1
    assert digest(damaged) == before


def test_the_app_in_a_terminal_exits_with_the_sentence_on_a_damaged_database_whose_decks_it_lists_first(
    pristine, tmp_path
):
    """Every deck cached and synced: the app lists the decks before the first frame, and the decks screen's
    counts read the damaged page before the integrity check (left to a worker) gets there. The app still
    leaves the terminal with exit code 1 and the sentence, the file untouched (before, a fault raised in a
    screen's handler stopped that screen, and the exit waited for its refresh: the app hung)."""
    import fcntl
    import struct
    import termios
    import threading
    import time

    from quizzer.cards.deckfiles import deck_files

    home = tmp_path / "home"
    damaged = tmp_path / "synced.db"
    shutil.copy(pristine, damaged)
    env = dict(os.environ, QUIZZER_HOME=str(home), TERM="xterm-256color")
    with contextlib.ExitStack() as stack:
        stack.callback(os.environ.update, dict(os.environ))
        os.environ["QUIZZER_HOME"] = str(home)  # the deck cache the app reads
        with Store.open(damaged) as store:  # every deck's card rows there: the decks screen writes nothing
            for path in deck_files([DECK.parent]):
                sync_deck(store, load_deck(path).deck)
    damage(damaged)
    before = digest(damaged)

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
    command = [
        sys.executable,
        "-m",
        "quizzer",
        "--db",
        str(damaged),
        "review",
        "--today",
        "2024-03-01",
        str(DECK.parent),
    ]
    app = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    try:
        code = app.wait(timeout=HANG_SECONDS)
    finally:
        if app.poll() is None:
            app.kill()
        time.sleep(0.2)  # the last bytes through the pty
        os.close(master)
    text = " ".join(re.sub(rb"\x1b\[[0-9;?<>=]*[a-zA-Z~]", b"", bytes(output)).decode(errors="replace").split())
    assert code == 1, text[-2000:]
    assert "is damaged" in text and "Traceback" not in text, text[-2000:]
    assert digest(damaged) == before


def test_a_grade_given_while_another_program_holds_the_lock_is_kept_and_saved_once(tmp_path, monkeypatch):
    """Issue 11.8: the lock outlasts every wait; the app keeps the grade, says so, retries, and saves it
    exactly once when the lock goes; until then nothing is acknowledged and the card stays."""
    import asyncio

    from quizzer.review.session import Limits
    from quizzer.review.tui.app import QuizzerApp
    from quizzer.review.tui.screens import review as review_module
    from quizzer.review.tui.screens.review import ReviewScreen

    monkeypatch.setattr(review_module, "GRADE_LOCK_WAIT_SECONDS", 0.05)
    decks = Path(__file__).parent / "fixtures" / "tui" / "decks"
    db = tmp_path / "q.db"
    app = QuizzerApp(db, [decks], today=TODAY, clock=lambda: NOW, limits=Limits(new_per_day=2), bundled=decks)
    app.auto_verify = False

    def hint(screen) -> str:
        return str(screen.query_one("#hint").content)

    def attempts(screen) -> int:
        tried = re.search(r"tried (\d+)×", hint(screen))
        return int(tried[1]) if tried else 0

    def state():
        screen = app.screen
        shown = hint(screen) if hasattr(screen, "saving") else ""
        return f"the screen: {(type(screen).__name__, getattr(screen, 'saving', None), shown)}"

    async def drive():
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.library is not None, "the decks loaded", state)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, ReviewScreen), "the review screen", state)
            screen = app.screen
            key = screen.item.key
            await pilot.press("enter")  # reveal (a blank answer is fine)
            await until(pilot, lambda: screen.revealed, "the answer revealed", state)

            holder = sqlite3.connect(db, isolation_level=None)
            holder.execute("BEGIN EXCLUSIVE")  # another program writing, for longer than any wait
            await pilot.press("4")
            kept = lambda: screen.saving == 4 and attempts(screen) >= 3  # noqa: E731
            await until(pilot, kept, "the grade kept, retried, still not saved", state)
            await pilot.press("5", "u", "escape")  # no other grade, undo or end while the grade is kept
            assert screen.saving == 4 and screen.item.key == key and screen.revealed
            assert holder.execute("SELECT count(*) FROM reviews").fetchone() == (0,)

            holder.execute("ROLLBACK")
            holder.close()
            await until(pilot, lambda: screen.saving is None, "the kept grade saved", state)
            assert "graded 4" in hint(screen)
            return key

    key = asyncio.run(drive())
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT key, quality FROM review_log").fetchall() == [(key, 4)]


def test_review_plain_keeps_a_grade_while_the_lock_is_held_and_saves_it_on_retry(pristine, tmp_path, monkeypatch):
    """Another program takes the lock just as the grade comes and is done by the time the learner presses
    Enter to retry. The grade is recorded once, after the retry; until then it was never acknowledged.

    The lock goes at the retry itself, not after a delay: a timer raced the grade's own wait, so on a
    loaded machine the first attempt could find the lock already gone and nothing was ever kept."""
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_SECONDS", 0.1)
    path = tmp_path / "plain.db"
    shutil.copy(pristine, path)
    holder = sqlite3.connect(path, isolation_level=None)
    attempts = 0
    real_grade = store_module.Store.record_answer

    def locked_until_the_retry(self, *args, **kwargs):
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            holder.execute("BEGIN EXCLUSIVE")  # another program starts writing just as the grade comes
        elif holder.in_transaction:
            holder.execute("ROLLBACK")  # and has finished when the learner tries again
        return real_grade(self, *args, **kwargs)

    monkeypatch.setattr(store_module.Store, "record_answer", locked_until_the_retry)
    with Store.open(path) as store:
        before = len(store.history("beta/two"))
    result = CliRunner().invoke(
        main, ["--db", str(path), "review", "--plain", "--today", "2024-03-01", str(DECK)], input="4\n5\n" + "\n" * 200
    )
    holder.close()
    assert result.exit_code == 0, result.output
    assert "grade 5 kept, not saved yet" in result.stdout
    kept = result.stdout.index("grade 5 kept")
    assert "\n→ " in result.stdout[kept:], "the outcome comes once the grade is saved"
    assert "\n→ " not in result.stdout[result.stdout.index("answer> 4") : kept], "and not before"
    with Store.open(path) as store:
        assert len(store.history("beta/two")) == before + 1
