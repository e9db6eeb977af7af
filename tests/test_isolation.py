"""Per-card isolation: no verifier sees what another card's verifier did to its process.

Each test writes a tiny deck project whose first card changes process-wide state and whose second
card would measure something else because of it (or pass with a wrong value). The cards run one
after the other on a single worker slot, the setting in which a reused worker process leaked.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from quizzer.cards.loader import load_deck
from quizzer.store import Store
from quizzer.verify.runner import Job, verify

CARD = """
[[cards]]
id = "{id}"
prompt = "?"
explanation = "."
verifier = "v.py::{function}"
answer = {answer}
"""


def project(root: Path, verifiers: str, cards: list[tuple[str, str, str]]) -> Path:
    """decks/deck.toml with `cards` (id, verifier function, answer) and verifiers/v.py; returns the deck."""
    (root / "decks").mkdir(parents=True)
    (root / "verifiers").mkdir()
    (root / "verifiers" / "v.py").write_text(textwrap.dedent(verifiers).lstrip())
    text = 'id = "iso"\ntitle = "Isolation"\n' + "".join(
        CARD.format(id=card, function=function, answer=answer) for card, function, answer in cards
    )
    deck = root / "decks" / "deck.toml"
    deck.write_text(text)
    return deck


def run_in_order(deck: Path, store=None) -> dict[str, object]:
    loaded = load_deck(deck)
    jobs = [Job(loaded, card) for card in loaded.deck.cards]
    return {v.job.card.id: v.outcome for v in verify(jobs, store, workers=1, timeout=60, use_cache=False)}


def test_default_dtype_set_by_one_verifier_does_not_reach_the_next(tmp_path):
    deck = project(
        tmp_path,
        """
        import torch
        from quizzer.verifier import Result

        def doubles():
            torch.set_default_dtype(torch.float64)
            return Result(value=torch.zeros(1).element_size())

        def element_size():
            return Result(value=torch.zeros(1).element_size())
        """,
        [
            ("sets-float64", "doubles", "{ kind = 'numeric', value = 8 }"),
            ("float32-bytes", "element_size", "{ kind = 'numeric', value = 4 }"),
        ],
    )
    outcomes = run_in_order(deck)
    assert outcomes["sets-float64"].status == "passed"
    assert (outcomes["float32-bytes"].status, outcomes["float32-bytes"].computed) == ("passed", "4")


def test_monkeypatched_quizzer_function_does_not_pass_another_card_nor_get_cached(tmp_path):
    deck = project(
        tmp_path,
        """
        import dataclasses
        import quizzer.verify.execution
        from quizzer.verifier import Result

        def patches_the_judge():
            quizzer.verify.execution.decide = lambda card, outcome: dataclasses.replace(outcome, status="passed")
            return Result(value=1)

        def wrong_value():
            return Result(value=11)
        """,
        [
            ("patches", "patches_the_judge", "{ kind = 'numeric', value = 1 }"),
            ("wrong", "wrong_value", "{ kind = 'numeric', value = 10 }"),
        ],
    )
    db = tmp_path / "state.db"
    env = {**os.environ, "QUIZZER_DB": str(db), "COLUMNS": "200"}
    run = subprocess.run(
        [sys.executable, "-m", "quizzer", "verify", "--jobs", "1", str(deck)], capture_output=True, text=True, env=env
    )
    assert run.returncode == 1 and "FAIL iso/wrong" in run.stdout, run.stdout + run.stderr
    with Store.open(db) as store:
        assert store.verification("iso/wrong").status == "failed"
    shown = subprocess.run(
        [sys.executable, "-m", "quizzer", "show", f"{deck}::wrong"], capture_output=True, text=True, env=env
    )
    assert "the card says 10 but the verifier computed 11" in shown.stdout, shown.stdout + shown.stderr


def test_a_verifier_cannot_judge_its_own_card(tmp_path):
    """Patching the judge inside its own process does not help: the pool decides the verdict again."""
    deck = project(
        tmp_path,
        """
        import dataclasses
        import quizzer.verify.execution
        from quizzer.verifier import Result

        def patches_then_lies():
            quizzer.verify.execution.decide = lambda card, outcome: dataclasses.replace(outcome, status="passed")
            return Result(value=11)
        """,
        [("lies", "patches_then_lies", "{ kind = 'numeric', value = 10 }")],
    )
    outcome = run_in_order(deck)["lies"]
    assert (outcome.status, outcome.message) == ("failed", "the card says 10 but the verifier computed 11")


def test_environment_cwd_modules_and_rng_start_fresh_for_every_card(tmp_path):
    cwd = os.getcwd()
    deck = project(
        tmp_path,
        f"""
        import os
        import random
        import sys
        import torch
        from quizzer.verifier import Result

        def pollutes():
            os.environ["QUIZZER_LEAK"] = "1"
            os.chdir("/")
            sys.modules["quizzer_leaked_module"] = sys
            torch.manual_seed = lambda seed: None
            random.seed = lambda seed: None
            torch.rand(1000)
            random.random()
            return Result(value=1)

        def measures():
            r = Result(value=1)
            r.claim("no leaked environment variable", "QUIZZER_LEAK" not in os.environ)
            r.claim("the working directory is the run's", os.getcwd() == {cwd!r})
            r.claim("no leaked module", "quizzer_leaked_module" not in sys.modules)
            r.claim("torch starts from seed 0", torch.rand(1).item() == {first_random_of_seed_0()!r})
            r.claim("random starts from seed 0", random.random() == {random_of_seed_0()!r})
            return r
        """,
        [
            ("pollutes", "pollutes", "{ kind = 'numeric', value = 1 }"),
            ("measures", "measures", "{ kind = 'numeric', value = 1 }"),
        ],
    )
    outcomes = run_in_order(deck)
    assert outcomes["pollutes"].status == "passed"
    assert outcomes["measures"].status == "passed", outcomes["measures"].message


def first_random_of_seed_0() -> float:
    """torch.rand(1) right after torch.manual_seed(0), computed in a clean interpreter."""
    code = "import torch; torch.manual_seed(0); print(repr(torch.rand(1).item()))"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def random_of_seed_0() -> float:
    import random

    return random.Random(0).random()


@pytest.mark.parametrize("workers", [1, 2])
def test_each_card_runs_in_a_process_of_its_own(tmp_path, workers):
    deck = project(
        tmp_path,
        """
        import os
        from quizzer.verifier import Result

        def pid():
            r = Result(value=1)
            r.note(str(os.getpid()))
            return r
        """,
        [(f"c{i}", "pid", "{ kind = 'numeric', value = 1 }") for i in range(4)],
    )
    loaded = load_deck(deck)
    results = verify([Job(loaded, card) for card in loaded.deck.cards], None, workers=workers, use_cache=False)
    pids = {v.outcome.notes[0] for v in results}
    assert len(pids) == 4 and str(os.getpid()) not in pids


# ---------------------------------------------------------------------- processes a verifier starts

SPAWNS = """
import ctypes
import os
import subprocess
import sys
import time
from pathlib import Path

from quizzer.verifier import Result

PIDS = Path({pids!r})
SLEEPER = "import os, sys, time; open(sys.argv[1], 'a').write(f'{{os.getpid()}}\\\\n'); time.sleep(600)"
DOUBLE_FORK = (
    "import subprocess, sys; "
    "subprocess.Popen([sys.executable, '-c', sys.argv[1], sys.argv[2], sys.argv[3]], start_new_session=True)"
)


def spawn_sleepers():
    subprocess.Popen([sys.executable, "-c", SLEEPER, str(PIDS), {marker!r}])
    subprocess.Popen([sys.executable, "-c", SLEEPER, str(PIDS), {marker!r}], start_new_session=True)
    subprocess.Popen([sys.executable, "-c", DOUBLE_FORK, SLEEPER, str(PIDS), {marker!r}])  # orphaned at once
    while not PIDS.exists() or len(PIDS.read_text().split()) < 3:
        time.sleep(0.01)


def passes():
    spawn_sleepers()
    return Result(value=1)


def hangs():
    spawn_sleepers()
    time.sleep(600)


def segfaults():
    spawn_sleepers()
    ctypes.string_at(0)
"""


def processes_with(marker: str) -> list[int]:
    """Live processes (zombies have no command line) whose command line mentions `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.parametrize("behaviour,status", [("passes", "passed"), ("hangs", "timeout"), ("segfaults", "crashed")])
def test_no_process_a_verifier_started_outlives_its_card(tmp_path, behaviour, status):
    """Children, one in its own session and one orphaned by a double fork, are all gone when verify returns."""
    marker = f"quizzer-test-sleeper-{os.getpid()}-{behaviour}"
    pids = tmp_path / "pids.txt"
    deck = project(
        tmp_path / "project",
        SPAWNS.format(pids=str(pids), marker=marker),
        [("card", behaviour, "{ kind = 'numeric', value = 1 }")],
    )
    loaded = load_deck(deck)
    # A hanging card must have started its children before its timeout stops it: on a slow machine
    # it may not have, and the run is repeated with a longer timeout (what is checked stays the same).
    for timeout in (3, 15, 60):
        pids.unlink(missing_ok=True)
        [verified] = verify([Job(loaded, loaded.deck.cards[0])], None, workers=1, timeout=timeout, use_cache=False)
        started = pids.read_text().split() if pids.exists() else []
        if len(started) == 3 or verified.outcome.status != "timeout":
            break
    assert verified.outcome.status == status, verified.outcome.message
    assert len(started) == 3
    assert processes_with(marker) == []


def test_a_card_holds_no_descriptor_but_its_own_result_pipe(tmp_path):
    """Not the pool's connection, not other cards' pipes, not multiprocessing's resource-tracker pipe."""
    deck = project(
        tmp_path,
        """
        import os
        from quizzer.verifier import Result

        def descriptors():
            r = Result(value=1)
            for fd in os.listdir("/proc/self/fd"):
                try:
                    r.note(os.readlink(f"/proc/self/fd/{fd}"))
                except OSError:  # the listing's own descriptor
                    pass
            return r
        """,
        [(f"c{i}", "descriptors", "{ kind = 'numeric', value = 1 }") for i in range(3)],
    )
    loaded = load_deck(deck)
    for verified in verify([Job(loaded, card) for card in loaded.deck.cards], None, workers=3, use_cache=False):
        held = [target for target in verified.outcome.notes if target != os.devnull]
        assert len(held) == 1 and held[0].startswith("pipe:"), verified.outcome.notes
