"""Parameters of a parametric card: the deck format, pure seeded draws, and rendering for any draw."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from quizzer.cards.deck import ChoicesParam, RangeParam, draw
from quizzer.cards.instance import variant
from quizzer.cards.loader import lint, load_deck
from quizzer.core import templates

FIXTURE = Path(__file__).parent / "fixtures" / "vdata" / "decks" / "vdata.toml"
CARD = load_deck(FIXTURE).deck.card("receptive-field")

integer_ranges = st.tuples(st.integers(-50, 50), st.integers(0, 40), st.integers(1, 5)).map(
    lambda t: RangeParam(min=t[0], max=t[0] + t[1], step=t[2])
)
float_ranges = st.tuples(st.integers(-20, 20), st.integers(0, 30), st.sampled_from([0.05, 0.1, 0.25, 0.5])).map(
    lambda t: RangeParam(min=t[0] / 10, max=t[0] / 10 + t[1] * t[2], step=t[2])
)
choices = st.lists(st.one_of(st.integers(), st.text(max_size=5), st.lists(st.integers(0, 9), max_size=3)), min_size=1)
specs = st.dictionaries(
    st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True),
    st.one_of(integer_ranges, float_ranges, choices.map(lambda c: ChoicesParam(choices=c))),
    min_size=1,
    max_size=5,
)


@given(specs, st.integers(0, 2**32))
def test_a_draw_is_pure_and_inside_every_spec(spec, seed):
    drawn = draw(spec, seed)
    assert drawn == draw(spec, seed)
    assert set(drawn) == set(spec)
    for name, value in drawn.items():
        assert spec[name].contains(value), (name, value, spec[name])


@given(st.integers(0, 2**32))
def test_the_parametric_card_renders_for_any_draw(seed):
    params = draw(CARD.params, seed)
    instance = variant(CARD, {"seed": seed, "params": params, "parts": {"answer": {"value": 7}}, "status": "passed"})
    for _, text in CARD.template_texts():
        rendered = instance.render(text)
        assert "{{" not in rendered
        for name in CARD.params:
            if f"{{{{ {name} }}}}" in text:
                assert templates.format_value(params[name]) in rendered
    assert "rf" in CARD.cited_figures and instance.render("{{ rf }}") == templates.NOT_PRODUCED  # verified, no rf


def test_an_integer_range_is_inclusive_and_a_float_range_needs_a_step():
    spec = RangeParam(min=1, max=3)
    assert {draw({"x": spec}, seed)["x"] for seed in range(100)} == {1, 2, 3}
    with pytest.raises(ValidationError, match="needs a step"):
        RangeParam(min=0.1, max=0.5)
    with pytest.raises(ValidationError, match="below min"):
        RangeParam(min=3, max=1)
    assert RangeParam(min=0.05, max=0.5, step=0.05).contains(0.35)
    assert not RangeParam(min=0.05, max=0.5, step=0.05).contains(0.33)


PARAMETRIC = """
id = "d"
title = "D"
[[cards]]
id = "p"
prompt = "kernel {{ kernel }}"
explanation = "e"
answer = { kind = "numeric", value = 3 }
[cards.params]
kernel = { chioces = [3, 5] }
[[cards.examples]]
params = { kernel = 3 }
"""


def test_lint_names_a_mistyped_parameter_key_with_a_did_you_mean(deck_dir):
    problems = lint(deck_dir(PARAMETRIC))
    assert [p.line for p in problems] == [9, 9]
    assert "unknown key 'chioces' in card #1 (params.kernel); did you mean 'choices'?" in str(problems)


def test_lint_requires_examples_that_give_every_parameter(deck_dir):
    text = PARAMETRIC.replace("chioces", "choices")
    assert lint(deck_dir(text)) == []
    assert "needs at least one worked instance" in str(lint(deck_dir(text.split("[[cards.examples]]")[0])))
    missing = text.replace("params = { kernel = 3 }", "params = { kernal = 3 }")
    assert "missing kernel; unknown kernal" in str(lint(deck_dir(missing)))


def test_quizzer_new_params_scaffolds_a_lint_clean_parametric_card_whose_stub_fails(tmp_path):
    from quizzer.authoring.scaffold import AuthoringError, create_card
    from quizzer.verify.execution import execute

    made = create_card("drills", "layer-size", "numeric", tmp_path, params=True)
    assert lint(made.deck_path) == []
    loaded = load_deck(made.deck_path)
    card = loaded.deck.card("layer-size")
    assert card.parametric and card.examples[0].params == {"n": 1}
    outcome = execute(card, loaded.verifiers_root, 4)
    assert outcome.status == "failed" and "write this verifier" in outcome.message
    with pytest.raises(AuthoringError, match="cannot be parametric"):
        create_card("drills", "snippet", "code", tmp_path, params=True)


def test_the_authoring_guide_parametric_example_lints_verifies_and_fails_when_an_example_is_wrong(tmp_path):
    import re

    from quizzer.verify.execution import decide, execute

    guide = (Path(__file__).resolve().parent.parent / "AUTHORING.md").read_text()
    stanza = next(block for block in re.findall(r"```toml\n(.*?)```", guide, re.S) if 'id = "conv-width"' in block)
    source = re.search(r"`verifiers/my-drills/conv_width.py`:\n\n```python\n(.*?)```", guide, re.S).group(1)
    (tmp_path / "decks").mkdir()
    (tmp_path / "verifiers" / "my-drills").mkdir(parents=True)
    deck = tmp_path / "decks" / "my-drills.toml"
    deck.write_text('id = "my-drills"\ntitle = "My drills"\n' + stanza)
    (tmp_path / "verifiers" / "my-drills" / "conv_width.py").write_text(source)
    assert lint(deck) == []
    loaded = load_deck(deck)
    card = loaded.deck.card("conv-width")
    outcome = execute(card, loaded.verifiers_root, 8)
    assert outcome.status == "passed", outcome.message + outcome.traceback
    assert len(outcome.pool) == 8 and outcome.figures["width"]["value"] == 30
    examples = [card.examples[0], card.examples[1].model_copy(update={"answer": 13})]
    assert decide(card.model_copy(update={"examples": examples}), outcome).status == "failed"
