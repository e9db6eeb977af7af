"""JSON read from anything quizzer did not just write: every failure is a `json.JSONDecodeError`.

Files a user hands over (`--merge` reports, `--cache-file`), cache rows in a database that may be
damaged, an Anki package's collection and a verifier process's report are all hostile input. The
standard `json.loads` fails on them in two ways its callers' `except JSONDecodeError` missed: a few
thousand nested brackets raise RecursionError, and an integer past Python's digit limit raises a bare
ValueError. Both came through as tracebacks.
"""

from __future__ import annotations

import json
from typing import Any


def loads(text: str | bytes) -> Any:
    """`json.loads`, its depth and number-size failures turned into `JSONDecodeError` (a ValueError)."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply to read", "", 0) from None
    except ValueError as error:  # "Exceeds the limit (4300 digits) for integer string conversion"
        raise json.JSONDecodeError(f"a number too large to read ({error})", "", 0) from None
