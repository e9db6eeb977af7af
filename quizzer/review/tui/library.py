"""What the TUI knows about its decks, beside the session: loading, trust, verification badges.

No Textual here (the screens render it; tests can use it alone). Everything that touches the
database goes through `quizzer.store.Store`; scheduling goes through `quizzer.review.session`.

Verification badges. A card's cached verification (written by `quizzer verify`) is *current* when
its cache key equals the key of the card and verifier sources as they are now; otherwise it is
*stale*. Computing the current keys reads every verifier file, so it happens in a worker
(`compute_cache_keys`) after the decks screen is up; until then the badges say "checking".

Trust (`quizzer.verify.trust`). Verifiers are code. The TUI starts `quizzer verify` on its own only for
decks of a trusted deck project: the bundled decks' project, or one recorded in the store by
`quizzer trust PROJECT` or by running `quizzer verify` on one of its decks. A deck belongs to
exactly one project (the folder holding its `decks/` and `verifiers/`); a project inside a trusted
project's folder is not trusted.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from quizzer.cards import deckcache
from quizzer.cards.deckfiles import LoadedDeck, deck_files, load_header
from quizzer.store import Store, VerificationRecord
from quizzer.verify.statuses import INTERRUPTED
from quizzer.verify.trust import project_named, project_of

if TYPE_CHECKING:
    from quizzer.cards.instance import Instance

Badge = Literal[
    "verified",
    "demonstrated",
    "failed",
    "interrupted",
    "stale",
    "unverified",
    "untrusted",
    "none",
    "checking",
    "verifying",
]

BADGE_TEXT: dict[str, str] = {
    "verified": "✓ verified",
    "demonstrated": "◇ demonstrated, not verified",
    "failed": "✗ failed",
    "interrupted": "⊘ not verified — its verifier was stopped",
    "stale": "↻ stale",
    "unverified": "○ not yet verified",
    "untrusted": "○ not verified — project not trusted",
    "none": "· no verifier",
    "checking": "… checking",
    "verifying": "⟳ verifying…",
}
BADGE_GLYPH: dict[str, str] = {
    "verified": "✓",
    "demonstrated": "◇",
    "failed": "✗",
    "interrupted": "⊘",
    "stale": "↻",
    "unverified": "○",
    "untrusted": "○",
    "none": "·",
    "checking": "…",
    "verifying": "⟳",
}
FAILED_STATUSES = frozenset({"failed", "error"})
"""A verdict on the card: its verifier returned and disagrees, or it is broken (an interrupted run is no verdict)."""
NOT_A_VERDICT = "That says nothing about the stated answer."
RETRIED = "Background verification tries it again once each time the app starts; ctrl+r tries now."


def interruption(record: VerificationRecord, message: str) -> str:
    """What stopped the verifier of an interrupted record, in a few words: `timed out after 60 s`.

    `message`: the outcome's, which says how a process crashed (`crashed (signal 11)`).
    """
    if record.status == "timeout":
        tenths = int(record.duration * 10)  # rounded down: 60.7 s of a 60 s timeout reads as 60, as its message
        seconds = str(tenths // 10) if tenths >= 100 else f"{tenths / 10:.1f}"
        return f"timed out after {seconds} s" if record.duration else "timed out"
    if record.status == "out-of-memory":
        return "ran out of memory"
    return f"crashed ({message})" if message else "crashed"


@dataclass(frozen=True)
class Caution:
    """What the review says *before* the learner answers, about a card whose verification is not clean.

    `disputed`: the latest computed value disagrees with the card's stated answer (as the card is now),
    so the learner must not be graded against it.
    """

    badge: Badge
    text: str
    disputed: bool = False


@dataclass(frozen=True)
class CardVerification:
    """A card's badge and, when there is one, its cached verification record."""

    key: str
    badge: Badge
    record: VerificationRecord | None = None

    @property
    def stopped(self) -> str:
        """For a record of an interrupted run, what stopped its verifier (`timed out after 60 s`); else ''."""
        if self.record is None or self.record.status not in INTERRUPTED:
            return ""
        outcome = self.outcome()
        return interruption(self.record, outcome.message if outcome is not None else "")

    @property
    def label(self) -> str:
        """The badge's words; an interrupted run says what stopped it: `⊘ timed out after 60 s: not verified`."""
        if self.badge == "interrupted" and self.stopped:
            return f"{BADGE_GLYPH['interrupted']} {self.stopped}: not verified"
        return BADGE_TEXT[self.badge]

    def outcome(self):
        """The stored `Outcome` (notes, claims, series), or None."""
        if self.record is None:
            return None
        from quizzer.verify.execution import Outcome

        try:
            return Outcome.from_json(self.record.outcome)
        except (TypeError, ValueError, json.JSONDecodeError):
            return None

    def caution(self, instance: Instance) -> Caution | None:
        """None for a clean (or never run) verification; else what to say before answering `instance`.

        Disputes are re-judged against the card as it is now (`instance.fixed`): a stale failure the
        author has since fixed is no longer disputed, and a stale pass of an answer since edited is.
        """
        stale = " (in a run from before the card or its verifier last changed)" if self.badge == "stale" else ""
        badge: Badge = "stale" if self.badge == "stale" else "failed"
        if instance.disputed:
            whom = "yourself this time" if len(instance.asked) == 1 else "that part yourself"
            whom = "those parts yourself" if len(instance.disputed) > 1 else whom
            return Caution(badge, f"{_dispute_text(instance)}{stale}. You grade {whom}.", True)
        if self.record is None or self.badge in ("verified", "demonstrated", "none"):
            return None
        outcome = self.outcome()
        if outcome is None:
            return Caution(badge, "Its cached verification cannot be read; press ctrl+r to verify it again.")
        if self.stopped:
            shown: Badge = "stale" if self.badge == "stale" else "interrupted"
            return Caution(shown, f"Its verifier {self.stopped}{stale}: not verified. {NOT_A_VERDICT}")
        if self.record.status in FAILED_STATUSES:
            return Caution(badge, f"This card failed verification{stale}: {outcome.message}")
        if self.badge == "stale":
            return Caution(badge, "The card or its verifier changed since it was verified; it is being re-checked.")
        return None  # a passing record whose currency is still being checked, or is being re-run


class NotCached(Exception):
    """A deck file has no matching deck-cache entry: listing it means parsing it (`Library.load(cached_only=True)`)."""


def _load_decks(
    paths: Iterable[Path | str], from_headers: bool, cached_only: bool = False
) -> tuple[list[LoadedDeck], list[str]]:
    """The decks under `paths` (see `Library.load`) and the problems of those that do not load."""
    decks: list[LoadedDeck] = []
    problems: list[str] = []
    seen: dict[str, Path] = {}
    for path in deck_files(paths):
        loaded = load_header(path) if from_headers else None
        if loaded is None:
            if cached_only:
                raise NotCached(path)
            from quizzer.cards.loader import DeckError, load_deck  # the deck models: parsing needs them

            try:
                loaded = load_deck(path, check_verifiers=False)
            except DeckError as error:
                problems.extend(str(problem) for problem in error.problems)
                continue
        if loaded.deck.id in seen:
            problems.append(f"{path}: deck id {loaded.deck.id!r} is already used by {seen[loaded.deck.id]}; skipped")
            continue
        seen[loaded.deck.id] = path
        decks.append(loaded)
    return decks, problems


def _dispute_text(instance: Instance) -> str:
    if instance.seed is not None:
        return "This instance failed verification: " + next(iter(instance.disputed.values()))
    if len(instance.parts) == 1:
        return "The stated answer failed verification: " + next(iter(instance.disputed.values()))
    labels = {part.id: part.label for part in instance.parts}
    text = "; ".join(
        f"the stated answer to “{instance.render(labels[part_id])}” failed verification: {reason}"
        for part_id, reason in instance.disputed.items()
    )
    return text[:1].upper() + text[1:]


@dataclass
class Library:
    """The decks the app shows, the problems of deck files that failed to load, and their badges."""

    store: Store
    decks: list[LoadedDeck]
    problems: list[str] = field(default_factory=list)
    bundled: Path | None = None
    cache_keys: dict[str, str] | None = None  # None until `compute_cache_keys` has run
    records: dict[str, VerificationRecord] = field(default_factory=dict)
    verifying: set[str] = field(default_factory=set)
    attempted: set[str] = field(default_factory=set)
    """Cards a verify run of this app has started: an interrupted one among them is not retried on its own."""
    trusted_projects: set[Path] = field(default_factory=set)
    _verifiers: dict[str, dict[str, str | None]] = field(default_factory=dict, repr=False)

    @classmethod
    def load(
        cls,
        store: Store,
        paths: Iterable[Path | str],
        bundled: Path | None = None,
        *,
        from_headers: bool = False,
        cached_only: bool = False,
    ) -> Library:
        """Load every deck file under `paths`; a broken file becomes a problem line, not an exception.

        `from_headers`: a deck whose cache entry matches its file is listed from the entry's header
        (`deckfiles.load_header`: fields and card ids, the deck models not even imported), enough for
        the decks screen; then `whole` is False and `loaded_whole` gives the library to review from.
        `cached_only` (with `from_headers`): raise `NotCached` rather than parse a deck file whose
        entry does not match it (or that cannot be read), so the caller can parse in a worker instead.
        """
        decks, problems = _load_decks(paths, from_headers, cached_only)
        library = cls(store, decks, problems, bundled.resolve() if bundled else None)
        library.records = store.verifications()
        library.reload_trust()
        return library

    @property
    def whole(self) -> bool:
        """No deck is listed from its cached header alone: every deck's cards can be built."""
        return not any(isinstance(loaded.deck, deckcache.DeckHeader) for loaded in self.decks)

    def loaded_whole(self, paths: Iterable[Path | str]) -> Library:
        """This library with the deck files under `paths` loaded whole (read again, as they are now).

        Its store, verification records and trust are kept: this runs in a worker while the UI
        thread may use the store.
        """
        decks, problems = _load_decks(paths, from_headers=False)
        return replace(self, decks=decks, problems=problems, _verifiers={})

    # ------------------------------------------------------------------ decks

    def deck(self, deck_id: str) -> LoadedDeck:
        for loaded in self.decks:
            if loaded.deck.id == deck_id:
                return loaded
        raise KeyError(deck_id)

    def loaded_for(self, key: str) -> LoadedDeck:
        return self.deck(key.partition("/")[0])

    def replace(self, edited: LoadedDeck) -> None:
        """Put a reloaded deck (same id, e.g. after an edit) in place of the one loaded before."""
        self.decks = [edited if loaded.deck.id == edited.deck.id else loaded for loaded in self.decks]

    # ------------------------------------------------------------------ trust

    def reload_trust(self) -> None:
        self.trusted_projects = {Path(p) for p in self.store.trusted_projects()}
        if self.bundled is not None:
            self.trusted_projects.add(project_named(self.bundled))

    def trusted(self, loaded: LoadedDeck) -> bool:
        return project_of(loaded.path) in self.trusted_projects

    # ------------------------------------------------------------------ verification

    def compute_cache_keys(self) -> dict[str, str]:
        """The current cache key of every card with a verifier (reads verifier sources: run in a worker)."""
        from quizzer.verify.execution import Outcome
        from quizzer.verify.runner import Job, cache_key, torch_version

        torch = torch_version()
        keys = {}
        for loaded in self.decks:
            for card_id, verifier in self.verifiers(loaded).items():
                if verifier:  # only these cards are built (a cached deck's others stay unbuilt)
                    key = f"{loaded.deck.id}/{card_id}"
                    try:
                        card = deckcache.find_card(loaded.deck, card_id)
                        record = self.records.get(key) if card.parametric else None
                        try:
                            outcome = Outcome.from_json(record.outcome) if record is not None else None
                        except (ValueError, TypeError):
                            outcome = None  # unreadable: the default pool size, so it shows as stale
                        keys[key] = cache_key(Job.as_verified(loaded, card, outcome), torch)
                    except OSError:
                        keys[key] = ""
        return keys

    def verifiers(self, loaded: LoadedDeck) -> dict[str, str | None]:
        """Card id → verifier reference for a deck, computed once (badges look one up per card)."""
        if loaded.deck.id not in self._verifiers:
            self._verifiers[loaded.deck.id] = deckcache.card_verifiers(loaded.deck)
        return self._verifiers[loaded.deck.id]

    def verification(self, key: str) -> CardVerification:
        loaded = self.loaded_for(key)
        record = self.records.get(key)
        if not self.verifiers(loaded).get(key.partition("/")[2]):
            return CardVerification(key, "none")
        if key in self.verifying:
            return CardVerification(key, "verifying", record)
        if self.cache_keys is None:
            return CardVerification(key, "checking", record)
        if record is None:
            return CardVerification(key, "unverified" if self.trusted(loaded) else "untrusted")
        if record.cache_key != self.cache_keys.get(key):
            return CardVerification(key, "stale", record)
        if record.status in INTERRUPTED:
            return CardVerification(key, "interrupted", record)
        if record.status in FAILED_STATUSES:
            return CardVerification(key, "failed", record)
        # A fact that holds by construction of the verifier's own code is shown apart, never as verified.
        return CardVerification(key, "demonstrated" if record.status == "demonstrated" else "verified", record)

    def deck_badges(self, deck_id: str) -> Counter[str]:
        loaded = self.deck(deck_id)
        verifiers = self.verifiers(loaded)
        badges = Counter(self.verification(f"{deck_id}/{card_id}").badge for card_id, ref in verifiers.items() if ref)
        without = sum(not ref for ref in verifiers.values())  # "none" needs no lookup: 100k imported cards are these
        if without:
            badges["none"] += without
        return badges

    def needing_verification(self) -> list[str]:
        """Keys of cards in trusted decks whose verification is missing or stale (needs cache keys), and
        of those whose last run was interrupted (timed out, crashed) unless this app run already tried them."""
        keys = []
        for loaded in self.decks:
            if not self.trusted(loaded):
                continue
            for card_id in deckcache.card_ids(loaded.deck):
                key = f"{loaded.deck.id}/{card_id}"
                badge = self.verification(key).badge
                if badge in ("unverified", "stale") or (badge == "interrupted" and key not in self.attempted):
                    keys.append(key)
        return keys

    def verify_command(self, keys: Sequence[str], *, db: Path, no_cache: bool = False) -> list[str]:
        """`quizzer verify` for these cards, as a subprocess argv (the TUI never runs a verifier itself).

        It stops when this process exits (`--exit-with`), however this process ends.
        """
        targets = []
        for key in keys:
            loaded = self.loaded_for(key)
            targets.append(f"{loaded.path.resolve()}::{key.partition('/')[2]}")
        command = [sys.executable, "-m", "quizzer", "verify", "--db", str(db), "--jobs", "1"]
        command += ["--exit-with", str(os.getpid())]
        return command + (["--no-cache"] if no_cache else []) + targets

    def reload_records(self, store: Store | None = None) -> set[str]:
        """Re-read cached verifications; returns the keys whose record changed."""
        records = (store or self.store).verifications()
        changed = {key for key in records.keys() | self.records.keys() if records.get(key) != self.records.get(key)}
        self.records = records
        return changed
