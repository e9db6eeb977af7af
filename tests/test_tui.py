"""Pilot tests of the Textual app: they drive the screens with keys and clicks and assert on the database.

Deterministic: a fixed `today`, a clock that never moves, the fixture decks in tests/fixtures/tui
(trusted by passing them as the "bundled" folder), and no background verification unless a test
asks for it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from quizzer.cards.loader import load_deck
from quizzer.review.session import Limits
from quizzer.store import Store
from quizzer.verify.runner import Job, cache_key

FIXTURES = Path(__file__).parent / "fixtures" / "tui"
DECKS = FIXTURES / "decks"
TODAY = date(2025, 3, 3)
NOW = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
SIZE = (100, 30)


def make_app(db: Path, *, limits: Limits | None = None, auto_verify: bool = False, bundled: Path = DECKS, **kw):
    from quizzer.review.tui.app import QuizzerApp

    return QuizzerApp(
        db, [DECKS], today=TODAY, clock=lambda: NOW, limits=limits, auto_verify=auto_verify, bundled=bundled, **kw
    )


def seed(db: Path) -> None:
    """basics/sum answered yesterday (q=5): due today as a scheduled review; everything else new."""
    with Store.open(db) as store:
        store.sync_deck("basics", [c.id for c in load_deck(DECKS / "basics.toml").deck.cards])
        store.record_answer("basics/sum", 5, today=TODAY - timedelta(days=1), now=NOW - timedelta(days=1))


def record_verifications(db: Path) -> None:
    """sum verified (current), transpose-shape stale, extra/double failed; the rest never verified."""
    basics, extra = load_deck(DECKS / "basics.toml"), load_deck(DECKS / "extra.toml")
    outcome = {
        "status": "passed", "message": "", "value": 10, "expected": "10", "computed": "10",
        "claims": [{"name": "sum of 0..4 by counting", "holds": True, "measured": "10"}],
        "notes": ["Adding 0 + 1 + 2 + 3 + 4 one by one gives **10**."],
        "series": [{"name": "running total", "x": [0, 1, 2, 3, 4], "y": [0, 1, 3, 6, 10],
                    "xlabel": "i", "ylabel": "total"}],
        "output": "", "traceback": "", "duration": 0.2,
    }  # fmt: skip
    failed = dict(outcome, status="failed", value=41, computed="41", claims=[], series=[],
                  message="the card says 42 but the verifier computed 41", notes=["Disagrees on purpose."])  # fmt: skip
    stale = dict(outcome, value=[3, 2], computed="[3, 2]", claims=[], series=[], notes=["(2, 3) transposed."])
    with Store.open(db) as store:
        when = "2025-03-01T08:00:00+0000"
        sum_card = basics.deck.card("sum")
        store.save_verification(
            "basics/sum", cache_key(Job(basics, sum_card)), "passed", json.dumps(outcome), "2.4.1", when, 0.2
        )
        store.save_verification("basics/transpose-shape", "old-key", "passed", json.dumps(stale), "2.4.1", when, 0.1)
        double = extra.deck.card("double")
        store.save_verification(
            "extra/double", cache_key(Job(extra, double)), "failed", json.dumps(failed), "2.4.1", when, 0.1
        )


def async_test(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return asyncio.run(function(*args, **kwargs))

    return wrapper


HANG_SECONDS = 300
"""How long a wait on a condition may last before the test fails: only a hang gets there, never a
slow or loaded machine (the tests wait for what they need, not for a guessed time)."""


async def until(pilot, condition: Callable[[], object], what: str, state: Callable[[], object] = str) -> None:
    """Pause (letting messages, refreshes and workers run) until `condition()` holds; if it never does,
    the failure names `what` did not happen and the `state()` things were left in."""
    give_up = time.monotonic() + HANG_SECONDS
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"never came true: {what}; {state()}")
        await pilot.pause()


async def settle(pilot) -> None:
    """Until the app is steady: its decks and the verification cache keys loaded (badges known), no
    worker running (deck loading, cache keys, statistics, the palette's search), the screen refreshed.

    Workers are awaited, so one that failed fails the test; the cache keys are a worker started only
    once the decks screen shows its counts, hence the loop rather than a fixed number of rounds.
    """
    app = pilot.app

    async def workers_done() -> bool:
        await app.workers.wait_for_complete()
        await pilot.pause()
        library = app.library
        return library is not None and library.cache_keys is not None and all(w.is_finished for w in app.workers)

    give_up = time.monotonic() + HANG_SECONDS
    while not await workers_done():
        if time.monotonic() > give_up:
            raise AssertionError("the app never settled")


async def shown(pilot, screen_type: type):
    """Until a `screen_type` is the active screen and has mounted (its on_mount ran); returns it."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, screen_type) and app.screen.is_mounted, screen_type.__name__)
    return app.screen


def verify_running(app) -> bool:
    """A background `quizzer verify` is under way (its worker running, or a card still verifying)."""
    return bool(app.library.verifying) or any(w.group == "verify" and not w.is_finished for w in app.workers)


async def wait_for_verification(pilot) -> None:
    """Until the background `quizzer verify` has finished: the cache keys are known (the automatic run
    starts with them) and no verification is running."""
    library = pilot.app.library
    await until(pilot, lambda: library.cache_keys is not None and not verify_running(pilot.app), "verification over")


def record_updates(widget) -> list[str]:
    """The text of every content a Static is given from now on, in order."""
    shown: list[str] = []
    update = widget.update

    def recording(content="", **options) -> None:
        shown.append(str(content))
        update(content, **options)

    widget.update = recording
    return shown


def record_notifications(app) -> list[tuple[str, str]]:
    """Every notification the app raises, as (title, message), kept: the app's own list drops each
    one after its timeout (5 s of wall clock by default), which a loaded machine can outlast."""
    raised: list[tuple[str, str]] = []
    notify = app.notify

    def recording(message: str, **options) -> None:
        raised.append((options.get("title", ""), message))
        notify(message, **options)

    app.notify = recording
    return raised


def rows(db: Path, sql: str, *params):
    with Store.open(db) as store:
        return store.db.execute(sql, params).fetchall()


def card_state(db: Path, key: str):
    with Store.open(db) as store:
        return store.card(key)


# ---------------------------------------------------------------------- the review flow


@async_test
async def test_review_typed_answer_grade_redrill_undo_and_finish(tmp_path):
    from quizzer.review.tui.screens.review import ReviewScreen
    from quizzer.review.tui.screens.summary import SummaryScreen

    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db, limits=Limits(new_per_day=1))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # review the highlighted deck: Basics
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert screen.item.key == "basics/sum"  # the due review comes before new cards

        # A typed answer, checked: correct, suggested grade 4; we grade 3 (hard) → drilled this session.
        await pilot.press("1", "0", "enter")
        assert screen.revealed and screen.verdict.status == "correct"
        await pilot.press("3")
        await pilot.pause()
        state = card_state(db, "basics/sum").state
        assert (state.repetitions, state.interval, state.drill) == (2, 6, True)

        # The one new card allowed today: a wrong shape → 1 → asked again this session.
        assert screen.item.key == "basics/transpose-shape"
        await pilot.press(*"(2, 3)", "enter")
        assert screen.verdict.status == "incorrect"
        await pilot.press("enter")  # accepts the suggested grade, 1
        await pilot.pause()
        assert card_state(db, "basics/transpose-shape").state.phase == "learning"

        # The drill comes back: 4 ends it without touching the schedule.
        assert screen.item.key == "basics/sum"
        await pilot.press("1", "0", "enter", "4")
        await pilot.pause()
        state = card_state(db, "basics/sum").state
        assert (state.repetitions, state.interval, state.drill) == (2, 6, False)

        # Undo that drill answer: the card is back, drilling, and its log row is marked undone.
        assert screen.item.key == "basics/transpose-shape"
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert screen.item.key == "basics/sum" and not screen.revealed
        assert card_state(db, "basics/sum").state.drill is True
        assert rows(db, "SELECT quality, undone FROM review_log WHERE key = 'basics/sum' ORDER BY id")[-1] == (4, 1)

        await pilot.press("1", "0", "enter", "5")  # drill again, done
        await pilot.press(*"(3,2)", "enter", "4")  # the lapsed card, now right
        await pilot.pause()
        assert isinstance(app.screen, SummaryScreen)
        summary = screen.session.summary()
        assert (summary.answers, summary.cards, summary.again, summary.remaining) == (4, 2, 1, 0)

        await pilot.press("enter")  # back to the decks
        await pilot.pause()
        assert app.screen.__class__.__name__ == "DecksScreen"

    log = rows(db, "SELECT key, quality, typed, verdict, kind FROM review_log WHERE undone = 0 ORDER BY id")
    assert log == [
        ("basics/sum", 5, "", "", "new"),  # the seed
        ("basics/sum", 3, "10", "correct", "review"),
        ("basics/transpose-shape", 1, "(2, 3)", "incorrect", "new"),
        ("basics/sum", 5, "10", "correct", "drill"),
        ("basics/transpose-shape", 4, "(3,2)", "correct", "learning"),
    ]
    shape = card_state(db, "basics/transpose-shape").state
    assert (shape.repetitions, shape.interval, shape.due) == (1, 1, TODAY + timedelta(days=1))


@async_test
async def test_the_card_shown_is_prefetched_for_its_answer(tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(Store, "prefetch", lambda store, key: shown.append(key))
    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db, limits=Limits(new_per_day=1))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert shown == ["basics/sum"] == [app.screen.item.key]
        await pilot.press("1", "0", "enter", "4")
        await pilot.pause()
        assert shown == ["basics/sum", "basics/transpose-shape"] and app.screen.item.key == shown[-1]


@async_test
async def test_unreadable_answer_is_explained_and_can_be_retyped(tmp_path):
    db = tmp_path / "q.db"
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        screen = app.screen
        assert screen.item.key == "basics/sum"
        await pilot.press(*"ten", "enter")
        assert not screen.revealed
        assert "not a number" in str(screen.query_one("#hint").render())
        assert rows(db, "SELECT count(*) FROM reviews") == [(0,)]
        await pilot.press(*["backspace"] * 3, *"20", "enter")
        assert screen.revealed and screen.verdict.status == "incorrect"


@async_test
async def test_choice_by_click_skip_and_self_graded_card(tmp_path):
    db = tmp_path / "q.db"
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        screen = app.screen
        await pilot.press("ctrl+n")  # skip sum: it goes to the end
        assert screen.item.key == "basics/transpose-shape"
        await pilot.press("ctrl+n")
        assert screen.item.key == "basics/activation"
        await pilot.click(".choice")  # the first option, relu, with the mouse
        await pilot.pause()
        assert screen.revealed and screen.verdict.status == "correct"
        await pilot.click("#grade-5")
        await pilot.pause()
        assert rows(db, "SELECT key, quality, typed FROM review_log") == [("basics/activation", 5, "relu")]
        # boolean, expression, then the self-graded text card: no suggestion, Enter does not grade.
        await pilot.press(*"yes", "enter", "enter")
        await pilot.press(*"1-(1-p2)*(1-p1)", "enter")
        assert screen.verdict.status == "correct"
        await pilot.press("enter")
        assert screen.item.key == "basics/meaning"
        await pilot.press(*"steepest ascent", "enter")
        assert screen.verdict.status == "self-graded"
        await pilot.press("enter")
        assert screen.item.key == "basics/meaning"  # still waiting for a grade
        await pilot.press("2")
        assert screen.item.key in ("basics/sum", "basics/transpose-shape")
    last = rows(db, "SELECT key, quality, verdict FROM review_log ORDER BY id")[-1]
    assert last == ("basics/meaning", 2, "self-graded")


# ---------------------------------------------------------------------- decks screen


@async_test
async def test_decks_screen_counts_badges_and_empty_state(tmp_path):
    db = tmp_path / "q.db"
    seed(db)
    record_verifications(db)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        [basics, extra] = screen.outlooks
        assert (basics.due, basics.learning, basics.new) == (1, 0, 5)
        assert (extra.due, extra.new) == (0, 2)
        badges = app.library.deck_badges("basics")
        assert badges == {"verified": 1, "stale": 1, "unverified": 1, "none": 3}
        assert app.library.deck_badges("extra") == {"failed": 1, "none": 1}
        today_line = str(screen.query_one("#today-line").render())
        assert "8 to review: 1 due · 0 re-drill · 7 new" in today_line, today_line

    # Nothing left today: the empty state names the next review.
    with Store.open(db) as store:
        for loaded in (load_deck(DECKS / "basics.toml"), load_deck(DECKS / "extra.toml")):
            store.sync_deck(loaded.deck.id, [c.id for c in loaded.deck.cards])
            for card in loaded.deck.cards:
                key = f"{loaded.deck.id}/{card.id}"
                if card.id != "sum":
                    store.set_suspended(key, True)
        store.record_answer("basics/sum", 5, today=TODAY, now=NOW)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        empty = str(app.screen.query_one("#empty-state").render())
        assert "Nothing due" in empty and "next review in 6 days" in empty


@async_test
async def test_keys_typed_in_one_burst_are_read_before_the_enter_that_acts_on_them(tmp_path):
    """Enter is a priority binding on the decks screen and in an answer box: it runs as the key reaches
    the app, while the keys just before it may still wait in the focused widget's queue. In one burst
    (tmux send-keys, fast typing over ssh) down, Enter reviewed the first deck, and 1, 0, Enter, 4
    checked an empty answer ("you answered nothing") and graded it 4."""
    from textual import events

    from quizzer.review.tui.screens.review import ReviewScreen

    def burst(app, *keys: str) -> None:
        for key in keys:
            app.post_message(events.Key(key, key if len(key) == 1 else None))  # no wait between keys

    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "down", "enter")
        screen = await shown(pilot, ReviewScreen)
        assert screen.item.key.startswith("extra/")  # the deck the cursor was moved to
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        screen = await shown(pilot, ReviewScreen)
        await until(pilot, lambda: app.focused is screen.query_one("#answer"), "the answer box focused")
        assert screen.item.key == "basics/sum"
        burst(app, "1", "0", "enter", "4")
        await until(pilot, lambda: screen.answered == 1, "the card graded", lambda: screen.revealed)
    assert rows(db, "SELECT key, quality, typed, verdict FROM review_log WHERE kind != 'new'") == [
        ("basics/sum", 4, "10", "correct")
    ]


@async_test
async def test_an_answer_box_edits_in_the_order_the_keys_were_typed(tmp_path):
    """Backspace and the arrows are the box's own bindings, which Textual runs only once the key has
    gone back up to the app: in one burst 1125, backspace, 3 read "1125" and 12, left, 1 read "121"."""
    from textual import events

    from quizzer.review.tui.keys import keys_read
    from quizzer.review.tui.screens.review import ReviewScreen

    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        screen = await shown(pilot, ReviewScreen)
        box = screen.query_one("#answer")
        await until(pilot, lambda: app.focused is box, "the answer box focused")
        for keys, typed in [([*"1125", "backspace", "3"], "1123"), (["ctrl+u", *"12", "left", "1"], "112")]:
            for key in keys:
                app.post_message(events.Key(key, key if len(key) == 1 else None))  # no wait between keys
            await keys_read(box)  # the box has read every key ...
            await pilot.pause()  # ... and the app has run what came back up from it
            assert box.value == typed, (keys, box.value)


@async_test
async def test_every_text_box_of_the_app_edits_in_the_order_the_keys_were_typed(tmp_path):
    """Every Input on every screen is a tui/keys.TextInput: the browser's search box, the settings'
    fields and custom study's read 12, left, 1 as "121" and applied backspace late in one burst."""
    from textual import events
    from textual.widgets import Input

    from quizzer.review.tui.keys import TextInput, keys_read
    from quizzer.review.tui.screens.browser import BrowserScreen
    from quizzer.review.tui.screens.custom import CustomStudyScreen
    from quizzer.review.tui.screens.review import ReviewScreen
    from quizzer.review.tui.screens.settings import SettingsScreen

    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for open_screen, screen_type in [
            (app.action_browse, BrowserScreen),
            (app.action_settings, SettingsScreen),
            (app.action_custom_study, CustomStudyScreen),
            (lambda: app.post_message(events.Key("enter", None)), ReviewScreen),
        ]:
            open_screen()
            screen = await shown(pilot, screen_type)
            boxes = list(screen.query(Input))
            assert boxes, screen_type.__name__
            assert all(type(box) is TextInput for box in boxes), [(box.id, type(box).__name__) for box in boxes]
            box = boxes[0]
            box.focus()
            await until(pilot, lambda box=box: app.focused is box, f"{box.id} focused")
            box.value = ""
            for key in [*"12", "backspace", "3"]:
                app.post_message(events.Key(key, key if len(key) == 1 else None))  # no wait between keys
            await keys_read(box)
            await pilot.pause()
            assert box.value == "13", (screen_type.__name__, box.id, box.value)
            app.pop_screen()
            await pilot.pause()


@async_test
async def test_escape_in_the_browser_does_what_the_key_bar_says(tmp_path):
    """In the search box the bar said `esc Back` while Escape only moved to the list: it now says so."""
    from quizzer.review.tui.screens.browser import BrowserScreen
    from quizzer.review.tui.screens.decks import DecksScreen

    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.action_browse()
        screen = await shown(pilot, BrowserScreen)
        await until(pilot, lambda: app.focused is screen.query_one("#search"), "the search box focused")
        assert screen.active_bindings["escape"].binding.description == "To the list"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and app.focused is screen.query_one("#card-table")
        assert screen.active_bindings["escape"].binding.description == "Back"
        await pilot.press("escape")
        await shown(pilot, DecksScreen)


@async_test
async def test_broken_deck_is_listed_not_fatal(tmp_path):
    decks = tmp_path / "decks"
    decks.mkdir()
    (decks / "good.toml").write_text(
        'id = "extra"\ntitle = "Extra"\n[[cards]]\nid = "one"\nprompt = "1?"\nexplanation = "One."\n'
        'answer = { kind = "numeric", value = 1 }\n'
    )
    (decks / "bad.toml").write_text('id = "bad"\ntitle = \n')
    from quizzer.review.tui.app import QuizzerApp

    app = QuizzerApp(tmp_path / "q.db", [decks], today=TODAY, clock=lambda: NOW, auto_verify=False, bundled=decks)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert [o.deck for o in app.screen.outlooks] == ["extra"]
        assert "bad.toml:2" in str(app.screen.query_one("#problems").render())


# ---------------------------------------------------------------------- browser


@async_test
async def test_browse_search_suspend_unsuspend_and_reset(tmp_path):
    from quizzer.review.tui.screens.browser import BrowserScreen

    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        assert len(screen.shown) == 8
        await pilot.press(*"tag:arith deck:basics", "enter")  # the search box has the focus on arrival
        await pilot.pause()
        assert screen.shown == ["basics/sum"]
        history = screen.query_one("#detail-history")
        assert history.row_count == 1

        await pilot.press("space")
        await pilot.pause()
        assert card_state(db, "basics/sum").suspended is True
        await pilot.press("space")
        await pilot.pause()
        assert card_state(db, "basics/sum").suspended is False
        await pilot.press("space")
        await pilot.pause()
        assert card_state(db, "basics/sum").suspended is True

        await pilot.press("r")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        state = card_state(db, "basics/sum")
        assert state.state.phase == "new" and state.suspended is True
        assert rows(db, "SELECT count(*) FROM review_log WHERE key = 'basics/sum'") == [(1,)]  # history kept

        await pilot.press("slash", "ctrl+u", *"is:suspended", "enter")
        await pilot.pause()
        assert screen.shown == ["basics/sum"]
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "DecksScreen"
        [basics, _] = app.screen.outlooks
        assert basics.new == 5  # the suspended card is not queued


# ---------------------------------------------------------------------- verification


@async_test
async def test_verification_panel_shows_badge_claims_notes_and_plot(tmp_path):
    db = tmp_path / "q.db"
    record_verifications(db)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter", *"10", "enter")
        await pilot.pause()
        panel = app.screen.query_one("VerificationPanel")
        badge = str(panel.query_one("#verification-badge").render())
        assert "✓ verified" in badge and "2025-03-01 08:00" in badge and "torch 2.4.1" in badge
        assert "sum of 0..4" in str(panel.query_one("#verification-claims").render())
        assert panel.query("SeriesPlot")
        await pilot.press("4", *"(3, 2)", "enter")
        await pilot.pause()
        assert "stale" in str(panel.query_one("#verification-badge").render())


@async_test
async def test_a_disputed_answer_is_announced_before_answering_and_not_graded(tmp_path):
    db = tmp_path / "q.db"
    record_verifications(db)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.start_review(["extra"])
        await pilot.pause()
        screen = app.screen
        assert screen.item.key == "extra/double" and not screen.revealed
        banner = str(screen.query_one("#caution").render())
        assert "The stated answer failed verification: the verifier computed 41" in banner
        await pilot.press(*"42", "enter")  # the card's own (disputed) answer: not marked right
        assert screen.revealed and screen.verdict.status == "self-graded"
        assert "disputed" in screen.query_one("#stated-answer").source
        await pilot.press("enter")  # no suggested grade to accept
        assert screen.item.key == "extra/double"
        await pilot.press("4")
        await pilot.pause()
    assert rows(db, "SELECT key, typed, verdict FROM review_log") == [("extra/double", "42", "self-graded")]


@async_test
async def test_a_stale_card_says_so_and_is_still_graded(tmp_path):
    db = tmp_path / "q.db"
    record_verifications(db)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.start_review(["basics"])
        await pilot.pause()
        screen = app.screen
        assert screen.item.key == "basics/sum" and not screen.query_one("#caution").display
        await pilot.press("ctrl+n")
        assert screen.item.key == "basics/transpose-shape"
        assert "changed since it was verified" in str(screen.query_one("#caution").render())
        await pilot.press(*"(3, 2)", "enter")
        assert screen.verdict.status == "correct"


@async_test
async def test_untrusted_decks_run_nothing(tmp_path, monkeypatch):
    db = tmp_path / "q.db"
    started = []
    monkeypatch.setattr(asyncio, "create_subprocess_exec", lambda *a, **k: started.append(a))
    app = make_app(db, auto_verify=True, bundled=tmp_path)  # the fixture folder is not trusted
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.library.deck_badges("basics")["untrusted"] == 3
        note = str(app.screen.query_one("#trust-note").render())
        assert note.endswith(f"To trust, run quizzer trust {FIXTURES.resolve()}")
        await pilot.press("enter", "enter", "ctrl+r")
        await settle(pilot)
        message = str(app.screen.query_one("VerificationPanel #verification-message").render())
        assert message.endswith(f"To trust it: quizzer trust {FIXTURES.resolve()}")
    assert started == []


@async_test
async def test_background_verification_of_trusted_decks_updates_badges(tmp_path):
    from quizzer.review.tui.screens.review import ReviewScreen

    db = tmp_path / "q.db"
    record_verifications(db)  # sum current; transpose stale; meaning missing; double failed but current
    app = make_app(db, auto_verify=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await wait_for_verification(pilot)
        assert app.library.deck_badges("basics") == {"verified": 3, "none": 3}
        assert app.library.deck_badges("extra") == {"failed": 1, "none": 1}
        with Store.open(db) as store:
            assert store.verification("basics/meaning").status == "passed"
            assert store.verification("basics/sum").verified_at == "2025-03-01T08:00:00+0000"  # cached: not re-run

        # ctrl+r on the review screen runs this card's verifier again, whatever the cache says. The badges
        # the panel shows are recorded: "verifying" lasts as long as `quizzer verify` takes, which a
        # glance after a pause may miss or catch depending on the machine's load.
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen), "the review screen")
        panel = app.screen.query_one("VerificationPanel")
        await pilot.press(*"10", "enter")
        await until(pilot, lambda: app.screen.revealed, "the answer revealed")
        badges = record_updates(panel.query_one("#verification-badge"))
        await pilot.press("ctrl+r")
        hint = app.screen.query_one("#hint")
        await until(pilot, lambda: "finished" in str(hint.render()), "ctrl+r's verification announced")
        await wait_for_verification(pilot)
        assert "verifying" in badges[0] and "✓ verified" in badges[-1], badges
        assert "✓ verified" in str(panel.query_one("#verification-badge").render())
    with Store.open(db) as store:
        assert store.verification("basics/sum").verified_at != "2025-03-01T08:00:00+0000"


# ---------------------------------------------------------------------- help, palette, statistics


@async_test
async def test_help_screen_statistics_and_palette(tmp_path):
    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.press("s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "StatsScreen"
        assert "1 started" in str(app.screen.query_one("#stats-headline").render())
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Review Extra")
        await settle(pilot)  # the palette's search is a worker: wait for it, not for a guessed time
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ReviewScreen"
        assert app.screen.item.key.startswith("extra/")
        await pilot.press("f1")  # help from the review screen names it ("Keys on the quizzer screen" before)
        await until(pilot, lambda: app.screen.__class__.__name__ == "HelpScreen", "the help screen")
        assert str(app.screen.query_one("#help-keys-title").render()) == "Keys on the Review screen"
        assert app.screen.origin.title == "Extra"  # the review screen's own title stays the session's


def test_theme_choice_is_remembered(tmp_path):
    db = tmp_path / "q.db"

    async def choose():
        app = make_app(db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            app.theme = "nord"
            await pilot.pause()

    async def reopen() -> str:
        app = make_app(db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            return app.theme

    asyncio.run(choose())
    assert asyncio.run(reopen()) == "nord"


# ---------------------------------------------------------------------- no torch in the app process


def test_starting_the_app_never_imports_torch(tmp_path):
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from datetime import date
        from quizzer.review.tui.app import QuizzerApp

        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_tui import settle

        async def main():
            app = QuizzerApp({str(tmp_path / "q.db")!r}, [{str(DECKS)!r}], today=date(2025, 3, 3),
                             auto_verify=False, bundled={str(DECKS)!r})
            async with app.run_test(size=(100, 30)) as pilot:
                await settle(pilot)  # start-up done: decks, cache keys and the warm-up for the first reveal
                assert app.screen.outlooks, "decks screen not ready"
                ready = "torch" in sys.modules
                for keys in (["enter"], ["1", "0", "enter"], ["4"], ["escape"], ["s"]):
                    await pilot.press(*keys)
                    await app.workers.wait_for_complete()
                    await pilot.pause()
                assert type(app.screen).__name__ == "StatsScreen", app.screen
            print(ready, "torch" in sys.modules)

        asyncio.run(main())
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


# ---------------------------------------------------------------------- the command line


def test_quizzer_without_a_terminal_points_to_plain(tmp_path):
    from click.testing import CliRunner

    from quizzer.cli import main

    result = CliRunner().invoke(main, ["--db", str(tmp_path / "q.db")])
    assert result.exit_code == 1 and "use `quizzer review --plain` in a pipe" in result.output
    cram = CliRunner().invoke(main, ["cram", str(DECKS / "basics.toml"), "--db", str(tmp_path / "q.db")])
    assert cram.exit_code == 1 and "use `quizzer cram --plain` in a pipe" in cram.output, cram.output  # not review's


@async_test
async def test_statistics_at_60_columns_keep_every_plot_title(tmp_path):
    """plotext drops a title wider than its plot: at 60 columns 'Recalled % (no reviews yet)' vanished."""
    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        shown = app.export_screenshot().replace("&#160;", " ")
        for plot in ("#plot-history", "#plot-forecast", "#plot-retention", "#plot-ease"):
            title = app.screen.query_one(plot).plt._active.monitor.title  # the title plotext draws
            assert title and title in shown, (plot, title)
