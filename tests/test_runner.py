"""The verify runner: each way a verifier can behave gets its own clear status; the run finishes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from quizzer.cards.deck import Card
from quizzer.cards.loader import load_deck
from quizzer.store import Store
from quizzer.verify.execution import execute
from quizzer.verify.runner import Job, cache_key, verify

FIXTURE = Path(__file__).parent / "fixtures" / "verify"


@pytest.fixture(scope="module")
def outcomes():
    """Every fixture card's outcome; only the card that hangs gets a short timeout (a loaded machine is slow)."""
    loaded = load_deck(FIXTURE / "decks" / "fixture.toml")
    jobs = [Job(loaded, card) for card in loaded.deck.cards if card.id != "hangs"]
    results = verify(jobs, None, workers=2, timeout=600, memory_mb=1024)
    results += verify([Job(loaded, loaded.deck.card("hangs"))], None, timeout=3)
    return {v.job.card.id: v.outcome for v in results}


@pytest.mark.parametrize(
    "card,status,message",
    [
        ("passes", "passed", ""),
        ("wrong-value", "failed", "the card says 10 but the verifier computed 11"),
        ("raises", "error", "the verifier raised an exception"),
        ("hangs", "timeout", "timed out after 3 s and was stopped"),
        ("segfaults", "crashed", "signal 11"),
        ("exhausts-memory", "out-of-memory", "the verifier exceeded the memory cap of 1024 MB"),
        ("noisy", "passed", ""),
        ("not-a-result", "error", "the verifier returned int, not a quizzer.verifier.Result"),
        ("no-value", "error", "the verifier returned no value for a numeric card"),
        ("failing-claim", "failed", "claim failed: measured spread is small (0.3 ≥ 0.1)"),
        ("uses-torch", "passed", ""),
        ("no-verifier", "unverified", "no verifier: this card's answer is not checked by code"),
    ],
)
def test_each_behaviour_has_its_own_status(outcomes, card, status, message):
    assert (outcomes[card].status, outcomes[card].message) == (status, message)


def test_exception_shows_the_verifiers_own_traceback(outcomes):
    traceback = outcomes["raises"].traceback
    assert traceback.startswith("Traceback (most recent call last):\n  File ")
    assert "behaviours.py" in traceback and "KeyError: 'missing'" in traceback
    assert "quizzer/verify/execution.py" not in traceback


def test_noise_is_captured_not_lost(outcomes):
    assert outcomes["noisy"].output.startswith("noise 0\nmore noise 0\n")
    assert "more characters" in outcomes["noisy"].output  # trimmed, not unbounded


def test_notes_and_value_travel_back(outcomes):
    assert outcomes["passes"].notes == ["0+1+2+3+4 = 10"]
    assert (outcomes["passes"].value, outcomes["passes"].computed, outcomes["passes"].expected) == (10, "10", "10")


def test_verifier_outside_the_root_is_refused(tmp_path):
    root = tmp_path / "verifiers"
    root.mkdir()
    (tmp_path / "outside.py").write_text(
        "from quizzer.verifier import Result\ndef verify():\n    return Result(value=1)\n"
    )
    card = Card.model_validate(
        {
            "id": "x",
            "prompt": "?",
            "explanation": ".",
            "verifier": "../outside.py",
            "answer": {"kind": "numeric", "value": 1},
        }
    )
    outcome = execute(card, root)
    assert outcome.status == "error" and "resolves outside" in outcome.traceback


def _one_card_deck(tmp_path: Path, verifier: str | None = None, value: int = 1) -> Path:
    """decks/d.toml holding card `c` (numeric `value`), run by `verifier` if given."""
    deck = tmp_path / "decks" / "d.toml"
    deck.parent.mkdir(exist_ok=True)
    deck.write_text(
        'id = "d"\ntitle = "D"\n[[cards]]\nid = "c"\nprompt = "?"\nexplanation = "."\n'
        + (f'verifier = "{verifier}"\n' if verifier else "")
        + f'answer = {{ kind = "numeric", value = {value} }}\n'
    )
    return deck


def test_cache_key_follows_card_verifier_and_local_imports(tmp_path):
    root = tmp_path / "verifiers"
    (root / "pkg").mkdir(parents=True)
    (root / "helpers_for_test.py").write_text("X = 1\n")
    (root / "pkg" / "v.py").write_text("import helpers_for_test\ndef verify():\n    pass\n")
    deck = _one_card_deck(tmp_path, "pkg/v.py")
    job = Job(load_deck(deck), load_deck(deck).deck.cards[0])
    first = cache_key(job, "2.13.0")
    assert cache_key(job, "2.13.0") == first
    assert cache_key(job, "2.14.0") != first
    (root / "helpers_for_test.py").write_text("X = 2\n")
    second = cache_key(job, "2.13.0")
    assert second != first
    edited = Job(job.loaded, job.card.model_copy(update={"prompt": "edited?"}))
    assert cache_key(edited, "2.13.0") != second


def test_the_cache_key_follows_the_code_that_judges(tmp_path, monkeypatch):
    """A changed checker (an upgrade of quizzer, an edit) served the old verdict until PROTOCOL was bumped by hand."""
    from quizzer.verify import runner

    deck = _one_card_deck(tmp_path)
    job = Job(load_deck(deck), load_deck(deck).deck.cards[0])
    before = cache_key(job, "2.13.0")
    checker = tmp_path / "checking.py"
    checker.write_text(
        Path(runner.importlib.util.find_spec("quizzer.core.checking").origin).read_text() + "\n# edited\n"
    )
    real_find_spec = runner.importlib.util.find_spec

    def find_spec(name):
        spec = real_find_spec(name)
        return type(spec)(name, spec.loader, origin=str(checker)) if name == "quizzer.core.checking" else spec

    monkeypatch.setattr(runner.importlib.util, "find_spec", find_spec)
    runner.judging_digest.cache_clear()
    try:
        assert cache_key(job, "2.13.0") != before
    finally:
        monkeypatch.undo()
        runner.judging_digest.cache_clear()
    assert cache_key(job, "2.13.0") == before


def test_every_module_a_verdict_depends_on_is_in_the_cache_key():
    """The import graph of the card process and the re-decision, lazy imports included, against JUDGING_MODULES."""
    grimp = pytest.importorskip("grimp")
    from quizzer.verify.runner import JUDGING_MODULES

    graph = grimp.build_graph("quizzer")
    roots = ("quizzer.verify.zygote", "quizzer.verify.execution")
    needed = set(roots).union(*(graph.find_upstream_modules(root) for root in roots))
    assert needed <= set(JUDGING_MODULES), sorted(needed - set(JUDGING_MODULES))


# ---------------------------------------------------------------------- what the cache keeps

GATED = """
import time
from pathlib import Path

from quizzer.verifier import Result


def waits_for_the_gate():
    while not Path({gate!r}).exists():  # hangs until the test opens the gate
        time.sleep(0.01)
    return Result(value=1)
"""


@pytest.fixture
def gated(tmp_path):
    """A deck whose one card hangs until `gate` exists, and a `quizzer verify` on it with its own database."""
    gate = tmp_path / "gate"
    (tmp_path / "verifiers").mkdir()
    (tmp_path / "verifiers" / "v.py").write_text(GATED.format(gate=str(gate)))
    (tmp_path / "decks").mkdir()
    deck = tmp_path / "decks" / "gated.toml"
    deck.write_text(
        'id = "gated"\ntitle = "G"\n[[cards]]\nid = "card"\nprompt = "?"\nexplanation = "."\n'
        'verifier = "v.py::waits_for_the_gate"\nanswer = { kind = "numeric", value = 1 }\n'
    )
    env = {**os.environ, "QUIZZER_DB": str(tmp_path / "state.db"), "COLUMNS": "200"}

    def quizzer_verify(*options: str) -> str:
        command = [sys.executable, "-m", "quizzer", "verify", *options, str(deck)]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600).stdout  # a hang guard

    quizzer_verify.gate = gate
    return quizzer_verify


def test_a_timeout_is_not_served_from_the_cache(gated):
    assert "TIMEOUT gated/card" in gated("--timeout", "1")
    gated.gate.touch()
    again = gated("--timeout", "60")
    assert "PASS gated/card" in again and "(cached)" not in again


def test_a_timeout_does_not_replace_a_cached_result(gated):
    gated.gate.touch()
    assert "PASS gated/card" in gated()
    gated.gate.unlink()
    assert "TIMEOUT gated/card" in gated("--no-cache", "--timeout", "1")
    assert "PASS gated/card (cached)" in gated()


def test_real_failures_are_cached_interruptions_and_exceptions_are_not(tmp_path):
    loaded = load_deck(FIXTURE / "decks" / "fixture.toml")
    chosen = ["wrong-value", "raises", "failing-claim", "segfaults", "exhausts-memory"]
    jobs = [Job(loaded, loaded.deck.card(card)) for card in chosen]
    with Store.open(tmp_path / "state.db") as store:
        first = verify(jobs, store, workers=2, memory_mb=1024)
        second = verify(jobs, store, workers=2, memory_mb=1024)
    statuses = [v.outcome.status for v in first]
    assert statuses == ["failed", "error", "failed", "crashed", "out-of-memory"]
    assert [v.outcome.status for v in second] == statuses
    assert {v.job.card.id: v.cached for v in second} == {
        "wrong-value": True,
        "raises": False,  # an exception may be the machine's (a module not installed): run again
        "failing-claim": True,
        "segfaults": False,
        "exhausts-memory": False,
    }


def test_a_verifier_that_raised_is_run_again_once_the_machine_is_fixed(tmp_path):
    """It raised for want of a module; once the module is there, the card passes (a cached error was shown)."""
    (tmp_path / "verifiers").mkdir()
    (tmp_path / "verifiers" / "v.py").write_text(
        "from quizzer.verifier import Result\n\n\ndef f():\n    import extmod_for_this_test\n\n"
        "    return Result(value=extmod_for_this_test.X)\n"
    )
    deck = _one_card_deck(tmp_path, "v.py::f", value=4)
    site = tmp_path / "site"
    site.mkdir()
    env = {**os.environ, "QUIZZER_DB": str(tmp_path / "state.db"), "COLUMNS": "200"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [env.get("PYTHONPATH"), str(site)]))
    command = [sys.executable, "-m", "quizzer", "verify", str(deck)]
    before = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert "ERROR d/c" in before.stdout and "No module named 'extmod_for_this_test'" in before.stdout
    (site / "extmod_for_this_test.py").write_text("X = 4\n")  # the module is installed
    after = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert "PASS d/c" in after.stdout and "(cached)" not in after.stdout, after.stdout


def test_ctrl_c_while_the_zygote_starts_kills_it_at_once(monkeypatch):
    """Interrupted before torch is imported, the pool does not wait out its stop allowance for a parent that
    has started no card: the zygote is killed then and there."""
    from quizzer.verify import runner

    pool = runner.WorkerPool(jobs=1)
    started = []
    real_start = pool._context.Process

    def process(*args, **kwargs):
        started.append(real_start(*args, **kwargs))
        return started[-1]

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pool._context, "Process", process)
    monkeypatch.setattr(runner, "wait", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pool._start()
    assert pool._process is None and started and not started[0].is_alive() and started[0].exitcode is not None
