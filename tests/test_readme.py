"""The README's deck and verifier examples are real: they lint clean, verify, and fail when the answer changes."""

import re
import shutil
from pathlib import Path

from quizzer.cards.loader import lint, load_deck
from quizzer.verify.execution import decide, execute

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_example_deck_and_verifier(tmp_path):
    deck_text = re.search(r"```toml\n(.*?)```", README, re.S).group(1)
    verifier_text = re.search(r"`verifiers/dropout/stacked.py`:\n\n```python\n(.*?)```", README, re.S).group(1)
    (tmp_path / "decks").mkdir()
    (tmp_path / "verifiers" / "dropout").mkdir(parents=True)
    shutil.copy(ROOT / "decks" / "schema.json", tmp_path / "decks")
    deck = tmp_path / "decks" / "dropout.toml"
    deck.write_text(deck_text)
    (tmp_path / "verifiers" / "dropout" / "stacked.py").write_text(verifier_text)

    assert lint(deck) == []
    loaded = load_deck(deck)
    card = loaded.deck.cards[0]
    outcome = execute(card, loaded.verifiers_root)
    assert outcome.status == "passed", outcome.message + outcome.traceback
    wrong = card.model_copy(update={"answer": card.answer.model_copy(update={"value": "p1 + p2"})})
    assert decide(wrong, outcome).status == "failed"
