"""Verification in CI: splitting the cards into shards, and sharing the verification cache as a file.

Sharding (`quizzer verify --shard I/N`). Every shard computes the same split on its own, so the split
depends only on what all shards see alike: the selected cards and the last duration of each card,
read from the `--cache-file` files when given (all shards restore the same one), else from the state
database. Longest first, each card goes to the shard with
the least work so far (ties to the lowest shard); a card never timed counts as the median of those
that were, so with no durations at all the split is an even deal by count. The split's fingerprint
travels in each shard's report, and `--merge` refuses shards that split differently.

The cache file (`--cache-file FILE`). JSON holding verification records as the state database keeps
them. Reading one only adds what is newer than the database's own record for a card; a record is
used only when its cache key matches the card and verifier sources as they are now, so an old or
foreign file can never make a changed card pass. It is trusted as the database is: give it only
files your own runs wrote.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, fields
from pathlib import Path

from quizzer.core import jsontext
from quizzer.files import NotARegularFile, TooLarge, read_regular
from quizzer.store import VerificationRecord
from quizzer.verify.runner import Job

CACHE_FORMAT = "quizzer verification cache"
CACHE_VERSION = 1
MAX_CACHE_BYTES = 256 << 20
MAX_SHARDS = 256
_SHARD_SPEC = re.compile(r"([0-9]{1,12})/([0-9]{1,12})", re.ASCII)


class CIError(ValueError):
    """A shard spec or cache file that cannot be used; the message says why and what to do."""


# ---------------------------------------------------------------------- shards


def parse_shard(text: str) -> tuple[int, int]:
    """`"2/4"` → (2, 4): ASCII digits, 1 ≤ I ≤ N ≤ MAX_SHARDS (bounded before any work is sized on N)."""
    match = _SHARD_SPEC.fullmatch(text)
    index, count = (int(match[1]), int(match[2])) if match else (0, 0)
    if not 1 <= index <= count:
        raise CIError(f"--shard {text!r}: write I/N with 1 ≤ I ≤ N, e.g. --shard 1/2")
    if count > MAX_SHARDS:
        raise CIError(f"--shard {text!r}: at most {MAX_SHARDS} shards (a GitHub Actions matrix's job limit); use fewer")
    return index, count


def split(jobs: Sequence[Job], count: int, durations: Mapping[str, float]) -> list[list[Job]]:
    """`count` shards of `jobs`, balanced on `durations` (seconds by card key; see the module docstring)."""
    known = [durations[job.key] for job in jobs if job.key in durations]
    default = statistics.median(known) if known else 1.0
    cost = {job.key: (durations.get(job.key, default) if job.card.verifier else 0.0) for job in jobs}
    shards: list[list[Job]] = [[] for _ in range(count)]
    least_loaded = [(0.0, 0, i) for i in range(count)]  # (load, cards, shard): a heap, so each deal is log N
    for job in sorted(jobs, key=lambda j: (-cost[j.key], j.key)):
        load, size, target = heapq.heappop(least_loaded)
        shards[target].append(job)
        heapq.heappush(least_loaded, (load + cost[job.key], size + 1, target))
    order = {job.key: n for n, job in enumerate(jobs)}
    return [sorted(shard, key=lambda j: order[j.key]) for shard in shards]


def split_fingerprint(jobs: Sequence[Job], count: int, durations: Mapping[str, float]) -> str:
    """Identifies a split: equal for shards that dealt the same cards on the same durations."""
    digest = hashlib.sha256(str(count).encode())
    for job in sorted(jobs, key=lambda j: j.key):
        digest.update(f"\0{job.key}\0{durations.get(job.key, '')}".encode())
    return digest.hexdigest()[:16]


def last_durations(records: Iterable[VerificationRecord]) -> dict[str, float]:
    """Seconds each card's verifier took when it last ran, by card key."""
    return {record.key: float(record.duration) for record in records if record.duration is not None}


# ---------------------------------------------------------------------- the cache file

_RECORD_FIELDS = [f.name for f in fields(VerificationRecord)]


def read_cache_file(path: Path) -> list[VerificationRecord]:
    """The records of a cache file; [] if it does not exist yet (the first run writes it)."""
    try:
        data = jsontext.loads(read_regular(path, MAX_CACHE_BYTES).decode("utf-8"))
    except FileNotFoundError:
        return []
    except TooLarge:
        raise CIError(f"{path}: over {MAX_CACHE_BYTES >> 20} MiB; not a quizzer verification cache") from None
    except NotARegularFile:
        raise CIError(f"{path}: not a regular file (a FIFO, socket or device); pass a cache file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CIError(f"{path}: not a quizzer verification cache ({error}); delete it or pass another file") from None
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT or not isinstance(data.get("records"), list):
        raise CIError(f"{path}: not a quizzer verification cache (written by --cache-file); delete it or pass another")
    if data.get("version") != CACHE_VERSION:
        raise CIError(f"{path}: cache format version {data.get('version')!r}, this quizzer reads {CACHE_VERSION}")
    records = []
    for number, item in enumerate(data["records"], start=1):
        try:
            record = VerificationRecord(*(item[name] for name in _RECORD_FIELDS))
            valid = all(isinstance(getattr(record, n), str) for n in _RECORD_FIELDS[:-1])
            valid = valid and isinstance(record.duration, int | float) and not isinstance(record.duration, bool)
        except (TypeError, KeyError):
            valid = False
        if not valid:
            raise CIError(f"{path}: record #{number} is not a verification record; delete the file or pass another")
        records.append(record)
    return records


def write_cache_file(path: Path, records: Iterable[VerificationRecord]) -> int:
    """Write `records` (sorted by card key, so the file diffs well); the number written."""
    rows = sorted((asdict(r) for r in records), key=lambda r: r["key"])
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps({"format": CACHE_FORMAT, "version": CACHE_VERSION, "records": rows}, indent=1))
    temporary.replace(path)
    return len(rows)
