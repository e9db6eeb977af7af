"""Verification: each card's verifier in its own warm-forked process, its result judged and cached,
trust, CI shards, reports, and cards as pytest items."""
