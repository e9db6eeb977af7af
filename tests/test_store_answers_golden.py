"""The answer path writes the same bytes as the store that made the golden file (877d858's).

Every speed-up of `Store.record_answer`, `record_cram` and `undo` must leave the `cards` and `reviews`
rows exactly as they were: same values, same types (an integer stays an integer, a text time stays
text), same row ids. The run covers new, review, lapse, drill, review-ahead and cram answers, undo,
a card answered before any sync, naive, zoned and fractional-offset clocks, every verdict and seeds.
"""

import importlib.util
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def _maker():
    spec = importlib.util.spec_from_file_location("make_answers_golden", FIXTURES / "make_answers_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_same_answers_write_the_same_card_and_log_rows_as_the_golden_file():
    expected = (FIXTURES / "answers-golden.sql").read_text(encoding="utf-8").splitlines()
    played = _maker().played_rows()
    assert len(played) == len(expected) == 395
    assert played == expected
