"""The dependency rules of docs/ARCHITECTURE.md hold: import-linter contracts in pyproject.toml.

The contracts are checked on the package as it is, and each kind of contract is shown to bite on a
copy of the package with one forbidden import planted (so a contract that no longer names real
modules, or one that cannot fail, is caught too).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """`lint-imports` on the `quizzer` package under `root`, with `root/pyproject.toml`'s contracts."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    code = (
        "import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))"
    )
    return subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=300)


def test_the_package_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "contract"),
    [
        ("quizzer/core/sm2.py", "from quizzer import store", "The pure core"),
        ("quizzer/core/checking.py", "import textual", "The pure core"),
        ("quizzer/review/tui/library.py", "import torch", "Nothing of quizzer imports torch"),
        ("quizzer/store.py", "from quizzer.review import session", "Dependencies point one way"),
        ("quizzer/verifier.py", "from quizzer.cards import deck", "The verifier API"),
        ("quizzer/review/session.py", "import sqlite_utils", "Only the store talks to SQLite"),
    ],
)
def test_a_planted_forbidden_import_breaks_its_contract(tmp_path, module, planted, contract):
    shutil.copytree(ROOT / "quizzer", tmp_path / "quizzer", ignore=shutil.ignore_patterns("__pycache__", "bundled"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{planted}  # planted by the test\n", encoding="utf-8")
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout


def test_the_app_runs_its_start_up_work_without_torch():
    """At run time too: loading the library, badges' cache keys, and every screen module, torch stays out."""
    probe = (
        "import sys, tempfile; from pathlib import Path\n"
        "import quizzer.review.tui.app, quizzer.review.tui.screens.review\n"
        "import quizzer.review.tui.screens.browser, quizzer.review.tui.screens.stats\n"
        "from quizzer.paths import bundled_decks\n"
        "from quizzer.store import Store\n"
        "from quizzer.review.tui.library import Library\n"
        "store = Store.open(Path(tempfile.mkdtemp()) / 'q.db')\n"
        "library = Library.load(store, [bundled_decks()], bundled=bundled_decks())\n"
        "assert library.compute_cache_keys()\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=300).stdout
    assert out.strip().splitlines()[-1] == "False"
