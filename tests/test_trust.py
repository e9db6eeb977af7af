"""Trust names exactly one deck project: `quizzer trust` lists, adds and removes; the app runs nothing else.

The projects here are tiny folders with decks/ and verifiers/, each card's verifier writing a
marker file when it runs, so a test can tell from the disk whether anything ran.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizzer import store as store_module
from quizzer.cli import main
from quizzer.review.tui.library import Library
from quizzer.store import Store

DECK = """id = "{deck}"
title = "{deck}"

[[cards]]
id = "card"
prompt = "1?"
explanation = "."
verifier = "v.py"
answer = {{ kind = "numeric", value = 1 }}
"""
VERIFIER = """from pathlib import Path

from quizzer.verifier import Result


def verify():
    Path(__file__).with_name("ran").touch()
    return Result(value=1)
"""


def make_project(folder: Path, deck: str) -> Path:
    """A deck project at `folder` (decks/<deck>.toml, verifiers/v.py); returns the folder, resolved."""
    (folder / "decks").mkdir(parents=True)
    (folder / "verifiers").mkdir()
    (folder / "decks" / f"{deck}.toml").write_text(DECK.format(deck=deck))
    (folder / "verifiers" / "v.py").write_text(VERIFIER)
    return folder.resolve()


def ran(project: Path) -> bool:
    return (project / "verifiers" / "ran").exists()


@pytest.fixture
def projects(tmp_path):
    """A project `outer`, and an untrusted project copied into a subfolder of it (`outer/downloads/inner`)."""
    outer = make_project(tmp_path / "outer", "outer")
    inner = make_project(outer / "downloads" / "inner", "inner")
    return outer, inner


def trust(db: Path, *args: str):
    return CliRunner().invoke(main, ["trust", *args, "--db", str(db)])


def test_a_project_inside_a_trusted_project_is_not_trusted(tmp_path, projects):
    outer, inner = projects
    with Store.open(tmp_path / "q.db") as store:
        store.trust_project(outer)
        library = Library.load(store, [outer / "decks", inner / "decks"], bundled=tmp_path / "elsewhere")
        assert library.trusted(library.deck("outer"))
        assert not library.trusted(library.deck("inner"))


def test_the_app_verifies_the_trusted_project_and_not_the_one_copied_inside_it(tmp_path, projects):
    from quizzer.review.tui.app import QuizzerApp

    outer, inner = projects
    db = tmp_path / "q.db"
    with Store.open(db) as store:
        store.trust_project(outer)
    app = QuizzerApp(
        db, [outer / "decks", inner / "decks"], today=date(2025, 3, 3), auto_verify=True, bundled=tmp_path / "none"
    )

    async def scenario():
        async with app.run_test(size=(100, 30)) as pilot:
            while (
                not ran(outer)
                or app.library.verifying
                or any(w.group == "verify" and not w.is_finished for w in app.workers)
            ):
                await pilot.pause(0.1)  # until the background `quizzer verify` of outer's deck is over
            await pilot.pause()
            assert app.library.verification("inner/card").badge == "untrusted"
            note = str(app.screen.query_one("#trust-note").render())
            assert note.endswith(f"To trust, run quizzer trust {inner}")  # the one untrusted project

    asyncio.run(asyncio.wait_for(scenario(), 300))
    assert ran(outer) and not ran(inner)


def test_trust_adds_lists_and_removes_exact_projects(tmp_path, projects):
    outer, inner = projects
    db = tmp_path / "q.db"
    assert trust(db, str(outer)).output == f"trusted: {outer}\n"
    assert trust(db, str(outer)).output == f"already trusted: {outer}\n"
    assert trust(db, str(inner / "decks")).output == f"trusted: {inner}\n"  # its decks/ folder names the project
    listed = trust(db).output.splitlines()
    assert listed[1:] == [str(outer), str(inner)] and listed[0].startswith("bundled decks (always trusted): ")
    assert trust(db, "--remove", str(outer)).output == f"no longer trusted: {outer}\n"
    assert trust(db, "--remove", str(outer)).output == f"was not trusted: {outer}\n"
    with Store.open(db) as store:
        assert store.trusted_projects() == [str(inner)]


def test_the_bundled_project_cannot_be_removed_and_says_so(tmp_path):
    from quizzer.paths import bundled_decks
    from quizzer.verify.trust import project_named

    bundled = project_named(bundled_decks())
    result = trust(tmp_path / "q.db", "--remove", str(bundled))
    assert result.exit_code == 1 and "holds the bundled decks, which are always trusted" in result.output
    assert "was not trusted" not in result.output  # it was, and stays


def test_trust_refuses_a_folder_that_is_not_a_deck_project(tmp_path, projects):
    outer, _ = projects
    result = trust(tmp_path / "q.db", str(outer / "downloads"))
    assert result.exit_code == 2
    assert "holds no decks/ folder and no deck files" in result.output and "Traceback" not in result.output
    with Store.open(tmp_path / "q.db") as store:
        assert store.trusted_projects() == []


def test_verify_trusts_exactly_the_project_of_the_deck_it_ran(tmp_path, projects, monkeypatch):
    outer, inner = projects
    db = tmp_path / "q.db"
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["verify", str(inner / "decks" / "inner.toml"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert f"trusted {inner}: the review app may now run its verifiers on its own" in result.output
    with Store.open(db) as store:
        assert store.trusted_projects() == [str(inner)]
        library = Library.load(store, [outer / "decks", inner / "decks"], bundled=tmp_path / "elsewhere")
        assert library.trusted(library.deck("inner")) and not library.trusted(library.deck("outer"))


def test_old_folder_trust_becomes_exactly_one_project_each(tmp_path, projects, monkeypatch):
    """A database from before: `decks/` folders (what verify recorded) become their project, nothing more."""
    outer, inner = projects
    path = tmp_path / "old.db"
    before = store_module.MIGRATIONS.index(store_module._trust_names_projects)
    monkeypatch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:before])
    Store.open(path).close()
    monkeypatch.undo()
    with sqlite3.connect(path) as old:
        old.executemany(
            "INSERT INTO trusted_dirs (path, added_at) VALUES (?, '2026-01-01T00:00:00+00:00')",
            [(str(outer / "decks"),), (str(outer),), (str(tmp_path),)],
        )
    with Store.open(path) as store:
        assert store.trusted_projects() == sorted([str(outer), str(tmp_path)])
        assert not store.db["trusted_dirs"].exists()
        library = Library.load(store, [outer / "decks", inner / "decks"], bundled=tmp_path / "elsewhere")
        assert library.trusted(library.deck("outer")) and not library.trusted(library.deck("inner"))
    listed = trust(path).output
    assert f"{tmp_path}  (holds no decks: trusts nothing; trust each project in it)" in listed
