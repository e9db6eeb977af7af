"""`quizzer export anki`: the .apkg is a zip holding a SQLite collection; open it and check the notes."""

from __future__ import annotations

import json
import sqlite3
import warnings
import zipfile
from pathlib import Path

import genanki
import pytest
from click.testing import CliRunner

from quizzer.authoring.anki import FIELDS, MODEL_NAME, anki_tag, expand_macros, markdown_html, stable_id
from quizzer.cards.loader import deck_files, load_deck
from quizzer.cli import main
from quizzer.paths import bundled_decks
from quizzer.store import Store
from quizzer.verify.execution import execute
from quizzer.verify.runner import Job, cache_key, torch_version


def record_all(db: Path, deck: Path) -> None:
    """Verify every card in-process and cache the outcomes as `quizzer verify` would."""
    loaded = load_deck(deck)
    with Store.open(db) as store:
        for card in loaded.deck.cards:
            if card.verifier:
                job = Job(loaded, card)
                outcome = execute(card, loaded.verifiers_root)
                store.save_verification(
                    job.key,
                    cache_key(job),
                    outcome.status,
                    outcome.to_json(),
                    torch_version(),
                    "2026-03-01T09:30:00",
                    0,
                )


def export(*args: str):
    return CliRunner().invoke(main, ["export", "anki", *args])


def read_apkg(path: Path, tmp_path: Path) -> dict:
    """Notes by their Key field, plus the collection's models and decks."""
    with zipfile.ZipFile(path) as z:
        assert "collection.anki2" in z.namelist()
        z.extract("collection.anki2", tmp_path / "unzipped")
    db = sqlite3.connect(tmp_path / "unzipped" / "collection.anki2")
    try:
        models = json.loads(db.execute("SELECT models FROM col").fetchone()[0])
        decks = json.loads(db.execute("SELECT decks FROM col").fetchone()[0])
        notes = {}
        for guid, mid, tags, flds in db.execute("SELECT guid, mid, tags, flds FROM notes"):
            fields = dict(zip(FIELDS, flds.split("\x1f"), strict=True))
            notes[fields["Key"]] = {"guid": guid, "mid": mid, "tags": tags.split(), "fields": fields}
        cards = db.execute("SELECT nid, did FROM cards").fetchall()
    finally:
        db.close()
    return {"models": models, "decks": decks, "notes": notes, "cards": cards}


def test_export_notes_guids_fields_and_tags(authoring_project: Path, tmp_path: Path):
    db = authoring_project / "q.db"
    record_all(db, authoring_project / "decks" / "demo.toml")

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # genanki warns about malformed HTML in fields
        result = export("demo", "-o", "out/demo.apkg", "--db", str(db))

    assert result.exit_code == 0, result.output
    assert "wrote 4 note(s) from 1 deck(s)" in result.output
    assert "3 verified" in result.output and "1 not verified yet" in result.output
    apkg = read_apkg(authoring_project / "out" / "demo.apkg", tmp_path)
    notes = apkg["notes"]
    assert set(notes) == {"demo/sum-of-squares", "demo/unchecked", "demo/pick-largest", "demo/snippet"}
    assert len(apkg["cards"]) == 4
    for key, note in notes.items():
        assert note["guid"] == genanki.guid_for(key)

    # stable ids derived from names
    model_id = stable_id(f"quizzer model {MODEL_NAME}")
    assert str(model_id) in apkg["models"]
    assert apkg["models"][str(model_id)]["name"] == MODEL_NAME
    assert {note["mid"] for note in notes.values()} == {model_id}
    deck_id = stable_id("quizzer deck demo")
    assert apkg["decks"][str(deck_id)]["name"] == "Quizzer::Authoring demo"
    assert {did for _, did in apkg["cards"]} == {deck_id}

    sums = notes["demo/sum-of-squares"]
    assert sums["tags"] == ["arithmetic", "two_words"]
    front = sums["fields"]["Prompt"]
    assert r"\(\left\lVert\boldsymbol{v}\right\rVert^2\)" in front  # macros expanded, MathJax delimiters
    assert r"\[\left\lVert\boldsymbol{v}\right\rVert^2 = \sum_i v_i^2\]" in front
    assert "Costs $5 to answer" in front  # a lone dollar is not math
    assert "\\vec" not in front and "\\norm" not in front
    assert sums["fields"]["Answer"] == '<span class="value">14</span>'
    assert "<code>sum(v_i**2)</code>" in sums["fields"]["Explanation"]
    back = sums["fields"]["Verification"]
    assert "✓ Verified by code on 2026-03-01 09:30 · torch " + torch_version() in back
    assert "✓ equals the dot product v·v" in back and '<span class="measured">14</span>' in back
    assert r"\left\lVert\boldsymbol{v}\right\rVert^2 = 14\)</span> for v = (1, 2, 3)" in back  # the note, with its math
    assert sums["fields"]["Source"] == "Demo, question 1"
    assert sums["fields"]["Deck"] == "Authoring demo"

    choice = notes["demo/pick-largest"]["fields"]
    assert r'<li><span class="math inline">\(e^3\)</span></li>' in choice["Options"]
    assert choice["Answer"] == r'<span class="value"><span class="math inline">\(e^3\)</span></span>'

    code = notes["demo/snippet"]["fields"]
    assert "<pre><code" in code["Answer"] and "sum" in code["Answer"] and "style=" in code["Answer"]
    assert "✓ the snippet prints 10" in code["Verification"]

    unchecked = notes["demo/unchecked"]["fields"]
    assert "Not checked by code" in unchecked["Verification"]
    assert notes["demo/unchecked"]["tags"] == ["arithmetic"]


def test_reexport_keeps_guids_and_ids(authoring_project: Path, tmp_path: Path):
    assert export("demo", "-o", "a.apkg", "--db", str(authoring_project / "q.db")).exit_code == 0
    first = read_apkg(authoring_project / "a.apkg", tmp_path / "a")
    deck = authoring_project / "decks" / "demo.toml"
    deck.write_text(deck.read_text().replace("Is 7 prime?", "Is 7 a prime number?"))
    assert export("demo", "-o", "b.apkg", "--db", str(authoring_project / "q.db")).exit_code == 0
    second = read_apkg(authoring_project / "b.apkg", tmp_path / "b")

    assert {k: n["guid"] for k, n in first["notes"].items()} == {k: n["guid"] for k, n in second["notes"].items()}
    assert first["models"].keys() == second["models"].keys()
    assert "Is 7 a prime number?" in second["notes"]["demo/unchecked"]["fields"]["Prompt"]


def test_unverified_stale_and_failed_cards_are_labelled(authoring_project: Path, tmp_path: Path):
    db = authoring_project / "q.db"
    deck = authoring_project / "decks" / "demo.toml"
    record_all(db, deck)
    deck.write_text(deck.read_text().replace("value = 14", "value = 15"))  # the cached pass is now stale
    result = export("demo", "-o", "s.apkg", "--db", str(db), "--strict")

    assert result.exit_code == 1
    assert "1 verified for an earlier version (stale)" in result.output
    assert "run `quizzer verify` first" in result.output
    fields = read_apkg(authoring_project / "s.apkg", tmp_path)["notes"]["demo/sum-of-squares"]["fields"]
    assert "Stale: the card or its verifier changed." in fields["Verification"]

    record_all(db, deck)  # now it fails: the card says 15
    export("demo", "-o", "f.apkg", "--db", str(db))
    fields = read_apkg(authoring_project / "f.apkg", tmp_path / "f")["notes"]["demo/sum-of-squares"]["fields"]
    assert "✗ Verification failed on 2026-03-01 09:30" in fields["Verification"]
    assert "the card says 15 but the verifier computed 14" in fields["Verification"]

    no_db = export("demo", "-o", "n.apkg", "--db", str(authoring_project / "absent.db"))
    assert no_db.exit_code == 0
    assert not (authoring_project / "absent.db").exists()
    fields = read_apkg(authoring_project / "n.apkg", tmp_path / "n")["notes"]["demo/sum-of-squares"]["fields"]
    assert "Not verified yet" in fields["Verification"]


def test_output_must_be_apkg_and_targets_must_exist(authoring_project: Path):
    assert export("demo", "-o", "x.zip").exit_code == 2
    result = export("nope", "-o", "x.apkg")
    assert result.exit_code == 2 and "no deck 'nope'" in result.output


def test_every_bundled_card_is_exported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    loaded = [load_deck(path) for path in deck_files([bundled_decks()])]
    if not loaded:
        pytest.skip("no bundled decks yet")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = export("-o", "all.apkg", "--db", str(tmp_path / "q.db"))
    assert result.exit_code == 0, result.output
    notes = read_apkg(tmp_path / "all.apkg", tmp_path)["notes"]
    expected = {f"{d.deck.id}/{c.id}" for d in loaded for c in d.deck.cards}
    assert set(notes) == expected
    for key, note in notes.items():
        assert note["guid"] == genanki.guid_for(key)
        assert all(" " not in tag for tag in note["tags"])
        for name in ("Prompt", "Explanation"):
            text = note["fields"][name]
            assert "<code" in text or "$" not in text, f"{key} {name}: unconverted math"


def test_expand_macros_arguments_nesting_and_recursion():
    macros = {"vec": r"\boldsymbol{#1}", "pderiv": r"\frac{\partial #1}{\partial #2}", "loop": r"\loop"}
    assert expand_macros(r"\vec{x}+\vec y+\vector", macros) == r"\boldsymbol{x}+\boldsymbol{y}+\vector"
    assert expand_macros(r"\pderiv{L}{\vec{W}}", macros) == r"\frac{\partial L}{\partial \boldsymbol{W}}"
    assert expand_macros(r"\vec{\{a\}}", macros) == r"\boldsymbol{\{a\}}"
    assert expand_macros(r"\loop", macros) == r"\loop"  # bounded, does not hang


def test_a_backslash_before_a_line_end_is_an_argument_not_a_traceback():
    """`\\vec\\` at the end of a line of display math ended `quizzer export anki` with an AttributeError
    (the argument reader matched no command there); TeX reads a backslash and a newline as one token."""
    macros = {"vec": r"\boldsymbol{#1}"}
    assert expand_macros("x \\vec\\\n", macros) == "x \\boldsymbol{\\\n}"
    assert expand_macros("x \\vec\\", macros) == "x \\vec\\"  # nothing after the backslash: no argument
    assert "\\[x \\vec\\\\]" in markdown_html("$$x \\vec\\\n$$", macros)  # the span, stripped: left as written


def test_macros_that_multiply_at_every_level_are_left_as_written():
    """Four levels of 50 calls each expanded a 3-character \\ma to 6,250,000 characters (ten levels of
    1,000, allowed as well, never finish); the formula stays as written, the others still expand."""
    macros = {f"m{a}": f"\\m{b}" * 50 for a, b in zip("abcd", "bcde", strict=True)} | {
        "me": "x",
        "vec": r"\boldsymbol{#1}",
    }
    assert expand_macros(r"\ma", macros) == r"\ma"
    assert expand_macros(r"\vec{x}", macros) == r"\boldsymbol{x}"
    assert markdown_html(r"$\ma$ and $\vec{y}$", macros).count(r"\ma") == 1


def test_markdown_html_leaves_code_and_currency_alone():
    html = markdown_html("Pay $5 or $6, `x = $a$`, then $a<b$.\n\n```python\ns = '$y$'\n```")
    assert "Pay $5 or $6" in html
    assert "<code>x = $a$</code>" in html
    assert r"\(a&lt;b\)" in html
    assert "$y$" in html and r"\(y\)" not in html


def test_anki_tags_have_no_spaces():
    assert anki_tag(" two  words ") == "two_words"
    assert anki_tag("tab\there") == "tab_here"


def test_anki_itself_imports_the_package_and_reimport_updates(authoring_project: Path, tmp_path: Path):
    """With Anki's own backend (`pip install anki`, optional): every note arrives; importing again adds none."""
    collection_module = pytest.importorskip("anki.collection")
    db = authoring_project / "q.db"
    record_all(db, authoring_project / "decks" / "demo.toml")
    assert export("demo", "-o", "demo.apkg", "--db", str(db)).exit_code == 0

    col = collection_module.Collection(str(tmp_path / "collection.anki2"))
    try:

        def import_package() -> object:
            request = collection_module.ImportAnkiPackageRequest(
                package_path=str(authoring_project / "demo.apkg"),
                options=collection_module.ImportAnkiPackageOptions(with_scheduling=False),
            )
            return col.import_anki_package(request).log

        first = import_package()
        assert len(first.new) == 4 and col.note_count() == 4
        second = import_package()
        assert len(second.new) == 0 and col.note_count() == 4
        note = col.get_note(col.find_notes('"Key:demo/sum-of-squares"')[0])
        assert note.tags == ["arithmetic", "two_words"]
        assert "Verified by code on 2026-03-01" in note.cards()[0].answer()
    finally:
        col.close()


def test_export_expands_by_looking_each_command_up():
    """One alternation of all the deck's macro names was searched in every formula (2,000 macros, 1,000
    formulas: 1.9 s), then the macros a formula reaches; the expander it shares with the terminal looks each
    command of the formula up and never walks the deck's macros."""

    class Unwalkable(dict):
        def __iter__(self):
            raise AssertionError("the expander walked the deck's macros")

        items = keys = values = __iter__

    macros = {
        "d": r"\pderiv{#1}{x}",
        "pderiv": r"\frac{\partial #1}{\vec{#2}}",
        "vec": r"\boldsymbol{#1}",
        "unused": "u",
    }
    assert expand_macros(r"\d{y}", macros) == r"\frac{\partial y}{\boldsymbol{x}}"
    assert expand_macros(r"\d{y}", Unwalkable(macros)) == r"\frac{\partial y}{\boldsymbol{x}}"


def test_exported_math_never_runs_letters_into_a_command():
    r"""`\alpha\me` (me = "x") exported as `\alphax` and `\lVert#1` of x as `\lVertx`: MathJax reads one unknown
    command and shows an error. TeX's tokens are `\alpha`, `x`: written `\alpha x`, what the terminal reads too."""
    macros = {
        "me": "x",
        "norm": r"\left\lVert#1\right\rVert",
        "mean": r"\bar#1",
        "f": r"\g",
        "g": r"\vec{#1}",
        "xy": "xy",
    }
    html = markdown_html(r"$\alpha\me$, $\norm{x}$, $\mean{y}$ and $$\hat\me$$", macros)
    assert r"\(\alpha x\)" in html and r"\(\left\lVert x\right\rVert\)" in html and r"\(\bar y\)" in html
    assert r"\[\hat x\]" in html
    assert expand_macros(r"\f\xy", macros) == r"\vec{xy}"  # TeX's order: \g takes the token \xy (was `\gxy`)
