"""Reviewing: a sitting's queue and grading, card search, the shared card view, answer hints,
and the two front ends (the Textual app and `review --plain`)."""
