"""Trust: the deck projects whose verifiers quizzer may run without being asked each time.

Verifiers are code. `quizzer verify` runs what it is told to (naming a deck is consent, and it
records that deck's project as trusted); the review app starts `quizzer verify` on its own only
for decks of a trusted project: the bundled decks' project, or one recorded by `quizzer trust` or
by `quizzer verify`. A deck project is the folder holding `decks/` and `verifiers/` (for a deck
file outside a `decks/` folder: the folder holding the file and `verifiers/`), the folder whose
`verifiers/` the deck's cards run. Trust names exactly one project, never the folders below it:
an untrusted project copied into a subfolder of a trusted one stays untrusted.
"""

from __future__ import annotations

from pathlib import Path

from quizzer.cards.deckfiles import verifiers_root_for


def project_of(deck_path: Path) -> Path:
    """The deck project a deck file belongs to (resolved): the folder holding the `verifiers/` it uses."""
    return verifiers_root_for(deck_path).parent


def project_named(folder: Path) -> Path:
    """The project a folder given to `quizzer trust` names: itself, or the project of its `decks/` folder."""
    folder = folder.expanduser().resolve()
    if folder.name == "decks" and not (folder / "decks").is_dir():
        return folder.parent
    return folder


def is_project(folder: Path) -> bool:
    """Whether `folder` holds decks: a `decks/` folder, or deck files (*.toml) of its own."""
    return (folder / "decks").is_dir() or any(folder.glob("*.toml"))


def trust_command(project: Path) -> str:
    """The exact command that trusts `project`, for messages that say how."""
    text = str(project)
    return "quizzer trust " + (f"'{text}'" if any(c.isspace() or c in "'\"$`\\;&|<>()*?[]" for c in text) else text)
