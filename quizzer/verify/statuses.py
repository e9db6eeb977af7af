"""Which verification statuses are a verdict on the card and which only on the machine.

A leaf that imports nothing: the app reads a cached record's status for its badges before the deck
models (pydantic) are loaded, and the runner decides from the same set what the cache may serve.
"""

INTERRUPTED = frozenset({"timeout", "crashed", "out-of-memory"})
"""The verifier was stopped before it could return anything: a verdict on the machine, not on the card,
so the runner never serves it from the cache nor lets it replace a cached result, and the app shows it
as "not verified", never as a failure of the stated answer."""
