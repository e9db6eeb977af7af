"""`QuizzerApp`: screens, app-wide keys, the command palette, and background verification.

Blocking work runs in workers: loading decks and the store (thread), computing verification cache
keys (thread), statistics queries (thread, own connection), and `quizzer verify` (a subprocess
watched by an async worker that polls the store so badges update as results arrive). Recording an
answer is one durable SQLite transaction on the UI thread when the database is free, else a
retrying worker (quizzer/review/tui/screens/review.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import shlex
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SuspendNotSupported, SystemCommand
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Input

from quizzer.core.safetext import UNSAFE
from quizzer.paths import bundled_decks, default_db
from quizzer.review.session import CustomStudy, Limits, Session, StudyDay, in_sync
from quizzer.review.tui.library import Library
from quizzer.review.tui.screens.decks import DecksScreen
from quizzer.store import Store, StoreError, explain_failure
from quizzer.verify.trust import project_of, trust_command

if TYPE_CHECKING:
    from textual.widgets import Input

    from quizzer.cards.deckfiles import LoadedDeck

POLL_SECONDS = 0.5
DAY_CHECK_SECONDS = 30
THEME_SETTING = "tui.theme"


class DeckCommands(Provider):
    """Command palette: review a deck, or open a card in the browser."""

    def _items(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.app
        assert isinstance(app, QuizzerApp)
        if app.library is None:
            return []
        items: list[tuple[str, Callable[[], object], str]] = []
        for loaded in app.library.decks:
            deck = loaded.deck
            review = partial(app.start_review, [deck.id])
            title = escape(deck.title)  # the palette reads its items as markup
            items.append((f"Review {title}", review, f"Start a session on {deck.id}"))
            items.append((f"Browse {title}", partial(app.open_browser, f"deck:{deck.id}"), f"Cards of {deck.id}"))
        for loaded in app.library.decks:
            for card in loaded.deck.cards:
                key = f"{loaded.deck.id}/{card.id}"
                about = escape(card.source) or "open in the browser"
                items.append((f"Card {key}", partial(app.open_browser, key), about))
        return items

    async def discover(self) -> Hits:
        for text, callback, help_text in self._items():
            if text.startswith("Review"):
                yield DiscoveryHit(text, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, callback, help_text in self._items():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, help=help_text)


class QuizzerApp(App[None]):
    """Spaced-repetition review whose answers are verified by code."""

    CSS_PATH = Path(__file__).with_name("quizzer.tcss")
    """The first screen's rules (the decks screen, `quizzer cram`'s opening screen): parsed before the first frame."""
    SCREENS_CSS_PATH = Path(__file__).with_name("screens.tcss")
    """Every other screen's rules, read by `load_screens_css` after the first screen is ready."""
    TITLE = "quizzer"
    SUB_TITLE = "answers verified by code"
    COMMANDS = App.COMMANDS | {DeckCommands}
    ALLOW_IN_MAXIMIZED_VIEW = "KeyFooter"  # the key bar stays under a maximized widget, as Textual's Footer does
    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    verification_generation: reactive[int] = reactive(0, init=False)
    """Bumped whenever badges may have changed (screens watch it)."""
    data_generation: reactive[int] = reactive(0, init=False)
    """Bumped whenever answers or card states changed (screens watch it to refresh counts)."""

    def __init__(
        self,
        db: Path | str | None = None,
        decks: Sequence[Path | str] | None = None,
        *,
        today: date | None = None,
        clock: Callable[[], datetime] | None = None,
        limits: Limits | None = None,
        custom: CustomStudy | None = None,
        auto_verify: bool = True,
        ready_file: str | None = None,
        bundled: Path | str | None = None,
    ):
        super().__init__()
        self.db_path = Path(db).expanduser() if db else default_db()
        self.bundled = Path(bundled) if bundled else bundled_decks()
        self.deck_paths = [Path(p) for p in decks] if decks else [self.bundled]
        self.fixed_day = today
        self.calendar = StudyDay(fixed=today)  # the rollover hour set in the settings replaces it on load
        self.clock = clock or (lambda: datetime.now().astimezone())
        self.limits = limits or Limits()
        self.custom = custom
        self._day_seen: date | None = None
        self.auto_verify = auto_verify
        self.ready_file = ready_file
        self.library: Library | None = None
        """The decks loaded whole (their cards can be built): None until then."""
        self.listing: Library | None = None
        """What the decks screen shows: the library, or before it, the decks listed from their cached headers."""
        self.store: Store | None = None
        self._verify_tasks: set[asyncio.subprocess.Process] = set()
        self._keys_started = False
        self._waiting_for_decks: list[Callable[[], object]] = []
        self._memory_settled = False
        self._screens_css_loaded = False

    # ------------------------------------------------------------------ start-up

    def get_default_screen(self) -> Screen:
        if self.custom is not None:  # `quizzer cram`: its sitting is the first screen, the decks come after it
            from quizzer.review.tui.screens.opening import OpeningScreen

            return OpeningScreen("the cram session" if self.custom.kind == "cram" else "review ahead")
        return DecksScreen()

    @property
    def today(self) -> date:
        """The study day now: it rolls over at the rollover hour while the app runs."""
        return self.calendar.of(self.clock())

    def on_mount(self) -> None:
        self._exit_on_hangup_and_terminate()
        if not self._list_cached_decks():
            self.load_library()
        self.set_interval(DAY_CHECK_SECONDS, self.check_day)

    def _list_cached_decks(self) -> bool:
        """List the decks now, on the UI thread before the first frame, when that is quick: the database
        exists and every deck file matches its deck-cache entry, so only entries' headers are read (about
        5 ms on the bundled decks, 0.1 s on 100,000 cards). Else (first launch, an edited deck, a fault)
        False: `load_library` does it all in its worker, which also reports the fault.

        In a worker, the listing came after the first frame: the worker waited for the interpreter lock
        each time it came back from reading a file while the UI thread composed, and the screen was
        drawn twice, before and after the counts. The integrity check (linear in the file's size) is
        left to a worker started once the decks screen is ready (`check_store`).
        """
        if not self.db_path.is_file():
            return False
        try:
            store = Store.open(self.db_path)
        except Exception:
            return False
        try:
            listing = Library.load(store, self.deck_paths, bundled=self.bundled, from_headers=True, cached_only=True)
            theme = store.setting(THEME_SETTING)
            calendar = StudyDay.from_store(store, self.fixed_day)
            synced = all(in_sync(store, loaded.deck) for loaded in listing.decks)
        except Exception:  # NotCached (a deck to parse), or a fault the worker meets again and reports
            synced = False
        if not synced:  # or card rows to write: the worker checks the file's integrity before any write
            store.close()
            return False
        self._listing_loaded(listing, theme, calendar)
        return True

    def _exit_on_hangup_and_terminate(self) -> None:
        """Closing the terminal (SIGHUP) or `kill` (SIGTERM) leaves through Textual's own exit: the terminal
        gets its screen, cursor and mouse back and background verification is stopped, as on ctrl+q.
        The exit code is the shell's for that signal (129, 143). Answers are already written per grade."""
        if self.is_headless:  # pilot tests: the test runner's signals stay its own
            return
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            loop.add_signal_handler(sig, partial(self.exit, return_code=128 + sig))

    def check_day(self) -> None:
        """A new study day has begun while the app was open: counts, due cards and limits are the new day's."""
        today = self.today
        if self._day_seen is not None and today != self._day_seen:
            self.data_generation += 1
            self.notify(f"A new study day has begun ({today:%A %d %B}).", title="New day")
        self._day_seen = today

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load_library(self) -> None:
        """The store, and the decks as far as the decks screen needs (cached decks: their headers alone),
        when `_list_cached_decks` could not list them.

        The deck models (pydantic) are imported only when a deck must be parsed: for cached decks, by
        `compute_cache_keys` after the first frame, which loads them whole.
        """
        store = Store.open(self.db_path)
        try:
            store.check_integrity()  # here, off the UI thread, rather than before the first answer
            listing = Library.load(store, self.deck_paths, bundled=self.bundled, from_headers=True)
            theme = store.setting(THEME_SETTING)
            calendar = StudyDay.from_store(store, self.fixed_day)
        except BaseException:
            store.close()
            raise
        self.call_from_thread(self._listing_loaded, listing, theme, calendar)

    @work(thread=True, group="load", exit_on_error=False)
    def check_store(self) -> None:
        """The database's integrity check, when `_list_cached_decks` left it (a fault ends the app as a load
        worker's does). Writes run it first; here it is done before the learner's first answer."""
        assert self.store is not None
        self.store.check_integrity()

    def _listing_loaded(self, listing: Library, theme: str | None, calendar: StudyDay) -> None:
        self.listing = listing
        self.store = listing.store
        self.calendar = calendar
        self._day_seen = self.today
        if theme and theme in self.available_themes and theme != self.theme:
            self.theme = theme
        if listing.whole:
            self._library_loaded(listing)
        else:
            self.data_generation += 1
            if self.custom is not None and not self._keys_started:  # the sitting needs the decks whole now
                self._keys_started = True
                self.check_store()
                self.compute_cache_keys()

    def _library_loaded(self, library: Library) -> None:
        self.library = self.listing = library
        self.data_generation += 1
        if self.custom is not None:
            custom, self.custom = self.custom, None
            self.start_review(None, custom=custom)
        waiting, self._waiting_for_decks = self._waiting_for_decks, []
        for action in waiting:
            action()

    def _decks_whole(self, action: Callable[[], object]) -> bool:
        """Whether the decks are loaded whole. While the decks screen shows them from their cached headers
        only, `action` (what a key asked for) is run as soon as they are, instead of being lost."""
        if self.library is None and self.listing is not None:
            self._waiting_for_decks.append(action)
        return self.library is not None

    def on_input_changed(self, event: Input.Changed) -> None:
        """No box shows a control character: a paste can hold ESC or CR, which Textual would pass on to the
        terminal as it draws the box (answers, the browser's search, the settings' fields)."""
        if UNSAFE.search(event.value):
            event.input.value = UNSAFE.sub("", event.value)

    def on_worker_state_changed(self, event) -> None:
        from textual.worker import WorkerState

        if event.worker.group == "load" and event.state == WorkerState.ERROR:
            self._handle_exception(event.worker.error, in_worker=True)

    def _handle_exception(self, error: Exception, *, in_worker: bool = False) -> None:
        """A fault of the state database ends the app with its one sentence and exit code 1, no traceback.

        (Textual calls this for any unhandled exception; everything else keeps Textual's report.)
        """
        if isinstance(error, sqlite3.Error | StoreError | OSError):
            message = f"quizzer: {explain_failure(self.db_path, error)}"
            if in_worker:  # after the next refresh: exiting while the first screen still mounts tripped its header
                self.call_after_refresh(self.exit, message=message, return_code=1)
            else:  # raised in a handler, whose message loop Textual has stopped: that screen refreshes no more
                self.call_later(self.exit, message=message, return_code=1)
        else:
            super()._handle_exception(error)

    def decks_ready(self) -> None:
        """Called by the decks screen once it shows counts (the start-up benchmark's finish line).

        Only then do the verification cache keys get computed (they read every verifier file), so that
        work never delays the first useful screen.
        """
        if self.ready_file:
            Path(self.ready_file).write_text(repr(time.time()))
            self.exit()
        elif not self._keys_started:
            self._keys_started = True
            self.load_screens_css()
            self.check_store()
            self.compute_cache_keys()

    def load_screens_css(self) -> None:
        """Read the other screens' stylesheet (`SCREENS_CSS_PATH`), once: when the decks screen is ready, or
        before another screen is first shown (`push_screen`), whichever comes first.

        Parsing it before the first frame cost about 8 ms of the start-up for rules the first screen does
        not use. Its rules come after `CSS_PATH`'s, as when the two were one file. The nodes already
        mounted are not styled again (a restyle would redraw the whole decks screen): no rule of it
        matches the first screens' nodes, which a pilot test checks.
        """
        if self._screens_css_loaded:
            return
        self._screens_css_loaded = True
        self.stylesheet.read(self.SCREENS_CSS_PATH)
        self.stylesheet.parse()  # now: `read` alone leaves the stylesheet's selector map without the new rules
        if self.css_monitor is not None:  # `textual run --dev`: edits to it reload too
            self.css_monitor.add_paths([self.SCREENS_CSS_PATH])

    def push_screen(self, screen, *args, **kwargs):
        self.load_screens_css()
        return super().push_screen(screen, *args, **kwargs)

    def watch_theme(self, theme: str) -> None:
        if self.store is not None and self.store.setting(THEME_SETTING) != theme:  # not the one just read from it
            self.store.set_setting(THEME_SETTING, theme)

    # ------------------------------------------------------------------ verification

    @work(thread=True, exclusive=True, group="cache-keys")
    def compute_cache_keys(self) -> None:
        """The verification cache keys; first, if the decks screen was drawn from cached headers, the decks whole."""
        library = self.library
        if library is None:
            assert self.listing is not None
            library = self.listing.loaded_whole(self.deck_paths)
            self.call_from_thread(self._library_loaded, library)
        keys = library.compute_cache_keys()
        self.call_from_thread(self._cache_keys_ready, keys)
        _warm_up()
        self.call_from_thread(self._settle_memory)

    def _settle_memory(self) -> None:
        """Move everything alive after start-up (modules, styles, decks) out of the garbage collector's way.

        A review allocates heavily (Markdown blocks per card); each full collection then walked ~200k
        start-up objects and paused the UI for 0.1–0.3 s about once per card. Frozen, they are skipped.
        The first time, what `quizzer.review.tui.run` froze before the first frame is unfrozen first, so
        that this collection also frees the garbage made before that freeze; later (after an edit) only
        what came since is walked.
        """
        if not self._memory_settled:
            self._memory_settled = True
            gc.unfreeze()
        gc.collect()
        gc.freeze()

    def _cache_keys_ready(self, keys: dict[str, str]) -> None:
        assert self.library is not None
        self.library.cache_keys = keys
        self.verification_generation += 1
        if self.auto_verify:
            pending = self.library.needing_verification()
            if pending:
                self.run_verify(pending)

    def verify_stale(self) -> None:
        """Verify every missing or stale card of the trusted decks now."""
        if self.library is None or self.library.cache_keys is None:
            self.notify("Still reading the decks; try again in a moment.")
            return
        pending = [key for key in self.library.needing_verification() if key not in self.library.verifying]
        if not pending:
            self.notify("Every card of the trusted decks has a current verification.")
            return
        self.run_verify(pending)

    def reverify(self, key: str, *, announce: bool = True) -> str:
        """Run one card's verifier again (ignoring the cache), if its deck is trusted; what happened, in a sentence.

        `announce=False`: the caller shows the sentence where the learner is looking (the review screen's hint).
        """
        assert self.library is not None
        loaded = self.library.loaded_for(key)
        card = loaded.deck.card(key.partition("/")[2])
        if not card.verifier:
            message, severity = "This card has no verifier.", "warning"
        elif not self.library.trusted(loaded):
            project = project_of(loaded.path)
            message, severity = (
                f"The deck project {project} is not trusted, so quizzer does not run its verifiers."
                f" To trust it: `{trust_command(project)}`",
                "warning",
            )
        elif key in self.library.verifying:
            message, severity = "Already verifying this card.", "information"
        else:
            self.run_verify([key], no_cache=True)
            message, severity = f"⟳ Re-verifying {key}: the verification below updates when it finishes.", "information"
        if announce:
            self.notify(message, severity=severity, timeout=8)
        return message

    @work(group="verify", exit_on_error=False)
    async def run_verify(self, keys: list[str], no_cache: bool = False) -> None:
        """`quizzer verify` in a subprocess; polls the store so each badge updates when its result lands."""
        library = self.library
        assert library is not None
        keys = [key for key in keys if key not in library.verifying]
        if not keys:
            return
        library.verifying |= set(keys)
        library.attempted |= set(keys)
        self.verification_generation += 1
        command = library.verify_command(keys, db=self.db_path, no_cache=no_cache)
        started = {key: library.records.get(key) for key in keys}
        env = {k: v for k, v in os.environ.items() if not k.startswith("QUIZZER_TUI_")}
        process: asyncio.subprocess.Process | None = None
        stderr = b""
        try:
            process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                start_new_session=True,  # the terminal's signals are the app's; it stops verify itself
            )
            self._verify_tasks.add(process)
            communicate = asyncio.ensure_future(process.communicate())
            while True:
                done, _ = await asyncio.wait({communicate}, timeout=POLL_SECONDS)
                self._collect_results(keys, started)
                if done:
                    stderr = communicate.result()[1] or b""
                    break
        except OSError as error:
            stderr = str(error).encode()
        finally:
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.terminate()
            self._verify_tasks.discard(process)
            library.verifying -= set(keys)
            library.reload_records()
            self.verification_generation += 1
        code = process.returncode if process is not None else None
        if code not in (0, 1):
            tail = stderr.decode(errors="replace").strip().splitlines()[-3:]
            self.notify(
                f"`quizzer verify` stopped ({'exit code ' + str(code) if code is not None else 'did not start'})"
                + (":\n" + "\n".join(tail) if tail else ""),
                title="Verification",
                severity="error",
                timeout=10,
                markup=False,  # quizzer verify's words: a path or a deck's text is no markup
            )
        else:
            failed = [key for key in keys if library.verification(key).badge == "failed"]
            if failed:
                self.notify(
                    f"{len(failed)} of {len(keys)} verified card(s) failed: " + ", ".join(failed[:3]),
                    title="Verification",
                    severity="warning",
                )
            stopped = [library.verification(key) for key in keys]
            stopped = [verification for verification in stopped if verification.badge == "interrupted"]
            if stopped:
                self.notify(
                    f"{len(stopped)} of {len(keys)} card(s) could not be verified (not a verdict on their answers): "
                    + ", ".join(f"{verification.key} {verification.stopped}" for verification in stopped[:3]),
                    title="Verification",
                    severity="warning",
                    markup=False,  # what stopped a verifier can quote its message
                )

    def _collect_results(self, keys: Iterable[str], started: dict) -> None:
        library = self.library
        assert library is not None
        changed = library.reload_records() & set(keys)
        landed = {key for key in changed if library.records.get(key) != started.get(key)}
        if landed:
            library.verifying -= landed
            self.verification_generation += 1

    async def on_unmount(self) -> None:
        for process in list(self._verify_tasks):
            with contextlib.suppress(ProcessLookupError):
                process.terminate()

    # ------------------------------------------------------------------ navigation

    def start_review(self, deck_ids: Sequence[str] | None = None, *, custom: CustomStudy | None = None) -> None:
        """Open a sitting on the given decks (default: all of them): the day's reviews, or custom study.

        When the day holds nothing there, offer custom study instead (cram, review ahead).
        """
        from quizzer.review.tui.screens.custom import CustomStudyScreen
        from quizzer.review.tui.screens.review import ReviewScreen

        if not self._decks_whole(partial(self.start_review, deck_ids, custom=custom)) or self.store is None:
            return
        assert self.library is not None
        decks = [loaded.deck for loaded in self.library.decks if deck_ids is None or loaded.deck.id in deck_ids]
        session = Session(self.store, decks, self.today, self.limits, calendar=self.calendar, custom=custom)
        if type(self.screen).__name__ == "OpeningScreen":
            self.push_screen(DecksScreen())  # under the sitting: ending it goes back to the decks
        if session.current is None:
            if custom is None:
                self.push_screen(CustomStudyScreen([deck.id for deck in decks], nothing_due=True))
            else:
                what = f"falls due in the next {custom.days} days" if custom.kind == "ahead" else "matches"
                self.notify(f"No card there {what}.", title="Custom study")
            return
        kind = custom.kind if custom else None
        title = _session_title(decks) + {None: "", "cram": " · cram", "ahead": " · review ahead"}[kind]
        self.push_screen(ReviewScreen(session, title=title, deck_ids=[deck.id for deck in decks]))

    def action_custom_study(self, deck_ids: Sequence[str] | None = None) -> None:
        from quizzer.review.tui.screens.custom import CustomStudyScreen

        if self._decks_whole(partial(self.action_custom_study, deck_ids)):
            assert self.library is not None
            ids = list(deck_ids) if deck_ids else [loaded.deck.id for loaded in self.library.decks]
            self.push_screen(CustomStudyScreen(ids))

    def action_settings(self) -> None:
        from quizzer.review.tui.screens.settings import SettingsScreen

        if self._decks_whole(self.action_settings):
            self.push_screen(SettingsScreen())

    def edit_card(self, key: str) -> LoadedDeck | None:
        """Open $VISUAL / $EDITOR (else vi) at the card's line in its deck file, then reload the deck.

        Returns the reloaded deck, or None when nothing changed hands: the edit broke the deck (its
        problems are shown; the app keeps the version it had, and `e` edits again), the file's bytes
        are the same as before (the editor quit without saving a change), or no editor ran.
        """
        from quizzer.cards.loader import DeckError, card_line, load_deck

        assert self.library is not None
        loaded = self.library.loaded_for(key)
        command = editor_command(loaded.path, card_line(loaded, key.partition("/")[2]))
        before = _file_bytes(loaded.path)
        try:
            self.run_editor(command)
        except (OSError, SuspendNotSupported) as error:
            message = f"Cannot run the editor `{command[0]}`: {error}. Set $EDITOR."
            self.notify(message, title="Edit", severity="error", markup=False)
            return None
        if before is not None and _file_bytes(loaded.path) == before:
            self.notify("The deck file is unchanged: nothing was edited.", title="Edit", markup=False)
            return None
        try:
            edited = load_deck(loaded.path, check_verifiers=False)
        except DeckError as error:
            shown = [str(problem) for problem in error.problems[:5]]
            more = len(error.problems) - len(shown)
            self.notify(
                "\n".join(shown)
                + (f"\n… and {more} more" if more else "")
                + "\nThe app keeps the deck as it was before the edit; press e to fix the file.",
                title="The edit broke the deck",
                severity="error",
                timeout=20,
                markup=False,  # the problems quote the deck
            )
            return None
        if edited.deck.id != loaded.deck.id:
            self.notify(
                f"The deck id changed ({loaded.deck.id} → {edited.deck.id}): progress is keyed by it, so the app"
                " keeps the deck as it was; restart quizzer to open it under its new id.",
                title="Edit",
                severity="warning",
                timeout=12,
            )
            return None
        self.library.replace(edited)
        self.answered()
        if self.library.cache_keys is not None:
            self.compute_cache_keys()  # edited cards are stale until re-verified
        return edited

    def run_editor(self, command: list[str]) -> None:
        """Run the editor in the terminal, the app suspended meanwhile (Textual's `App.suspend`)."""
        with self.suspend():
            subprocess.run(command, check=False)

    def settings_changed(self) -> None:
        """The settings screen saved: the rollover hour and limits take effect now."""
        assert self.store is not None
        self.calendar = StudyDay.from_store(self.store, self.fixed_day)
        self._day_seen = self.today
        self.data_generation += 1

    def open_browser(self, query: str = "") -> None:
        from quizzer.review.tui.screens.browser import BrowserScreen

        if self._decks_whole(partial(self.open_browser, query)):
            self.push_screen(BrowserScreen(query))

    def action_statistics(self) -> None:
        from quizzer.review.tui.screens.stats import StatsScreen

        if self._decks_whole(self.action_statistics):
            self.push_screen(StatsScreen())

    def action_browse(self) -> None:
        self.open_browser()

    def get_key_display(self, binding: Binding) -> str:
        """Help's key as it works where the focus is: in a text box `?` is typed into the answer, so the bar
        says F1 there (the other key of the binding)."""
        if binding.action == "help" and isinstance(self.focused, Input):
            return "F1"
        return super().get_key_display(binding)

    def action_help(self) -> None:
        from quizzer.review.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Review all", "Review every due card of every deck", self.start_review)
        yield SystemCommand("Statistics", "Reviews per day, forecast, retention, ease", self.action_statistics)
        yield SystemCommand("Browse cards", "Search cards; schedule, history, suspend, reset", self.action_browse)
        yield SystemCommand("Custom study", "Cram decks, a tag or a search; review ahead", self.action_custom_study)
        yield SystemCommand("Settings", "The day's rollover hour; daily limits per deck", self.action_settings)
        yield SystemCommand("Verify stale cards", "Run `quizzer verify` on missing or stale cards", self.verify_stale)
        yield SystemCommand("Help", "Keys, grades and verification badges", self.action_help)

    def answered(self) -> None:
        """A screen recorded, undid or changed something: counts elsewhere must refresh."""
        self.data_generation += 1


def editor_command(path: Path, line: int) -> list[str]:
    """$VISUAL, else $EDITOR, else vi, opening `path` at `line` (`+N`: vi, vim, nano, emacs, micro, helix...)."""
    editor = shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi") or ["vi"]
    if Path(editor[0]).name in ("code", "codium"):  # a GUI editor: wait for the file to be closed
        return [*editor, *(["--wait"] if "--wait" not in editor else []), "--goto", f"{path}:{line}"]
    return [*editor, f"+{line}", str(path)]


def _warm_up() -> None:
    """Load what the first reveal needs (LaTeX converter, highlighter, plots) while the learner reads."""
    from textual.highlight import highlight

    import quizzer.review.tui.widgets.plots  # noqa: F401  (textual-plotext: 0.1 s on a first verifier plot)
    from quizzer.review.tui.widgets.mathmd import prepare

    prepare(r"$\frac{\partial L}{\partial w}$")
    highlight("x = [1]", language="python")


def _session_title(decks) -> str:
    if len(decks) == 1:
        return decks[0].title
    return f"{len(decks)} decks"


def _file_bytes(path) -> bytes | None:
    """The deck file as it is now (compared before and after an edit), or None if it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError:
        return None
