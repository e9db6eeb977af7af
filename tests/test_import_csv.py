"""`quizzer import csv`: rows of a CSV/TSV file (or Anki's "Notes in Plain Text") → lint-clean decks."""

from __future__ import annotations

from click.testing import CliRunner

from quizzer.authoring.importing import guid_card_id
from quizzer.cards.loader import deck_files, lint, load_deck
from quizzer.cli import main
from quizzer.core import templates


def run_import(tmp_path, text: str, *extra: str, name: str = "vocab.csv"):
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["import", "csv", str(source), "-o", str(tmp_path / "decks"), *extra])
    decks = {p.stem: load_deck(p).deck for p in deck_files([tmp_path / "decks"])} if result.exit_code == 0 else {}
    return result, decks


def test_a_header_row_names_the_columns(tmp_path):
    result, decks = run_import(
        tmp_path,
        "id,front,back,explanation,tags,source\n"
        'g-force,"What is $g$ on Earth?",9.81 m/s², "Measured, not derived.",physics units,Course 1\n'
        "c,Speed of light?,about 3e8 m/s,,physics,\n",
    )
    assert result.exit_code == 0, result.output
    deck = decks["vocab"]
    assert deck.title == "vocab"
    first = deck.card("g-force")
    assert first.prompt.strip() == "What is $g$ on Earth?"  # Markdown as written, math kept
    assert first.answer.kind == "text" and first.answer.value.strip() == "9.81 m/s²"
    assert first.explanation.strip() == "Measured, not derived."
    assert first.tags == ["physics", "units"] and first.source == "Course 1"
    assert deck.card("c").verifier is None
    assert lint(tmp_path / "decks" / "vocab.toml") == []


def test_without_a_header_the_columns_are_prompt_answer_tags(tmp_path):
    result, decks = run_import(tmp_path, "hola\thello\tspanish greeting\nadiós\tgoodbye\n", name="es.tsv")
    assert result.exit_code == 0, result.output
    cards = decks["es"].cards
    assert [(c.prompt.strip(), c.answer.value.strip(), c.tags) for c in cards] == [
        ("hola", "hello", ["spanish", "greeting"]),
        ("adiós", "goodbye", []),
    ]
    assert cards[0].id == guid_card_id("hola")  # stable: derived from the prompt when there is no id


def test_anki_plain_text_export_header_lines_are_honoured(tmp_path):
    text = (
        "#separator:tab\n#html:true\n#guid column:1\n#tags column:4\n#deck column:5\n"
        "Ab12\t<b>bold</b> \\(x^2\\)\tan<br>answer\ttag1\tMath::Algebra\n"
        "Cd34\tplain &amp; simple\tyes\t\tMath::Algebra\n"
    )
    result, decks = run_import(tmp_path, text, name="export.txt")
    assert result.exit_code == 0, result.output
    deck = decks["math-algebra"]
    assert deck.title == "Math::Algebra"
    first = deck.card(guid_card_id("Ab12"))
    assert first.prompt.strip() == "**bold** $x^2$"
    assert first.answer.value.strip() == "an\\\nanswer"
    assert first.tags == ["tag1"]
    assert deck.card(guid_card_id("Cd34")).prompt.strip() == r"plain \& simple"


def test_duplicate_prompts_get_distinct_stable_ids(tmp_path):
    result, decks = run_import(tmp_path, "same,one\nsame,two\n")
    assert result.exit_code == 0, result.output
    ids = [c.id for c in decks["vocab"].cards]
    assert ids == [guid_card_id("same"), guid_card_id("same") + "-2"]


def test_the_deck_option_names_the_deck(tmp_path):
    result, decks = run_import(tmp_path, "q,a\n", "--deck", "My Course: Week 1")
    assert result.exit_code == 0, result.output
    assert list(decks) == ["my-course-week-1"] and decks["my-course-week-1"].title == "My Course: Week 1"


def test_a_file_without_a_prompt_column_is_refused_in_one_sentence(tmp_path):
    result, _ = run_import(tmp_path, "answer,tags\nx,y\n")
    assert result.exit_code == 1
    assert "no prompt column" in result.output and "Traceback" not in result.output


def test_a_file_that_is_not_text_is_refused(tmp_path):
    source = tmp_path / "binary.csv"
    source.write_bytes(b"\xff\xfe\x00\x81 not utf-8")
    result = CliRunner().invoke(main, ["import", "csv", str(source), "-o", str(tmp_path / "decks")])
    assert result.exit_code == 1 and "cannot read it as UTF-8" in result.output


def test_existing_deck_files_are_replaced_only_with_force(tmp_path):
    run_import(tmp_path, "q,a\n")
    again, _ = run_import(tmp_path, "q,b\n")
    assert again.exit_code == 1 and "--force" in again.output
    forced, decks = run_import(tmp_path, "q,b\n", "--force")
    assert forced.exit_code == 0 and decks["vocab"].cards[0].answer.value.strip() == "b"


def test_double_braces_in_imported_text_stay_literal_text(tmp_path):
    """LaTeX's `x^{{2}}` or a Jinja `{{ name }}` in someone's cards is text, never a template field."""
    result, decks = run_import(
        tmp_path,
        "id,front,back,explanation\n"
        'sq,"What is $\\frac{{d}}{dx} x^{{2}}$?","$2x$, not {{ x }}","Jinja would print {{ name }}"\n',
    )
    assert result.exit_code == 0, result.output
    assert lint(tmp_path / "decks" / "vocab.toml") == []
    card = decks["vocab"].card("sq")
    assert templates.render(card.prompt, {}).strip() == "What is $\\frac{{d}}{dx} x^{{2}}$?"
    assert templates.render(card.answer.value, {"x": 1}).strip() == "$2x$, not {{ x }}"
    assert templates.render(card.explanation, {"name": 1}).strip() == "Jinja would print {{ name }}"


def test_a_long_cell_is_imported_and_one_over_the_limit_is_refused_in_one_sentence(tmp_path):
    from quizzer.authoring.importing import MAX_FIELD_CHARS

    long = "x" * 200_000  # over csv's own 128 KiB default field limit, under quizzer's
    result, decks = run_import(tmp_path, f"front,back\nq,a\nr,{long}\n")
    assert result.exit_code == 0, result.output  # read whole, not csv's "field larger than field limit"
    # ... and, past a deck's text bound (MAX_TEXT_CHARS), left out and counted rather than written unlintable
    assert [card.answer.value.strip() for card in decks["vocab"].cards] == ["a"]
    assert "1 card(s) longer than a card's text may be" in result.output
    result, _ = run_import(tmp_path, "front,back\nq,a\nr," + "y" * (MAX_FIELD_CHARS + 2) + "\n", "--force")
    assert result.exit_code == 1
    assert "vocab.csv: line 3: field larger than field limit" in result.output
    assert "Traceback" not in result.output


def test_a_header_with_unknown_column_names_is_refused_not_imported_as_a_card(tmp_path):
    """`term,definition` was imported as a card asking "term"; now the import names what it accepts."""
    for header in ("term,definition", "Word\tMeaning\tTags", "front,meaning", "id,front,back,notes"):
        separator = "\t" if "\t" in header else ","
        text = f"{header}\nhola{separator}hello\n"
        result, decks = run_import(tmp_path, text, "--force")
        assert result.exit_code == 1, (header, result.output)
        line = result.output.strip()
        assert "vocab.csv: line 1" in line and "Traceback" not in line and len(line.splitlines()) == 1, line
        assert "prompt" in line and "answer" in line and "#columns:" in line, line
        unknown = [n for n in header.replace("\t", ",").split(",") if n.lower() not in ("id", "front", "back", "tags")]
        assert all(f"'{name}'" in line for name in unknown), line


def test_the_header_refusal_points_past_anki_header_lines(tmp_path):
    result, _ = run_import(tmp_path, "#separator:comma\n#html:false\nterm,definition\nhola,hello\n")
    assert result.exit_code == 1 and "vocab.csv: line 3" in result.output, result.output


def test_data_rows_are_not_mistaken_for_headers(tmp_path):
    result, decks = run_import(tmp_path, "hola,hello\nla respuesta,the answer\n")
    assert result.exit_code == 0, result.output
    assert [c.prompt.strip() for c in decks["vocab"].cards] == ["hola", "la respuesta"]
    # a `#columns:` line says there is no header: its first row is a card, whatever it reads like
    result, decks = run_import(tmp_path, "#columns:prompt,answer\nterm,definition\n", "--force")
    assert result.exit_code == 0 and [c.prompt.strip() for c in decks["vocab"].cards] == ["term"], result.output


def test_a_header_of_known_names_only_still_sets_the_columns(tmp_path):
    result, decks = run_import(tmp_path, "Question\nWhat is 2+2?\n")
    assert result.exit_code == 0, result.output
    assert [c.prompt.strip() for c in decks["vocab"].cards] == ["What is 2+2?"]
    result, _ = run_import(tmp_path, "\n\n,,\nterm,definition\nhola,hello\n")
    assert result.exit_code == 1 and "vocab.csv: line 4" in result.output, result.output
