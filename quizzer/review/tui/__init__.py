"""The Textual app: decks → review (verified answers) → summary; statistics; a card browser.

`quizzer` and `quizzer review` open it; `run()` is the entry point. The app never imports torch:
it reads cached verifications from the store and starts `quizzer verify` as a subprocess.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence
from pathlib import Path


def run(db: Path | None = None, decks: Sequence[Path] = (), **options) -> int:
    """Open the app on `decks` (default: the bundled decks) with the state database `db`.

    `QUIZZER_TUI_READY_FILE` (used by `benchmarks/bench_startup.py`): when set, the app writes the
    wall-clock time at which the decks screen is ready into that file and exits.
    Returns the app's exit code: 1 after a fatal error (a damaged or unwritable database, say).
    """
    from quizzer.review.tui.app import QuizzerApp

    app = QuizzerApp(db, decks or None, ready_file=os.environ.get("QUIZZER_TUI_READY_FILE"), **options)
    # What the imports built (modules, classes, Textual's stylesheet machinery) lives as long as the app:
    # out of the garbage collector's way before the first frame. Without this the first full collection
    # came while the decks screen was first drawn and walked every one of those objects (30-50 ms) to
    # free a few hundred. Once started, the app collects and freezes again (`QuizzerApp._settle_memory`).
    gc.freeze()
    app.run()
    return app.return_code or 0
