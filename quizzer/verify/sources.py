"""The local Python sources a verifier depends on: its file and the modules under the verifiers root it imports.

A leaf (no quizzer imports): the runner hashes these into a card's cache key, and lint reads them for
the figure names a verifier may produce.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path


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
