"""The TUI's data layer without Textual: badges, trust, the verify command, search, and the store queries it uses."""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from test_tui import DECKS, NOW, TODAY, record_verifications, seed

from quizzer.cards.instance import fixed
from quizzer.review.search import Query, SearchError
from quizzer.review.tui.library import BADGE_TEXT, Library
from quizzer.review.tui.screens.browser import Entry
from quizzer.review.tui.screens.stats import ef_histogram
from quizzer.store import Store, StoreError


def library(db: Path, bundled: Path | None = DECKS) -> Library:
    lib = Library.load(Store.open(db), [DECKS], bundled=bundled)
    lib.cache_keys = lib.compute_cache_keys()
    return lib


def test_badges_follow_the_cached_record_and_the_current_cache_key(tmp_path):
    db = tmp_path / "q.db"
    record_verifications(db)
    lib = library(db)
    badge = {key: lib.verification(key).badge for key in ("basics/sum", "basics/transpose-shape", "basics/meaning",
                                                            "basics/convex", "extra/double")}  # fmt: skip
    assert badge == {
        "basics/sum": "verified",
        "basics/transpose-shape": "stale",
        "basics/meaning": "unverified",
        "basics/convex": "none",
        "extra/double": "failed",
    }
    assert lib.verification("basics/sum").outcome().notes == ["Adding 0 + 1 + 2 + 3 + 4 one by one gives **10**."]
    assert sorted(lib.needing_verification()) == ["basics/meaning", "basics/transpose-shape"]
    lib.cache_keys = None
    assert lib.verification("basics/sum").badge == "checking"
    lib.verifying.add("basics/meaning")
    assert lib.verification("basics/meaning").badge == "verifying"


def test_caution_before_answering_a_failed_or_stale_card(tmp_path):
    db = tmp_path / "q.db"
    record_verifications(db)
    lib = library(db)

    def caution(key, card=None):
        verification = lib.verification(key)
        card = card or lib.loaded_for(key).deck.card(key.partition("/")[2])
        return verification.caution(fixed(card, verification.outcome()))

    double = caution("extra/double")  # failed: the card says 42, the verifier computed 41
    assert double.disputed and double.badge == "failed"
    assert "The stated answer failed verification: the verifier computed 41" in double.text
    stale = caution("basics/transpose-shape")  # a stale pass whose value still agrees with the card
    assert not stale.disputed and stale.badge == "stale" and "changed since it was verified" in stale.text
    assert caution("basics/sum") is None and caution("basics/meaning") is None and caution("basics/convex") is None

    # Re-judged against the card as it is now: an edited answer the old run disagrees with is disputed ...
    card = lib.deck("basics").deck.card("transpose-shape")
    edited = card.model_copy(update={"answer": card.answer.model_copy(update={"value": [2, 3]})})
    assert caution("basics/transpose-shape", edited).disputed
    # ... and a failure the author has since fixed is not.
    fixed_card = lib.deck("extra").deck.card("double")
    fixed_card = fixed_card.model_copy(update={"answer": fixed_card.answer.model_copy(update={"value": 41})})
    assert not caution("extra/double", fixed_card).disputed
    # A failing record under a badge still being checked still warns.
    lib.cache_keys = None
    assert caution("extra/double").disputed


def test_a_demonstrated_card_has_its_own_badge_never_verified(tmp_path):
    db = tmp_path / "q.db"
    record_verifications(db)
    lib = library(db)
    record = lib.records["basics/sum"]
    outcome = json.loads(record.outcome) | {"status": "demonstrated", "message": "demonstrated: by construction"}
    lib.store.save_verification("basics/sum", record.cache_key, "demonstrated", json.dumps(outcome), "2.4.1",
                                record.verified_at, 0.1)  # fmt: skip
    lib.reload_records()
    verification = lib.verification("basics/sum")
    assert verification.badge == "demonstrated"
    assert BADGE_TEXT["demonstrated"] == "◇ demonstrated, not verified"
    assert lib.deck_badges("basics")["verified"] == 0 and lib.deck_badges("basics")["demonstrated"] == 1
    card = lib.deck("basics").deck.card("sum")
    assert verification.caution(fixed(card, verification.outcome())) is None  # not a dispute: it holds


def test_a_stopped_run_is_not_verified_never_failed_and_says_what_stopped_it(tmp_path):
    db = tmp_path / "q.db"
    record_verifications(db)
    lib = library(db)
    stopped = {  # key → (status, the outcome's message, duration)
        "basics/sum": ("timeout", "timed out after 60 s and was stopped", 60.02),
        "basics/meaning": ("crashed", "signal 11", 0.4),
        "extra/double": ("out-of-memory", "the verifier exceeded the memory cap of 4096 MB", 2.0),
    }
    for key, (status, message, duration) in stopped.items():
        outcome = json.dumps({"status": status, "message": message, "duration": duration})
        when = "2025-03-01T08:00:00+0000"
        lib.store.save_verification(key, lib.cache_keys[key], status, outcome, "2.4.1", when, duration)
    lib.reload_records()
    labels = {key: lib.verification(key).label for key in stopped}
    assert labels == {
        "basics/sum": "⊘ timed out after 60 s: not verified",
        "basics/meaning": "⊘ crashed (signal 11): not verified",
        "extra/double": "⊘ ran out of memory: not verified",
    }
    assert lib.deck_badges("basics")["interrupted"] == 2 and lib.deck_badges("extra") == {"interrupted": 1, "none": 1}

    card = lib.deck("extra").deck.card("double")
    caution = lib.verification("extra/double").caution(fixed(card, lib.verification("extra/double").outcome()))
    assert caution.badge == "interrupted" and not caution.disputed
    assert caution.text.startswith("Its verifier ran out of memory: not verified. That says nothing about the stated")
    assert "failed" not in caution.text

    # Retried once per app run: not once this run's verification has started it.
    everything = ["basics/meaning", "basics/sum", "basics/transpose-shape", "extra/double"]
    assert sorted(lib.needing_verification()) == everything
    lib.attempted |= {"basics/sum", "extra/double"}
    assert sorted(lib.needing_verification()) == ["basics/meaning", "basics/transpose-shape"]

    # A stopped run from before the card changed: stale, and still worded as no verdict.
    record = lib.records["basics/sum"]
    lib.store.save_verification("basics/sum", "old-key", "timeout", record.outcome, "2.4.1", record.verified_at, 60.02)
    lib.reload_records()
    sum_card = lib.verification("basics/sum")
    caution = sum_card.caution(fixed(lib.deck("basics").deck.card("sum"), sum_card.outcome()))
    assert sum_card.badge == "stale" and caution.badge == "stale"
    assert caution.text.startswith("Its verifier timed out after 60 s (in a run from before the card or its verifier")
    assert "basics/sum" in lib.needing_verification(), "stale cards are verified whatever stopped their last run"


def test_trust_covers_the_bundled_project_and_trusted_projects_exactly(tmp_path):
    db = tmp_path / "q.db"
    untrusted = library(db, bundled=tmp_path / "elsewhere")
    assert not untrusted.trusted(untrusted.deck("basics"))
    assert untrusted.verification("basics/meaning").badge == "untrusted"
    assert untrusted.needing_verification() == []

    for not_the_project in (DECKS.parent.parent, DECKS, DECKS / "nested"):  # above, its decks/ folder, below
        untrusted.store.trust_project(not_the_project)
        untrusted.reload_trust()
        assert not untrusted.trusted(untrusted.deck("basics")), not_the_project
    untrusted.store.trust_project(DECKS.parent)  # tests/fixtures/tui: the project holding decks/ and verifiers/
    untrusted.reload_trust()
    assert untrusted.trusted(untrusted.deck("basics"))
    assert library(db, bundled=tmp_path).trusted(untrusted.deck("extra"))
    assert library(tmp_path / "other.db", bundled=DECKS).trusted(untrusted.deck("basics"))  # the bundled decks' project


def test_verify_command_runs_quizzer_verify_in_a_subprocess_on_deck_file_targets(tmp_path):
    lib = library(tmp_path / "q.db")
    command = lib.verify_command(["basics/sum", "extra/double"], db=tmp_path / "q.db", no_cache=True)
    assert command[:3] == [sys.executable, "-m", "quizzer"]
    assert command[3:8] == ["verify", "--db", str(tmp_path / "q.db"), "--jobs", "1"]
    assert command[8:10] == ["--exit-with", str(os.getpid())]  # it stops when the app exits
    assert "--no-cache" in command
    assert command[-2:] == [f"{(DECKS / 'basics.toml').resolve()}::sum", f"{(DECKS / 'extra.toml').resolve()}::double"]


def test_broken_and_duplicate_decks_become_problem_lines(tmp_path):
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "a.toml").write_text((DECKS / "extra.toml").read_text())  # its verifier is missing here
    (folder / "b.toml").write_text('id = "b"\ntitle = "B"\n[[cards]]\nid = "x"\nprompt = "?"\nexplanation = "."\n'
                                   'answer = { kind = "boolean", value = true }\n' * 1)  # fmt: skip
    (folder / "c.toml").write_text((folder / "b.toml").read_text())  # the same deck id again
    (folder / "d.toml").write_text('id = "d"\ntitle = "D"\nbogus = 1\n')
    lib = Library.load(Store.open(tmp_path / "q.db"), [folder])
    assert [loaded.deck.id for loaded in lib.decks] == ["extra", "b"]  # a missing verifier file hides no deck
    assert any("already used" in problem for problem in lib.problems)
    assert any("d.toml:3" in problem and "bogus" in problem for problem in lib.problems)


def test_search_query_words_tags_decks_and_states(tmp_path):
    db = tmp_path / "q.db"
    seed(db)
    lib = library(db)
    stored = {row.card: row for row in lib.store.deck_cards("basics")}
    entries = [Entry(f"basics/{c.id}", lib.deck("basics"), c, stored.get(c.id)) for c in lib.deck("basics").deck.cards]

    def find(text):
        query = Query.parse(text)
        return [e.card.id for e in entries if query.matches(e.loaded.deck.id, e.card, e.stored, TODAY)]

    assert find("tag:tens") == ["transpose-shape"]
    assert find("gradient") == ["meaning"]
    assert find("deck:bas is:due") == ["sum"]
    assert find("is:new deck:extra") == []
    assert find('"at least one"') == ["either"]
    assert len(find("")) == 6
    with pytest.raises(SearchError, match=r"unknown filter is:dew; use one of is:due, is:new"):
        find("is:dew")


def test_ef_histogram_bins():
    labels, counts = ef_histogram([1300, 1450, 2500, 2600, 3100])
    assert labels[0] == "1.3" and labels[-1] == "2.9+"
    assert counts == [2, 0, 0, 0, 0, 0, 2, 0, 1]


# ---------------------------------------------------------------------- the store queries added for the TUI


def test_history_reset_and_next_due(tmp_path):
    db = tmp_path / "q.db"
    seed(db)
    with Store.open(db) as store:
        review = store.record_answer("basics/sum", 4, today=TODAY, now=NOW, typed="10", verdict="correct")
        store.record_answer("basics/either", 5, today=TODAY, now=NOW)
        assert [r.quality for r in store.history("basics/sum")] == [5, 4]
        assert store.next_due(TODAY) == TODAY + timedelta(days=1)
        assert store.next_due(TODAY, ["basics"]) == TODAY + timedelta(days=1)
        assert store.next_due(TODAY + timedelta(days=1), ["basics"]) == TODAY + timedelta(days=6)
        store.reset_card("basics/sum")
        card = store.card("basics/sum")
        assert card.state.phase == "new" and card.last_review is None
        assert len(store.history("basics/sum")) == 2  # the log is kept
        with pytest.raises(StoreError):
            store.undo(review.id)  # a reset card's old answer cannot be undone over it
        assert [c.card for c in store.new_cards("basics", 10)][0] == "sum"


def test_ease_factors_retention_by_interval_and_deck_cards(tmp_path):
    db = tmp_path / "q.db"
    seed(db)
    with Store.open(db) as store:
        store.record_answer("basics/sum", 1, today=TODAY, now=NOW)  # a scheduled review (interval 1) forgotten
        store.record_answer("basics/sum", 4, today=TODAY, now=NOW)
        store.set_suspended("basics/convex", True)
        assert store.ease_factors(["basics"]) == [2600]
        assert store.retention_by_interval(TODAY, ["basics"]) == [(1, 0, 1)]
        rows = store.deck_cards("basics")
        assert [row.card for row in rows][:2] == ["sum", "transpose-shape"]
        assert next(row for row in rows if row.card == "convex").suspended


def test_trusted_projects_and_settings(tmp_path):
    with Store.open(tmp_path / "q.db") as store:
        assert store.trusted_projects() == []
        assert store.trust_project(tmp_path) is True
        assert store.trust_project(tmp_path / ".") is False
        assert store.trusted_projects() == [str(tmp_path.resolve())]
        assert store.distrust_project(tmp_path / ".") is True
        assert store.trusted_projects() == []
        assert store.setting("tui.theme") is None
        store.set_setting("tui.theme", "nord")
        store.set_setting("tui.theme", "gruvbox")
        assert store.setting("tui.theme") == "gruvbox"


def test_a_pool_verified_with_fewer_variants_is_not_stale(tmp_path):
    """`quizzer verify --variants 8` caches a key that includes 8: the badge must compare with that, not 32."""
    from quizzer.verify.execution import Outcome
    from quizzer.verify.runner import Job, cache_key

    vdata = Path(__file__).parent / "fixtures" / "vdata" / "decks"
    lib = Library.load(Store.open(tmp_path / "q.db"), [vdata], bundled=None)
    loaded = lib.deck("vdata")
    card = loaded.deck.card("receptive-field")
    outcome = Outcome("passed", variants=8)
    key = cache_key(Job(loaded, card, 8))
    lib.store.save_verification("vdata/receptive-field", key, "passed", outcome.to_json(), "2.4.1",
                                "2025-03-01T08:00:00+0000", 0.1)  # fmt: skip
    lib.reload_records()
    lib.cache_keys = lib.compute_cache_keys()
    assert lib.verification("vdata/receptive-field").badge == "verified"
