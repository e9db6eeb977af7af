"""Pilot tests of the app's start-up: the decks screen drawn from cached headers, the decks loaded whole after."""

from __future__ import annotations

import threading

from test_tui import DECKS, NOW, SIZE, TODAY, async_test, make_app, seed, settle

from quizzer.cards.deckfiles import deck_files
from quizzer.cards.loader import load_deck
from quizzer.review.session import sync_deck
from quizzer.review.tui.library import Library
from quizzer.store import Store


@async_test
async def test_a_key_pressed_before_the_decks_are_loaded_whole_is_not_lost(tmp_path, monkeypatch):
    """The counts are on screen before the decks are loaded whole: Enter then opens the review once they are."""
    from quizzer.review.tui.screens.decks import DecksScreen
    from quizzer.review.tui.screens.review import ReviewScreen

    monkeypatch.setenv("QUIZZER_HOME", str(tmp_path / "home"))
    for path in deck_files([DECKS]):
        load_deck(path, check_verifiers=False)  # cached: the app lists them from their headers
    release = threading.Event()
    load_whole = Library.loaded_whole

    def held(self, paths):
        release.wait(30)
        return load_whole(self, paths)

    monkeypatch.setattr(Library, "loaded_whole", held)
    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(100):
            await pilot.pause(0.02)
            if isinstance(app.screen, DecksScreen) and app.screen.outlooks:
                break
        assert app.listing is not None and not app.listing.whole and app.library is None
        assert [row.due for row in app.screen.outlooks if row.deck == "basics"] == [1]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DecksScreen)  # waiting for the decks, the key kept
        release.set()
        await settle(pilot)
        assert app.library is not None and app.library.whole
        assert isinstance(app.screen, ReviewScreen) and app.screen.item.key == "basics/sum"


def _cache_decks(tmp_path, monkeypatch, folder=DECKS) -> None:
    monkeypatch.setenv("QUIZZER_HOME", str(tmp_path / "home"))
    for path in deck_files([folder]):
        load_deck(path, check_verifiers=False)


def _watch_start(monkeypatch) -> tuple[list, list]:
    """What the app had when the decks screen mounted (listing, store), and each start of the load worker."""
    from quizzer.review.tui.app import QuizzerApp
    from quizzer.review.tui.screens.decks import DecksScreen

    mounted, started = [], []
    on_mount, load_library = DecksScreen.on_mount, QuizzerApp.load_library

    def watched_mount(self) -> None:
        mounted.append((self.app.listing is not None, self.app.store is not None))
        on_mount(self)

    def watched_load(self):
        started.append(True)
        return load_library(self)

    monkeypatch.setattr(DecksScreen, "on_mount", watched_mount)
    monkeypatch.setattr(QuizzerApp, "load_library", watched_load)
    return mounted, started


@async_test
async def test_cached_decks_are_listed_before_the_decks_screen_mounts_without_the_load_worker(tmp_path, monkeypatch):
    """Every deck in the deck cache and the database there: the listing is read on the UI thread before the
    first frame (no loading indicator, counts in the first frame); the integrity check still runs, after."""
    from textual.widgets import LoadingIndicator

    from quizzer.store import Store

    _cache_decks(tmp_path, monkeypatch)
    mounted, started = _watch_start(monkeypatch)
    checked = []
    check_integrity = Store.check_integrity

    def watched_check(self) -> None:
        checked.append(threading.current_thread() is threading.main_thread())
        check_integrity(self)

    db = tmp_path / "q.db"
    seed(db)
    with Store.open(db) as store:  # both decks' card rows there, as after a first launch: nothing to write
        sync_deck(store, load_deck(DECKS / "extra.toml").deck)
    monkeypatch.setattr(Store, "check_integrity", watched_check)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert mounted == [(True, True)] and not started
        assert not app.screen.query(LoadingIndicator)
        assert [row.due for row in app.screen.outlooks if row.deck == "basics"] == [1]
        assert checked[:1] == [False], "the integrity check ran first, in a worker"


@async_test
async def test_a_deck_missing_from_the_cache_is_listed_by_the_load_worker(tmp_path, monkeypatch):
    """One deck file without its cache entry (new, or edited): nothing is parsed on the UI thread; the load
    worker lists every deck after the first frame, as on a first launch."""
    from quizzer.cards import loader

    monkeypatch.setenv("QUIZZER_HOME", str(tmp_path / "home"))
    db = tmp_path / "q.db"
    seed(db)  # caches basics.toml only
    _, started = _watch_start(monkeypatch)
    parsed = []
    load = loader.load_deck

    def watched_load(path, *args, **kwargs):
        parsed.append((path.name, threading.current_thread() is threading.main_thread()))
        return load(path, *args, **kwargs)

    monkeypatch.setattr(loader, "load_deck", watched_load)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert started == [True]
        assert ("extra.toml", False) in parsed and not any(on_ui for _, on_ui in parsed), parsed
        assert {row.deck for row in app.screen.outlooks} == {"basics", "extra"}
        assert [row.due for row in app.screen.outlooks if row.deck == "basics"] == [1]


@async_test
async def test_a_theme_read_from_the_store_is_not_written_back(tmp_path, monkeypatch):
    """The theme chosen in an earlier run is applied at start without a write (a write would also run the
    integrity check on the UI thread); choosing another one is saved."""
    from quizzer.store import Store

    db = tmp_path / "q.db"
    seed(db)
    with Store.open(db) as store:
        store.set_setting("tui.theme", "nord")
    written = []
    set_setting = Store.set_setting

    def watched(self, key, value):
        written.append((key, value))
        set_setting(self, key, value)

    monkeypatch.setattr(Store, "set_setting", watched)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == "nord" and written == []
        app.theme = "gruvbox"
        await pilot.pause()
        assert written == [("tui.theme", "gruvbox")]


@async_test
async def test_the_key_bar_keeps_its_keys_when_a_rebuild_would_show_the_same(tmp_path, monkeypatch):
    """The key bar is one widget with no children (Textual's Footer mounted a widget per key and rebuilt them
    on every change of the bindings, keeping every old key alive). A bindings refresh that leaves the keys
    as they are lays nothing out anew; a width that fits fewer keys lays out fewer, and mounts nothing."""
    from textual.widget import Widget

    from quizzer.review.tui.widgets.footer import KeyFooter

    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(KeyFooter)
        keys = footer.keys
        assert len(keys) > 5 and not footer.children
        laid_out, mounted = [], []
        lay_out, mount = KeyFooter._lay_out, Widget.mount
        monkeypatch.setattr(KeyFooter, "_lay_out", lambda bar: laid_out.append(bar) or lay_out(bar))
        monkeypatch.setattr(Widget, "mount", lambda widget, *a, **kw: mounted.append(widget) or mount(widget, *a, **kw))
        app.screen.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert footer.keys == keys and not laid_out
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        await pilot.pause()
        narrow = footer.keys
        assert footer.compact and len(narrow) < len(keys) and laid_out
        assert [key.action for key in narrow] == [key.action for key in keys][: len(narrow)]
        assert footer not in mounted and not footer.children


@async_test
async def test_the_decks_screen_is_ready_after_a_frame_that_showed_its_counts_and_its_keys(tmp_path, monkeypatch):
    """`decks_ready`, the start-up benchmark's finish line, comes once a frame written to the terminal (not in
    a batch: Textual writes nothing then) showed the day's counts, the table's rows and the key bar."""
    from textual._compositor import LayoutUpdate
    from textual.app import App

    from quizzer.review.tui.app import QuizzerApp

    _cache_decks(tmp_path, monkeypatch)
    frames, at_ready = [], []
    display, decks_ready = App._display, QuizzerApp.decks_ready

    def recorded(self, screen, renderable):
        if isinstance(renderable, LayoutUpdate) and not self._batch_count:
            frames.append(["".join(segment.text for strip in line for segment in strip) for line in renderable.strips])
        return display(self, screen, renderable)

    def ready(self):
        at_ready.append(list(frames))
        decks_ready(self)

    monkeypatch.setattr(App, "_display", recorded)
    monkeypatch.setattr(QuizzerApp, "decks_ready", ready)
    db = tmp_path / "q.db"
    seed(db)
    with Store.open(db) as store:  # both decks' card rows there: listed before the first frame
        sync_deck(store, load_deck(DECKS / "extra.toml").deck)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert at_ready, "the decks screen said it was ready"
        shown = at_ready[0]
        assert shown, "a frame was written before the ready point"
        assert any(
            "to review" in "".join(lines)
            and any(line.startswith(" ? Help ") for line in lines)
            and any("Basics" in line for line in lines)
            for lines in shown
        ), shown[-1]


@async_test
async def test_a_folder_without_decks_says_so_instead_of_crashing(tmp_path, monkeypatch):
    from quizzer.review.tui.app import QuizzerApp
    from quizzer.review.tui.screens.decks import DecksScreen

    monkeypatch.setenv("QUIZZER_HOME", str(tmp_path / "home"))
    empty = tmp_path / "empty"
    empty.mkdir()
    app = QuizzerApp(tmp_path / "q.db", [empty], today=TODAY, clock=lambda: NOW, auto_verify=False, bundled=empty)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DecksScreen) and app.return_code is None
        assert "No decks found" in str(app.screen.query_one("#empty-state").render())
        await pilot.resize_terminal(60, 20)
        await settle(pilot)
        assert "No decks found" in str(app.screen.query_one("#empty-state").render())


@async_test
async def test_the_decks_screen_is_styled_once_and_only_the_browser_gets_a_width_class(tmp_path, monkeypatch):
    """Only the browser's layout depends on the width class (-narrow / -wide at 96 columns). Set on the app,
    every screen got it at its first resize, after its first frame: the decks screen's styles were all
    applied again at start-up and the whole screen drawn a second time. Nor is the decks screen, the first
    one shown, restyled whole on its first resume (Textual's default): its nodes were styled as they
    mounted. Each node is styled once, but for a change of its own (the table's focus, the palette key or
    the narrow key bar made compact)."""
    from collections import Counter

    from textual.app import App
    from textual.css.stylesheet import Stylesheet

    from quizzer.review.tui.screens.browser import BrowserScreen
    from quizzer.review.tui.screens.decks import DecksScreen

    styled, applied = [], Counter()
    update_styles, apply = App.update_styles, Stylesheet.apply

    def watched(self, node=None, animate=True):
        styled.append(node)
        return update_styles(self, node, animate)

    def counted(self, node, *args, **kwargs):
        applied[id(node)] += 1
        return apply(self, node, *args, **kwargs)

    monkeypatch.setattr(App, "update_styles", watched)
    monkeypatch.setattr(Stylesheet, "apply", counted)
    for width, height, width_class in [(100, 30, "-wide"), (60, 20, "-narrow")]:
        styled.clear()
        applied.clear()
        db = tmp_path / f"q{width}.db"
        seed(db)
        app = make_app(db)
        async with app.run_test(size=(width, height)) as pilot:
            await settle(pilot)
            decks = app.screen
            assert isinstance(decks, DecksScreen)
            assert [node for node in styled if node is decks] == [], "not restyled whole"
            nodes = list(decks.walk_children(with_self=True))
            names = sorted(type(node).__name__ for node in nodes)  # every node the screen composes
            assert names == sorted(["DecksScreen", "TitleBar", "Vertical", "ListTable", "KeyFooter", *["Static"] * 4])
            assert all(1 <= applied[id(node)] <= 2 for node in nodes), [(node, applied[id(node)]) for node in nodes]
            again = {node for node in nodes if applied[id(node)] == 2}
            own_change = {decks.query_one("#deck-table")} | set(decks.query(".-command-palette, KeyFooter.-compact"))
            assert again <= own_change, again - own_change
            assert not decks.classes & {"-narrow", "-wide"}
            await pilot.press("b")
            await settle(pilot)
            assert isinstance(app.screen, BrowserScreen) and width_class in app.screen.classes


def test_run_freezes_what_the_imports_built_before_the_first_frame(tmp_path, monkeypatch):
    """`quizzer review` freezes the objects alive before `App.run`, so that no full collection walks them
    while the first screen is drawn."""
    import gc

    from quizzer.review import tui
    from quizzer.review.tui.app import QuizzerApp

    frozen_at_run = []

    def fake_run(self, *args, **kwargs):
        frozen_at_run.append(gc.get_freeze_count())

    monkeypatch.setattr(QuizzerApp, "run", fake_run)
    gc.unfreeze()
    try:
        assert tui.run(tmp_path / "q.db", [DECKS]) == 0
    finally:
        gc.unfreeze()
    assert len(frozen_at_run) == 1 and frozen_at_run[0] > 10_000


@async_test
async def test_the_first_settle_frees_the_garbage_frozen_at_start_up_and_later_ones_walk_only_the_new(tmp_path):
    """Garbage made before `run`'s freeze is collected once the app has started (the first settle unfreezes);
    a later settle (after an edit) leaves what is frozen alone, as a full walk would pause the screen."""
    import gc
    import weakref

    class Cycle:
        pass

    def garbage() -> weakref.ref:
        cycle = Cycle()
        cycle.me = cycle
        return weakref.ref(cycle)

    before_start = garbage()
    gc.freeze()
    try:
        db = tmp_path / "q.db"
        seed(db)
        app = make_app(db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app._memory_settled
            assert before_start() is None, "the garbage frozen before start-up is freed"
            frozen_later = garbage()
            gc.freeze()
            app._settle_memory()
            assert frozen_later() is not None, "a later settle does not unfreeze"
    finally:
        gc.unfreeze()


def _screens_css_rules(app):
    """The rule sets of the other screens' stylesheet (screens.tcss), parsed on their own."""
    from textual.css.stylesheet import Stylesheet

    sheet = Stylesheet(variables=app.get_css_variables())
    sheet.add_source(app.SCREENS_CSS_PATH.read_text(), read_from=(str(app.SCREENS_CSS_PATH), ""))
    sheet.parse()
    return sheet.rules


@async_test
async def test_the_other_screens_stylesheet_comes_after_the_first_frame_and_touches_no_first_screen_node(
    tmp_path,
):
    """screens.tcss is not parsed before the decks screen is ready, and none of its rules matches a node of
    the decks screen or of `quizzer cram`'s opening screen: those nodes are styled before it is read and not
    again when it is (a restyle would redraw the whole screen). A rule for them belongs in quizzer.tcss."""
    from textual.css.match import match

    from quizzer.review.session import CustomStudy
    from quizzer.review.tui.screens.decks import DecksScreen
    from quizzer.review.tui.screens.opening import OpeningScreen

    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    read = []
    async with app.run_test(size=SIZE) as pilot:
        original_read = app.stylesheet.read

        def watched_read(path):
            read.append((path, app.listing is not None and isinstance(app.screen, DecksScreen) and app.screen.outlooks))
            return original_read(path)

        app.stylesheet.read = watched_read
        await settle(pilot)
        assert isinstance(app.screen, DecksScreen) and app._screens_css_loaded
        assert [path for path, _ in read] == [app.SCREENS_CSS_PATH] and read[0][1], "read once, after the counts"
        rules = _screens_css_rules(app)
        assert len(rules) > 50
        for node in app.screen.walk_children(with_self=True):
            assert not [rule.selector_set for rule in rules if match(rule.selector_set, node)], node

    opening = make_app(tmp_path / "cram.db", custom=CustomStudy("cram", keys=frozenset({"basics/sum"})))
    seen = []
    original_load = opening.load_screens_css

    def before_load() -> None:
        if isinstance(opening.screen, OpeningScreen) and not seen:
            seen.extend(opening.screen.walk_children(with_self=True))
        original_load()

    opening.load_screens_css = before_load
    async with opening.run_test(size=SIZE) as pilot:
        await settle(pilot)
    assert any(isinstance(node, OpeningScreen) for node in seen)
    for node in seen:
        assert not [rule.selector_set for rule in rules if match(rule.selector_set, node)], node


@async_test
async def test_a_screen_shown_before_the_decks_screen_is_ready_has_the_other_screens_styles(tmp_path, monkeypatch):
    """A key pressed before the decks screen reported ready still opens a styled screen: pushing a screen
    reads screens.tcss first."""
    from quizzer.review.tui.app import QuizzerApp
    from quizzer.review.tui.screens.browser import BrowserScreen

    decks_ready = QuizzerApp.decks_ready

    def ready_without_the_stylesheet(self) -> None:  # as if the key came before the ready point
        self.load_screens_css = lambda: None
        try:
            decks_ready(self)
        finally:
            del self.load_screens_css

    monkeypatch.setattr(QuizzerApp, "decks_ready", ready_without_the_stylesheet)
    db = tmp_path / "q.db"
    seed(db)
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not app._screens_css_loaded
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, BrowserScreen) and app._screens_css_loaded
        bar = app.screen.query_one("#browser-bar")
        assert bar.styles.height.value == 3 and bar.outer_size.height == 3  # screens.tcss: #browser-bar { height: 3 }
