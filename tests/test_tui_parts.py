"""Pilot tests of the review screen for cards in parts and tensor formulas (issue 12 items 1, 2, 6).

The fixture deck tests/fixtures/tui-parts has an answer in three parts, a tensor-formula card and a
card whose verifier disputes one stated part. Its verifiers are torch-free and run in-process here
(`execution.execute`), and their outcomes are cached the way `quizzer verify` caches them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path

from test_tui import async_test, rows, settle, shown, until

from quizzer.cards.loader import load_deck
from quizzer.store import Store
from quizzer.verify.execution import execute
from quizzer.verify.runner import Job, cache_key

FIXTURES = Path(__file__).parent / "fixtures" / "tui-parts"
DECKS = FIXTURES / "decks"
TODAY = date(2025, 3, 3)
NOW = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)


def verify_fixture(db: Path, only: tuple[str, ...] = ()) -> None:
    """Run the fixture verifiers in this process and cache their outcomes as `quizzer verify` would."""
    loaded = load_deck(DECKS / "parts.toml")
    with Store.open(db) as store:
        for card in loaded.deck.cards:
            if only and card.id not in only:
                continue
            outcome = execute(card, FIXTURES / "verifiers")
            assert outcome.status in ("passed", "failed"), (card.id, outcome.message, outcome.traceback)
            store.save_verification(
                f"parts/{card.id}",
                cache_key(Job(loaded, card)),
                outcome.status,
                outcome.to_json(),
                "2.4.1",
                "2025-03-01T08:00:00+0000",
                0.1,
            )


def make_app(db: Path):
    from quizzer.review.tui.app import QuizzerApp

    return QuizzerApp(db, [DECKS], today=TODAY, clock=lambda: NOW, auto_verify=False, bundled=DECKS)


async def review(pilot, *skip: int):
    """Open the review of the fixture deck and skip to the card wanted (0 dropout, 1 grad-w2, 2 shapes, 3 order)."""
    from quizzer.review.tui.screens.review import ReviewScreen

    await settle(pilot)
    pilot.app.start_review(["parts"])
    await shown(pilot, ReviewScreen)
    for _ in range(skip[0] if skip else 0):
        await pilot.press("ctrl+n")
    await pilot.pause()
    return pilot.app.screen


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


@async_test
async def test_a_card_in_parts_asks_each_checkable_part_and_judges_each(tmp_path):
    db = tmp_path / "q.db"
    verify_fixture(db)
    async with make_app(db).run_test(size=(100, 30)) as pilot:
        screen = await review(pilot)
        assert screen.item.key == "parts/dropout"
        boxes = screen.query(".part-input")
        assert [box.id for box in boxes] == ["answer-c", "answer-kept"]  # the text part gets no box
        assert pilot.app.focused.id == "answer-c"
        await pilot.press(*"1/(1-p)", "enter")  # Enter on a part moves to the next one ...
        assert pilot.app.focused.id == "answer-kept" and not screen.revealed
        await pilot.press("shift+tab")  # ... and Tab / shift+Tab move between them
        assert pilot.app.focused.id == "answer-c"
        await pilot.press("tab", *"0.5", "enter")  # ... Enter on the last one checks
        await pilot.pause()
        assert screen.revealed
        statuses = {part: verdict.status for part, verdict in screen.verdicts.items()}
        assert statuses == {"c": "correct", "kept": "incorrect", "why": "self-graded"}
        verdicts = text_of(screen, "#verdict")
        assert "The constant c: ✓ Correct" in verdicts and "Share kept at p = 0.25: ✗ Not right" in verdicts
        assert "expected 0.75 ± 0.02" in verdicts and "Why: Self-graded" in verdicts
        assert "measured mean ratio was 1.002" in screen.query_one("#explanation").source  # a bound figure
        assert "Suggested 1" in text_of(screen, "#grade-meaning")
        await pilot.press("enter")
        await pilot.pause()
    assert rows(db, "SELECT key, quality, typed, verdict FROM review_log") == [
        ("parts/dropout", 1, json.dumps({"c": "1/(1-p)", "kept": "0.5"}), "incorrect")
    ]


@async_test
async def test_keys_typed_in_one_burst_after_tab_go_to_the_next_part(tmp_path):
    """A terminal delivers fast typing (or a paste) as one burst of keys: the characters after a Tab
    belong to the next part's box (they went to the first box: 7, Tab, 13 read as "713")."""
    from textual import events

    db = tmp_path / "q.db"
    verify_fixture(db)
    async with make_app(db).run_test(size=(100, 30)) as pilot:
        screen = await review(pilot)
        assert pilot.app.focused.id == "answer-c"
        for key in [*"1/(1-p)", "tab", *"0.75", "shift+tab"]:
            pilot.app.post_message(events.Key(key, key if len(key) == 1 else None))  # no wait between keys
        await pilot.pause()
        assert {box.id: box.value for box in screen.query(".part-input")} == {
            "answer-c": "1/(1-p)",
            "answer-kept": "0.75",
        }
        assert pilot.app.focused.id == "answer-c"  # shift+tab goes back


@async_test
async def test_keys_typed_in_one_burst_after_enter_go_to_the_next_part_and_after_the_last_to_the_reveal(tmp_path):
    """Enter on a part moves to the next box as Tab does, and as the key arrives: in one burst
    (1/(1-p), Enter, 0.75, Enter, 4) the 0.75 went to the first box ("1/(1-p)0.75"), since the box's
    own Enter ran only after the keys queued behind it had been sent to it. Enter on the last box
    checks before the next key is read, so the 4 grades the revealed card (it was typed into the box)."""
    from textual import events

    db = tmp_path / "q.db"
    verify_fixture(db)
    async with make_app(db).run_test(size=(100, 30)) as pilot:
        screen = await review(pilot)
        assert pilot.app.focused.id == "answer-c"
        burst = [*"1/(1-p)", "enter", *"0.75"]
        for key in burst:
            pilot.app.post_message(events.Key(key, key if len(key) == 1 else None))  # no wait between keys
        boxes = {box.id: box for box in screen.query(".part-input").results()}
        typed = lambda: {part: box.value for part, box in boxes.items()}  # noqa: E731
        await until(pilot, lambda: sum(map(len, typed().values())) == 11, "every character typed", typed)
        assert typed() == {"answer-c": "1/(1-p)", "answer-kept": "0.75"}
        assert pilot.app.focused.id == "answer-kept" and not screen.revealed
        for key in ["enter", "4"]:
            pilot.app.post_message(events.Key(key, key if len(key) == 1 else None))
        await until(pilot, lambda: screen.answered == 1, "the card graded", lambda: (typed(), screen.revealed))
        assert typed() == {"answer-c": "1/(1-p)", "answer-kept": "0.75"}
    assert rows(db, "SELECT key, quality, typed, verdict FROM review_log") == [
        ("parts/dropout", 4, json.dumps({"c": "1/(1-p)", "kept": "0.75"}), "correct")
    ]


@async_test
async def test_a_whole_answer_typed_in_one_burst_is_read_before_enter_checks_it(tmp_path):
    """The keys before a checking Enter are still on their way to their boxes when the priority
    binding runs: 1/(1-p), Enter, 0.75, Enter, 4 in one burst (what tmux send-keys or a fast typist
    over ssh delivers) was checked as two empty answers ("you answered nothing") and graded 4."""
    from textual import events

    db = tmp_path / "q.db"
    verify_fixture(db)
    async with make_app(db).run_test(size=(100, 30)) as pilot:
        screen = await review(pilot)
        assert pilot.app.focused.id == "answer-c"
        for key in [*"1/(1-p)", "enter", *"0.75", "enter", "4"]:
            pilot.app.post_message(events.Key(key, key if len(key) == 1 else None))  # no wait between keys
        await until(pilot, lambda: screen.answered == 1, "the card graded", lambda: screen.revealed)
    assert rows(db, "SELECT key, quality, typed, verdict FROM review_log") == [
        ("parts/dropout", 4, json.dumps({"c": "1/(1-p)", "kept": "0.75"}), "correct")
    ]


@async_test
async def test_every_checked_part_right_suggests_four_and_leaves_the_text_part_to_the_learner(tmp_path):
    db = tmp_path / "q.db"
    verify_fixture(db)
    async with make_app(db).run_test(size=(100, 30)) as pilot:
        screen = await review(pilot)
        await pilot.press(*"1/(1 - p)", "tab", *"3/4", "enter")
        await pilot.pause()
        assert screen.verdict.status == "correct"
        meaning = text_of(screen, "#grade-meaning")
        assert "Suggested 4" in meaning and "judge the rest yourself" in meaning


@async_test
async def test_an_unreadable_part_is_named_and_focused_and_nothing_is_recorded(tmp_path):
    db = tmp_path / "q.db"
    verify_fixture(db)
    async with make_app(db).run_test(size=(100, 30)) as pilot:
        screen = await review(pilot)
        await pilot.press(*"1/(1-p", "tab", *"0.75", "enter")
        await pilot.pause()
        assert not screen.revealed
        assert text_of(screen, "#hint").startswith("⚠ The constant c: ")
        assert pilot.app.focused.id == "answer-c"
    assert rows(db, "SELECT count(*) FROM reviews") == [(0,)]


@async_test
async def test_a_tensor_formula_right_wrong_and_wrong_shape(tmp_path):
    db = tmp_path / "q.db"
    verify_fixture(db)
    async with make_app(db).run_test(size=(100, 30)) as pilot:
        screen = await review(pilot, 1)
        assert screen.item.key == "parts/grad-w2"
        box = screen.query_one("#answer")
        assert box.placeholder.startswith("formula in delta2 (3×5), h1 (4×5), W2 (3×4), lam (scalar)")
        for typed, status, said in [
            ("delta2 @ h1.T + 2*lam*W2", "correct", "✓ Correct"),
            ("delta2 @ h1.T + lam*W2", "incorrect", "where the verifier computed"),
            (
                "h1 @ delta2.T + 2*lam*W2.T",
                "incorrect",
                "your formula gives shape (4, 3) but the answer has shape (3, 4)",
            ),
            ("delta2 @ h1 + 2*lam*W2", "incorrect", "(3, 5) @ (4, 5) does not line up"),
        ]:
            box.value = typed
            await screen.reveal()
            await pilot.pause()
            assert screen.verdict.status == status, (typed, screen.verdict)
            assert said in text_of(screen, "#verdict"), typed
            screen.show_card()  # the same card again, ungraded
            await pilot.pause()
        box.value = "softmax(W2)"
        await screen.reveal()
        assert not screen.revealed and "unknown function 'softmax'" in text_of(screen, "#hint")


@async_test
async def test_a_part_its_verifier_disputes_is_announced_and_not_graded(tmp_path):
    db = tmp_path / "q.db"
    verify_fixture(db)
    async with make_app(db).run_test(size=(100, 30)) as pilot:
        screen = await review(pilot, 2)
        assert screen.item.key == "parts/shapes"
        caution = text_of(screen, "#caution")
        assert "The stated answer to “x.sum(0)” failed verification: the verifier computed [3]" in caution
        assert "You grade that part yourself" in caution
        await pilot.press(*"(3, 2)", "tab", *"(2,)", "enter")  # the card's own, disputed, second answer
        await pilot.pause()
        assert {p: v.status for p, v in screen.verdicts.items()} == {"transposed": "correct", "summed": "self-graded"}
        assert "disputed: the verifier computed [3]" in screen.query_one("#stated-answer").source
        assert "Suggested 4" in text_of(screen, "#grade-meaning")


@async_test
async def test_a_card_in_parts_that_asks_one_part_still_names_it_and_lists_its_options(tmp_path):
    db = tmp_path / "q.db"
    verify_fixture(db)
    async with make_app(db).run_test(size=(100, 30)) as pilot:
        screen = await review(pilot, 3)
        assert screen.item.key == "parts/order"
        assert not screen.query_one("#answer").display and not screen.query(".choice")
        assert [str(label.render()) for label in screen.query(".part-label")] == ["Its error is proportional to:"]
        box = screen.query_one("#answer-error")
        assert box.placeholder.startswith("1. h · 2. h² · 3. h³")
        await pilot.press("2", "enter")
        await pilot.pause()
        assert {p: v.status for p, v in screen.verdicts.items()} == {"error": "correct", "why": "self-graded"}
        assert "Suggested 4" in text_of(screen, "#grade-meaning")


# ---------------------------------------------------------------------- variants (issue 13 item 3)


def verify_variants(db: Path) -> None:
    """The parametric fixture card's pool, built in this process and cached as `quizzer verify` does."""
    loaded = load_deck(DECKS / "variants.toml")
    card = loaded.deck.card("receptive-field")
    outcome = execute(card, FIXTURES / "verifiers")
    assert outcome.status == "passed" and len(outcome.pool) >= 10, outcome.message
    with Store.open(db) as store:
        key = cache_key(Job(loaded, card))
        store.save_verification("variants/receptive-field", key, "passed", outcome.to_json(), "2.4.1",
                                "2025-03-01T08:00:00+0000", 0.1)  # fmt: skip


def receptive_field(kernel: int, stride: int, layers: int) -> int:
    """The answer worked out here, independently of the pool: 1 + Σ (k-1)·stride^i."""
    return 1 + sum((kernel - 1) * stride**i for i in range(layers))


@async_test
async def test_ten_reviews_of_a_parametric_card_are_ten_instances_each_graded_against_its_own_value(tmp_path):
    from quizzer.review.tui.screens.review import ReviewScreen

    db = tmp_path / "q.db"
    verify_variants(db)
    async with make_app(db).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        pilot.app.start_review(["variants"])
        await shown(pilot, ReviewScreen)
        screen = pilot.app.screen
        asked = []
        for _ in range(10):
            instance = screen.instance
            params = dict(instance.params)
            prompt = screen.query_one("#prompt").source
            assert f"kernel {params['kernel']} and stride {params['stride']}" in prompt
            assert instance.label in text_of(screen, "#status-line")
            answer = receptive_field(**params)
            await pilot.press(*str(answer), "enter")
            await pilot.pause()
            assert screen.verdict.status == "correct", (params, screen.verdict)
            assert f"**Answer for this instance:** `{answer} pixels`" in screen.query_one("#stated-answer").source
            assert f"{answer} pixels here" in screen.query_one("#explanation").source
            badge = text_of(screen, "#verification-badge")
            assert "✓ verified" in badge and instance.label in badge  # the instance's own verification
            asked.append((instance.seed, tuple(params.items())))
            await pilot.press("1")  # graded below 3: asked again this sitting, as another instance
            await pilot.pause()
    assert len({seed for seed, _ in asked}) == 10
    logged = rows(db, "SELECT instance_seed, verdict FROM review_log ORDER BY id")
    assert logged == [(seed, "correct") for seed, _ in asked]


@async_test
async def test_a_wrong_answer_is_judged_against_the_instance_not_the_worked_example(tmp_path):
    from quizzer.review.tui.screens.review import ReviewScreen

    db = tmp_path / "q.db"
    verify_variants(db)
    async with make_app(db).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        pilot.app.start_review(["variants"])
        await shown(pilot, ReviewScreen)
        screen = pilot.app.screen
        answer = receptive_field(**screen.instance.params)
        assert answer != 7  # the first instance is not the worked example's
        await pilot.press("7", "enter")
        await pilot.pause()
        assert screen.verdict.status == "incorrect" and f"expected {answer}" in text_of(screen, "#verdict")


def test_reviewing_variants_never_imports_torch(tmp_path):
    db = tmp_path / "q.db"
    verify_variants(db)
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from datetime import date
        from quizzer.review.tui.app import QuizzerApp

        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_tui import settle

        async def main():
            app = QuizzerApp({str(db)!r}, [{str(DECKS)!r}], today=date(2025, 3, 3), auto_verify=False,
                             bundled={str(DECKS)!r})
            async with app.run_test(size=(100, 30)) as pilot:
                await settle(pilot)
                app.start_review(["variants"])
                await pilot.pause()
                for keys in (["1", "enter"], ["1"], ["2", "enter"], ["1"]):
                    await pilot.press(*keys)
                    await pilot.pause()
                assert app.screen.instance.seed is not None
            print("torch" in sys.modules)

        asyncio.run(main())
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False"]


# ---------------------------------------------------------------------- snapshots


def keys_then_steady(*keys: str, skip: int = 0):
    async def before(pilot) -> None:
        from textual.widgets import Input

        await review(pilot, skip)
        for key in keys:
            await pilot.press(key)
        await pilot.pause()
        for widget in pilot.app.screen.query(Input):
            widget.cursor_blink = False
        await pilot.pause()

    return before


def test_snapshot_parts_card_asked(snap_compare, tmp_path):
    db = tmp_path / "q.db"
    verify_fixture(db)
    assert snap_compare(make_app(db), terminal_size=(80, 24), run_before=keys_then_steady(*"1/(1-p)", "tab"))


def test_snapshot_parts_card_revealed(snap_compare, tmp_path):
    db = tmp_path / "q.db"
    verify_fixture(db)
    keys = (*"1/(1-p)", "tab", *"0.5", "enter")
    assert snap_compare(make_app(db), terminal_size=(100, 30), run_before=keys_then_steady(*keys))


def test_snapshot_tensor_formula_of_the_wrong_shape(snap_compare, tmp_path):
    db = tmp_path / "q.db"
    verify_fixture(db)
    keys = (*"h1 @ delta2.T + 2*lam*W2.T", "enter")
    assert snap_compare(make_app(db), terminal_size=(80, 24), run_before=keys_then_steady(*keys, skip=1))


def test_snapshot_disputed_part_narrow(snap_compare, tmp_path):
    db = tmp_path / "q.db"
    verify_fixture(db)
    assert snap_compare(make_app(db), terminal_size=(60, 20), run_before=keys_then_steady(skip=2))


def test_snapshot_variant_revealed(snap_compare, tmp_path):
    db = tmp_path / "q.db"
    verify_variants(db)

    async def before(pilot) -> None:
        from textual.widgets import Input

        from quizzer.review.tui.screens.review import ReviewScreen

        await settle(pilot)
        pilot.app.start_review(["variants"])
        await shown(pilot, ReviewScreen)
        await pilot.press("7", "enter")
        await pilot.pause()
        for widget in pilot.app.screen.query(Input):
            widget.cursor_blink = False
        await pilot.pause()

    assert snap_compare(make_app(db), terminal_size=(80, 24), run_before=before)


@async_test
async def test_after_a_grade_the_next_card_has_its_answer_box_focused(tmp_path):
    """Keys typed at the next card go to its answer, not to the screen's bindings (`s` skipped it)."""
    db = tmp_path / "q.db"
    verify_fixture(db)
    async with make_app(db).run_test(size=(100, 30)) as pilot:
        screen = await review(pilot)
        await pilot.press(*"1/(1-p)", "tab", *"0.75", "enter")
        await pilot.pause()
        assert screen.revealed
        await pilot.press("enter")  # the suggested grade
        await settle(pilot)
        assert screen.item.key == "parts/grad-w2"
        box = screen.query_one("#answer")
        assert pilot.app.focused is box
        await pilot.press(*"s")
        assert screen.item.key == "parts/grad-w2" and box.value == "s"
        await pilot.press("backspace", *"delta2 @ h1.T + 2*lam*W2", "enter")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert screen.item.key == "parts/shapes"
        assert pilot.app.focused is screen.query(".part-input").first()


@async_test
async def test_a_card_in_parts_after_one_with_the_same_part_ids_has_its_first_box_focused(tmp_path):
    """The backprop gradient cards all have parts `gradient` and `derivation`: the next card's box took focus
    while the last card's box of the same id was still being removed, so typing went to the screen's keys."""
    from quizzer.review.tui.app import QuizzerApp

    decks = tmp_path / "decks"
    decks.mkdir()
    card = """
[[cards]]
id = "{id}"
prompt = "What is {id}?"
explanation = "Because."
[[cards.parts]]
id = "value"
label = "The value"
answer = {{ kind = "numeric", value = 1 }}
[[cards.parts]]
id = "why"
label = "Why"
answer = {{ kind = "text", value = "It is." }}
"""
    (decks / "twins.toml").write_text('id = "twins"\ntitle = "T"\n' + card.format(id="a") + card.format(id="b"))
    app = QuizzerApp(tmp_path / "q.db", [decks], today=TODAY, clock=lambda: NOW, auto_verify=False, bundled=decks)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.start_review(["twins"])
        await settle(pilot)
        screen = app.screen
        for key in ("twins/a", "twins/b"):
            assert screen.item.key == key
            assert app.focused is screen.query_one("#answer-value")
            await pilot.press("1", "enter")
            await settle(pilot)
            assert screen.revealed
            await pilot.press("enter")
            await settle(pilot)
