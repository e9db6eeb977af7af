"""Pilot tests of daily use in the app: settings, custom study, the day rolling over while it runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from test_tui import (
    DECKS,
    NOW,
    SIZE,
    TODAY,
    async_test,
    card_state,
    make_app,
    record_notifications,
    rows,
    seed,
    settle,
    until,
)

from quizzer.cards.loader import load_deck
from quizzer.review.session import CustomStudy, Limits
from quizzer.store import Store


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@async_test
async def test_settings_screen_saves_the_rollover_hour_and_deck_limits(tmp_path):
    from quizzer.review.tui.app import QuizzerApp
    from quizzer.review.tui.screens.settings import SettingsScreen

    db = tmp_path / "q.db"
    app = QuizzerApp(db, [DECKS], auto_verify=False, bundled=DECKS, clock=Clock(datetime(2025, 3, 3, 5, tzinfo=UTC)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        assert app.focused.id == "rollover"
        await pilot.press("6")
        screen.query_one("#new--basics").value = "1"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, SettingsScreen)
        assert app.calendar.rollover_hour == 6 and app.today == TODAY - timedelta(days=1), "5 am is before 6"
        assert app.screen.outlooks[0].new == 1
    with Store.open(db) as store:
        assert store.rollover_hour() == 6 and store.deck_limits("basics") == (1, None)


@async_test
async def test_settings_refuse_a_bad_hour_and_save_nothing(tmp_path):
    from quizzer.review.tui.screens.settings import SettingsScreen

    db = tmp_path / "q.db"
    async with make_app(db).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await pilot.pause()
        screen = pilot.app.screen
        await pilot.press("2", "5")
        screen.query_one("#new--basics").value = "3"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(pilot.app.screen, SettingsScreen)
        assert "hour from 0 to 23" in str(screen.query_one("#settings-error").render())
    with Store.open(db) as store:
        assert store.rollover_hour() is None and store.deck_limits("basics") == (None, None)


@async_test
async def test_a_deck_with_nothing_due_offers_custom_study_and_cram_changes_no_schedule(tmp_path):
    from quizzer.review.tui.screens.custom import CustomStudyScreen
    from quizzer.review.tui.screens.review import ReviewScreen

    db = tmp_path / "q.db"
    seed(db)
    before = card_state(db, "basics/sum")
    async with make_app(db, limits=Limits(new_per_day=0, reviews_per_day=0)).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(pilot.app.screen, CustomStudyScreen), "offered instead of 'nothing to review'"
        await pilot.press(*"tag:arith", "enter")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, ReviewScreen) and screen.item.key == "basics/sum"
        assert screen.title == "Basics · cram"
        await pilot.press("1", "0", "enter")
        await pilot.press("5")
        await pilot.pause()
    assert card_state(db, "basics/sum") == before
    assert rows(db, "SELECT kind, quality FROM review_log WHERE key = 'basics/sum' AND day = ?", TODAY.isoformat()) == [
        ("cram", 5)
    ]


@async_test
async def test_a_missed_cram_answer_says_it_comes_back_in_the_sitting_not_when_its_schedule_is_due(tmp_path):
    """A cram answer schedules nothing, so the card's state after it is the one it had: a 1 said
    "next in 6 days" (that state's interval) while the card was asked again in the sitting."""
    from quizzer.review.tui.screens.review import ReviewScreen

    db = tmp_path / "q.db"
    seed(db)
    with Store.open(db) as store:
        store.record_answer("basics/sum", 5, today=TODAY, now=NOW)  # due in 6 days
    before = card_state(db, "basics/sum")
    async with make_app(db).run_test(size=SIZE) as pilot:
        await settle(pilot)
        pilot.app.start_review(["basics"], custom=CustomStudy("cram", keys=frozenset({"basics/sum", "basics/convex"})))
        await until(pilot, lambda: isinstance(pilot.app.screen, ReviewScreen), "the cram sitting")
        screen = pilot.app.screen
        assert screen.item.key == "basics/sum"
        await pilot.press("1", "1", "enter")
        await until(pilot, lambda: screen.revealed, "the answer revealed")
        await pilot.press("1")
        await until(pilot, lambda: screen.answered == 1, "the card graded")
        hint = str(screen.query_one("#hint").render())
        assert "graded 1: again later in this session (cram: no schedule changes)" in hint, hint
        assert screen.session.remaining == 2  # it is asked again, after basics/convex
        await pilot.press("ctrl+n")  # (the next card) ... then the 1 comes back and is answered 5
        await until(pilot, lambda: screen.item.key == "basics/sum", "the missed card back")
        await pilot.press("1", "0", "enter")
        await until(pilot, lambda: screen.revealed, "the answer revealed")
        await pilot.press("5")
        await until(pilot, lambda: screen.answered == 2, "the card graded")
        hint = str(screen.query_one("#hint").render())
        assert "graded 5: cram: schedule unchanged" in hint, hint
    assert card_state(db, "basics/sum") == before


@async_test
async def test_cram_from_the_command_line_opens_its_sitting_without_showing_the_decks_screen(tmp_path, monkeypatch):
    """`quizzer cram DECK...` hands the app a CustomStudy: the cram sitting is the first screen the
    learner sees (a loading screen until the decks are whole), the decks screen only after it ends.
    On main the decks screen was shown, with its counts, until the decks were loaded whole."""
    from quizzer.review.session import CustomStudy
    from quizzer.review.tui.screens.decks import DecksScreen
    from quizzer.review.tui.screens.review import ReviewScreen

    shown: list[str] = []
    resumed = DecksScreen.on_screen_resume

    def on_screen_resume(screen, event) -> None:
        if screen.app.screen is screen:  # in front, not resumed on its way under the review screen
            shown.append(screen.app.screen_stack[-1].__class__.__name__)
        resumed(screen, event)

    monkeypatch.setattr(DecksScreen, "on_screen_resume", on_screen_resume)
    db = tmp_path / "q.db"
    seed(db)  # loads the decks: their cache entries exist, so the app lists them from headers first
    custom = CustomStudy("cram", keys=frozenset({"basics/sum"}))
    async with make_app(db, custom=custom).run_test(size=SIZE) as pilot:
        app = pilot.app
        ready = lambda: isinstance(app.screen, ReviewScreen) and app.screen.is_mounted  # noqa: E731
        await until(pilot, ready, "the cram sitting shown", lambda: shown)
        assert shown == [], f"the decks screen came first: {shown}"
        await until(
            pilot, lambda: app.screen.title == "2 decks · cram", "the sitting's title", lambda: app.screen.title
        )
        assert app.screen.item.key == "basics/sum" and app.screen.session.remaining == 1
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DecksScreen), "back on the decks screen", lambda: app.screen)
        assert shown == ["DecksScreen"]


@async_test
async def test_review_ahead_from_the_custom_study_dialog(tmp_path):
    from quizzer.review.tui.screens.custom import CustomStudyScreen
    from quizzer.review.tui.screens.review import ReviewScreen

    db = tmp_path / "q.db"
    with Store.open(db) as store:
        store.sync_deck("basics", ["sum"])
        store.record_answer("basics/sum", 5, today=TODAY, now=datetime(2025, 3, 3, tzinfo=UTC))  # due tomorrow
    async with make_app(db, limits=Limits(new_per_day=0)).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(pilot.app.screen, CustomStudyScreen)
        pilot.app.screen.query_one("#ahead-days").value = "2"
        await pilot.click("#ahead")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ReviewScreen) and pilot.app.screen.item.key == "basics/sum"


@async_test
async def test_the_day_rolls_over_inside_the_running_app(tmp_path):
    from quizzer.review.tui.app import QuizzerApp
    from quizzer.review.tui.screens.review import ReviewScreen

    db = tmp_path / "q.db"
    seed(db)  # basics/sum due on TODAY
    clock = Clock(datetime(2025, 3, 2, 23, 0, tzinfo=UTC))  # the evening before
    app = QuizzerApp(db, [DECKS], clock=clock, limits=Limits(new_per_day=0), auto_verify=False, bundled=DECKS)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.outlooks[0].due == 0
        clock.now = datetime(2025, 3, 3, 3, 59, tzinfo=UTC)
        app.check_day()
        await pilot.pause()
        assert app.screen.outlooks[0].due == 0, "before 4 am it is still the day before"
        clock.now = datetime(2025, 3, 3, 4, 1, tzinfo=UTC)
        app.check_day()
        await pilot.pause()
        assert app.today == TODAY and app.screen.outlooks[0].due == 1
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen) and app.screen.item.key == "basics/sum"


# ---------------------------------------------------------------------- editing a card, suspending in a sitting


def copy_decks(tmp_path):
    """The fixture decks in a folder of their own (the tests edit them)."""
    import shutil

    shutil.copytree(DECKS.parent, tmp_path / "project")
    return tmp_path / "project" / "decks"


def editing_app(db, decks, edit, **kw):
    """The app on `decks` with a stand-in editor: `edit(path, line)` changes the file as a learner would."""
    from quizzer.review.tui.app import QuizzerApp

    class App(QuizzerApp):
        def run_editor(self, command):
            self.editor_calls.append(command)
            edit(command[-1], int(command[-2].lstrip("+")))

    app = App(db, [decks], today=TODAY, clock=lambda: NOW, auto_verify=False, bundled=decks, **kw)
    app.editor_calls = []
    return app


@async_test
async def test_e_edits_the_card_at_its_line_reloads_and_keeps_progress(tmp_path, monkeypatch):
    from quizzer.review.tui.screens.review import ReviewScreen

    monkeypatch.setenv("EDITOR", "myeditor --flag")
    monkeypatch.delenv("VISUAL", raising=False)
    decks = copy_decks(tmp_path)
    db = tmp_path / "q.db"
    seen_lines = []

    def edit(path, line):
        text = Path(path).read_text()
        seen_lines.append(text.splitlines()[line - 1])
        Path(path).write_text(text.replace("What is the shape of `x.T`", "What shape has `x.T`"))

    app = editing_app(db, decks, edit, limits=Limits(new_per_day=2))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and screen.item.key == "basics/sum"
        await pilot.press("1", "0", "enter", "4")  # sum answered; transpose-shape is next
        await pilot.pause()
        assert screen.item.key == "basics/transpose-shape"
        await pilot.press(*"(3, 2)", "enter")
        await pilot.press("e")
        await pilot.pause()
        assert app.editor_calls[0][:2] == ["myeditor", "--flag"] and seen_lines == ["[[cards]]"]
        assert app.editor_calls[0][-1].endswith("basics.toml")
        assert "What shape has" in screen.item.card.prompt and not screen.revealed, "shown afresh, nothing graded"
        assert screen.session.remaining == 1 and card_state(db, "basics/sum").state.repetitions == 1


@async_test
async def test_an_editor_that_changes_nothing_says_so_and_the_card_stays_as_it_was(tmp_path):
    from quizzer.review.tui.screens.review import ReviewScreen

    decks = copy_decks(tmp_path)
    db = tmp_path / "q.db"
    app = editing_app(db, decks, lambda path, line: Path(path).write_text(Path(path).read_text()))  # :wq, no change
    messages = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and screen.item.key == "basics/sum"
        card = screen.item.card
        await pilot.press("1", "0", "enter")
        await pilot.pause()
        assert screen.revealed
        await pilot.press("e")
        await pilot.pause()
        assert app.editor_calls, "the editor ran"
        assert "the deck was edited" not in str(screen.query_one("#hint").render())
        assert ("Edit", "The deck file is unchanged: nothing was edited.") in messages
        assert screen.item.card is card and screen.revealed, "the card as it was, its answer still shown"


@async_test
async def test_an_edit_that_breaks_the_deck_shows_its_problems_and_keeps_the_old_deck(tmp_path):
    from quizzer.review.tui.screens.browser import BrowserScreen

    decks = copy_decks(tmp_path)

    def edit(path, line):
        Path(path).write_text(Path(path).read_text() + "\n[[cards]]\nid = 'broken'\n")

    app = editing_app(tmp_path / "q.db", decks, edit)
    messages = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, BrowserScreen)
        await pilot.press("enter")  # from the search box to the list
        await pilot.press("e")
        await pilot.pause()
        assert app.editor_calls, "the editor ran"
        assert any(title == "The edit broke the deck" and "basics.toml:" in message for title, message in messages)
        assert len(app.library.deck("basics").deck.cards) == 6


@async_test
async def test_a_card_suspended_in_the_browser_during_a_sitting_leaves_its_queue(tmp_path):
    from quizzer.review.tui.screens.review import ReviewScreen

    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        review = app.screen
        assert isinstance(review, ReviewScreen) and review.item.key == "basics/sum"
        before = review.session.remaining
        app.open_browser("basics/sum")
        await pilot.pause()
        await pilot.press("space")  # suspend it
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is review and review.item.key != "basics/sum"
        assert review.session.remaining == before - 1
        assert "basics/sum was suspended" in str(review.query_one("#hint").render())


@async_test
async def test_undo_after_a_reset_says_so(tmp_path):
    from quizzer.review.tui.screens.review import ReviewScreen

    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    notifications = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        review = app.screen
        assert isinstance(review, ReviewScreen)
        await pilot.press("1", "0", "enter", "5")
        await pilot.pause()
        app.store.reset_card("basics/sum")
        await pilot.press("ctrl+z")
        await pilot.pause()
        messages = [message for _, message in notifications]
        assert any("basics/sum was reset since that answer" in message for message in messages), messages
        assert not review.session.can_undo


# ---------------------------------------------------------------------- screens at every size


@async_test
async def test_at_60_columns_grades_keep_labels_decks_keep_badges_and_help_stays_in_the_footer(tmp_path):
    from textual.widgets import Button

    from quizzer.review.tui.widgets.footer import KeyFooter

    db = tmp_path / "q.db"
    seed(db)
    async with make_app(db).run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        table = pilot.app.screen.query_one("#deck-table")
        assert sum(column.get_render_width(table) for column in table.columns.values()) <= table.size.width
        keys = pilot.app.screen.query_one(KeyFooter).keys
        assert keys[0].action == "help"
        await pilot.press("enter", "1", "0", "enter")
        await pilot.pause()
        for button in pilot.app.screen.query(".grade").results(Button):
            assert len(str(button.label)) <= button.content_region.width, str(button.label)


@async_test
async def test_decks_screen_day_line_and_titles_fit_at_100_80_and_60_columns(tmp_path):
    """The bundled decks while 81 cards verify: the day's line never wraps (at 60 columns the verifying
    count takes a line of its own, deliberately), every title is shown whole (wrapped between words at
    60 columns, never cut) and the table ends above the key bar. On main the line wrapped at 80 and 60
    columns and three titles were cut at 60 ('Detection and S…')."""
    from rich.cells import cell_len

    from quizzer.paths import bundled_decks
    from quizzer.review.tui.app import QuizzerApp
    from quizzer.review.tui.widgets.footer import KeyFooter

    titles = {}
    for path in sorted(bundled_decks().glob("*.toml")):
        deck = load_deck(path).deck
        titles[deck.id] = (deck.title, [f"{deck.id}/{card.id}" for card in deck.cards])
    verifying = {key for _, keys in titles.values() for key in keys}
    for width, height in [(100, 30), (80, 24), (60, 20)]:
        app = QuizzerApp(tmp_path / f"q{width}.db", today=TODAY, clock=lambda: NOW, auto_verify=False)
        async with app.run_test(size=(width, height)) as pilot:
            await settle(pilot)
            app.library.verifying |= verifying  # as run_verify marks the cards it verifies
            app.verification_generation += 1
            line = app.screen.query_one("#today-line")
            await until(pilot, lambda line=line: "⟳" in str(line.render()), "the verifying count shown")
            await pilot.pause()
            text = str(line.render())
            lines = text.splitlines()
            assert f"{len(verifying)} to review" in lines[0] and f"⟳ verifying {len(verifying)}" in text, text
            assert len(lines) == (1 if width >= 80 else 2), (width, text)
            assert all(cell_len(part) <= line.content_region.width for part in lines), (width, text)
            assert line.content_region.height == len(lines), f"the day's line wrapped at {width}: {text!r}"

            table = app.screen.query_one("#deck-table")
            deck_column = table.columns["deck"]
            assert sum(column.get_render_width(table) for column in table.columns.values()) <= table.size.width
            for deck, (title, _) in titles.items():
                cell = table.get_cell(deck, "deck")
                assert "…" not in cell.plain and " ".join(cell.plain.split()) == title, (width, cell.plain)
                shown_lines = cell.plain.splitlines()
                assert all(cell_len(part) <= deck_column.content_width for part in shown_lines), (width, cell.plain)
                assert table.rows[deck].height == len(shown_lines), (width, title)
                if width >= 80:
                    assert len(shown_lines) == 1, (width, title)
            footer = app.screen.query_one(KeyFooter)
            assert table.region.bottom <= footer.region.y, (width, table.region, footer.region)


def test_the_days_line_fits_at_every_width_from_50_columns_with_four_digit_counts():
    from rich.cells import cell_len
    from rich.text import Text

    from quizzer.review.tui.screens.decks import day_lines

    for width in range(50, 121):
        for counts in [(0, 0, 0, 0), (0, 0, 81, 81), (1200, 130, 20, 1081), (9999, 999, 999, 9999)]:
            lines = day_lines(TODAY, *counts, width)
            plain = [Text.from_markup(line.replace("[$accent]", "[bold]")).plain for line in lines]
            assert all(cell_len(line) <= width for line in plain), (width, counts, plain)
            assert ("⟳" in "".join(plain)) == bool(counts[3]) and len(plain) <= 2, (width, plain)


@async_test
async def test_browser_columns_fit_and_j_k_move_in_lists(tmp_path):
    db = tmp_path / "q.db"
    seed(db)
    async with make_app(db).run_test(size=SIZE) as pilot:
        await settle(pilot)
        decks = pilot.app.screen.query_one("#deck-table")
        await pilot.press("j")
        assert decks.cursor_row == 1
        await pilot.press("k")
        assert decks.cursor_row == 0
        await pilot.press("b")
        await until(pilot, lambda: pilot.app.screen.query("#card-table"), "the browser shown")
        table = pilot.app.screen.query_one("#card-table")
        await pilot.pause()
        assert pilot.app.focused.id == "search"
        assert sum(column.get_render_width(table) for column in table.columns.values()) <= table.size.width
        await pilot.press("down", "j", "j")
        assert table.cursor_row == 2


@async_test
async def test_a_long_prompt_says_more_below_until_scrolled_and_ctrl_r_answers_in_the_hint(tmp_path):
    decks = copy_decks(tmp_path)
    path = decks / "basics.toml"
    path.write_text(
        path.read_text().replace(
            "What is $\\sum_{i=0}^{4} i$?", "Intro.\n" + "\n\nfiller line" * 40 + "\n\nWhat is the sum?"
        )
    )
    from quizzer.review.tui.app import QuizzerApp
    from quizzer.review.tui.screens.review import ReviewScreen

    app = QuizzerApp(tmp_path / "q.db", [decks], today=TODAY, clock=lambda: NOW, auto_verify=False, bundled=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen), "the review screen")
        review = app.screen
        assert review.item.key == "basics/sum"
        card, cue = review.query_one("#card"), review.query_one("#more-cue")
        await until(pilot, lambda: card.max_scroll_y > 0 and cue.display, "the prompt taller than its box, said so")
        await pilot.press("end")
        card.scroll_end(animate=False)
        await until(pilot, lambda: not cue.display, "the cue gone once the prompt is scrolled to its end")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "not trusted" in str(review.query_one("#hint").render())


@async_test
async def test_the_browser_shows_a_parts_card_without_crashing(tmp_path):
    decks = copy_decks(tmp_path)
    (decks / "parts.toml").write_text(
        'id = "parts"\ntitle = "Parts"\n[[cards]]\nid = "two"\nprompt = "Two things?"\nexplanation = "So."\n'
        '[[cards.parts]]\nid = "a"\nlabel = "First"\nanswer = { kind = "numeric", value = 1 }\n'
        '[[cards.parts]]\nid = "b"\nlabel = "Second"\nanswer = { kind = "boolean", value = true }\n'
    )
    from quizzer.review.tui.app import QuizzerApp

    app = QuizzerApp(tmp_path / "q.db", [decks], today=TODAY, clock=lambda: NOW, auto_verify=False, bundled=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_browser("parts/two")
        await until(pilot, lambda: app.screen.query("#detail-schedule"), "the browser shown")
        detail = app.screen.query_one("#detail-schedule")
        await until(pilot, lambda: "First (numeric)" in str(detail.render()), "the card's details shown")
        shown = str(detail.render())
        assert "First (numeric): 1" in shown and "Second (boolean): True" in shown
