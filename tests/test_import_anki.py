"""`quizzer import anki`: .apkg (legacy and current format) → lint-clean decks with progress carried over."""

from __future__ import annotations

import json
import sqlite3
import tempfile
import zipfile
from datetime import date, timedelta
from pathlib import Path

import genanki
import pytest
from click.testing import CliRunner

from quizzer.authoring.anki import markdown_html, options_html
from quizzer.authoring.importing import guid_card_id, html_to_markdown, import_anki
from quizzer.cards.loader import deck_files, lint, load_deck
from quizzer.cli import main
from quizzer.paths import bundled_decks
from quizzer.review.show import instance_to_show
from quizzer.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "anki"
TODAY = date(2026, 3, 10)
PICTURE = b"\x89PNG\r\n\x1a\n a small picture"

BASIC = genanki.Model(
    1607392319,
    "Basic",
    fields=[{"name": "Front"}, {"name": "Back"}],
    templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr id=answer>{{Back}}"}],
)


def build_package(folder: Path) -> tuple[Path, dict[str, str]]:
    """A genanki package: text, cloze, MathJax, media, tags in two decks, then scheduled by hand.

    genanki writes every card new, so the collection is edited before zipping: one review card
    (interval 10, ease 230%, 2 lapses of which the log holds 1), one in relearning, one suspended.
    """
    picture = folder / "block.png"
    picture.write_bytes(PICTURE)
    physics = genanki.Deck(2059400110, "Physics::Mechanics")
    chemistry = genanki.Deck(2059400111, "Chemistry")
    notes = {
        "newton": genanki.Note(BASIC, [r"State <b>Newton's</b> law: \(F = ?\)", r"\(F = ma\)"], tags=["newton", "law"]),
        "energy": genanki.Note(
            genanki.CLOZE_MODEL,
            [r"Kinetic energy is {{c1::\(\tfrac12 mv^2\)}}, momentum {{c2::\(mv\)::a product}}.", "Extra"],
        ),
        "picture": genanki.Note(BASIC, ['<img src="block.png"><br>Which force?', "gravity"], tags=["media"]),
        "lapsed": genanki.Note(BASIC, ["Unit of force?", "newton"]),
        "suspended": genanki.Note(BASIC, ["Suspended?", "yes"]),
        "water": genanki.Note(BASIC, ["Formula of water?", "H<sub>2</sub>O"], tags=["chem"]),
    }
    for name, note in notes.items():
        (chemistry if name == "water" else physics).add_note(note)
    package = genanki.Package([physics, chemistry], media_files=[str(picture)])
    database = folder / "collection.anki2"
    conn = sqlite3.connect(database)
    package.write_to_db(conn.cursor(), 1_700_000_000, iter(range(1_700_000_000_000, 1 << 62)))
    conn.commit()
    guids = {name: note.guid for name, note in notes.items()}

    def card_of(name: str) -> int:
        return conn.execute(
            "SELECT c.id FROM cards c JOIN notes n ON n.id = c.nid WHERE n.guid = ?", (guids[name],)
        ).fetchone()[0]

    (crt,) = conn.execute("SELECT crt FROM col").fetchone()
    crt_day = date.fromtimestamp(crt)
    due_day = (TODAY - crt_day).days + 3  # due three days after TODAY
    newton = card_of("newton")
    conn.execute(
        "UPDATE cards SET type = 2, queue = 2, ivl = 10, factor = 2300, due = ?, reps = 6, lapses = 2 WHERE id = ?",
        (due_day, newton),
    )
    conn.executemany(
        "INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) VALUES (?, ?, -1, ?, ?, ?, ?, ?, ?)",
        [
            (1_709_000_000_000, newton, 3, 1, 0, 2500, 4000, 0),  # learn: Good
            (1_709_100_000_000, newton, 1, -600, 1, 2300, 9000, 1),  # review: Again (the logged lapse)
            (1_709_200_000_000, newton, 4, 10, 1, 2300, 2000, 1),  # review: Easy
        ],
    )
    conn.execute(
        "UPDATE cards SET type = 3, queue = 1, ivl = 1, factor = 2100, lapses = 1 WHERE id = ?", (card_of("lapsed"),)
    )
    conn.execute("UPDATE cards SET queue = -1 WHERE id = ?", (card_of("suspended"),))
    conn.commit()
    conn.close()
    out = folder / "made-with-genanki.apkg"
    with zipfile.ZipFile(out, "w") as archive:
        archive.write(database, "collection.anki2")
        archive.writestr("media", json.dumps({"0": "block.png"}))
        archive.write(picture, "0")
    return out, guids


@pytest.fixture
def made(tmp_path):
    return build_package(tmp_path)


def run_import(tmp_path, package, *extra):
    result = CliRunner().invoke(
        main, ["import", "anki", str(package), "-o", str(tmp_path / "decks"), "--db", str(tmp_path / "q.db"), *extra]
    )
    return result, tmp_path / "decks"


def test_a_genanki_package_becomes_one_lint_clean_deck_per_anki_deck(tmp_path, made):
    package, guids = made
    result, decks = run_import(tmp_path, package, "--today", TODAY.isoformat())
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in deck_files([decks]))
    assert files == ["chemistry.toml", "physics-mechanics.toml"]
    for path in deck_files([decks]):
        assert lint(path) == []
    physics = load_deck(decks / "physics-mechanics.toml").deck
    assert physics.title == "Physics::Mechanics"
    assert len(physics.cards) == 6  # five notes, the cloze one giving two cards
    assert all(card.verifier is None and card.answer.kind == "text" for card in physics.cards)
    newton = physics.card(guid_card_id(guids["newton"]))
    assert newton.prompt.strip() == "State **Newton's** law: $F = ?$"
    assert newton.answer.value.strip() == "$F = ma$"
    assert newton.tags == ["newton", "law"]
    water = load_deck(decks / "chemistry.toml").deck.cards[0]
    assert water.answer.value.strip() == r"H\_2O"


def test_a_cloze_note_gives_a_card_per_deletion_with_only_that_one_hidden(tmp_path, made):
    package, guids = made
    run_import(tmp_path, package)
    deck = load_deck(tmp_path / "decks" / "physics-mechanics.toml").deck
    first = deck.card(guid_card_id(guids["energy"]) + "-c1")
    second = deck.card(guid_card_id(guids["energy"]) + "-c2")
    assert first.prompt.strip() == r"Kinetic energy is **\[...\]**, momentum $mv$."
    assert first.answer.value.strip() == r"$\tfrac12 mv^2$"
    assert second.prompt.strip() == r"Kinetic energy is $\tfrac12 mv^2$, momentum **\[a product\]**."
    assert second.answer.value.strip() == "$mv$"
    assert "Extra" in second.explanation


def test_media_is_copied_beside_the_deck_and_referenced_relative_to_it(tmp_path, made):
    package, guids = made
    run_import(tmp_path, package)
    decks = tmp_path / "decks"
    card = load_deck(decks / "physics-mechanics.toml").deck.card(guid_card_id(guids["picture"]))
    assert card.prompt.startswith("![](physics-mechanics-media/block.png)")
    assert (decks / "physics-mechanics-media" / "block.png").read_bytes() == PICTURE
    assert not (decks / "chemistry-media").exists()  # only the media a deck's cards use


def test_ids_are_stable_across_imports(tmp_path, made):
    package, _ = made
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        run_import(tmp_path / name, package)
    one = (tmp_path / "one" / "decks" / "physics-mechanics.toml").read_text()
    two = (tmp_path / "two" / "decks" / "physics-mechanics.toml").read_text()
    assert one == two


def test_scheduling_state_and_lapses_are_carried_into_the_state_database(tmp_path, made):
    package, guids = made
    result, decks = run_import(tmp_path, package, "--today", TODAY.isoformat())
    assert "progress of 3 card(s)" in result.output
    with Store.open(tmp_path / "q.db") as store:
        newton = store.card(f"physics-mechanics/{guid_card_id(guids['newton'])}")
        assert newton.state.ef_thousandths == 2300
        assert newton.state.interval == 10
        assert newton.state.due == TODAY + timedelta(days=3)
        assert newton.state.phase == "review"
        history = store.history(newton.key)
        assert [r.quality for r in history] == [1, 4, 1, 5]  # the unlogged lapse first, then the log
        assert sum(r.quality < 3 for r in history) == 2  # both lapses
        lapsed = store.card(f"physics-mechanics/{guid_card_id(guids['lapsed'])}")
        assert lapsed.state.phase == "learning" and lapsed.state.ef_thousandths == 2100
        assert store.card(f"physics-mechanics/{guid_card_id(guids['suspended'])}").suspended
        assert store.card(f"physics-mechanics/{guid_card_id(guids['picture'])}") is None  # new: nothing to carry
    due = CliRunner().invoke(
        main, ["due", str(decks), "--db", str(tmp_path / "q.db"), "--today", (TODAY + timedelta(days=3)).isoformat()]
    )
    assert "physics-mechanics      1         1      3" in due.output, due.output


def test_importing_again_keeps_the_progress_made_in_quizzer(tmp_path, made):
    package, guids = made
    run_import(tmp_path, package, "--today", TODAY.isoformat())
    key = f"physics-mechanics/{guid_card_id(guids['newton'])}"
    with Store.open(tmp_path / "q.db") as store:
        store.record_answer(key, 5, today=TODAY + timedelta(days=3), now=_noon(TODAY + timedelta(days=3)))
        after_answer = store.card(key).state
    again, _ = run_import(tmp_path, package, "--today", TODAY.isoformat())
    assert again.exit_code != 0 and "--force" in again.output  # deck files are never silently replaced
    forced, _ = run_import(tmp_path, package, "--today", TODAY.isoformat(), "--force")
    assert forced.exit_code == 0, forced.output
    assert "3 card(s) already had progress" in forced.output
    with Store.open(tmp_path / "q.db") as store:
        assert store.card(key).state == after_answer
        assert len(store.history(key)) == 5


def _noon(day: date):
    from datetime import datetime, time

    return datetime.combine(day, time(12)).astimezone()


@pytest.mark.parametrize("package", ["current-format.apkg", "legacy-format.apkg"])
def test_packages_exported_by_anki_itself_import(tmp_path, package):
    """Made by tests/fixtures/anki/make_packages.py with the real `anki` package, both formats."""
    summary = import_anki(FIXTURES / package, tmp_path / "decks", today=TODAY, store=Store.open(tmp_path / "q.db"))
    assert summary.cards == 6 and summary.media == 1 and summary.problems == []
    deck = load_deck(tmp_path / "decks" / "physics-mechanics.toml").deck
    prompts = [card.prompt.strip() for card in deck.cards]
    assert "State **Newton's second law**." in prompts
    assert r"Kinetic energy is $\tfrac12 mv^2$, momentum **\[a product\]**." in prompts
    picture = (tmp_path / "decks" / "physics-mechanics-media" / "incline.png").read_bytes()
    assert picture == b"\x89PNG\r\n\x1a\n not really a picture"
    with Store.open(tmp_path / "q.db") as store:
        states = {card.id: store.card(f"{deck.id}/{card.id}") for card in deck.cards}
        scheduled = {cid: s for cid, s in states.items() if s is not None}
        phases = sorted(s.state.phase for s in scheduled.values())
        assert phases == ["learning", "new", "review"]  # reviewed, lapsed, suspended (new)
        assert sum(s.suspended for s in scheduled.values()) == 1
        answers = sum(len(store.history(s.key)) for s in scheduled.values())
        assert answers == 4


def test_both_formats_give_the_same_decks(tmp_path):
    texts = []
    for package in ("current-format.apkg", "legacy-format.apkg"):
        import_anki(FIXTURES / package, tmp_path / package, today=TODAY)
        texts.append((tmp_path / package / "physics-mechanics.toml").read_text().split("\n", 4)[4])
    assert texts[0] == texts[1]


def test_exported_bundled_decks_import_back_as_the_same_cards(tmp_path):
    """Round trip: `quizzer export anki` then `quizzer import anki` keeps deck and card ids, prompts,
    explanations, answers, tags and sources (compared as the HTML they render to)."""
    package = tmp_path / "bundled.apkg"
    exported = CliRunner().invoke(main, ["export", "anki", "-o", str(package), "--db", str(tmp_path / "none.db")])
    assert exported.exit_code == 0, exported.output
    import_anki(package, tmp_path / "decks", today=TODAY)
    originals = [load_deck(p) for p in deck_files([bundled_decks()])]
    assert sorted(p.stem for p in deck_files([tmp_path / "decks"])) == sorted(o.deck.id for o in originals)
    for original in originals:
        imported = load_deck(tmp_path / "decks" / f"{original.deck.id}.toml")
        assert lint(imported.path) == []
        assert [c.id for c in imported.deck.cards] == [c.id for c in original.deck.cards]
        macros = original.deck.macros
        for card, back in zip(original.deck.cards, imported.deck.cards, strict=True):
            posed = instance_to_show(card, None)  # what the export shows: a parametric card's worked example
            if card.declared_parts is not None:  # Anki has no parts: they come back listed in a text answer
                assert back.answer.kind == "text" and back.tags == card.tags, card.id
                answer = _text(markdown_html(back.answer.value))
                assert all(_text(markdown_html(posed.render(part.label))) in answer for part in card.parts), card.id
                continue
            prompt = markdown_html(posed.render(card.prompt), macros) + (
                options_html(card, macros) if card.answer.kind == "choice" else ""
            )
            assert markdown_html(back.prompt).replace("\n", "") == prompt.replace("\n", ""), card.id
            explanation = posed.render(card.explanation)  # figures: not yet verified
            assert markdown_html(back.explanation) == markdown_html(explanation, macros), card.id
            assert back.tags == card.tags and back.source == card.source
            shown = card.answer.value if card.answer.kind == "text" else card.answer.display()
            if card.answer.kind == "text":
                assert markdown_html(back.answer.value) == markdown_html(shown, macros), card.id
            elif card.answer.kind != "code":
                assert _text(markdown_html(back.answer.value)) == _text(shown), card.id


def _text(rendered: str) -> str:
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a zip at all", "not an Anki package"),
        (None, "no collection inside"),
    ],
)
def test_a_file_that_is_not_a_package_is_one_clear_sentence(tmp_path, content, message):
    bad = tmp_path / "bad.apkg"
    if content is None:
        with zipfile.ZipFile(bad, "w") as archive:
            archive.writestr("readme.txt", "hello")
    else:
        bad.write_bytes(content)
    result, _ = run_import(tmp_path, bad)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert str(bad) in result.output


def test_a_corrupt_collection_inside_a_package_is_reported(tmp_path):
    bad = tmp_path / "corrupt.apkg"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("collection.anki2", b"SQLite format 3\x00" + b"\xff" * 2000)
    result, _ = run_import(tmp_path, bad)
    assert result.exit_code == 1 and "not a readable Anki database" in result.output, result.output


def test_current_format_with_broken_zstd_is_reported(tmp_path):
    bad = tmp_path / "broken.apkg"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("collection.anki21b", b"\x28\xb5\x2f\xfd garbage")
    result, _ = run_import(tmp_path, bad)
    assert result.exit_code == 1 and "not valid zstd data" in result.output, result.output


def test_media_names_cannot_escape_the_media_folder(tmp_path):
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    deck = genanki.Deck(2059400112, "Evil")
    deck.add_note(genanki.Note(BASIC, ['<img src="../../evil.png">', "x"]))
    database = folder / "collection.anki2"
    conn = sqlite3.connect(database)
    genanki.Package([deck]).write_to_db(conn.cursor(), 1_700_000_000, iter(range(1_700_000_000_000, 1 << 62)))
    conn.commit()
    conn.close()
    package = folder / "evil.apkg"
    with zipfile.ZipFile(package, "w") as archive:
        archive.write(database, "collection.anki2")
        archive.writestr("media", json.dumps({"0": "../../evil.png"}))
        archive.writestr("0", b"payload")
    run_import(tmp_path, package)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.png"))
    assert written == [Path("decks/evil-media/evil.png")]


@pytest.mark.parametrize(
    ("html", "markdown"),
    [
        ("a <b>b</b> <i>c</i> <code>x*y</code>", "a **b** *c* `x*y`"),
        (r"\(a &lt; b\) and \[c\]", "$a < b$ and $$c$$"),
        ("[$]x^2[/$] [$$]y[/$$] [latex]z[/latex]", "$x^2$ $$y$$ $$z$$"),
        ("costs $5 * 2", r"costs \$5 \* 2"),
        ("1. not a list<br>- nor this<br># nor a heading", "1\\. not a list\\\n\\- nor this\\\n\\# nor a heading"),
        ("<ul><li>a</li><li>b<ul><li>c</li></ul></li></ul>", "- a\n- b\n  - c"),
        ("<ol start=3><li>x</li></ol>", "3. x"),
        (
            '<pre><code class="language-python">if a &lt; b:\n    pass\n</code></pre>',
            "```python\nif a < b:\n    pass\n```",
        ),
        (
            "<table><tr><th>a</th><th>b|c</th></tr><tr><td>1</td><td>2</td></tr></table>",
            "| a | b\\|c |\n| --- | --- |\n| 1 | 2 |",
        ),
        ('<a href="https://x.org/a b">link</a>', "[link](https://x.org/a%20b)"),
        ("<div>one</div><div>two</div>", "one\n\ntwo"),
        ("unclosed <b>bold", "unclosed **bold**"),
        ("<script>alert(1)</script>text", "text"),
    ],
)
def test_html_becomes_markdown(html, markdown):
    assert html_to_markdown(html) == markdown
