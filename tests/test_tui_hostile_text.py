"""The app draws no hostile text as markup or as terminal controls.

Textual passes ESC, C1 controls and bidi overrides in a widget's text on to the terminal as it draws, and
reads a string given to Static, the command palette or a DataTable cell as markup (`[@click=app.quit]` is an
action). On the previous main a deck title's markup was obeyed in the settings screen and the palette, a
pasted ESC reached the terminal from the answer box and the verdict, and a state database's typed answer or
torch version from the browser and the verification panel. What is drawn is read back from the compositor.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from test_tui import NOW, SIZE, TODAY, async_test, settle

from quizzer.cards.loader import load_deck
from quizzer.store import Store
from quizzer.verify.execution import Outcome
from quizzer.verify.runner import Job, cache_key

ESC = "\x1b[2J\x1b]0;PWNED\x07"
HOSTILE = ESC + "\rCR\x08BS\x9b31m\u202eRTL"
MARKUP = "[red]MARKUPPROBE[/red][@click=app.quit]CLICKPROBE[/]"
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x80-\x9f\u202a-\u202e\u2066-\u2069]")


def drawn(app) -> str:
    """The screen as the compositor draws it, line by line."""
    return "\n".join("".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips())


def markup_obeyed(text: str) -> bool:
    """The probe's tags are gone where its words are drawn (tags and words may wrap onto two lines)."""
    return text.count("MARKUPPROBE") != text.count("[red]") or text.count("CLICKPROBE") != text.count("[@click=")


def hostile_app(tmp_path: Path):
    from quizzer.review.tui.app import QuizzerApp

    decks = tmp_path / "decks"
    decks.mkdir()
    (tmp_path / "verifiers").mkdir()
    (tmp_path / "verifiers" / "v.py").write_text("def num():\n    pass\n")
    title = json.dumps("Deck " + MARKUP)
    (decks / "hostile.toml").write_text(
        f'id = "hostile"\ntitle = {title}\n[[cards]]\nid = "num"\nprompt = "How many?"\nexplanation = "e"\n'
        'verifier = "v.py::num"\nanswer = { kind = "numeric", value = 10 }\n'
        '[[cards]]\nid = "parts"\nprompt = "Two parts"\nexplanation = "e"\n'
        f'[[cards.parts]]\nid = "a"\nlabel = {json.dumps("A " + MARKUP)}\nanswer = {{ kind = "numeric", value = 1 }}\n'
        '[[cards.parts]]\nid = "b"\nlabel = "B"\nanswer = { kind = "numeric", value = 2 }\n'
    )
    db = tmp_path / "q.db"
    loaded = load_deck(decks / "hostile.toml")
    job = Job(loaded, loaded.deck.cards[0])
    outcome = Outcome("failed", "wrong", claims=[{"name": "c", "holds": False, "measured": ""}])
    with Store.open(db) as store:  # a hand-edited or damaged database: its text columns are anyone's
        store.sync_deck("hostile", [card.id for card in loaded.deck.cards])
        store.record_answer("hostile/num", 3, today=TODAY, now=NOW, typed=HOSTILE + MARKUP)
        store.save_verification(job.key, cache_key(job), "failed", outcome.to_json(), "2" + HOSTILE, "t" + ESC, 1.0)
    return QuizzerApp(db, [decks], today=TODAY, clock=lambda: NOW, auto_verify=False, bundled=decks)


@async_test
async def test_a_deck_titles_markup_is_drawn_as_text_in_the_settings_and_the_command_palette(tmp_path):
    app = hostile_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await pilot.pause()
        settings = drawn(app)
        assert "MARKUPPROBE" in settings and not markup_obeyed(settings), settings
        app.pop_screen()
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Review")
        await settle(pilot)
        palette = drawn(app)
        assert "Review Deck" in palette and not markup_obeyed(palette), palette


@async_test
async def test_the_browser_draws_the_databases_typed_answer_without_its_controls_or_markup(tmp_path):
    app = hostile_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_browser("hostile/num")
        await settle(pilot)
        await pilot.pause()
        text = drawn(app)
        assert "History (1 answers)" in text and "\\x1b" in text, text
        assert not CONTROLS.findall(text) and not markup_obeyed(text), text


@async_test
async def test_a_pasted_answer_and_the_databases_torch_version_reach_no_terminal_raw(tmp_path):
    from quizzer.review.tui.screens.review import ReviewScreen

    app = hostile_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.start_review(["hostile"])
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and screen.item.key == "hostile/num"
        box = screen.query_one("#answer")
        box.value = "1" + HOSTILE  # as a paste puts it there: a key cannot type ESC into the box
        await pilot.pause()
        assert not CONTROLS.search(box.value), repr(box.value)
        assert not CONTROLS.findall(drawn(app)), drawn(app)
        box.value = "10"
        await pilot.pause()
        await screen.reveal()
        await settle(pilot)
        text = drawn(app)
        assert "torch" in text and "\\x9b31m" in text and not CONTROLS.findall(text), text  # shown, escapes visible


@async_test
async def test_a_part_labels_markup_is_drawn_as_text(tmp_path):
    from quizzer.review.tui.screens.review import ReviewScreen

    app = hostile_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.start_review(["hostile"])
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await pilot.press("1", "0", "enter", "3")  # num answered and graded: parts is next
        await settle(pilot)
        assert screen.item.key == "hostile/parts", screen.item.key
        text = drawn(app)
        assert "MARKUPPROBE" in text and not markup_obeyed(text), text
