"""LaTeX → terminal text: macros expanded, fractions grouped, scripts in Unicode, code untouched."""

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

from click.testing import CliRunner

from quizzer.cli import main
from quizzer.core.mathtext import MAX_SPANS, latex_to_text, render_math

COURSE_MACROS = {
    "mat": r"\boldsymbol{#1}",
    "vec": r"\boldsymbol{#1}",
    "norm": r"\left\lVert#1\right\rVert",
    "pderiv": r"\frac{\partial #1}{\partial #2}",
    "E": r"\mathbb{E}\left[#1\right]",
}


def test_course_macros_expand():
    assert latex_to_text(r"\pderiv{L}{\mat{W}_1}", COURSE_MACROS) == "∂L/∂W₁"
    assert latex_to_text(r"\norm{\mat{W}_2}_F^2", COURSE_MACROS) == "‖W₂‖_F²"
    assert latex_to_text(r"\E{x}", COURSE_MACROS) == "𝔼[x]"


def test_arguments_are_read_as_tex_and_the_anki_export_read_them():
    """The terminal had an argument reader of its own, unlike the export's: an escaped brace closed a
    group (`\\frac{a\\}b}{c}` showed as `((a/b)c`) and a newline or tab was an argument."""
    assert latex_to_text(r"\frac{a\}b}{c}") == "(a}b)/c"
    assert latex_to_text("\\frac\n{a}\n{b}") == latex_to_text("\\frac\t{a}{b}") == "a/b"
    assert latex_to_text("\\pderiv\n{L}\n{\\mat{W}_1}", COURSE_MACROS) == "∂L/∂W₁"


def test_fractions_get_parentheses_only_when_needed():
    assert latex_to_text(r"\frac{2J}{1+J}") == "2J/(1+J)"
    assert latex_to_text(r"\frac{1}{N}") == "1/N"
    assert latex_to_text(r"\frac{x}{2h}") == "x/(2h)"  # not (x/2)·h
    assert latex_to_text(r"\frac{1}{(a+b)(c+d)}") == "1/((a+b)(c+d))"


def test_scripts():
    assert latex_to_text(r"\sum_{i=1}^{N} x") == "∑ᵢ₌₁ᴺ x"
    assert latex_to_text(r"y^{(i)} W^\top e^{-x}") == "y⁽ⁱ⁾ Wᵀ e⁻ˣ"
    assert latex_to_text(r"x_{\text{max}}") == "x_max"
    assert latex_to_text(r"x_{t+1}^{2}") == "xₜ₊₁²"


def test_code_and_dollars_in_code_are_untouched():
    markdown = "Cost $5 and $6, math $x^2$.\n```python\nprint('$x^2$')\n```\nand `$y_1$`"
    out = render_math(markdown)
    assert out.startswith("Cost $5 and $6, math x².")
    assert "print('$x^2$')" in out and "`$y_1$`" in out


def test_an_inline_span_adds_no_space_of_its_own():
    assert render_math(r"a logit can be $\le 0$ or $\ge 1$") == "a logit can be ≤ 0 or ≥ 1"


def test_a_tie_next_to_a_space_is_one_space():
    assert latex_to_text(r"W_2~ \varphi(x)") == "W₂ φ(x)"
    assert latex_to_text(r"a~b") == "a\u00a0b"  # a tie alone stays unbreakable


def test_display_math_becomes_an_indented_block():
    assert render_math("Loss:\n$$\\hat{y} = \\sigma(z)$$\nend") == "Loss:\n\n    ŷ = σ(z)\n\nend"
    assert render_math("Loss:\n\n$$\n\\hat{y}\n$$\n\nend") == "Loss:\n\n    ŷ\n\nend"


def test_recursive_macro_cannot_hang():
    """A macro that calls itself nests past MAX_MACRO_DEPTH: its span is shown as written, as one that expands
    too far is (it showed the call left ten levels down, `\\loop x x x x x x x x x x`); the others render."""
    assert render_math(r"$\loop$ and $\me$", {"loop": r"\loop x", "me": "y"}) == r"$\loop$ and y"


def test_binary_operators_keep_their_spacing():
    assert latex_to_text(r"0.8 \cdot 0.5 \le 1") == "0.8 · 0.5 ≤ 1"
    assert latex_to_text(r"a\times b \to c") == "a × b → c"
    assert latex_to_text(r"x \in S, \infty") == "x ∈ S, ∞"
    assert latex_to_text(r"J \times= s") == "J ×= s"


def test_a_mean_keeps_its_bar():
    # `\overline` was dropped, so the dropout card's mean E[x_i^2] read as a plain x_i^2.
    assert latex_to_text(r"\overline{x}") == "x\u0305"
    assert latex_to_text(r"\sum_i w_i^2\,\overline{x_i^2}") == "∑ᵢ wᵢ² x\u0305ᵢ\u0305²\u0305"
    assert (
        render_math(r"mean $\frac1d\,\overline{X_{:,j}}$")
        == "mean 1/d X\u0305_\u0305(\u0305:\u0305,\u0305j\u0305)\u0305"
    )


def test_no_decoration_is_dropped():
    for command in ("overline", "underline", "widehat", "widetilde", "overrightarrow", "overleftarrow", "bar", "hat"):
        text = unicodedata.normalize("NFD", latex_to_text(rf"\{command}{{ab}}"))  # â → a + combining ^
        assert text != "ab" and text[0] == "a" and "b" in text, command


def test_a_fraction_next_to_a_factor_is_parenthesised():
    # `\tfrac12w_1^2` read "1/2w₁²": is that 1/(2w₁²)? A fraction glued to a factor gets parentheses.
    assert latex_to_text(r"\tfrac12w_1^2") == "(1/2)w₁²"
    assert latex_to_text(r"\dfrac{a}{b}c") == "(a/b)c"
    assert latex_to_text(r"2\frac{1}{3}") == "2(1/3)"
    assert latex_to_text(r"\frac{1}{2}\|w\|^2") == "(1/2)‖w‖²"
    assert latex_to_text(r"\frac{a}{b}^2") == "(a/b)²"
    assert latex_to_text(r"\frac{1}{2} x") == "1/2 x"  # a space already separates it
    assert latex_to_text(r"\frac{a}{b} \cdot c") == "a/b · c"


def test_nothing_after_a_command_is_swallowed():
    # pylatexenc reads `\Phiᵀ` and `\logp` as unknown command names and drops them.
    assert latex_to_text(r"\Phi^\top\Phi") == "ΦᵀΦ"
    assert latex_to_text(r"(\Phi^\top\Phi+\lambda I)^{-1}") == "(ΦᵀΦ+λI)⁻¹"
    assert latex_to_text(r"\log\frac{p}{q}") == "log(p/q)"
    assert latex_to_text(r"\text{fan\_in}") == "fan_in"
    assert latex_to_text(r"A^\intercal B^{\top}") == "Aᵀ Bᵀ"
    assert latex_to_text(r"x^{(i)\top}") == "x⁽ⁱ⁾ᵀ"


def test_function_names_stay_apart_from_their_argument():
    assert latex_to_text(r"\log p + \sin x") == "log p + sin x"
    assert latex_to_text(r"\ell = -y\log p") == "ℓ = -y log p"  # the space after a command is kept
    assert latex_to_text(r"\operatorname{tr}A") == "tr A"
    assert latex_to_text(r"\max_i x_i") == "maxᵢ xᵢ"


def test_an_unknown_command_is_shown_not_dropped():
    assert latex_to_text(r"\foo{x} + y") == r"\foo x + y"


def test_a_star_is_no_markdown_emphasis():
    # `\vec w^*` twice in a line rendered as w^*…w^* and Markdown italicised what lay between.
    assert latex_to_text(r"\partial w^*/\partial\lambda = 2w^{*}") == "∂w∗/∂λ = 2w∗"
    assert "*" not in render_math(r"$a * b$ and $h^*$")


# ---------------------------------------------------------------------- a deck's hostile math: bounded, never a crash

DOUBLING_MACROS = {**{f"m{chr(97 + i)}": f"\\m{chr(98 + i)}\\m{chr(98 + i)}" for i in range(24)}, "my": "x"}
"""\\ma calls \\mb twice, ... : 2**24 copies of x; `quizzer show` on a card citing $\\ma$ never finished."""


def _hostile_deck(tmp_path: Path, prompt: str, macros: str = "") -> Path:
    path = tmp_path / "deck.toml"
    path.write_text(
        f'id = "m"\ntitle = "M"\n{macros}\n[[cards]]\nid = "a"\nprompt = {json.dumps(prompt)}\nexplanation = "e"\n'
        "answer = { kind = 'numeric', value = 1 }\n"
    )
    return path


def test_macros_that_expand_without_end_are_shown_as_written(tmp_path):
    """In a subprocess with a hang guard hundreds of times the real cost (the old expansion never ended)."""
    macros = "macros = { " + ", ".join(f"{name} = {json.dumps(body)}" for name, body in DOUBLING_MACROS.items()) + " }"
    path = _hostile_deck(tmp_path, "Expand $\\ma$ and $\\my$.", macros)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    command = [sys.executable, "-m", "quizzer", "--db", str(tmp_path / "q.db"), "show", f"{path}::a"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-500:]
    assert "Expand $\\ma$ and x." in result.stdout
    assert render_math("$\\ma$, $\\mx$", DOUBLING_MACROS) == "$\\ma$, xx"  # only the runaway span stays as written


def test_a_fraction_nested_thousands_deep_is_shown_as_written(tmp_path):
    """5,000 nested \\frac: a RecursionError traceback from `quizzer show` (and `review --plain`). 3,000 deep is
    as far past the converter's recursion as 5,000 and within a deck's text bound (MAX_TEXT_CHARS)."""
    prompt = "$" + "\\frac{" * 3000 + "1" + "}{2}" * 3000 + "$ and $\\frac{1}{2}$"
    path = _hostile_deck(tmp_path, prompt)
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "q.db"), "show", f"{path}::a"])
    assert result.exit_code == 0 and result.exception is None, result.output[-500:]
    assert "\\frac{\\frac{" in result.output and "and 1/2" in result.output


def test_a_nested_span_below_the_length_bound_renders_or_stays_as_written():
    for depth in (100, 400, 800):  # within MAX_SPAN_CHARS the converter may still recurse too deep
        text = "$" + "\\frac{" * depth + "1" + "}{2}" * depth + "$"
        assert render_math(text) in (text, render_math(text))  # never raises


def test_only_the_first_spans_of_a_text_are_rendered():
    """50,000 spans in one prompt took 2.9 s to render; the spans past MAX_SPANS are shown as written."""
    rendered = render_math("$x^2$ " * (MAX_SPANS + 2))
    assert rendered.startswith("x² x² ") and rendered.endswith("x² $x^2$ $x^2$ ")


def test_a_span_costs_a_lookup_per_command_not_a_pass_per_macro():
    """Every macro of the deck was a regex pass over every span, ten rounds: 2,000 macros and 1,000 spans in a
    prompt took 41 s in `show` (and the app). The expander looks each command of the span up, and never walks
    the deck's macros."""
    from quizzer.core import mathtext

    class Counted(dict):
        lookups = 0

        def __contains__(self, name):
            Counted.lookups += 1
            return super().__contains__(name)

        def __iter__(self):
            raise AssertionError("the expander walked the deck's macros")

        items = keys = values = __iter__

    macros = Counted({"m" + "".join(chr(97 + i // 26**k % 26) for k in range(3)): "y" for i in range(2000)})
    used = "mbaa"
    assert mathtext.expand_macros(f"\\{used} + \\alpha\\cdot\\beta", macros) == "y + \\alpha\\cdot\\beta"
    assert Counted.lookups <= 4  # one a control sequence
    assert latex_to_text(f"\\{used} + 1", macros) == "y + 1"


# ---------------------------------------------------------------------- deck macros, as TeX expands them

GLUING_MACROS = {"me": "x", "mean": r"\bar#1", "norm": r"\left\lVert#1\right\rVert", "id": "#1"}


def test_an_expansion_never_runs_letters_into_a_command():
    r"""TeX reads `\alpha\me` (me = "x") as the tokens `\alpha`, `x`; written out, `\alphax` is one unknown
    command. The terminal put `{}` between them, which is not the same TeX (`\hat{}x` puts the hat on nothing:
    `\hat\me` showed a bare x), and substituting `#1` right after a command name glued them (`mean = '\bar#1'` of y
    showed `\bary`, `\lVert#1` of x exported `\lVertx`)."""
    from quizzer.core.mathtext import expand_macros

    assert expand_macros(r"\alpha\me", GLUING_MACROS) == r"\alpha x"
    assert expand_macros(r"\hat\me", GLUING_MACROS) == r"\hat x"
    assert expand_macros(r"\mean{y}", GLUING_MACROS) == r"\bar y"
    assert expand_macros(r"\norm{x}", GLUING_MACROS) == r"\left\lVert x\right\rVert"
    assert expand_macros(r"\id{\alpha}b", GLUING_MACROS) == r"\alpha b"  # the argument's command, then letters
    assert render_math(r"$\alpha\me$, $\hat\me$, $\mean{y}$, $\norm{x}_2$", GLUING_MACROS) == "αx, x̂, y̅, ‖x‖₂"


def test_norm_bars_hold_no_space():
    r"""TeX sets `\lVert W_2 \rVert` as ‖W₂‖; the terminal showed `‖ W₂ ‖²` (and, once the expansion wrote
    `\lVert x` for `\norm{x}`, `‖ x‖`)."""
    assert latex_to_text(r"\lVert W_2 \rVert^2") == "‖W₂‖²"
    assert latex_to_text(r"\left\lVert x \right\rVert + \norm{y}", GLUING_MACROS) == "‖x‖ + ‖y‖"


def test_macros_expand_in_tex_order():
    r"""One expansion, read left to right, its result read again before what follows: a body may take its
    arguments from after the call, and a call's argument is the token as written (the terminal expanded macro
    by macro, in the deck's order, so `\f\xy` became `\g xy` and took only x; the export round by round)."""
    from quizzer.core.mathtext import expand_macros

    macros = {"xy": "xy", "f": r"\g", "g": r"\boldsymbol{#1}", "hash": r"\#1", "twice": "#1##"}
    assert expand_macros(r"\f\xy", macros) == r"\boldsymbol{xy}"
    assert expand_macros(r"\f{a}b", macros) == r"\boldsymbol{a}b"
    assert expand_macros(r"\\xy", macros) == r"\\xy"  # a line break and letters, no call
    assert expand_macros(r"\hash \twice{a}", macros) == r"\#1 a#"  # `\#` is no parameter, `##` is one `#`
    assert render_math(r"$\f\xy$", macros) == "xy"


def test_the_terminal_and_the_export_stop_at_one_bound():
    """The terminal counted what each macro wrote in each round (two macros writing 15,000 characters each
    expanded), the export the whole text of a round (the same formula left as written): one count now, what
    the expansions write, so both leave it as written and both expand 20,000."""
    from quizzer.authoring.anki import markdown_html

    macros = {"a": "x" * 15_000, "b": "y" * 15_000, "c": "z" * 5_000}
    assert render_math(r"$\a\b$ and $\a\c$", macros) == r"$\a\b$ and " + "x" * 15_000 + "z" * 5_000
    exported = markdown_html(r"$\a\b$ and $\a\c$", macros)
    assert r"\(\a\b\)" in exported and "x" * 15_000 + "z" * 5_000 in exported


# ---------------------------------------------------------------------- math that cannot be read

MALFORMED = {
    r"$x \frac$": r"\frac is missing an argument",
    r"$\frac{a}$": r"\frac is missing an argument",
    r"$\sqrt$": r"\sqrt is missing an argument",
    r"$x^$": "^ has nothing to put in its superscript",
    r"$y_$": "_ has nothing to put in its subscript",
    r"${x$": "a { is never closed",
    r"$x}$": "a } closes no {",
    r"$\left( x$": r"1 \left but 0 \right: each \left needs its \right",
    r"$\begin{cases} a$": r"\begin{cases} is never ended",
    r"$\end{x}$": r"\end{x} ends no \begin{x}",
}


def test_math_that_cannot_be_read_is_shown_as_written_and_logs_nothing(caplog):
    r"""`$x \frac$` showed `x %s/%s` (`$\frac{a}$`: `%s/%sa`, `$\vec$` a lone arrow) and pylatexenc logged a
    WARNING that, with no handler of the app's, logging printed on the terminal. A span the converter would
    have to guess at is shown as written, the reason is `math_problems`' (lint's), and nothing is logged."""
    from quizzer.core.mathtext import math_problems

    caplog.set_level("DEBUG")
    for span, reason in MALFORMED.items():
        assert render_math(f"see {span} and $x^2$") == f"see {span} and x²", span
        assert math_problems(f"see {span} and $x^2$") == [(4, span, reason)]
    assert render_math(r"$\vec$ $\mathbb$", {"unused": "u"}) == r"$\vec$ $\mathbb$"
    assert [r.getMessage() for r in caplog.records if r.name.startswith("pylatexenc")] == []


def test_valid_math_at_the_edges_still_renders():
    """What strict reading must not refuse: a line break at the end, an empty script, a lone fraction token."""
    from quizzer.core.mathtext import math_problems

    assert render_math(r"$a \\ b \\$ and $x^{}$ and $\frac12$") == "a \n b and x and 1/2"
    assert math_problems(r"$a \\ b \\$, $x^{}y$, $\left(x\right)$, $\frac{1}{2}$") == []


def test_show_and_plain_review_print_nothing_on_stderr_for_malformed_math(tmp_path):
    """In a subprocess: under pytest the root logger has handlers, and logging's last resort (stderr) never ran."""
    path = _hostile_deck(tmp_path, "Q $x \\frac$ and $\\frac{a}$ and $x^2$.")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent), "PYTHONWARNINGS": "default"}
    base = [sys.executable, "-m", "quizzer", "--db", str(tmp_path / "q.db")]
    show = subprocess.run([*base, "show", f"{path}::a"], capture_output=True, text=True, timeout=120, env=env)
    assert show.returncode == 0 and show.stderr == "", show.stderr[-500:]
    assert "Q $x \\frac$ and $\\frac{a}$ and x²." in show.stdout and "%s" not in show.stdout
    plain = subprocess.run(
        [*base, "review", "--plain", str(path)], input="1\n3\n", capture_output=True, text=True, timeout=120, env=env
    )
    assert plain.returncode == 0 and plain.stderr == "", plain.stderr[-500:]
    assert "Q $x \\frac$ and $\\frac{a}$ and x²." in plain.stdout and "%s" not in plain.stdout
