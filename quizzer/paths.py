"""Where things live: the bundled decks and the state database."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def bundled_decks() -> Path:
    """`decks/` of the source checkout (editable install), else the copy shipped inside the wheel."""
    for candidate in (PACKAGE.parent / "decks", PACKAGE / "bundled" / "decks"):
        if candidate.is_dir():
            return candidate
    return PACKAGE.parent / "decks"


def default_decks() -> Path:
    """`./decks` when the current directory is a deck project (holds decks/*.toml), else the bundled decks.

    Deck ids given on the command line (`cnn`, `cnn/receptive-field`) are looked up here.
    """
    local = Path("decks")
    if local.is_dir() and any(local.glob("*.toml")):
        return local
    return bundled_decks()


def default_db() -> Path:
    """`$QUIZZER_HOME/quizzer.db`, else quizzer.db in the user's data directory."""
    home = os.environ.get("QUIZZER_HOME")
    if home:
        return Path(home).expanduser() / "quizzer.db"
    from platformdirs import user_data_dir

    return Path(user_data_dir("quizzer", appauthor=False)) / "quizzer.db"


def relative_to_cwd(path: Path) -> str:
    """`path` relative to the working directory when it lies inside it, else as given: what a message shows
    (an author reads `decks/x.toml`; GitHub's annotations are relative to the checkout)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
