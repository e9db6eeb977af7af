"""A fully cached `quizzer verify` starts no process: no zygote, no resource tracker, no probe, no torch.

Counted from inside the `quizzer verify` process, not by its wall time: every way Python starts a
process (os.fork and its kin, posix_spawn, exec, os.system, and `_posixsubprocess.fork_exec`, which
subprocess and multiprocessing's spawn both call and which raises no audit event) is wrapped to count
before it runs. The cold run is the hook's own check: it must count the zygote's start.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

HANG_GUARD = 600  # seconds: only a hung run reaches it

COUNTING = textwrap.dedent(
    """
    import atexit, json, os, runpy, sys
    import _posixsubprocess

    started = []

    def counting(module, name):
        real = getattr(module, name, None)
        if real is None:
            return
        def wrapper(*args, **kwargs):
            started.append(name)
            return real(*args, **kwargs)
        setattr(module, name, wrapper)

    for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system", "execv", "execve", "spawnv", "spawnve"):
        counting(os, name)
    counting(_posixsubprocess, "fork_exec")

    def report():
        with open(os.environ["COUNT_FILE"], "w") as out:
            json.dump({"started": started, "torch": "torch" in sys.modules}, out)

    atexit.register(report)
    sys.argv = ["quizzer", *sys.argv[1:]]
    runpy.run_module("quizzer", run_name="__main__", alter_sys=True)
    """
)

VERIFIER = """
from quizzer.verifier import Result


def verify():
    result = Result(value=sum(range(5)))
    result.figure("total", 10)
    return result
"""

DECK = """
id = "w"
title = "Warm"
[[cards]]
id = "sum"
prompt = "The sum of 0..4 (the figure {{ total }})?"
explanation = "."
verifier = "v.py"
answer = { kind = "numeric", value = 10 }
[[cards]]
id = "again"
prompt = "Once more: the sum of 0..4?"
explanation = "."
verifier = "v.py"
answer = { kind = "numeric", value = 10 }
"""


@pytest.fixture
def counted_verify(tmp_path):
    (tmp_path / "decks").mkdir()
    (tmp_path / "verifiers").mkdir()
    (tmp_path / "verifiers" / "v.py").write_text(VERIFIER)
    (tmp_path / "decks" / "w.toml").write_text(DECK)
    env = {**os.environ, "QUIZZER_HOME": str(tmp_path / "home"), "COUNT_FILE": str(tmp_path / "count.json")}

    def run(*options: str) -> tuple[subprocess.CompletedProcess, dict]:
        command = [sys.executable, "-c", COUNTING, "verify", "--strict", *options, "decks"]
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=HANG_GUARD)
        return done, json.loads((tmp_path / "count.json").read_text())

    run.project = tmp_path
    return run


def test_a_fully_cached_run_starts_no_process_and_imports_no_torch(counted_verify):
    cold, counted = counted_verify()
    assert cold.returncode == 0, cold.stdout + cold.stderr
    assert "fork_exec" in counted["started"]  # the zygote's spawn: the hook sees it
    warm, counted = counted_verify()
    assert warm.returncode == 0, warm.stdout + warm.stderr
    assert "2 cards: all verified" in warm.stdout and warm.stdout.count("(cached)") == 2
    assert counted == {"started": [], "torch": False}


def test_a_run_with_one_card_to_verify_starts_the_zygote_for_it(counted_verify):
    """The zygote is started lazily, when a card must run: editing the verifier is such a change."""
    assert counted_verify()[0].returncode == 0
    verifier = counted_verify.project / "verifiers" / "v.py"
    verifier.write_text(VERIFIER + "\n# edited\n")
    done, counted = counted_verify()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(cached)" not in done.stdout and "fork_exec" in counted["started"]


# ---------------------------------------------------------------------- the torch version in the key


def _job(project):
    from quizzer.cards.loader import load_deck
    from quizzer.verify.runner import Job

    loaded = load_deck(project / "decks" / "w.toml")
    return Job(loaded, loaded.deck.card("sum"))


def test_the_metadata_version_is_the_torch_the_cards_import(counted_verify):
    """The key's torch version (package metadata, no import) is `torch.__version__` in the zygote."""
    from quizzer.verify.runner import WorkerPool, torch_version

    with WorkerPool(jobs=1) as pool:
        [(_, outcome)] = list(pool.run([_job(counted_verify.project)]))
        assert outcome.status == "passed", outcome.message
        assert pool.torch == torch_version()


def test_a_result_is_saved_under_the_torch_it_ran_with(counted_verify, monkeypatch, tmp_path):
    """Were the metadata ever to name another torch than the one imported, the result is keyed by the one
    it ran with: a run keyed by the metadata's version never takes it from the cache."""
    from quizzer.store import Store
    from quizzer.verify import runner

    job = _job(counted_verify.project)
    real = runner.torch_version()
    monkeypatch.setattr(runner, "torch_version", lambda: "0.0.0+stale-metadata")
    with Store.open(tmp_path / "state.db") as store:
        [first] = runner.verify([job], store, workers=1)
        record = store.verification(job.key)
        assert (first.outcome.status, first.cached) == ("passed", False)
        assert (record.cache_key, record.torch_version) == (runner.cache_key(job, real), real)
        [again] = runner.verify([job], store, workers=1)
        assert not again.cached
