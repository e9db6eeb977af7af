"""quizzer itself never imports torch at start-up: only verifier processes do."""

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
