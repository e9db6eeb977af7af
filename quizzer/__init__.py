"""quizzer: a spaced-repetition quiz engine whose answers are verified by code."""

__version__ = "0.1.0"
