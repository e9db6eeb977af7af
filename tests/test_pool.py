"""Pools of verified instances of a parametric card: seeded, cached with N, reviewed without torch."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from quizzer.cards.instance import example, grade, pose, variant
from quizzer.cards.loader import load_deck
from quizzer.cli import main
from quizzer.store import Store
from quizzer.verify.execution import decide, execute
from quizzer.verify.runner import Job, cache_key

FIXTURE = Path(__file__).parent / "fixtures" / "vdata"
CARD = "receptive-field"


@pytest.fixture
def project(tmp_path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "project")
    return tmp_path / "project"


def load(project: Path):
    loaded = load_deck(project / "decks" / "vdata.toml")
    return loaded, loaded.deck.card(CARD)


def test_the_pool_is_deterministic_and_every_instance_is_judged(project):
    loaded, card = load(project)
    first, again = execute(card, loaded.verifiers_root, 12), execute(card, loaded.verifiers_root, 12)
    assert first.status == "passed", first.message + first.traceback
    assert [e["params"] for e in first.pool] == [e["params"] for e in again.pool]
    assert len(first.pool) == 12 and first.variants == 12
    assert len({str(e["params"]) for e in first.pool}) == 12, "instances are distinct draws"
    for entry in first.pool:
        p = entry["params"]
        rf, jump = 1, 1
        for _ in range(p["layers"]):
            rf, jump = rf + (p["kernel"] - 1) * jump, jump * p["stride"]
        assert entry["status"] == "passed" and entry["parts"]["answer"]["value"] == rf
    smaller = execute(card, loaded.verifiers_root, 5)
    assert [e["seed"] for e in smaller.pool] == [e["seed"] for e in first.pool[:5]], "a smaller pool is a prefix"


def test_a_wrong_worked_example_fails_and_is_named(project):
    loaded, card = load(project)
    outcome = execute(card, loaded.verifiers_root, 4)
    examples = list(card.examples)
    examples[1] = examples[1].model_copy(update={"answer": 12})
    decided = decide(card.model_copy(update={"examples": examples}), outcome)
    assert decided.status == "failed"
    assert decided.message.startswith("worked example #2 (kernel=5, stride=2, layers=2): the card says 12")


def test_a_broken_generator_fails_on_its_instances(project):
    verifier = project / "verifiers" / "receptive.py"
    # the footprint walk forgets the stride: right for stride 1 (the first worked example), wrong elsewhere
    verifier.write_text(verifier.read_text().replace("{stride * i + k for", "{i + k for"))
    loaded, card = load(project)
    only_first_example = card.model_copy(update={"examples": card.examples[:1]})
    outcome = execute(only_first_example, loaded.verifiers_root, 8)
    assert outcome.status == "failed"
    assert outcome.message.startswith("instance ") and "claim failed: the recurrence agrees" in outcome.message


def test_every_draw_refused_is_an_error(project):
    # the verifier accepts only its worked example's parameters (which no seeded draw of the pool repeats)
    verifier = project / "verifiers" / "receptive.py"
    verifier.write_text(verifier.read_text().replace('< 10**6, "the footprint', '< 0 or p == EXAMPLE, "the footprint'))
    verifier.write_text(verifier.read_text() + "\nEXAMPLE = {'kernel': 3, 'stride': 1, 'layers': 3}\n")
    loaded, card = load(project)
    card = card.model_copy(update={"examples": card.examples[:1]})
    outcome = execute(card, loaded.verifiers_root, 4)
    assert outcome.status == "error"
    assert "refused every draw" in outcome.message


def test_an_example_refused_by_the_verifier_is_an_error(project):
    verifier = project / "verifiers" / "receptive.py"
    verifier.write_text(verifier.read_text().replace('< 10**6, "the footprint', '< 3, "the footprint'))
    loaded, card = load(project)
    outcome = execute(card, loaded.verifiers_root, 4)
    assert outcome.status == "error"
    assert outcome.message.startswith("the verifier refused its own worked worked example #1")


def test_the_cache_key_includes_the_pool_size_for_parametric_cards_only(project):
    loaded, card = load(project)
    assert cache_key(Job(loaded, card, 8)) != cache_key(Job(loaded, card, 32))
    fixed = loaded.deck.card("view-shape")
    assert cache_key(Job(loaded, fixed, 8)) == cache_key(Job(loaded, fixed, 32))


def test_an_instance_is_graded_against_its_own_computed_answer(project):
    loaded, card = load(project)
    outcome = execute(card, loaded.verifiers_root, 6)
    for entry in outcome.pool:
        instance = variant(card, entry)
        truth = entry["parts"]["answer"]["value"]
        assert grade(instance, {"answer": str(truth)})["answer"].status == "correct"
        assert grade(instance, {"answer": str(truth + 1)})["answer"].status == "incorrect"
        rendered = instance.render(card.prompt)
        assert f"kernel {instance.params['kernel']} and stride {instance.params['stride']}" in rendered


def test_verify_variants_then_show_variant_and_a_torch_free_review(project, tmp_path):
    db = tmp_path / "state.db"
    deck = project / "decks" / "vdata.toml"
    env = {**os.environ, "QUIZZER_DB": str(db), "COLUMNS": "200"}
    verify = subprocess.run(
        [sys.executable, "-m", "quizzer", "verify", "--variants", "6", str(deck)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    shown = CliRunner().invoke(main, ["show", "--db", str(db), f"{deck}::{CARD}", "--variant", "2"])
    assert shown.exit_code == 0, shown.output
    assert "instance 2 (" in shown.output and "this instance 2" in shown.output
    outside = CliRunner().invoke(main, ["show", "--db", str(db), f"{deck}::{CARD}", "--variant", "7"])
    assert outside.exit_code == 2 and "--variant 7: the pool holds 6 instance(s)" in outside.output
    # ten reviews of the card, each of a different instance while unseen ones remain, without torch
    answers = "\n".join(["1/(1-p)", "0.75", "", "(2,3,4)", "", "0", "0"] + ["0", "0"] * 5) + "\n"
    probe = (
        "import sys, runpy, atexit; sys.argv = ['quizzer', 'review', '--plain', sys.argv[1]];"
        "atexit.register(lambda: print('TORCH', 'torch' in sys.modules, file=sys.stderr));"
        "runpy.run_module('quizzer', run_name='__main__')"
    )
    review = subprocess.run(
        [sys.executable, "-c", probe, str(deck)], input=answers, capture_output=True, text=True, env=env
    )
    assert review.stderr.strip().endswith("TORCH False"), review.stderr
    instances = [line for line in review.stdout.splitlines() if line.startswith("(instance ")]
    assert len(instances) >= 6 and len(set(instances[:6])) == 6, review.stdout
    with Store.open(db) as store:
        assert len(store.seen_instances(f"vdata/{CARD}")) == 6


def test_before_any_pool_a_parametric_card_is_posed_as_its_worked_example(project):
    _, card = load(project)
    instance = pose(card, None)
    assert instance.label == "worked example #1 (kernel=3, stride=1, layers=3)" and instance.seed is None
    assert instance.render(card.prompt).startswith("A stack of 3 convolutions with kernel 3 and stride 1")
    assert grade(instance, {"answer": "7"})["answer"].correct
    assert example(card, 2).parts[0].answer.value == 13


def test_the_plugin_reports_parts_examples_and_the_pool(project, pytester):
    import shutil as copying

    copying.copytree(project / "decks", pytester.path / "decks")
    copying.copytree(project / "verifiers", pytester.path / "verifiers")
    deck = pytester.path / "decks" / "vdata.toml"
    deck.write_text(deck.read_text().replace("answer = 13", "answer = 12").replace("value = 0.75,", "value = 0.5,"))
    result = pytester.runpytest_subprocess("decks", "-k", "scaling or receptive")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*vdata/dropout-scaling: failed: part 'kept': the card says 0.5 ± 0.02*",
            "✗ part kept: expected 0.5 ± 0.02, computed 0.74355",
            "*vdata/receptive-field: failed: worked example #2 (kernel=5, stride=2, layers=2): the card says 12*",
        ]
    )


@pytest.mark.parametrize(
    "damage", [{"pool": [1, 2]}, {"pool": {"a": 1}}, {"parts": {"answer": 3}}, {"figures": []}, {"claims": ["x"]}]
)
def test_a_damaged_cached_outcome_is_refused_not_crashed_on(damage):
    import json

    from quizzer.verify.execution import Outcome

    with pytest.raises((ValueError, TypeError)):
        Outcome.from_json(json.dumps({"status": "passed", **damage}))


def test_a_damaged_cache_row_is_verified_again_not_a_crash(project, tmp_path):
    from quizzer.verify.runner import verify as run_verifiers

    loaded, card = load(project)
    job = Job(loaded, card, 4)
    with Store.open(tmp_path / "state.db") as store:
        store.save_verification(job.key, cache_key(job), "passed", '{"status": "passed", "pool": [1]}', "x", "t", 0.0)
        [verified] = run_verifiers([job], store)
    assert not verified.cached and verified.outcome.status == "passed" and len(verified.outcome.pool) == 4
