"""Pilot tests of the review screen's own keys: edit before the reveal, suspend (and undo it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui import SIZE, async_test, card_state, make_app, seed, settle, until
from test_tui_daily import copy_decks, editing_app

from quizzer.review.session import Limits


@async_test
async def test_ctrl_o_edits_before_the_reveal_and_keeps_the_typed_answer_and_the_sitting(tmp_path):
    from quizzer.review.tui.screens.review import ReviewScreen

    decks = copy_decks(tmp_path)
    db = tmp_path / "q.db"

    def edit(path, line):
        Path(path).write_text(Path(path).read_text().replace("What is the shape of `x.T`", "What shape has `x.T`"))

    app = editing_app(db, decks, edit, limits=Limits(new_per_day=2))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await pilot.press("1", "0", "enter", "4")  # sum answered; transpose-shape is next
        await pilot.pause()
        assert screen.item.key == "basics/transpose-shape" and not screen.revealed
        await pilot.press(*"(3, 2", "ctrl+o")  # typing: the focus is in the answer box
        await pilot.pause()
        assert len(app.editor_calls) == 1, "the editor ran before the reveal"
        assert "What shape has" in screen.item.card.prompt and not screen.revealed
        assert screen.query_one("#answer").value == "(3, 2", "the half-typed answer is kept"
        assert screen.session.remaining == 1 and screen.session.can_undo
        assert card_state(db, "basics/sum").state.repetitions == 1
        await pilot.press(")", "enter")
        await pilot.pause()
        assert screen.revealed and screen.verdict.status == "correct"


@async_test
async def test_ctrl_s_suspends_the_card_it_leaves_the_sitting_and_undo_brings_it_back(tmp_path):
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
        await pilot.press("1", "ctrl+s")  # while typing
        await pilot.pause()
        assert review.item.key != "basics/sum" and review.session.remaining == before - 1
        assert card_state(db, "basics/sum").suspended
        assert "basics/sum suspended" in str(review.query_one("#hint").render())
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert review.item.key == "basics/sum" and review.session.remaining == before
        assert not card_state(db, "basics/sum").suspended


def bar_keys(app):
    """The keys the screen's key bar draws (it is one widget: its keys are not widgets of their own)."""
    from quizzer.review.tui.widgets.footer import KeyFooter

    return app.screen.query_one(KeyFooter).keys


def visible_keys(app, width):
    """The descriptions of the footer keys drawn whole within `width` columns."""
    return [key.description for key in bar_keys(app) if key.width and key.right <= width]


@async_test
async def test_at_60_columns_the_footer_shows_each_screens_important_keys(tmp_path):
    from quizzer.review.tui.screens.review import ReviewScreen

    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        assert visible_keys(app, 60)[:5] == ["Help", "Review", "All", "Browse", "Stats"]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("1", "0", "enter", "4", "enter")  # one card graded, the next revealed
        await pilot.pause()
        shown = visible_keys(app, 60)
        for description in ("Help", "Grade", "Undo", "Skip", "Suspend", "Edit", "End"):
            assert description in shown, (description, shown)


def cut_keys(app, width):
    """The footer keys that reach past `width` columns: drawn cut (`^r` without its `Verify`)."""
    return [f"{key.key_display} {key.description}" for key in bar_keys(app) if key.right > width]


@pytest.mark.parametrize("width", [60, 70, 80])
@async_test
async def test_a_narrow_footer_leaves_out_the_keys_that_do_not_fit_whole(tmp_path, width):
    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    async with app.run_test(size=(width, 20)) as pilot:
        await settle(pilot)
        assert not cut_keys(app, width), "decks screen"
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("1", "0", "enter")  # revealed: the grade keys join the footer
        await pilot.pause()
        assert not cut_keys(app, width), "review screen"
        assert visible_keys(app, width)[:2] == ["Help", "Grade"]


def check_footer(screen, width: int) -> list[str]:
    """The footer of `screen` draws whole keys only, `? Help` first, and drops the rest from the last:
    its keys are the screen's shown bindings in order up to the first that would not fit. Returns them.

    The bar is one widget: each key's columns are checked against the line it draws, which must be the
    keys' texts laid out as Textual's Footer laid out its FooterKeys (compact: `key description` and a
    one-column margin; otherwise a column of padding around the key and after the description; the
    palette key compact at the right edge behind a one-column rule, with a padding column)."""
    from rich.cells import cell_len

    from quizzer.review.tui.widgets.footer import KeyFooter

    footer = screen.query_one(KeyFooter)
    keys = footer.keys
    drawn = [key for key in keys if not key.palette]
    for key in keys:
        assert key.width and footer.region.x + key.right <= width, (key.description, key.x, key.width, width)
    line = footer.render_line(0)
    width = footer.size.width  # the screen's, but for a screen's scrollbar beside the bar
    assert line.cell_length == width
    expected, x = "", 0
    for key in keys:
        if key.palette:
            text = f"▏{key.key_display} {key.description} "
        elif footer.compact:
            text = f"{key.key_display} {key.description}"
        else:
            text = f" {key.key_display} {key.description} "
        assert key.width == cell_len(text), (key.description, key.width, text)
        assert line.crop(key.x, key.right).text == text, (key.description, line.text)
        assert key.palette or key.x == x + (1 if footer.compact and expected else 0), (key.description, key.x, x)
        expected += " " * (key.x - x) + text
        x = key.right
    assert line.text == expected + " " * (width - x), line.text  # nothing else drawn on the line
    assert drawn[0].action == "help", [key.description for key in drawn]
    wanted = {}  # action → description, in the order the screen lists its keys
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.show and binding.action not in ("help", "command_palette") and binding.action not in wanted:
            wanted[binding.action] = (binding.key_display or screen.app.get_key_display(binding), binding.description)
    if footer.narrow:
        wanted.pop("quit", None)  # left to the help screen below 100 columns
    actions = [key.action for key in drawn[1:]]
    assert actions == list(wanted)[: len(actions)], (actions, list(wanted))
    if len(actions) < len(wanted):  # the first key left out would not have fitted
        display, description = list(wanted.values())[len(actions)]
        needed = cell_len(display) + cell_len(description) + (2 if footer.compact else 3)  # margin, or padding
        palette = [key for key in keys if key.palette]
        right = palette[0].x if palette else width
        assert drawn[-1].right + needed > right, (description, drawn[-1].right, right)
    return [key.description for key in drawn]


@pytest.mark.parametrize("size", [(60, 20), (80, 24), (100, 30)])
@async_test
async def test_every_screens_footer_keeps_help_and_drops_whole_keys_least_important_first(tmp_path, size):
    from quizzer.review.tui.screens.browser import BrowserScreen
    from quizzer.review.tui.screens.decks import DecksScreen
    from quizzer.review.tui.screens.review import ReviewScreen
    from quizzer.review.tui.screens.settings import SettingsScreen
    from quizzer.review.tui.screens.stats import StatsScreen
    from quizzer.review.tui.screens.summary import SummaryScreen

    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    width = size[0]
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        seen = {}

        async def look(kind, name):
            await settle(pilot)
            assert isinstance(app.screen, kind), (name, app.screen)
            seen[name] = check_footer(app.screen, width)

        await look(DecksScreen, "decks")
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HelpScreen"
        await pilot.press("escape")
        others = (("b", BrowserScreen, "browser"), ("s", StatsScreen, "stats"), ("o", SettingsScreen, "settings"))
        for key, kind, name in others:
            await pilot.press(key)
            await look(kind, name)
            app.pop_screen()
            await settle(pilot)
        await pilot.press("enter")
        await look(ReviewScreen, "review, before the reveal")
        await pilot.press("1", "0", "enter")
        await look(ReviewScreen, "review, revealed")
        await pilot.press("4")
        app.screen.finish()
        await look(SummaryScreen, "summary")
    if width == 60:  # what the learner sees on the smallest supported terminal
        assert seen["decks"] == ["Help", "Review", "All", "Browse", "Stats", "Custom", "Verify"]
        assert seen["review, revealed"] == ["Help", "Grade", "Skip", "Suspend", "Edit", "End", "Verify"], seen


@pytest.mark.parametrize("size", [(100, 30), (80, 24), (60, 20)])
@async_test
async def test_a_placeholder_wider_than_its_box_is_written_out_below_it(tmp_path, size):
    from rich.cells import cell_len
    from test_tui_parts import make_app as parts_app
    from test_tui_parts import review, verify_fixture

    db = tmp_path / "q.db"
    verify_fixture(db)
    async with parts_app(db).run_test(size=size) as pilot:
        screen = await review(pilot, 1)
        assert screen.item.key == "parts/grad-w2"
        box, help_line = screen.query_one("#answer"), screen.query_one("#answer-help")
        # Written out after a refresh, once the box has its width: wait for it to be laid out.
        await until(pilot, lambda: help_line.display and help_line.region.height, "the placeholder written out")
        assert cell_len(box.placeholder) > box.content_region.width, "the fixture's placeholder is cut"
        assert str(help_line.render()).replace("\n", " ").split() == box.placeholder.split()
        assert help_line.region.right <= size[0] and help_line.region.bottom <= size[1]
        await pilot.press("enter")  # reveal
        await pilot.pause()
        assert screen.revealed and not help_line.display


@async_test
async def test_a_part_label_cut_by_its_column_is_written_out_below_the_boxes(tmp_path):
    """A part's label is its question (bundled: "Trained on the same near-identity mapping: by how much
    does the plain layer's filter exceed ...?"), cut to its column's width with an ellipsis: the focused
    part's whole label is written out below the boxes, with its placeholder; a label that fits is not."""
    from rich.cells import cell_len
    from test_tui_parts import make_app as parts_app
    from test_tui_parts import review, verify_fixture

    db = tmp_path / "q.db"
    verify_fixture(db)
    async with parts_app(db).run_test(size=(60, 20)) as pilot:
        screen = await review(pilot)
        assert screen.item.key == "parts/dropout"
        help_line = screen.query_one("#answer-help")
        first, second = screen.query(".part-input").results()
        await until(pilot, lambda: first.content_region.width > 0, "the boxes laid out")
        assert cell_len(f"{first.label_text}:") <= first.label_widget.content_region.width  # "The constant c"
        await pilot.pause()
        assert "The constant c" not in str(help_line.render())  # at most its cut placeholder
        await pilot.press("tab")
        await until(pilot, lambda: help_line.display, "the cut label written out", lambda: help_line.render())
        assert cell_len(f"{second.label_text}:") > second.label_widget.content_region.width, (
            "the fixture's label is cut"
        )
        written = str(help_line.render()).replace("\n", " ").split()
        assert (
            written
            == f"{second.label_text}: {second.placeholder}".split()
            == ["Share", "kept", "at", "p", "=", "0.25:", *second.placeholder.split()]
        )
        await pilot.press("shift+tab")
        await until(pilot, lambda: "Share" not in str(help_line.render()), "the label gone with the focus")


@async_test
async def test_a_placeholder_that_fits_adds_no_line(tmp_path):
    db = tmp_path / "q.db"
    seed(db)
    async with make_app(db).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert not pilot.app.screen.query_one("#answer-help").display
