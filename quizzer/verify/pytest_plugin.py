"""pytest plugin: every card of a deck file is a test item (`decks/cnn.toml::receptive-field`).

Collected for `*.toml` files inside a folder named `decks`. Each item runs its card's verifier
in a worker process of a per-session pool (crash isolation and timeouts as in `quizzer verify`,
never the cache: a test run checks everything). `-k` selects cards; `-n` (xdist) spreads them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from quizzer.cards.loader import DeckError, LoadedDeck, load_deck
from quizzer.core.safetext import shown
from quizzer.verify.execution import NO_VERIFIER


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("quizzer")
    group.addoption("--verify-timeout", type=float, default=60.0, help="seconds per card verifier (quizzer)")
    group.addoption(
        "--verify-strict",
        action="store_true",
        help="fail cards that have no verifier instead of skipping them (quizzer)",
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.suffix == ".toml" and file_path.parent.name == "decks":
        return DeckFile.from_parent(parent, path=file_path)
    return None


class DeckFile(pytest.File):
    def collect(self):
        try:
            loaded = load_deck(self.path)
        except DeckError as e:
            yield DeckProblem.from_parent(self, name="lint", problems=str(e))
            return
        for card in loaded.deck.cards:
            yield CardItem.from_parent(self, name=card.id, loaded=loaded, card_id=card.id)


class DeckProblem(pytest.Item):
    def __init__(self, *, problems: str, **kwargs):
        super().__init__(**kwargs)
        self.problems = problems

    def runtest(self) -> None:
        raise VerificationFailed(self.problems)

    def repr_failure(self, excinfo, style=None):
        return str(excinfo.value)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}: lint"


class VerificationFailed(Exception):
    pass


class CardItem(pytest.Item):
    def __init__(self, *, loaded: LoadedDeck, card_id: str, **kwargs):
        super().__init__(**kwargs)
        self.loaded = loaded
        self.card = loaded.deck.card(card_id)
        self.add_marker(pytest.mark.quizzer_card)
        for tag in self.card.tags:
            self.keywords[tag] = True

    def runtest(self) -> None:
        from quizzer.verify.runner import Job

        if not self.card.verifier and not self.config.getoption("verify_strict"):
            pytest.skip(NO_VERIFIER)
        [(_, outcome)] = _pool(self.config).run([Job(self.loaded, self.card)])
        self.user_properties.append(("verification", outcome.to_json()))
        self.user_properties += _verification_summary(outcome)
        strict_failure = outcome.strict_failure() if self.config.getoption("verify_strict") else ""
        if not outcome.ok or strict_failure:
            raise VerificationFailed(_describe(self.loaded, self.card, outcome, strict_failure))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, VerificationFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"{self.loaded.deck.id}/{self.card.id}"


def _verification_summary(outcome) -> list[tuple[str, str]]:
    """Per-part verdicts, worked examples and the pool, as report properties (`--junitxml` shows them)."""
    summary = [("parts", ", ".join(f"{pid}={entry['status']}" for pid, entry in outcome.parts.items()))]
    if outcome.examples or outcome.pool:
        examples = ["worked example #1=" + outcome.status] + [f"{e['label']}={e['status']}" for e in outcome.examples]
        summary.append(("examples", "; ".join(examples)))
        passed = sum(entry["status"] in ("passed", "demonstrated") for entry in outcome.pool)
        summary.append(("pool", f"{passed} of {len(outcome.pool)} instances verified"))
    return summary


def _describe(loaded: LoadedDeck, card, outcome, strict_failure: str = "") -> str:
    status, message = ("failed", strict_failure) if strict_failure else (outcome.status, outcome.message)
    lines = [
        f"{loaded.deck.id}/{card.id}: {status}: {message}",
        f"verifier: {card.verifier or '(none)'} (root {loaded.verifiers_root})",
    ]
    lines += outcome.details()
    return shown("\n".join(lines))  # pytest prints it as is: a verifier's ESC would reach the terminal


_POOL_KEY = pytest.StashKey["object"]()
_WARNINGS_KEY = pytest.StashKey[list]()  # what the pool said the user should know (no pid namespace here)


def _pool(config: pytest.Config):
    """One long-lived worker per pytest process (per xdist worker), started on first use."""
    from quizzer.verify.runner import WorkerPool

    if _POOL_KEY not in config.stash:
        warnings = config.stash.setdefault(_WARNINGS_KEY, [])
        pool = WorkerPool(jobs=1, timeout=config.getoption("verify_timeout"), on_warning=warnings.append)
        config.stash[_POOL_KEY] = pool
        config.add_cleanup(pool.close)
    return config.stash[_POOL_KEY]


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    for text in config.stash.get(_WARNINGS_KEY, []):
        terminalreporter.write_line(f"quizzer: warning: {text}", yellow=True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "quizzer_card: a deck card whose verifier runs as this test")
