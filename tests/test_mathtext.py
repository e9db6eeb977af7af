"""LaTeX → terminal text: macros expanded, fractions grouped, scripts in Unicode, code untouched."""

import unicodedata

from quizzer.mathtext import latex_to_text, render_math

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


def test_fractions_get_parentheses_only_when_needed():
    assert latex_to_text(r"\frac{2J}{1+J}") == "2J/(1+J)"
    assert latex_to_text(r"\frac{1}{N}") == "1/N"


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


def test_display_math_becomes_an_indented_block():
    assert render_math("Loss:\n$$\\hat{y} = \\sigma(z)$$\nend") == "Loss:\n\n    ŷ = σ(z)\n\nend"
    assert render_math("Loss:\n\n$$\n\\hat{y}\n$$\n\nend") == "Loss:\n\n    ŷ\n\nend"


def test_recursive_macro_cannot_hang():
    assert latex_to_text(r"\loop", {"loop": r"\loop x"}).count("x") == 10


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
