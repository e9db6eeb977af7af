"""Authoring and exchange: `quizzer new`, `quizzer import anki|csv` and `quizzer export anki`."""
