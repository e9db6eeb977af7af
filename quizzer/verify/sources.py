"""The local Python sources a verifier depends on, and what lint reads from them.

`local_sources`: a verifier's file and the modules under the verifiers root it imports; the runner
hashes these into a card's cache key, and lint reads them for the figure names a verifier may produce.
`facts`: the functions a source defines and the identifier-like strings it holds, parsed once per
file content and kept on disk, so a warm `quizzer verify` parses no verifier.

A leaf (no quizzer imports).
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from quizzer.core import jsontext

FACTS_FORMAT = "quizzer verifier facts 1"


def local_sources(path: Path, root: Path) -> set[Path]:
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


# ------------------------------------------------------------------ what lint reads from a source


@dataclass(frozen=True)
class Facts:
    functions: frozenset[str]  # top-level `def` names: what a card's `file.py::function` may name
    strings: frozenset[str]  # identifier-like string constants: the figure names the file may produce


def facts(path: Path, folder: Path | None = None) -> Facts:
    """What `path` defines, as `ast.parse` of its UTF-8 text reads it; raises what that raises.

    With a `folder`, the facts are kept there (one entry per source path, replaced when the file
    changes) with a digest of the file's bytes, the Python version and this module's source, and
    read back instead of parsing while that digest matches: the parse and the tree walk were most of
    a warm `quizzer verify`'s time. Only facts of a source that parsed are kept; an entry that does
    not read back cleanly is a miss; a folder that cannot be written is ignored.
    """
    stat = path.stat()
    return _facts(path, stat.st_mtime_ns, stat.st_size, folder)


@functools.cache
def _facts(path: Path, mtime_ns: int, size: int, folder: Path | None) -> Facts:
    data = path.read_bytes()
    digest = hashlib.sha256(_fingerprint() + data).hexdigest()
    entry = None
    if folder is not None:
        name = hashlib.sha256(str(path.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:32]
        entry = folder / f"{name}.json"
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError, AttributeError):
            stored = jsontext.loads(entry.read_bytes())
            functions, strings = stored["functions"], stored["strings"]
            if (
                stored["digest"] == digest
                and isinstance(functions, list)
                and isinstance(strings, list)
                and all(isinstance(name, str) for name in functions + strings)
            ):
                return Facts(frozenset(functions), frozenset(strings))
    tree = ast.parse(data.decode("utf-8"))
    found = Facts(
        frozenset(node.name for node in tree.body if isinstance(node, ast.FunctionDef)),
        frozenset(
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier()
        ),
    )
    if entry is not None:
        _write(entry, {"digest": digest, "functions": sorted(found.functions), "strings": sorted(found.strings)})
    return found


@functools.cache
def _fingerprint() -> bytes:
    """What else decides the facts: the parser (Python's version) and the code above that reads its tree."""
    return f"{FACTS_FORMAT}\0{sys.version}\0".encode() + Path(__file__).read_bytes() + b"\0"


def _write(entry: Path, content: dict) -> None:
    temporary = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(content), encoding="utf-8")
        os.replace(temporary, entry)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
