"""Run verifiers in worker processes: isolated, time-limited, memory-capped, cached.

Every card runs in a fresh process forked from a warm parent that imported torch once
(`quizzer.verify.zygote`), so no card sees another card's globals. A verifier that hangs is killed at
its timeout with everything it started; one that segfaults fails only its own card
("crashed: signal 11"); one that exhausts its memory cap is reported as such. Results are
cached in the state database under a hash of the card, the verifier's source (and the local
modules it imports) and the torch version, so a warm run imports no torch at all.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import importlib.util
import itertools
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

from quizzer.cards.deck import Card
from quizzer.cards.loader import LoadedDeck
from quizzer.verify.execution import DEFAULT_VARIANTS, Outcome, decide, execute
from quizzer.verify.sources import local_sources
from quizzer.verify.statuses import CACHED_VERDICTS, INTERRUPTED

# The code that decides a verdict: the card process (zygote, execution), the verifier API, the answer
# models and checkers, and this module's re-decision and cache policy. Their source is part of every
# cache key, so a quizzer whose judging changed (an upgrade, an edit) never serves an older verdict; a
# hand-bumped version number was forgotten easily. tests/test_runner.py checks this list against the
# import graph.
JUDGING_MODULES = (
    "quizzer.verify.runner",
    "quizzer.verify.zygote",
    "quizzer.verify.execution",
    "quizzer.verify.statuses",
    "quizzer.verifier",
    "quizzer.cards.deck",
    "quizzer.core.checking",
    "quizzer.core.tensor_formula",
    "quizzer.core.templates",
    "quizzer.core.jsontext",
    "quizzer.core.safetext",  # Outcome.from_json shows every string a verifier reported
)
DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY_MB = 4096  # address space (RLIMIT_AS), not resident memory: torch maps ~0.7 GB at import
STARTUP_ALLOWANCE = 60.0  # the zygote imports torch before the first card's clock starts
STOP_ALLOWANCE = 30.0  # beyond a card's timeout, how long the zygote may take to kill it and report
UNCONTAINED = (
    "processes a verifier starts may outlive this run if it is killed abruptly (kill -9, the OOM killer):"
    " this system gives the verifier processes no pid namespace of their own ({why_not})"
)


@dataclass(frozen=True)
class Job:
    loaded: LoadedDeck
    card: Card
    variants: int = DEFAULT_VARIANTS  # pool size of a parametric card (`quizzer verify --variants N`)

    @property
    def key(self) -> str:
        return f"{self.loaded.deck.id}/{self.card.id}"

    @classmethod
    def as_verified(cls, loaded: LoadedDeck, card: Card, outcome: Outcome | None) -> Job:
        """The job a cached outcome came from: a parametric card's key depends on the pool size it was built with."""
        return cls(loaded, card, (outcome.variants if outcome is not None else 0) or DEFAULT_VARIANTS)


# ------------------------------------------------------------------ cache keys


def torch_version() -> str:
    """Read from package metadata: importing torch to learn its version would cost a second.

    Equal to the `torch.__version__` the card processes import whenever the installed torch is the
    one on `sys.path` (the zygote reports its own at start-up; should they ever differ, a result is
    saved under the key of the torch it ran with, so it is never served to a run keyed by the other).
    """
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return "absent"


@functools.cache
def judging_digest() -> bytes:
    """SHA-256 of the judging modules' source (read, not imported: torch and numpy stay out)."""
    digest = hashlib.sha256()
    for name in JUDGING_MODULES:
        digest.update(name.encode() + b"\0" + Path(importlib.util.find_spec(name).origin).read_bytes())
    return digest.digest()


def cache_key(job: Job, torch: str | None = None) -> str:
    digest = hashlib.sha256(judging_digest())
    digest.update(f"{torch or torch_version()}\0{job.card.model_dump_json()}\0".encode())
    if job.card.parametric:
        digest.update(f"variants={job.variants}\0".encode())
    path = job.loaded.verifier_path(job.card)
    if path is not None:
        for source in sorted(local_sources(path, job.loaded.verifiers_root)):
            digest.update(str(source.relative_to(job.loaded.verifiers_root.resolve())).encode() + b"\0")
            digest.update(source.read_bytes())
    return digest.hexdigest()


# ------------------------------------------------------------------ the pool


class WorkerPool:
    """Runs jobs, each in a fresh process forked from one warm zygote (`quizzer.verify.zygote`).

    `size` cards run at once. The zygote is started on first use (it imports torch) and kept for
    later `run` calls; if it dies, the cards it was running are reported as crashed and the next
    job starts a new one. The process spawned is the zygote's guard (`zygote.guard`), which kills
    whatever the zygote leaves behind before it exits: once the pool sees it gone, so is every
    process a verifier started. This process itself adopts nothing.
    """

    def __init__(
        self,
        jobs: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        memory_mb: int = DEFAULT_MEMORY_MB,
        on_warning: Callable[[str], None] = lambda text: None,
    ):
        self.size = max(1, jobs or os.cpu_count() or 1)
        self.timeout = timeout
        self.memory_mb = memory_mb
        self._context = multiprocessing.get_context("spawn")
        self._process: multiprocessing.process.BaseProcess | None = None
        self._connection: Connection | None = None
        self._job_ids = itertools.count()
        self.torch: str | None = None  # torch's version as the zygote imported it, once it is ready
        # Why the cards are not in a pid namespace of their own, once the zygote is ready ("" if they are).
        # Without one, what a verifier started outlives a `kill -9` of the guard and zygote together.
        self.uncontained: str | None = None
        self._on_warning = on_warning

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Ask the zygote to kill every card still running and exit; kill it if it does not."""
        if self._process is None:
            return
        with contextlib.suppress(BrokenPipeError, OSError):
            self._connection.send(None)
        self._process.join(timeout=STOP_ALLOWANCE)
        self._discard()

    def warm(self) -> None:
        """Start the zygote now unless it runs: the next card then starts without importing torch first.

        For a caller that will run cards soon but not yet (`quizzer verify --watch` between saves). A
        zygote that fails to start is no error here: the next `run` tries again and reports it.
        """
        if self._process is None:
            self._start()

    def run(
        self, jobs: Iterable[Job], on_start: Callable[[Job], None] = lambda job: None
    ) -> Iterator[tuple[Job, Outcome]]:
        """Yield (job, outcome) as each finishes; every job yields exactly once. `on_start`: a job was handed out."""
        pending = list(jobs)
        pending.reverse()
        running: dict[int, tuple[Job, float]] = {}  # job id → (job, when the pool gives up on the zygote)
        while pending or running:
            if self._process is None:
                failure = self._start()
                if failure is not None:
                    while pending:
                        yield pending.pop(), failure
                    return
            while pending and len(running) < self.size:
                job, job_id = pending.pop(), next(self._job_ids)
                message = ("run", job_id, job.card.model_dump_json(), str(job.loaded.verifiers_root), job.variants)
                self._connection.send((*message, self.timeout, self.memory_mb))
                running[job_id] = (job, time.monotonic() + self.timeout + STOP_ALLOWANCE)
                on_start(job)
            give_up = min(limit for _, limit in running.values())
            ready = wait([self._connection, self._process.sentinel], timeout=max(0.0, give_up - time.monotonic()))
            if self._connection in ready:
                with contextlib.suppress(EOFError, OSError):
                    _, job_id, outcome_json = self._connection.recv()
                    if job_id in running:
                        job, _ = running.pop(job_id)
                        yield job, _judged(job, outcome_json)
                    continue
            if ready or time.monotonic() >= give_up:  # the zygote died or stopped answering
                self._process.join(timeout=1)
                code = self._process.exitcode
                self._discard()
                what = f"died (exit code {code})" if code is not None else "stopped answering"
                reason = f"the verifier processes' parent {what}"
                for job, _ in running.values():
                    yield job, Outcome("crashed", reason)
                running.clear()

    def _start(self) -> Outcome | None:
        """Start the zygote and wait until torch is imported; an outcome for every job if it never gets there."""
        from quizzer.verify import zygote  # only a run that verifies something needs it (a warm run stays lean)

        self._connection, child = self._context.Pipe()
        self._process = self._context.Process(target=zygote.guard, args=(child, os.getpid()), daemon=True)
        self._process.start()
        child.close()
        try:
            ready = wait([self._connection, self._process.sentinel], timeout=STARTUP_ALLOWANCE)
        except BaseException:  # Ctrl-C while it imports torch: it has started no card, so nothing to wait for
            self._discard()
            raise
        if self._connection in ready:
            with contextlib.suppress(EOFError, OSError, TypeError, ValueError):
                tag, version, why_not = self._connection.recv()
                if tag == "ready":
                    self.torch = version
                    if why_not and self.uncontained is None:  # said once per pool, not at each restart
                        self._on_warning(UNCONTAINED.format(why_not=why_not))
                    self.uncontained = why_not
                    return None
        code = self._process.exitcode
        self._discard()
        if code is None:
            return Outcome("timeout", f"the verifier processes' parent did not start within {STARTUP_ALLOWANCE:g} s")
        return Outcome("crashed", f"the verifier processes' parent failed to start (exit code {code})")

    def _discard(self) -> None:
        """End the guard if it still runs: SIGTERM has it kill the zygote and everything below first."""
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=STOP_ALLOWANCE)
        if self._process.is_alive():  # the guard itself stopped answering
            self._process.kill()
        self._process.join()
        self._connection.close()
        self._process = self._connection = None


def _judged(job: Job, outcome_json: str) -> Outcome:
    """The card process's report, judged again here: a verifier cannot forge a pass for its card.

    Only what a verifier may legitimately produce is taken from its process (value, claims, notes,
    output, or the exception it raised); the verdict on the value and claims is decided again.
    """
    try:
        outcome = Outcome.from_json(outcome_json)
    except (TypeError, ValueError):
        return Outcome("crashed", "the verifier process sent back an unreadable result")
    if outcome.status == "error" or outcome.interrupted:
        return outcome
    return decide(job.card, outcome)


# ------------------------------------------------------------------ a verification run


@dataclass(frozen=True)
class Verified:
    job: Job
    outcome: Outcome
    cached: bool


def verify(
    jobs: list[Job],
    store=None,
    *,
    workers: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    memory_mb: int = DEFAULT_MEMORY_MB,
    use_cache: bool = True,
    on_result: Callable[[Verified], None] = lambda verified: None,
    on_start: Callable[[Job], None] = lambda job: None,
    on_warning: Callable[[str], None] = lambda text: None,
    pool: WorkerPool | None = None,
) -> list[Verified]:
    """Verify every job, from the cache where the key still matches; results are saved to `store`.

    A timeout, crash or out-of-memory is never served from the cache (the next run tries again) and
    never replaces a cached result of the same card version: it says nothing about the card.
    `on_warning`: something the user should know about the run (`WorkerPool`'s).
    `pool`: run the cards there and leave it open (its own size, timeout and memory cap apply), so
    that a caller verifying again and again keeps one warm zygote; else a pool for this call alone.
    """
    torch = torch_version()
    keys = {job.key: cache_key(job, torch) for job in jobs}
    results: dict[str, Verified] = {}
    to_run: list[Job] = []
    for job in jobs:
        if not job.card.verifier:
            # execute() reports "unverified" at once, in this process, without importing anything
            results[job.key] = Verified(job, execute(job.card, job.loaded.verifiers_root), False)
            on_result(results[job.key])
            continue
        record = store.verification(job.key) if (store is not None and use_cache) else None
        cached = _cached_outcome(record) if record is not None and record.cache_key == keys[job.key] else None
        if cached is not None and record.status in CACHED_VERDICTS:
            results[job.key] = Verified(job, cached, True)
            on_result(results[job.key])
        else:
            to_run.append(job)
    if to_run:
        size = min(workers or os.cpu_count() or 1, len(to_run))
        with (
            contextlib.nullcontext(pool)
            if pool
            else WorkerPool(size, timeout, memory_mb, on_warning=on_warning) as pool
        ):
            for job, outcome in pool.run(to_run, on_start):
                ran = pool.torch or torch  # the torch the card ran with; the metadata's unless they disagree
                key = keys[job.key] if ran == torch else cache_key(job, ran)
                if store is not None and not (outcome.interrupted and _holds_a_result(store, job.key, key)):
                    store.save_verification(
                        job.key,
                        key,
                        outcome.status,
                        outcome.to_json(),
                        ran,
                        time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                        outcome.duration,
                    )
                results[job.key] = Verified(job, outcome, False)
                on_result(results[job.key])
    return [results[job.key] for job in jobs]


def _cached_outcome(record) -> Outcome | None:
    """The cached outcome, or None for a damaged row (the card is then simply verified again)."""
    try:
        return Outcome.from_json(record.outcome)
    except (ValueError, TypeError):
        return None


def _holds_a_result(store, key: str, cache_key: str) -> bool:
    """Whether the store has a real result (not an interruption) for this version of the card."""
    record = store.verification(key)
    return record is not None and record.cache_key == cache_key and record.status not in INTERRUPTED
