"""`quizzer import`: odd and hostile packages and files a new user or an adversary brings.

Each case is one found by auditing the importer as a new user (session 9); each test failed before its fix.
"""

from __future__ import annotations

import json
import sqlite3
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import genanki
import pytest
from click.testing import CliRunner

from quizzer.cards.loader import deck_files, lint, load_deck
from quizzer.cli import main
from quizzer.store import Store

TODAY = date(2026, 3, 10)
BASIC = genanki.Model(
    1607392319,
    "Basic",
    fields=[{"name": "Front"}, {"name": "Back"}],
    templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr id=answer>{{Back}}"}],
)


def package(
    folder: Path,
    notes: list[genanki.Note],
    *,
    deck: str = "Hostile",
    media: dict[str, bytes] | None = None,
    edit: Callable[[sqlite3.Connection], None] | None = None,
) -> Path:
    """A legacy .apkg of `notes` in one deck; `media` maps the names listed in the package to their bytes,
    `edit` changes the collection before it is zipped (genanki writes every card new)."""
    folder.mkdir(parents=True, exist_ok=True)
    anki_deck = genanki.Deck(2059400200, deck)
    for note in notes:
        anki_deck.add_note(note)
    database = folder / "collection.anki2"
    conn = sqlite3.connect(database)
    genanki.Package([anki_deck]).write_to_db(conn.cursor(), 1_700_000_000, iter(range(1_700_000_000_000, 1 << 62)))
    if edit is not None:
        edit(conn)
    conn.commit()
    conn.close()
    out = folder / "hostile.apkg"
    with zipfile.ZipFile(out, "w") as archive:
        archive.write(database, "collection.anki2")
        names = list(media or {})
        archive.writestr("media", json.dumps({str(i): name for i, name in enumerate(names)}))
        for i, name in enumerate(names):
            archive.writestr(str(i), media[name])
    return out


def run_import(tmp_path: Path, apkg: Path, *extra: str):
    result = CliRunner().invoke(
        main,
        ["import", "anki", str(apkg), "-o", str(tmp_path / "decks"), "--db", str(tmp_path / "q.db"),
         "--today", TODAY.isoformat(), *extra],
    )  # fmt: skip
    return result, tmp_path / "decks"


def only_deck(decks: Path):
    (path,) = deck_files([decks])
    assert lint(path) == []
    return load_deck(path).deck


def test_a_due_date_beyond_any_calendar_is_clamped_not_a_traceback(tmp_path):
    """A review card due 3,000,000 days after the collection's creation (past year 9999) and a review log
    row stamped in year 300,000: was OverflowError 'date value out of range' with a traceback."""

    def edit(conn):
        conn.execute("UPDATE cards SET type = 2, queue = 2, ivl = 40000, factor = 2500, due = 3000000")
        (cid,) = conn.execute("SELECT id FROM cards").fetchone()
        conn.execute(
            "INSERT INTO revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type)"
            " VALUES (?, ?, -1, 3, 5, 1, 2500, 1, 1)",
            (10**16, cid),
        )

    apkg = package(tmp_path / "made", [genanki.Note(BASIC, ["far", "future"])], edit=edit)
    result, decks = run_import(tmp_path, apkg)
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    card = only_deck(decks).cards[0]
    with Store.open(tmp_path / "q.db") as store:
        state = store.card(f"hostile/{card.id}").state
    assert state.due == TODAY + timedelta(days=36_500) and state.interval == 36_500


def test_media_names_that_sanitise_alike_stay_distinct_files(tmp_path):
    """`é.png` and `ü.png` both became `_.png` (the second overwrote the first, and the é card showed the ü
    picture); `A.png` and `a.png` are one file on macOS and Windows. Each name now gets its own file."""
    names = ["é.png", "ü.png", "A.png", "a.png", "日本" * 60 + ".png"]
    notes = [genanki.Note(BASIC, [f'<img src="{name}"> {i}?', str(i)]) for i, name in enumerate(names)]
    apkg = package(tmp_path / "made", notes, media={name: f"picture {i}".encode() for i, name in enumerate(names)})
    result, decks = run_import(tmp_path, apkg)
    assert result.exit_code == 0, result.output
    assert "with 5 media file(s)" in result.output
    folder = decks / "hostile-media"
    files = {path.name.casefold() for path in folder.iterdir()}
    assert len(files) == 5
    for card in only_deck(decks).cards:
        link = card.prompt.split("](", 1)[1].split(")", 1)[0]
        from urllib.parse import unquote

        picture = decks / unquote(link)
        assert picture.parent == folder
        assert picture.read_bytes() == f"picture {card.answer.value.strip()}".encode(), card.prompt
        assert len(picture.name.encode()) <= 120


def test_nested_cloze_deletions_hide_what_anki_hides(tmp_path):
    """`{{c1::outer {{c2::inner}} end}}` (Anki 2.1.56+) gave `nested **[inner]** end}} tail` for c1 and
    `outer \\{{c2` as its answer: the regex stopped at the inner `}}`."""
    note = genanki.Note(genanki.CLOZE_MODEL, ["nested {{c1::outer {{c2::inner::hint}} end}} tail", ""])

    def second_card(conn):  # genanki's own cloze regex misses the nested c2; Anki makes its card
        columns = [row[1] for row in conn.execute("PRAGMA table_info(cards)")]
        values = ", ".join("id + 1" if c == "id" else "1" if c == "ord" else c for c in columns)
        conn.execute(f"INSERT INTO cards ({', '.join(columns)}) SELECT {values} FROM cards")

    result, decks = run_import(tmp_path, package(tmp_path / "made", [note], edit=second_card))
    assert result.exit_code == 0, result.output
    first, second = only_deck(decks).cards
    assert first.id.endswith("-c1") and second.id.endswith("-c2")
    assert first.prompt.strip() == r"nested **\[...\]** tail"
    assert first.answer.value.strip() == "outer inner end"
    assert second.prompt.strip() == r"nested outer **\[hint\]** end tail"
    assert second.answer.value.strip() == "inner"
    assert "}}" not in first.explanation + second.explanation


def test_nul_del_and_odd_list_starts_in_fields_import_lint_clean(tmp_path):
    """Found by fuzzing html_to_markdown: a field holding NUL-digit-NUL (the marker of held-aside math) raised
    IndexError or swapped in another formula; `<ol start=x>` raised ValueError; a DEL character was written
    raw into a TOML basic string, which TOML forbids (the deck failed lint with 'Illegal character')."""
    notes = [
        genanki.Note(BASIC, ["\x000\x00 and \x001\x00", "\\(x^2\\) then \x000\x00"]),
        genanki.Note(BASIC, ["<ol start=x><li>one</li></ol><ol start=-3><li>two</li></ol>", "b"]),
        genanki.Note(BASIC, ["delete \x7f here", "it\x7f\x01"]),
    ]
    result, decks = run_import(tmp_path, package(tmp_path / "made", notes))
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    nul, lists, delete = only_deck(decks).cards
    assert nul.prompt.strip() == "0 and 1" and nul.answer.value.strip() == "$x^2$ then 0"
    assert lists.prompt.strip() == "1. one\n\n1. two"
    assert delete.prompt.strip() == "delete \x7f here"


_FRAGMENTS = [
    "<b>", "</b>", "<i>", "</i>", "<br>", "<div>", "</div>", "<p>", "</p>", "<ul>", "<li>", "</li>", "</ul>",
    "<ol start=x>", "</ol>", "<table>", "<tr>", "<td>", "</td>", "</table>", "<pre>", "</pre>", "<code>", "</code>",
    "<img src='a b.png'>", "<img>", "&amp;", "&lt;", "&nbsp;", "&#0;", "&#x110000;", "&bogus", "\\(", "\\)", "\\[",
    "\\]", "[$]", "[/$]", "[$$]", "[/$$]", "$", "*", "_", "`", "```", "'''", '"""', "{{", "}}", "{{c1::", "::",
    "\x00", "\x000\x00", "\r", "\n", "\t", "#", "- ", "1. ", "> ", "|", "\\", "[sound:x y.mp3]", "<a href='x'>",
    "</a>", "<h1>", "<blockquote>", "<hr>", "<sup>", "<sub>", "<script>", "<!--", "-->", "<![CDATA[", "x", "é",
    "\u2028", "\ufeff", "\x7f", "\x1b[31m",
]  # fmt: skip


def test_random_html_fragments_always_make_a_lint_clean_deck(tmp_path):
    """Seeded: 400 fields of random HTML, MathJax, cloze and control-character fragments, every one a card."""
    import random

    from quizzer.authoring.importing import ImportedCard, ImportedDeck, cloze_side, html_to_markdown, write_decks

    rng = random.Random(9)
    cards = []
    for i in range(400):
        source = "".join(rng.choice(_FRAGMENTS) for _ in range(rng.randint(1, 30)))
        prompt = html_to_markdown(source) or "empty"
        cards.append(ImportedCard(f"c{i}", prompt, html_to_markdown(cloze_side(source, 1, False)) or "x", prompt))
    summary = write_decks([ImportedDeck("fuzz", "Fuzz", "random fields", cards)], tmp_path)
    assert summary.problems == []
    assert len(load_deck(tmp_path / "fuzz.toml").deck.cards) == 400


def _edited(sql: str) -> Callable[[sqlite3.Connection], None]:
    return lambda conn: conn.execute(sql)


@pytest.mark.parametrize(
    ("edit", "media", "message"),
    [
        (_edited("UPDATE col SET decks = '[]'"), None, "holds data Anki does not write (AttributeError"),
        (_edited("UPDATE col SET models = 'not json'"), None, "holds data Anki does not write (JSONDecodeError"),
        (_edited("""UPDATE col SET models = '{"1": {"name": 5}}'"""), None, "holds data Anki does not write (KeyError"),
        (_edited("UPDATE notes SET flds = x'ff00ff'"), None, "holds data Anki does not write (TypeError"),
        (None, "[1, 2]", "its media list is not a JSON object"),
    ],
)
def test_a_damaged_collection_is_one_sentence_not_a_traceback(tmp_path, edit, media, message):
    """Each was a traceback (AttributeError, JSONDecodeError, KeyError, TypeError, AttributeError)."""
    apkg = package(tmp_path / "made", [genanki.Note(BASIC, ["q", "a"])], edit=edit)
    if media is not None:
        rewritten = tmp_path / "media.apkg"
        with zipfile.ZipFile(apkg) as source, zipfile.ZipFile(rewritten, "w") as out:
            out.writestr("collection.anki2", source.read("collection.anki2"))
            out.writestr("media", media)
        apkg = rewritten
    result, decks = run_import(tmp_path, apkg)
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output, result.output
    assert result.output.count("\n") == 1
    assert not decks.exists() or not list(decks.glob("*.toml"))


def test_a_damaged_zip_member_is_one_sentence(tmp_path):
    """A flipped byte in a stored collection: was zipfile.BadZipFile 'Bad CRC-32' with a traceback."""
    apkg = package(tmp_path / "made", [genanki.Note(BASIC, ["q", "a"])])
    stored = tmp_path / "stored.apkg"
    with zipfile.ZipFile(apkg) as source, zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as out:
        out.writestr("collection.anki2", source.read("collection.anki2"))
    data = bytearray(stored.read_bytes())
    data[200] ^= 0xFF
    stored.write_bytes(bytes(data))
    result, _ = run_import(tmp_path, stored)
    assert result.exit_code == 1 and "the zip file is damaged" in result.output and "CRC" in result.output
    assert "Traceback" not in result.output, result.output


def test_an_import_that_fails_half_way_writes_nothing(tmp_path):
    """A media file over the limit, read after the deck file was written: the deck stayed behind, and the
    retry (after removing the file from the package) was refused as 'already exist(s); pass --force'."""
    notes = [genanki.Note(BASIC, ['<img src="big.png"> q', "a"])]
    apkg = package(tmp_path / "made", notes, media={"big.png": b"\0" * 1000})
    import quizzer.authoring.importing as importing

    limit = importing.MAX_MEDIA_BYTES
    importing.MAX_MEDIA_BYTES = 100
    try:
        failed, decks = run_import(tmp_path, apkg)
    finally:
        importing.MAX_MEDIA_BYTES = limit
    assert failed.exit_code == 1 and "over the" in failed.output, failed.output
    assert not list(decks.rglob("*.toml")) and not list(decks.rglob("*.png"))
    again, _ = run_import(tmp_path, apkg)
    assert again.exit_code == 0, again.output
    assert (decks / "hostile-media" / "big.png").read_bytes() == b"\0" * 1000
    assert {p.name for p in decks.iterdir()} == {"hostile.toml", "hostile-media", "schema.json"}  # no staging left


def test_a_csv_quote_never_closed_is_refused_not_the_rest_of_the_file_as_one_card(tmp_path):
    """`q2,"a2` followed by 2 more rows: csv's lenient reader returned 'a2\\nq3,a3\\nq4,a4' as one cell and
    the import said 'imported 3 card(s)' (the last two rows silently inside the third card's answer)."""
    source = tmp_path / "cards.csv"
    source.write_text('prompt,answer\nq1,a1\n"multi\nline",ok\nq2,"a2\nq3,a3\nq4,a4\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["import", "csv", str(source), "-o", str(tmp_path / "decks")])
    assert result.exit_code == 1, result.output
    assert "line 5: a quoted cell is never closed" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "decks" / "cards.toml").exists()
    source.write_text('prompt,answer\nq1,a1\n"multi\nline",ok\n5" screen,size\n', encoding="utf-8")
    fine = CliRunner().invoke(main, ["import", "csv", str(source), "-o", str(tmp_path / "decks")])
    assert fine.exit_code == 0 and "imported 3 card(s)" in fine.output, fine.output


def test_cards_left_out_for_an_empty_question_are_counted_not_silent(tmp_path):
    """A note with an empty front (and CSV rows with an empty prompt) were dropped without a word, and a CSV
    whose every prompt was empty reported 'imported 0 card(s) into 0 deck(s)' with exit 0."""
    notes = [genanki.Note(BASIC, ["kept", "a"]), genanki.Note(BASIC, ["emptied", "b"])]
    emptied = _edited("UPDATE notes SET flds = char(31) || 'b' WHERE flds LIKE 'emptied%'")  # as Anki's "empty cards"
    result, decks = run_import(tmp_path, package(tmp_path / "made", notes, edit=emptied))
    assert result.exit_code == 0, result.output
    assert "imported 1 card(s)" in result.output and "1 card(s) with an empty question skipped" in result.output
    source = tmp_path / "cards.csv"
    source.write_text("prompt,answer\nq,a\n,b\n", encoding="utf-8")
    one = CliRunner().invoke(main, ["import", "csv", str(source), "-o", str(tmp_path / "csv")])
    assert one.exit_code == 0 and "1 card(s) with an empty question skipped" in one.output, one.output
    source.write_text("prompt,answer\n,a\n,b\n", encoding="utf-8")
    none = CliRunner().invoke(main, ["import", "csv", str(source), "-o", str(tmp_path / "none")])
    assert none.exit_code == 1 and "no row has a prompt (2 row(s)" in none.output, none.output
    assert not (tmp_path / "none").exists()


def test_control_characters_in_imported_text_are_dropped(tmp_path):
    """A deck's text may hold no control character (a terminal obeys ESC [2J); imported text is written without."""
    from quizzer.authoring.importing import ImportedCard, ImportedDeck, write_decks

    card = ImportedCard("c", "\x1b[2Jred\x9b text\x01", "answer\x1b]0;title\x07", "answer")
    summary = write_decks([ImportedDeck("ctl", "Ti\x1btle", "", [card])], tmp_path)
    assert summary.problems == []
    loaded = load_deck(tmp_path / "ctl.toml").deck
    assert (loaded.title, loaded.cards[0].prompt.strip()) == ("Title", "[2Jred text")
    assert loaded.cards[0].answer.value.strip() == "answer]0;title"


def test_a_card_longer_than_a_deck_allows_is_counted_and_left_out_and_the_deck_lints_clean(tmp_path):
    """Decks now bound their texts (32,768 characters); an imported card past that would make its whole deck
    fail lint, so it is left out and counted, as empty questions are."""
    long = "word " * 8000  # 40,000 characters
    notes = [genanki.Note(BASIC, ["kept", "a"]), genanki.Note(BASIC, [long, "b"]), genanki.Note(BASIC, ["q", long])]
    result, decks = run_import(tmp_path, package(tmp_path / "made", notes, deck="D" * 600))
    assert result.exit_code == 0, result.output
    assert "imported 1 card(s)" in result.output and "2 card(s) longer than a card's text may be" in result.output
    deck = only_deck(decks)  # lint-clean, its title cut to the bound
    assert [c.prompt.strip() for c in deck.cards] == ["kept"] and len(deck.title) == 500
    source = tmp_path / "cards.csv"
    source.write_text(f"prompt,answer\nq,a\n{long},b\n", encoding="utf-8")
    csv = CliRunner().invoke(main, ["import", "csv", str(source), "-o", str(tmp_path / "csv")])
    assert csv.exit_code == 0 and "1 card(s) longer than a card's text may be" in csv.output, csv.output
    assert lint(tmp_path / "csv" / "cards.toml") == []


def test_anki_math_that_cannot_be_read_imports_as_text_and_the_deck_lints_clean(tmp_path):
    r"""Lint names math the terminal cannot read (`\frac{a}`: it showed `%s/%sa`); Anki's MathJax shows an
    error for it too. The importer writes such a formula as text, so the imported deck lints clean, and drops
    an empty one (`\[\]` gave `$$$$`, which opens a display the next `$$` closes)."""
    from quizzer.authoring.importing import html_to_markdown
    from quizzer.core.mathtext import render_math

    assert html_to_markdown(r"a \(\frac{a}\) and \(x^2\)") == r"a \$\\frac{a}\$ and $x^2$"
    assert render_math(html_to_markdown(r"a \(\frac{a}\) and \(x^2\)")) == r"a \$\\frac{a}\$ and x²"
    assert html_to_markdown(r"\[\] then \[x^\]") == r"then \$\$x^\$\$"
    notes = [genanki.Note(BASIC, [r"Q \(\frac{a}\) \(\sqrt\)", r"A \[\left( x\]"])]
    result, decks = run_import(tmp_path, package(tmp_path / "made", notes))
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    (card,) = only_deck(decks).cards  # lints clean
    assert card.prompt.strip() == r"Q \$\\frac{a}\$ \$\\sqrt\$"
