"""`{{ name }}` templates: pure filling from parameters and figures, lint of syntax and unknown names."""

import os
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quizzer.cards.deck import MAX_TEXT_CHARS
from quizzer.cards.loader import lint
from quizzer.core import templates

FIGURE = {"value": 0.12734, "text": "0.127"}


def test_fills_parameters_and_figures():
    text = "stride {{ stride }}, kernel {{kernel}}, loss {{ loss }}, loss {{ loss:.2f }}, p {{ p }}"
    values = {"stride": 2, "kernel": [3, 5], "loss": FIGURE, "p": 0.25}
    assert templates.render(text, values) == "stride 2, kernel (3, 5), loss 0.127, loss 0.13, p 0.25"


def test_a_missing_figure_renders_as_not_yet_verified():
    assert templates.render("ratio {{ ratio }}", {}) == f"ratio {templates.MISSING}"


def test_a_missing_figure_renders_as_the_callers_reason():
    assert templates.render("r {{ ratio:.2f }}", {}, templates.NOT_PRODUCED) == f"r {templates.NOT_PRODUCED}"


@pytest.mark.parametrize(
    "text",
    ["{{ a + b }}", "{{ f(x) }}", "{{ x.__class__ }}", "{{ 1 }}", "{{ x:.3g:y }}", "{{ x:zz }}", "{{ x", "{{}}"],
)
def test_anything_but_a_name_is_a_template_error(text):
    with pytest.raises(templates.TemplateError):
        templates.names(text)


def test_an_invalid_template_is_shown_unchanged_never_evaluated():
    assert templates.render("{{ __import__('os') }}", {}) == "{{ __import__('os') }}"


names = st.text(string.ascii_letters + "_", min_size=1, max_size=8)
values = st.one_of(
    st.integers(-(10**6), 10**6), st.floats(-1e6, 1e6, allow_nan=False), st.booleans(), st.text(max_size=8)
)


@given(st.dictionaries(names, values, max_size=5), st.lists(st.tuples(st.text(max_size=10), names), max_size=6))
def test_render_fills_every_field_for_any_values(params, pieces):
    syntax_free = str.maketrans("{}\\", "()/")  # braces and the escape character are template syntax
    text = "".join(f"{filler.translate(syntax_free)}{{{{ {name} }}}}" for filler, name in pieces)
    rendered = templates.render(text, params)
    assert "{{" not in rendered or any("{{" in str(v) for v in params.values())
    for _, name in pieces:
        if name not in params:
            assert templates.MISSING in rendered


DECK = """
id = "d"
title = "D"

[[cards]]
id = "conv"
prompt = '''
A conv with kernel {{ kernel }}
and stride {{ strid }}.
'''
explanation = "Measured: {{ rf }}."
verifier = "conv.py"
answer = { kind = "numeric", value = 3 }

[cards.params]
kernel = { choices = [3, 5] }
stride = { min = 1, max = 2 }

[[cards.examples]]
params = { kernel = 3, stride = 1 }
"""


def test_lint_reports_an_unknown_parameter_at_its_line(deck_dir):
    (deck_dir.root / "verifiers" / "conv.py").write_text(
        "from quizzer.verifier import Result\ndef verify(ctx):\n    r = Result()\n    r.figure('rf', 3)\n    return r\n"
    )
    path = deck_dir(DECK)
    [problem] = lint(path)
    assert problem.line == 8, problem
    assert "'{{ strid }}' is not a parameter" in problem.message and "did you mean 'stride'?" in problem.message


def test_lint_reports_template_syntax_at_the_field(deck_dir):
    (deck_dir.root / "verifiers" / "conv.py").write_text("def verify(ctx):\n    return 'rf'\n")
    path = deck_dir(DECK.replace("{{ strid }}", "{{ stride }}").replace("{{ rf }}", "{{ rf * 2 }}"))
    [problem] = lint(path)
    assert problem.line == 10 and "not a template field" in problem.message


def test_lint_refuses_an_example_outside_the_parameter_ranges(deck_dir):
    (deck_dir.root / "verifiers" / "conv.py").write_text("def verify(ctx):\n    return 'rf'\n")
    path = deck_dir(DECK.replace("{{ strid }}", "{{ stride }}").replace("stride = 1 }", "stride = 7 }"))
    assert "stride = 7 is outside its [cards.params] range" in str(lint(path))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("x^\\{{2}}", "x^{{2}}"),
        ("\\{{ p }} is {{ p }}", "{{ p }} is 3"),
        ("\\{{{ p }}}", "{{{ p }}}"),
        ("\\{{ unclosed", "{{ unclosed"),
    ],
)
def test_an_escaped_double_brace_is_literal_text(text, shown):
    assert templates.names(text) == (["p"] if shown.endswith("3") else [])
    assert templates.render(text, {"p": 3}) == shown


@given(st.text(alphabet="{}\\ pab", max_size=40))
def test_escaped_text_renders_back_unchanged(text):
    """`escape` (what the importer writes) makes any text safe: no fields, and it renders as it was."""
    escaped = templates.escape(text)
    assert templates.names(escaped) == []
    assert templates.render(escaped, {"p": 1}) == text


def test_a_broken_field_spanning_lines_is_reported_on_one_line(deck_dir):
    """Found by the deck fuzz: a stray character in `{{ z }}` made the message quote text up to the next `}}`."""
    (deck_dir.root / "verifiers" / "conv.py").write_text("def verify(ctx):\n    return 'rf'\n")
    broken = DECK.replace("{{ strid }}", "{{ stride }\ufeff}\nmore\u2028text {{ kernel }}")
    [problem] = lint(deck_dir(broken))
    assert len(str(problem).splitlines()) == 1 and "not a template field" in problem.message


_REFERENCE_TOKEN = re.compile(r"\\\{\{|\{\{(.*?)\}\}", re.S)
_REFERENCE_FIELD = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*([^{}\s]{1,16}))?\s*")


def _reference_fields(text: str) -> list[tuple[int, int, str, str]] | None:
    """The grammar as the regexes wrote it before the scanner was made linear: fields, or None if invalid."""
    found = []
    for match in _REFERENCE_TOKEN.finditer(text):
        if match[1] is None:
            continue
        parsed = _REFERENCE_FIELD.fullmatch(match[1])
        if parsed is None:
            return None
        found.append((match.start(), match.end(), parsed[1], parsed[2] or ""))
    return None if "{{" in _REFERENCE_TOKEN.sub("", text) else found


@given(st.lists(st.sampled_from(["{", "}", "{{", "}}", "\\", "a", "x1", " ", ":", ".3g", "\n", "é", "{{ a }}"])))
def test_the_linear_scanner_reads_templates_as_the_regex_did(pieces):
    text = "".join(pieces)
    try:
        fields = [(f.start, f.end, f.name, f.spec) for f in templates.fields(text)]
    except templates.TemplateError:
        fields = None
    if fields is not None or _reference_fields(text) is None:  # a bad spec (`:x`) is refused by fields alone
        assert fields == _reference_fields(text) or fields is None


HOSTILE_TEMPLATES = [
    ("{{" * 100_000, "an unclosed '{{'"),  # the lazy scan for `}}` from each `{{`: quadratic (20,000 took 10 s)
    ("{{ a" + " " * 400_000 + "b }}", "is not a template field"),  # `\s*` on both sides: 20,000 took 0.85 s
]


@pytest.mark.parametrize(("text", "expected"), HOSTILE_TEMPLATES, ids=["unclosed", "spaces"])
def test_hostile_templates_are_scanned_in_linear_time(text, expected):
    """In a subprocess with a hang guard hundreds of times the real cost (not a benchmark). Deck texts are
    bounded now (MAX_TEXT_CHARS), below where the quadratic scan hung, so the scanner is tried on its own."""
    script = (
        "import sys\nfrom quizzer.core import templates\n"
        "try:\n    list(templates.fields(sys.stdin.read()))\nexcept templates.TemplateError as e:\n    print(e)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    result = subprocess.run(
        [sys.executable, "-c", script], input=text, capture_output=True, text=True, timeout=120, env=env
    )
    assert expected in result.stdout, result.stdout[-300:] + result.stderr[-300:]


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [(text[: MAX_TEXT_CHARS - 4] + text[-4:], expected) for text, expected in HOSTILE_TEMPLATES],
    ids=["unclosed", "spaces"],
)
def test_hostile_templates_are_linted_in_linear_time(tmp_path, prompt, expected):
    """The same texts at the longest a deck may hold, through lint: the problem is named, and no hang."""
    path = tmp_path / "deck.toml"
    path.write_text(
        f'id = "t"\ntitle = "T"\n\n[[cards]]\nid = "a"\nprompt = "{prompt}"\nexplanation = "e"\n'
        "answer = { kind = 'numeric', value = 1 }\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    result = subprocess.run(
        [sys.executable, "-m", "quizzer", "lint", str(path)], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 1 and expected in result.stdout, result.stdout[-300:]
