"""The study day (rollover hour), daily limits with carried-over learning cards, settings, custom study."""

from datetime import date, datetime, timedelta, timezone

import pytest

from quizzer.cards.deck import Deck
from quizzer.review.session import CustomStudy, Limits, Session, StudyDay, outlook, waiting_elsewhere
from quizzer.store import Store, StoreError

DAY = date(2024, 3, 1)
ZONE = timezone(timedelta(hours=2))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def make_deck(deck_id, count, **settings):
    cards = [
        {
            "id": f"c{i}",
            "prompt": f"{i} + {i}?",
            "explanation": "sums",
            "tags": ["even"] if i % 2 == 0 else ["odd"],
            "answer": {"kind": "numeric", "value": 2 * i},
        }
        for i in range(count)
    ]
    return Deck.model_validate({"id": deck_id, "title": deck_id.title(), "cards": cards, **settings})


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "q.db") as opened:
        yield opened


def keys(session):
    return [item.key for item in session._queue]


# ---------------------------------------------------------------- the day


def test_the_study_day_starts_at_the_rollover_hour():
    four = StudyDay()
    assert four.of(at(DAY, 3, 59)) == DAY - timedelta(days=1)
    assert four.of(at(DAY, 4, 0)) == DAY
    assert StudyDay(rollover_hour=0).of(at(DAY, 0, 1)) == DAY
    assert StudyDay(fixed=DAY).of(at(DAY + timedelta(days=9), 12)) == DAY


def test_a_sitting_left_open_past_the_rollover_continues_on_the_new_day(store):
    deck = make_deck("d", 4, new_per_day=2)
    session = Session(store, [deck], DAY, calendar=StudyDay())
    assert keys(session) == ["d/c0", "d/c1"]
    session.grade(4, now=at(DAY, 23))
    assert not session.advance(at(DAY + timedelta(days=1), 3, 59)), "1 am still belongs to the evening's day"
    review = session.grade(4, now=at(DAY + timedelta(days=1), 9))
    tomorrow = DAY + timedelta(days=1)
    assert review.day == tomorrow and session.today == tomorrow
    assert keys(session) == ["d/c0", "d/c2"], "the new day: c0 falls due, and a fresh new-card allowance"
    assert store.card("d/c1").state.due == tomorrow + timedelta(days=1)


def test_without_a_calendar_the_day_never_rolls(store):
    session = Session(store, [make_deck("d", 2)], DAY)
    review = session.grade(4, now=at(DAY + timedelta(days=5), 9))
    assert review.day == DAY and session.today == DAY


# ---------------------------------------------------------------- limits


def lapse_on(store, key, day):
    store.record_answer(key, 4, today=day - timedelta(days=1), now=at(day, 9))
    store.record_answer(key, 1, today=day, now=at(day, 9))


def test_learning_cards_left_from_earlier_days_count_against_the_review_limit(store):
    deck = make_deck("d", 8, reviews_per_day=2, new_per_day=0)
    store.sync_deck("d", [c.id for c in deck.cards])
    for i in range(6):
        lapse_on(store, f"d/c{i}", DAY - timedelta(days=3))
    for i in (6, 7):
        store.record_answer(f"d/c{i}", 4, today=DAY - timedelta(days=1), now=at(DAY, 9))  # due today
    session = Session(store, [deck], DAY)
    assert session.remaining == 2, "six lapsed cards and two due reviews under a limit of two: two"
    assert keys(session) == ["d/c0", "d/c1"], "carried-over learning cards come first"
    assert outlook(store, [deck], DAY)[0].learning == 2 and outlook(store, [deck], DAY)[0].due == 0
    session.grade(4, now=at(DAY, 10))
    session.grade(4, now=at(DAY, 10))
    assert Session(store, [deck], DAY).remaining == 0, "their answers used up the limit"


def test_cards_lapsed_today_are_never_limited(store):
    deck = make_deck("d", 3, reviews_per_day=0, new_per_day=3)
    session = Session(store, [deck], DAY)
    for _ in range(3):
        session.grade(1, now=at(DAY, 10))
    assert session.remaining == 3 and Session(store, [deck], DAY).remaining == 3


def test_limits_set_in_the_app_override_the_deck_file_and_the_command_line_overrides_both(store):
    deck = make_deck("d", 30, new_per_day=10)
    assert Session(store, [deck], DAY).remaining == 10
    store.set_deck_limits("d", 3, None)
    assert Session(store, [deck], DAY).remaining == 3
    assert Session(store, [deck], DAY, Limits(new_per_day=5)).remaining == 5
    store.set_deck_limits("d", None, None)
    assert Session(store, [deck], DAY).remaining == 10


def test_settings_refuse_nonsense_and_a_damaged_value_reads_as_unset(store):
    with pytest.raises(StoreError, match="whole number from 0 to 23"):
        store.set_rollover_hour(24)
    with pytest.raises(StoreError, match="daily limit"):
        store.set_deck_limits("d", -1, None)
    for damaged in ("4; DROP TABLE cards", "²", "9" * 5000):
        store.set_setting("day.rollover_hour", damaged)
        assert store.rollover_hour() is None and StudyDay.from_store(store).rollover_hour == 4
    store.set_rollover_hour(6)
    assert StudyDay.from_store(store).rollover_hour == 6
    store.db.execute("INSERT INTO deck_limits VALUES ('x', 'many', -5)")
    assert store.deck_limits("x") == (None, None)


# ---------------------------------------------------------------- custom study


def test_cram_asks_the_chosen_cards_and_changes_no_schedule(store):
    deck = make_deck("d", 4)
    Session(store, [deck], DAY).grade(4, now=at(DAY, 9))  # d/c0 scheduled
    before = {f"d/c{i}": store.card(f"d/c{i}") for i in range(4)}
    cram = Session(store, [deck], DAY, custom=CustomStudy("cram", keys=frozenset({"d/c0", "d/c2"})))
    assert keys(cram) == ["d/c0", "d/c2"]
    first = cram.grade(1, now=at(DAY, 10))
    assert first.kind == "cram" and keys(cram) == ["d/c2", "d/c0"], "a miss comes back in the sitting"
    cram.grade(5, now=at(DAY, 10))
    cram.grade(4, now=at(DAY, 10))
    assert cram.current is None
    assert {key: store.card(key) for key in before} == before
    assert store.answered_on(DAY, "d") == {"new": 1, "cram": 3}
    assert Session(store, [deck], DAY).remaining == 3, "cram used none of today's new cards"
    cram.undo()
    assert store.answered_on(DAY, "d")["cram"] == 2 and store.card("d/c0") == before["d/c0"]


def test_review_ahead_asks_what_falls_due_in_the_next_days_and_schedules_it(store):
    deck = make_deck("d", 3)
    store.sync_deck("d", [c.id for c in deck.cards])
    store.record_answer("d/c0", 4, today=DAY, now=at(DAY, 9))  # due in 1 day
    store.record_answer("d/c1", 4, today=DAY, now=at(DAY, 9))
    store.record_answer("d/c1", 4, today=DAY + timedelta(days=1), now=at(DAY, 9))  # due in 7 days
    ahead = Session(store, [deck], DAY, custom=CustomStudy("ahead", days=3))
    assert keys(ahead) == ["d/c0"]
    review = ahead.grade(5, now=at(DAY, 10))
    assert review.kind == "ahead" and store.card("d/c0").state.due == DAY + timedelta(days=6)
    assert store.retention(date.min) == (1, 1), "only c1's review on time counts for retention, not the early one"


def test_what_waits_elsewhere_is_counted_after_the_limits(store):
    others = [make_deck("a", 30), make_deck("b", 5), make_deck("c", 0)]
    elsewhere = waiting_elsewhere(store, others, DAY)
    assert str(elsewhere) == "25 new cards in 2 other decks"
    assert waiting_elsewhere(store, [make_deck("c", 0)], DAY) is None


# ---------------------------------------------------------------- the command line

FIXTURE_DECKS = __import__("pathlib").Path(__file__).parent / "fixtures" / "scheduling-decks"


def cli(*args, input=""):
    from click.testing import CliRunner

    from quizzer.cli import main

    return CliRunner().invoke(main, list(args), input=input)


def test_cram_on_the_command_line_logs_cram_and_schedules_nothing(tmp_path):
    db = str(tmp_path / "q.db")
    beta = str(FIXTURE_DECKS / "beta.toml")
    result = cli("cram", "--plain", beta, "--search", "two", "--db", db, "--today", "2024-03-01", input="4\n\n")
    assert result.exit_code == 0, result.output
    assert "1 card(s) to cram (answers change no schedule)" in result.output
    with Store.open(db) as store:
        assert [(r.kind, r.key) for r in store.history("beta/two")] == [("cram", "beta/two")]
        assert store.card("beta/two").state.due is None
    nothing = cli("cram", "--plain", beta, "--tag", "nope", "--db", db)
    assert nothing.exit_code == 1 and "no card matches" in nothing.output


def test_review_ahead_on_the_command_line_and_the_offer_when_nothing_is_due(tmp_path):
    db = str(tmp_path / "q.db")
    beta = str(FIXTURE_DECKS / "beta.toml")
    cli("review", "--plain", beta, "--db", db, "--today", "2024-03-01", input="2\n\n4\n\n")
    empty = cli("review", "--plain", beta, "--db", db, "--today", "2024-03-01")
    assert "Nothing to review today. Custom study: `quizzer cram DECK`" in empty.output
    ahead = cli("review", "--plain", "--ahead", "1", beta, "--db", db, "--today", "2024-03-01", input="2\n\n4\n\n")
    assert "2 card(s) to review ahead" in ahead.output and ahead.exit_code == 0


def test_a_plain_sitting_rolls_over_at_4_am(tmp_path, monkeypatch, capsys):
    import io

    from quizzer.review import plain_review

    deck = make_deck("d", 4, new_per_day=2)
    times = iter([at(DAY, 23), at(DAY + timedelta(days=1), 4, 30)])  # the second answer comes after the night
    monkeypatch.setattr("sys.stdin", io.StringIO("0\n\n2\n\nq\n"))
    with Store.open(tmp_path / "q.db") as store:
        session = Session(store, [deck], DAY, calendar=StudyDay())
        plain_review.run(session, lambda: next(times), {})
        days = [(review.key, review.day) for review in store.history("d/c0") + store.history("d/c1")]
    assert days == [("d/c0", DAY), ("d/c1", DAY + timedelta(days=1))]
    shown = capsys.readouterr().out
    assert "── D · d/c0 (review) · 2 to go ──" in shown, "the new day's due card and a fresh new-card allowance"


def test_the_plain_summary_says_what_waits_in_other_decks(tmp_path, monkeypatch):
    monkeypatch.setattr("quizzer.cli.default_decks", lambda: FIXTURE_DECKS)
    db = str(tmp_path / "q.db")
    result = cli("review", "--plain", "beta", "--db", db, "--today", "2024-03-01", input="2\n\n4\n\n")
    assert "Done here. Still waiting today: 7 new cards in 1 other deck" in result.output


# ---------------------------------------------------------------- renamed cards, suspended cards, undo after reset


def renamed(deck, old, new):
    data = deck.model_dump()
    for card in data["cards"]:
        if card["id"] == old:
            card["id"], card["renamed_from"] = new, [old]
    return Deck.model_validate(data)


def test_a_renamed_card_keeps_its_state_and_history(store):
    deck = make_deck("d", 2)
    session = Session(store, [deck], DAY)
    session.grade(5, now=at(DAY, 9))
    state = store.card("d/c0").state
    Session(store, [renamed(deck, "c0", "first")], DAY + timedelta(days=1))
    assert store.card("d/first").state == state and store.card("d/c0") is None
    assert [review.key for review in store.history("d/first")] == ["d/first"]
    assert store.absent_with_history("d", ["first", "c1"]) == {}


def test_a_rename_never_merges_two_histories(store):
    deck = make_deck("d", 2)
    session = Session(store, [deck], DAY)
    session.grade(5, now=at(DAY, 9))
    session.grade(2, now=at(DAY, 9))
    data = deck.model_dump()
    data["cards"][1]["renamed_from"] = ["c0"]  # c1 already has answers of its own
    Session(store, [Deck.model_validate(data)], DAY)
    assert len(store.history("d/c1")) == 1 and len(store.history("d/c0")) == 1


def test_lint_warns_when_a_project_deck_takes_a_bundled_decks_id(tmp_path):
    """AUTHORING's example made a decks/drills.toml of the author's own: its progress (keyed by
    deck-id/card-id in one state database) mixed with the bundled drills deck's, and lint, after one
    bundled drills answer, said a bundled card "is gone from deck 'drills'"."""
    stanza = '[[cards]]\nid = "mine"\nprompt = "p"\nexplanation = "e"\nanswer = { kind = "numeric", value = 1 }\n'
    deck = tmp_path / "drills.toml"
    deck.write_text('id = "drills"\ntitle = "Mine"\n' + stanza)
    warned = cli("lint", str(deck), "--db", str(tmp_path / "q.db"))
    assert warned.exit_code == 0 and "1 warning(s)" in warned.output
    assert f"{deck}:1:1: warning: deck id 'drills' is a bundled deck's too (drills.toml)" in warned.output
    deck.write_text('id = "my-drills"\ntitle = "Mine"\n' + stanza)
    assert "warning" not in cli("lint", str(deck), "--db", str(tmp_path / "q.db")).output
    assert "warning" not in cli("lint").output  # the bundled decks themselves


def test_lint_warns_when_card_ids_with_history_vanish(tmp_path):
    db = tmp_path / "q.db"
    deck = tmp_path / "d.toml"
    stanza = '[[cards]]\nid = "{}"\nprompt = "p"\nexplanation = "e"\nanswer = {{ kind = "numeric", value = 1 }}\n'
    deck.write_text('id = "d"\ntitle = "D"\n' + stanza.format("old") + stanza.format("other"))
    cli("review", "--plain", str(deck), "--db", str(db), input="1\n\n")
    deck.write_text('id = "d"\ntitle = "D"\n' + stanza.format("new") + stanza.format("other"))
    warned = cli("lint", str(deck), "--db", str(db))
    assert warned.exit_code == 0
    assert "warning: card 'old' is gone from deck 'd' but has 1 answer(s)" in warned.output
    assert 'add renamed_from = ["old"]' in warned.output and "1 warning(s)" in warned.output
    deck.write_text(
        'id = "d"\ntitle = "D"\n'
        + stanza.format("new").replace("prompt", 'renamed_from = ["old"]\nprompt')
        + stanza.format("other")
    )
    assert "warning" not in cli("lint", str(deck), "--db", str(db)).output


def test_suspended_cards_leave_a_sittings_queue(store):
    session = Session(store, [make_deck("d", 3)], DAY)
    store.set_suspended("d/c1", True)
    assert session.drop_suspended() == ["d/c1"] and keys(session) == ["d/c0", "d/c2"]


def test_undo_after_a_reset_is_refused_with_the_reason_and_earlier_answers_stay_undoable(store):
    from quizzer.store import ResetSince

    session = Session(store, [make_deck("d", 2)], DAY)
    session.grade(5, now=at(DAY, 9))
    session.grade(5, now=at(DAY, 9))
    store.reset_card("d/c1")
    with pytest.raises(ResetSince, match="d/c1 was reset since that answer"):
        session.undo()
    assert session.undo().key == "d/c0" and store.card("d/c0").state.due is None


def test_plain_review_in_a_pipe_renders_markdown_as_readable_text(tmp_path):
    deck = tmp_path / "md.toml"
    deck.write_text(
        'id = "md"\ntitle = "M"\n[[cards]]\nid = "c"\n'
        "prompt = '''\nIs **this** `x` right?\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nprint(1)\n```\n'''\n"
        'explanation = "Because *so*."\nanswer = { kind = "boolean", value = true }\n'
    )
    shown = cli("review", "--plain", str(deck), "--db", str(tmp_path / "q.db"), input="true\n\n").output
    assert "Is this x right?" in shown and "print(1)" in shown and "Because so." in shown
    assert "**" not in shown and "```" not in shown and "|---" not in shown and "\x1b[" not in shown
    assert not any(line != line.rstrip() for line in shown.splitlines() if not line.endswith("> "))


def test_verify_progress_names_the_cards_running_and_the_start_up_wait():
    import io

    from rich.console import Console

    from quizzer.cards.loader import load_deck
    from quizzer.verify.reporting import VerifyReport
    from quizzer.verify.runner import Job

    loaded = load_deck(next((FIXTURE_DECKS.parent / "verify" / "decks").glob("*.toml")), check_verifiers=False)
    jobs = [Job(loaded, card) for card in loaded.deck.cards[:3]]
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    report = VerifyReport(jobs, strict=False, console=console)
    with report.progress():
        task = report._progress.tasks[0]
        report.started(jobs[0])
        report.started(jobs[1])
        assert task.description == f"running {jobs[0].key}, {jobs[1].key}"
        report.started(jobs[2])
        assert task.description.endswith("+1")
