"""quizzer itself never imports torch at start-up: only verifier processes do."""

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "code",
    [
        "import quizzer",
        "import quizzer.cli",
        "from click.testing import CliRunner; from quizzer.cli import main; CliRunner().invoke(main, ['--help'])",
    ],
)
def test_no_torch_at_startup(code):
    probe = code + "; import sys; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"


FIRST_FRAME_PROBE = """
import asyncio, sys
from quizzer.review.tui.app import QuizzerApp

class Probe(QuizzerApp):
    def decks_ready(self):
        heavy = ("pydantic", "quizzer.cards.deck", "quizzer.cards.loader", "torch")
        print(sorted(name for name in heavy if name in sys.modules))
        super().decks_ready()

async def main():
    app = Probe(sys.argv[1], auto_verify=False, ready_file=sys.argv[2])
    async with app.run_test(size=(100, 30)) as pilot:
        while app.is_running:
            await pilot.pause(0.05)

asyncio.run(main())
"""


def test_the_decks_screen_is_drawn_without_the_deck_models(tmp_path):
    """On cached decks the first frame (the counts) needs no pydantic: the models are imported after it."""
    env = {**os.environ, "QUIZZER_HOME": str(tmp_path / "home")}
    probe = [sys.executable, "-c", FIRST_FRAME_PROBE, str(tmp_path / "q.db"), str(tmp_path / "ready")]
    first, again = (subprocess.run(probe, capture_output=True, text=True, check=True, env=env) for _ in range(2))
    assert (
        first.stdout.splitlines()[0] == "['pydantic', 'quizzer.cards.deck', 'quizzer.cards.loader']"
    )  # parsed, then cached
    assert again.stdout.splitlines()[0] == "[]"
