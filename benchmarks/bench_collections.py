"""Big-collection benchmark: 100,000 cards in TOML decks, side by side with Anki on the same cards.

Builds N cards (default 100,000) as D TOML deck files (default 25: the loader caps a deck file at
1 MiB) and a state database in which three quarters of them are scheduled (due dates from a month
overdue to a year ahead), and the same population as an Anki collection (one deck per TOML deck,
the same due days). Then prints median and p95 of:

- `quizzer due` on the decks, a fresh process each run (cold: the first run, parsing the TOML; warm:
  later runs, from the deck cache), against Anki opening the collection and computing its deck due
  tree (`col.sched.deck_due_tree()`), a fresh process each run as well;
- the review app ready (decks screen with counts) on the decks, in a 100×30 pty, as
  benchmarks/bench_startup.py measures it;
- memory held by the loaded decks (tracemalloc, what `Library.load` keeps), per 100k cards;
- the review log's bytes per row (file growth per 100k answers after VACUUM, indexes included)
  against Anki's revlog with the same number of rows.

    python benchmarks/bench_collections.py [--cards 100000] [--decks 25] [--runs 7]
                                           [--anki-python PATH]   # an interpreter with `anki`

Targets (issue 15): `quizzer due` ≤ 1.5× Anki; app ready < 1 s; loaded decks ≤ 60 MiB per 100k
cards; review log ≤ 1.5× Anki's bytes per row. A figure script, not a timed test.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_startup import describe, launch_once  # noqa: E402  (the same pty harness and figures)

TODAY = date(2024, 3, 1)
SEED = 20240301


def write_decks(folder: Path, cards: int, decks: int) -> list[Path]:
    """`decks` TOML files of numeric, boolean and text cards (no verifiers: this is about size)."""
    folder.mkdir(parents=True, exist_ok=True)
    per_deck = cards // decks
    paths = []
    for d in range(decks):
        parts = [f'id = "deck-{d}"\ntitle = "Deck {d}"\n']
        for i in range(per_deck):
            kind = i % 3
            answer = (
                f'answer = {{ kind = "numeric", value = {2 * i} }}'
                if kind == 0
                else 'answer = { kind = "boolean", value = true }'
                if kind == 1
                else 'answer = { kind = "text", value = "Because the sum of $a_i$ is finite." }'
            )
            parts.append(
                f'\n[[cards]]\nid = "card-{i}"\ntags = ["bench", "t{i % 7}"]\n'
                f'prompt = "What is ${i} + {i}$? Explain with `code` and **bold**."\n'
                f'explanation = "Adding {i} to itself doubles it."\n{answer}\n'
            )
        path = folder / f"deck-{d}.toml"
        path.write_text("".join(parts), encoding="utf-8")
        paths.append(path)
    return paths


def schedule(count: int, rng: random.Random) -> list[tuple[int, int, int, int] | None]:
    """Per card: None (new) or (interval, ef thousandths, repetitions, due offset in days from today)."""
    out = []
    for position in range(count):
        if position % 4 == 3:
            out.append(None)
        else:
            out.append((rng.randint(1, 400), rng.randint(1300, 3100), rng.randint(1, 10), rng.randint(-30, 365)))
    return out


def build_state(db: Path, paths: list[Path], plan: list, per_deck: int, home: Path) -> None:
    """The state database: decks synced (`quizzer due` once), then the planned states written directly."""
    subprocess.run(quizzer_due(paths, db), check=True, capture_output=True, env=_env(home))
    import sqlite3

    conn = sqlite3.connect(db)
    rows = []
    for index, entry in enumerate(plan):
        if entry is None:
            continue
        interval, ef, reps, offset = entry
        key = f"deck-{index // per_deck}/card-{index % per_deck}"
        rows.append((ef, reps, interval, (TODAY + timedelta(days=offset)).isoformat(), key))
    conn.executemany(
        "UPDATE cards SET phase = 'review', ef_thousandths = ?, repetitions = ?, interval = ?, due = ? WHERE key = ?",
        rows,
    )
    conn.commit()
    conn.close()


def _env(home: Path) -> dict:
    """As a learner runs it: this checkout's quizzer, byte-code cached (a -B shell would skew start-up)."""
    env = {**os.environ, "QUIZZER_HOME": str(home), "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("QUIZZER_DB", None)
    return env


def quizzer_due(paths: list[Path], db: Path) -> list[str]:
    return [sys.executable, "-m", "quizzer", "due", "--db", str(db), "--today", TODAY.isoformat(), *map(str, paths)]


def timed(command: list[str], env: dict | None = None) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if result.returncode:
        raise SystemExit(f"{command[:4]} failed: {result.stderr[-2000:]}")
    return elapsed


# ---------------------------------------------------------------------- Anki


ANKI_BUILD = r"""
import sys, random
from anki.collection import Collection
path, plan_file = sys.argv[1], sys.argv[4]
decks, per_deck, revlog_rows = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[5])
import json
plan = json.load(open(plan_file))
col = Collection(path)
basic = col.models.by_name("Basic")
today = col.sched.today
deck_ids = [col.decks.id(f"Deck {d}") for d in range(decks)]
db = col.db
mid = basic["id"]
nid = cid = 1_600_000_000_000
notes, cards = [], []
for index, entry in enumerate(plan):
    d, i = divmod(index, per_deck)
    nid += 1; cid += 1
    notes.append((nid, f"g{nid}", mid, 0, -1, "", f"What is {i} + {i}?\x1f{2 * i}", str(i), 0, 0, ""))
    if entry is None:
        cards.append((cid, nid, deck_ids[d], 0, 0, -1, 0, 0, i, 0, 0, 0, 0, 0, 0, 0, 0, ""))
    else:
        ivl, ef, reps, offset = entry
        cards.append((cid, nid, deck_ids[d], 0, 0, -1, 2, 2, today + offset, ivl, ef, reps, 0, 0, 0, 0, 0, ""))
db.executemany("insert into notes values (?,?,?,?,?,?,?,?,?,?,?)", notes)
db.executemany("insert into cards values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", cards)
rng = random.Random(1)
first = cards[0][0]
db.executemany(
    "insert into revlog values (?,?,?,?,?,?,?,?,?)",
    [(1_700_000_000_000 + n, first + rng.randrange(len(cards)), -1, rng.randint(1, 4), rng.randint(1, 400),
      rng.randint(1, 400), rng.randint(1300, 3100), rng.randint(1000, 20000), 1) for n in range(revlog_rows)],
)
col.close()
"""

ANKI_DUE = r"""
import sys
from anki.collection import Collection
col = Collection(sys.argv[1])
tree = col.sched.deck_due_tree()
print(sum(child.review_count for child in tree.children))
col.close()
"""


def anki_available(python: str) -> str | None:
    probe = subprocess.run(
        [python, "-c", "import anki.buildinfo as b; print(b.version)"], capture_output=True, text=True
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


# ---------------------------------------------------------------------- review log size


def quizzer_log_bytes(folder: Path, rows: int, rng: random.Random) -> float:
    """Bytes per review-log row: the database's growth from `rows` answers, after VACUUM."""
    sys.path.insert(0, str(ROOT))
    from quizzer.store import Store

    sizes = []
    for count in (0, rows):
        db = folder / f"log-{count}.db"
        with Store.open(db) as store:
            store.sync_deck("deck-0", [f"card-{i}" for i in range(1000)])
            now = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
            recorded = min(count, 2000)
            for _ in range(recorded):
                key = f"deck-0/card-{rng.randrange(1000)}"
                store.record_answer(key, rng.randint(0, 5), today=TODAY, now=now, ms=rng.randint(1000, 20000))
            if count > recorded:
                _bulk_answers(store, count - recorded, rng)
            store._conn.execute("VACUUM")
        sizes.append(db.stat().st_size + _wal(db))
    return (sizes[1] - sizes[0]) / rows


def _bulk_answers(store, count: int, rng: random.Random) -> None:
    """Copies of recorded rows with other keys and qualities: the same columns, written fast."""
    conn = store._conn
    columns = [r[1] for r in conn.execute("PRAGMA table_info(reviews)") if r[1] != "id"]
    template = conn.execute(f"SELECT {', '.join(columns)} FROM reviews LIMIT 200").fetchall()
    quality = columns.index("quality")
    conn.execute("BEGIN")
    conn.executemany(
        f"INSERT INTO reviews ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        (
            tuple(rng.randint(0, 5) if i == quality else value for i, value in enumerate(template[n % len(template)]))
            for n in range(count)
        ),
    )
    conn.execute("COMMIT")


def _wal(db: Path) -> int:
    wal = db.with_name(db.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=100_000)
    parser.add_argument("--decks", type=int, default=25)  # 4,000 cards each: a deck file is capped at 1 MiB
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--log-rows", type=int, default=100_000)
    parser.add_argument("--anki-python", default=sys.executable, help="an interpreter that can import anki")
    args = parser.parse_args()
    rng = random.Random(SEED)
    per_deck = args.cards // args.decks
    with tempfile.TemporaryDirectory(prefix="quizzer-bench-") as scratch:
        folder = Path(scratch)
        home = folder / "home"
        paths = write_decks(folder / "decks", args.cards, args.decks)
        total_bytes = sum(p.stat().st_size for p in paths)
        print(f"{per_deck * args.decks} cards in {args.decks} TOML decks ({total_bytes / 2**20:.1f} MiB)")
        plan = schedule(per_deck * args.decks, rng)
        db = folder / "state.db"
        cold_started = time.perf_counter()
        build_state(db, paths, plan, per_deck, home)
        print(f"first `quizzer due` (no deck cache; syncs 100k rows): {time.perf_counter() - cold_started:.2f} s")

        print("\n`quizzer due` on the decks (fresh process each run)")
        cold = []
        for _ in range(max(1, args.runs // 2)):
            _clear_deck_cache(home)
            cold.append(timed(quizzer_due(paths, db), _env(home)))
        print(f"  cold (deck cache empty):   {describe(cold)}")
        timed(quizzer_due(paths, db), _env(home))
        version = anki_available(args.anki_python)
        if version is None:
            warm = [timed(quizzer_due(paths, db), _env(home)) for _ in range(args.runs)]
            print(f"  warm (from the deck cache): {describe(warm)}")
            print(f"anki: not importable by {args.anki_python} (pip install anki, or --anki-python): skipped")
        else:
            collection = folder / "anki" / "collection.anki2"
            collection.parent.mkdir()
            plan_file = folder / "plan.json"
            plan_file.write_text(json.dumps(plan))
            subprocess.run(
                [
                    args.anki_python,
                    "-c",
                    ANKI_BUILD,
                    str(collection),
                    str(args.decks),
                    str(per_deck),
                    str(plan_file),
                    str(args.log_rows),
                ],
                check=True,
            )
            anki_command = [args.anki_python, "-c", ANKI_DUE, str(collection)]
            timed(anki_command)
            warm, anki_due = [], []
            for _ in range(args.runs):  # interleaved: a load spike on the shared machine weighs on both alike
                warm.append(timed(quizzer_due(paths, db), _env(home)))
                anki_due.append(timed(anki_command))
            print(f"  warm (from the deck cache): {describe(warm)}")
            print(f"  anki {version} open + deck_due_tree: {describe(anki_due)}")
            ratio = statistics.median(warm) / statistics.median(anki_due)
            print(f"  quizzer warm / anki (medians): {ratio:.2f}×  (target ≤ 1.5×)")

        print("\nthe review app ready on the decks (pty 100×30)")
        command = [sys.executable, "-m", "quizzer", "--db", str(db), "review", *map(str, paths)]
        env_before = dict(os.environ)
        os.environ.update(_env(home))
        try:
            launch_once(command, folder)
            ready = [launch_once(command, folder) for _ in range(args.runs)]
            print(f"  {describe(ready)}  (target < 1 s)")
        except subprocess.TimeoutExpired:
            print("  not ready within bench_startup's 30 s limit")
        finally:
            os.environ.clear()
            os.environ.update(env_before)

        print("\nmemory of the loaded decks (tracemalloc: Library.load and every deck's badges)")
        sys.path.insert(0, str(ROOT))
        os.environ["QUIZZER_HOME"] = str(home)
        import quizzer.cards.loader  # noqa: F401  (code, not decks: the app's library imports it only to parse)
        from quizzer.review.tui.library import Library
        from quizzer.store import Store

        with Store.open(db) as store:
            gc.collect()
            tracemalloc.start()
            library = Library.load(store, paths)
            badges = [library.deck_badges(loaded.deck.id) for loaded in library.decks]  # as the decks screen does
            gc.collect()
            held, _ = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            cards = sum(len(loaded.deck.cards) for loaded in library.decks)
            per_100k = held / 2**20 * 100_000 / cards
            print(f"  {held / 2**20:.1f} MiB for {cards} cards: {per_100k:.1f} MiB per 100k (target ≤ 60)")
            del library, badges

        print("\nreview log bytes per row (growth per answer, after VACUUM, indexes included)")
        ours = quizzer_log_bytes(folder, args.log_rows, rng)
        print(f"  quizzer: {ours:.1f} bytes/row")
        if version is not None:
            theirs = _anki_log_bytes(args.anki_python, folder, args.log_rows)
            print(f"  anki revlog: {theirs:.1f} bytes/row; quizzer / anki = {ours / theirs:.2f}× (target ≤ 1.5×)")


def _clear_deck_cache(home: Path) -> None:
    cache = home / "deck-cache"
    if cache.is_dir():
        for entry in cache.iterdir():
            entry.unlink()


def _anki_log_bytes(python: str, folder: Path, rows: int) -> float:
    code = textwrap.dedent(
        r"""
        import sys, random, os
        from anki.collection import Collection
        sizes = []
        for count in (0, int(sys.argv[2])):
            path = os.path.join(sys.argv[1], f"anki-log-{count}.anki2")
            col = Collection(path)
            rng = random.Random(1)
            col.db.executemany(
                "insert into revlog values (?,?,?,?,?,?,?,?,?)",
                [(1_700_000_000_000 + n, 1_600_000_000_000 + rng.randrange(1000), -1, rng.randint(1, 4),
                  rng.randint(1, 400), rng.randint(1, 400), rng.randint(1300, 3100), rng.randint(1000, 20000), 1)
                 for n in range(count)],
            )
            col.save() if hasattr(col, "save") else None
            col.db.execute("vacuum")  # through Anki: its schema uses its own collation
            col.close()
            sizes.append(os.path.getsize(path))
        print((sizes[1] - sizes[0]) / int(sys.argv[2]))
        """
    )
    result = subprocess.run([python, "-c", code, str(folder), str(rows)], capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
