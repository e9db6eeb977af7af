"""Run verifiers in worker processes: isolated, time-limited, memory-capped, cached.

Each worker imports torch once and then runs many cards. A verifier that hangs is killed at
its timeout and its worker replaced; one that segfaults fails only its own card
("crashed: signal 11"); one that exhausts its memory cap is reported as such. Results are
cached in the state database under a hash of the card, the verifier's source (and the local
modules it imports) and the torch version, so a warm run imports no torch at all.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import multiprocessing
import os
import re
import resource
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

from quizzer.deck import Card
from quizzer.execution import Outcome, execute
from quizzer.loader import LoadedDeck

PROTOCOL = "1"  # bump when the way outcomes are judged changes, to invalidate every cache entry
DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY_MB = 4096  # address space (RLIMIT_AS), not resident memory: torch maps ~0.7 GB at import
STARTUP_ALLOWANCE = 60.0  # a new worker imports torch before its first job's clock starts


@dataclass(frozen=True)
class Job:
    loaded: LoadedDeck
    card: Card

    @property
    def key(self) -> str:
        return f"{self.loaded.deck.id}/{self.card.id}"


# ------------------------------------------------------------------ cache keys


def torch_version() -> str:
    """Read from package metadata: importing torch to learn its version would cost a second."""
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def cache_key(job: Job, torch: str | None = None) -> str:
    digest = hashlib.sha256()
    digest.update(f"{PROTOCOL}\0{torch or torch_version()}\0{job.card.model_dump_json()}\0".encode())
    path = job.loaded.verifier_path(job.card)
    if path is not None:
        for source in sorted(_local_sources(path, job.loaded.verifiers_root)):
            digest.update(str(source.relative_to(job.loaded.verifiers_root.resolve())).encode() + b"\0")
            digest.update(source.read_bytes())
    return digest.hexdigest()


def _local_sources(path: Path, root: Path) -> set[Path]:
    """The verifier file and every module under the verifiers root it imports, transitively."""
    root = root.resolve()
    seen: set[Path] = set()
    pending = [path.resolve()]
    while pending:
        current = pending.pop()
        if current in seen or not current.is_file():
            continue
        seen.add(current)
        stat = current.stat()
        pending += _local_imports(current, root, stat.st_mtime_ns, stat.st_size)
    return seen


_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import\b|import[ \t]+([\w., \t]+))", re.MULTILINE)


@functools.cache
def _local_imports(path: Path, root: Path, mtime_ns: int, size: int) -> tuple[Path, ...]:
    """Modules under `root` that `path` imports (memoised per file version: many cards share a verifier).

    A line scan rather than a parse: it may over-include a module named in a string, which only
    makes the cache key more cautious.
    """
    found = []
    for match in _IMPORT.finditer(path.read_text(encoding="utf-8", errors="replace")):
        names = [match[1]] if match[1] else [n.strip().split(" ")[0] for n in match[2].split(",")]
        for name in names:
            if not name or name.startswith("."):  # relative imports: verifiers are plain files, not packages
                continue
            relative = Path(*name.split("."))
            for folder in (root, path.parent):
                for candidate in (folder / relative.with_suffix(".py"), folder / relative / "__init__.py"):
                    if candidate.is_file() and candidate.resolve().is_relative_to(root):
                        found.append(candidate.resolve())
    return tuple(found)


# ------------------------------------------------------------------ workers


def _worker_main(connection: Connection, memory_mb: int) -> None:
    """Worker process: cap memory, import torch once, then run jobs until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _silence_native_output()
    try:
        import torch

        torch.set_num_threads(1)
        # The first optimizer step lazily imports torch._dynamo (~1.5 s): pay it here, not in a card's time.
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1).step()
    except ImportError:
        pass

    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        card_json, root = message
        connection.send(("started", None))
        outcome = execute(Card.model_validate_json(card_json), Path(root))
        if outcome.status == "error" and _out_of_memory(outcome.traceback):
            outcome.status = "out-of-memory"
            outcome.message = f"the verifier exceeded the memory cap of {memory_mb} MB"
        connection.send(("done", outcome.to_json()))


def _silence_native_output() -> None:
    """Native libraries write to fds 1 and 2 directly; Python-level output is captured per card."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


def _out_of_memory(traceback_text: str) -> bool:
    return "MemoryError" in traceback_text or "can't allocate memory" in traceback_text


class _Worker:
    def __init__(self, context: multiprocessing.context.BaseContext, memory_mb: int):
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, memory_mb), daemon=True)
        self.process.start()
        child.close()
        self.job: Job | None = None
        self.deadline = 0.0
        self.started = 0.0

    def submit(self, job: Job, timeout: float) -> None:
        """Send a job; its clock restarts when the worker reports it started (after any torch import)."""
        self.job, self.started = job, time.monotonic()
        self.deadline = self.started + STARTUP_ALLOWANCE + timeout
        self.connection.send((job.card.model_dump_json(), str(job.loaded.verifiers_root)))

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.connection.close()

    def stop(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self.connection.send(None)
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.kill()


class WorkerPool:
    """A fixed number of long-lived verifier processes; a dead or hung one is replaced."""

    def __init__(self, jobs: int | None = None, timeout: float = DEFAULT_TIMEOUT, memory_mb: int = DEFAULT_MEMORY_MB):
        self.size = max(1, jobs or os.cpu_count() or 1)
        self.timeout = timeout
        self.memory_mb = memory_mb
        self._context = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()
        self._workers.clear()

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[Job, Outcome]]:
        """Yield (job, outcome) as each finishes; every job yields exactly once."""
        pending = list(jobs)
        pending.reverse()
        busy: list[_Worker] = []
        while pending or busy:
            while pending and len(busy) < self.size:
                worker = self._idle_worker(busy)
                worker.submit(pending.pop(), self.timeout)
                busy.append(worker)
            ready = wait(
                [w.connection for w in busy] + [w.process.sentinel for w in busy],
                timeout=max(0.0, min(w.deadline for w in busy) - time.monotonic()),
            )
            for worker in list(busy):
                outcome = self._collect(worker, ready)
                if outcome is not None:
                    busy.remove(worker)
                    job, worker.job = worker.job, None
                    yield job, outcome

    def _idle_worker(self, busy: list[_Worker]) -> _Worker:
        for worker in self._workers:
            if worker not in busy:
                return worker
        worker = _Worker(self._context, self.memory_mb)
        self._workers.append(worker)
        return worker

    def _collect(self, worker: _Worker, ready: list) -> Outcome | None:
        died = worker.process.sentinel in ready
        if worker.connection in ready:
            try:
                kind, payload = worker.connection.recv()
            except (EOFError, OSError):
                kind, payload, died = "died", None, True
            if kind == "started":
                worker.started = time.monotonic()
                worker.deadline = worker.started + self.timeout
                return None
            if kind == "done":
                return Outcome.from_json(payload)
        elapsed = time.monotonic() - worker.started
        if died:
            worker.process.join(timeout=1)
            code = worker.process.exitcode
            self._replace(worker)
            reason = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            if code == -signal.SIGKILL:
                reason += " (killed: out of memory?)"
            return Outcome("crashed", reason, duration=elapsed)
        if time.monotonic() >= worker.deadline:
            self._replace(worker)
            return Outcome("timeout", f"timed out after {self.timeout:g} s and was stopped", duration=elapsed)
        return None

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        self._workers.remove(worker)


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
) -> list[Verified]:
    """Verify every job, from the cache where the key still matches; results are saved to `store`."""
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
        if record is not None and record.cache_key == keys[job.key]:
            results[job.key] = Verified(job, Outcome.from_json(record.outcome), True)
            on_result(results[job.key])
        else:
            to_run.append(job)
    if to_run:
        with WorkerPool(min(workers or os.cpu_count() or 1, len(to_run)), timeout, memory_mb) as pool:
            for job, outcome in pool.run(to_run):
                if store is not None:
                    store.save_verification(
                        job.key,
                        keys[job.key],
                        outcome.status,
                        outcome.to_json(),
                        torch,
                        time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                        outcome.duration,
                    )
                results[job.key] = Verified(job, outcome, False)
                on_result(results[job.key])
    return [results[job.key] for job in jobs]
