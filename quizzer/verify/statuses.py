"""Which verification statuses are a verdict on the card and which only on the machine.

A leaf that imports nothing: the app reads a cached record's status for its badges before the deck
models (pydantic) are loaded, and the runner decides from the same set what the cache may serve.
"""

INTERRUPTED = frozenset({"timeout", "crashed", "out-of-memory"})
"""The verifier was stopped before it could return anything: a verdict on the machine, not on the card,
so the runner never serves it from the cache nor lets it replace a cached result, and the app shows it
as "not verified", never as a failure of the stated answer."""

CACHED_VERDICTS = frozenset({"passed", "demonstrated", "failed", "unverified"})
"""What the runner may serve from the cache: verdicts on the card's stated answer, which the same card,
verifier and judging code give again. Not an interruption, and not "error": a verifier that raised may
have met the machine rather than the card (a module not installed yet, a file not there), and a cached
error outlived the fix (installing the module still showed it)."""
