"""The `quizzer` command: a thin layer over the library. Heavy imports happen inside commands."""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from quizzer.output import SafeGroup, echo, workflow_commands_paused
from quizzer.paths import bundled_decks, default_decks, relative_to_cwd

if TYPE_CHECKING:
    from collections.abc import Callable

    from quizzer.cards.deck import Card
    from quizzer.cards.loader import DeckError, LoadedDeck
    from quizzer.store import Store

    Selected = tuple[LoadedDeck, list[Card]]


def _db_or_the_groups(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """`quizzer due --db F` and `quizzer --db F due` mean the same: a command's own --db, else the group's."""
    if value is not None:
        return value
    parent = ctx.find_root()
    return parent.params.get("db") if parent is not ctx else None


class _Seconds(click.FloatRange):
    """A duration: finite and within bounds. FloatRange alone passes nan (every comparison with it is
    false), and an infinite or 1e308-second timeout overflowed the poll's milliseconds (a traceback)."""

    name = "seconds"

    def convert(self, value, param, ctx):
        seconds = super().convert(value, param, ctx)
        if not math.isfinite(seconds):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        return seconds


# Click's IntRange has no upper bound by default: a 30-digit --reviews reached SQLite (OverflowError).
DAILY_LIMIT = click.IntRange(0, 2**63 - 1)
VARIANT_COUNT = click.IntRange(1, 1000)  # a parametric card's pool holds at most this many instances


DB_HELP = "State database (default: $QUIZZER_DB, else $QUIZZER_HOME/quizzer.db, else the user data directory)."
DB_OPTION = click.option(
    "--db", type=click.Path(dir_okay=False, path_type=Path), callback=_db_or_the_groups, help=DB_HELP
)


@click.group(cls=SafeGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="quizzer")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), envvar="QUIZZER_DB", help=DB_HELP)
@click.pass_context
def main(ctx: click.Context, db: Path | None) -> None:
    """Spaced-repetition quizzes whose answers are verified by code.

    Run without a command to open the review app on the decks in ./decks (in a deck project) or the
    bundled decks.
    """
    if ctx.invoked_subcommand is None:
        _open_app(db, ())


def _open_app(db: Path | None, decks: tuple[Path, ...], command: str = "review", **options) -> None:
    """The Textual app (quizzer.review.tui); in a pipe or a dumb terminal, say how to review without it:
    the same command with --plain (`quizzer cram --plain`: a cram, not the day's reviews)."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise click.ClickException(f"the review app needs a terminal; use `quizzer {command} --plain` in a pipe")
    from quizzer.review.tui import run

    code = run(db, decks or (default_decks(),), **options)
    if code:
        sys.exit(code)


FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "github"]),
    default="text",
    show_default=True,
    help="github: also print GitHub Actions annotations, shown on the deck file's line in a pull request.",
)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@FORMAT_OPTION
@DB_OPTION
def lint(paths: tuple[Path, ...], output_format: str, db: Path | None) -> None:
    """Check deck files (default: the bundled decks); print each problem as path:line:col: message.

    With a state database (--db, else the default one if it exists), also warn about card ids that
    left a deck while the database holds answers for them: a renamed card needs `renamed_from`.
    """
    from quizzer.cards.loader import deck_files
    from quizzer.cards.loader import lint as lint_file
    from quizzer.verify.reporting import github_command

    files = list(deck_files(paths or [default_decks()]))
    if not files:
        raise click.UsageError("no deck files (*.toml) found")
    problems = [problem for path in files for problem in lint_file(path)]
    problems += _duplicate_id_problems(files, {problem.path for problem in problems})
    warnings = _bundled_id_warnings(files) + _vanished_card_warnings(files, db)
    with workflow_commands_paused(output_format == "github") as resume:
        for problem in problems:
            echo(str(problem))
        for warning in warnings:
            echo(warning, err=True)
        resume()
        for problem in problems if output_format == "github" else ():
            echo(github_command("error", problem.message, file=problem.path, line=problem.line, col=problem.col))
    count = sum(problem.stands_for for problem in problems)
    echo(
        f"{len(files)} deck file(s): "
        + ("no problems" if not count else f"{count} problem(s)")
        + (f", {len(warnings)} warning(s)" if warnings else ""),
        err=bool(count),
    )
    sys.exit(1 if count else 0)


def _duplicate_id_problems(files: list[Path], broken: set[str]) -> list:
    """A later deck file declaring an earlier one's id: the other commands skip it, lint says so."""
    from quizzer.cards.loader import DeckError, duplicate_id_problem, load_deck

    first: dict[str, Path] = {}
    problems = []
    for path in files:
        if str(path) in broken:
            continue
        try:
            deck_id = load_deck(path, check_verifiers=False, ids_only=True).deck.id
        except DeckError:
            continue
        earlier = first.setdefault(deck_id, path)
        if _file_key(earlier) != _file_key(path):  # `lint decks ./decks/beta.toml` names one file twice
            problems.append(duplicate_id_problem(path, deck_id, earlier))
    return problems


def _bundled_id_warnings(files: list[Path]) -> list[str]:
    """`path:1:1: warning: ...` for a deck of a project that takes a bundled deck's id: progress is keyed by
    deck-id/card-id in one state database, so the two would share their history (and each would find the
    other's answered cards gone from it)."""
    from quizzer.cards.loader import DeckError, deck_files, load_deck
    from quizzer.paths import bundled_decks

    def deck_id(path: Path) -> str | None:
        try:
            return load_deck(path, check_verifiers=False, ids_only=True).deck.id
        except DeckError:
            return None

    bundled = {path.resolve(): deck_id(path) for path in deck_files([bundled_decks()])}
    taken = {deck: path for path, deck in bundled.items() if deck is not None}
    warnings = []
    for path in files:
        if path.resolve() in bundled:
            continue
        deck = deck_id(path)
        if deck in taken:
            warnings.append(
                f"{path}:1:1: warning: deck id '{deck}' is a bundled deck's too ({taken[deck].name}): progress is"
                " keyed by deck-id/card-id in one state database, so the two would share their history;"
                " give this deck an id of its own"
            )
    return warnings


def _vanished_card_warnings(files: list[Path], db: Path | None) -> list[str]:
    """`path:1:1: warning: ...` for each card id gone from its deck but with answers in the database."""
    from quizzer.cards.loader import DeckError, load_deck

    warnings: list[str] = []
    with _open_store(db, only_if_exists=True) as store:
        if store is None:
            return warnings
        for path in files:
            try:
                deck = load_deck(path, check_verifiers=False).deck
            except DeckError:
                continue
            moved = {old for card in deck.cards for old in card.renamed_from}
            gone = store.absent_with_history(deck.id, [card.id for card in deck.cards])
            for card_id, answers in sorted(gone.items()):
                if card_id not in moved:
                    warnings.append(
                        f"{path}:1:1: warning: card '{card_id}' is gone from deck '{deck.id}' but has {answers}"
                        f' answer(s) in {store.path}; if it was renamed, add renamed_from = ["{card_id}"]'
                        " to the renamed card to keep its history"
                    )
    return warnings


# ---------------------------------------------------------------------- review, due, stats

DECKS_ARGUMENT = click.argument("decks", nargs=-1, metavar="[DECK]...")
TODAY_OPTION = click.option(
    "--today", metavar="YYYY-MM-DD", hidden=True, help="Act as if today were this date (for tests and demos)."
)


def _limit_options(command):
    command = click.option(
        "--reviews", "reviews_per_day", type=DAILY_LIMIT, help="Reviews per deck today (deck's, else 200)."
    )(command)
    return click.option("--new", "new_per_day", type=DAILY_LIMIT, help="New cards per deck today (deck's, else 20).")(
        command
    )


def _clock():
    from datetime import datetime

    return datetime.now().astimezone()


def _fixed_day(value: str | None):
    """The date `--today` pins the day to, or None (the day follows the clock and the rollover hour)."""
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2024-03-01", param_hint="--today") from None


def _calendar(store, today: str | None):
    """When the study day starts (the rollover hour set in the app, else 4 am), or `--today` for every moment."""
    from quizzer.review.session import StudyDay

    return StudyDay.from_store(store, _fixed_day(today))


def _select(
    targets: tuple[str, ...],
    *,
    cards: bool = True,
    on_broken: Callable[[Path, DeckError], None] | None = None,
    check_verifiers: bool = True,
    ids_only: bool = False,
) -> list[Selected]:
    """The decks (and cards) named on the command line, resolved the same way for every command.

    `cnn`, `cnn/receptive-field-size`, `decks/cnn.toml`, `decks/cnn.toml::card` and folders
    (default: ./decks in a deck project, else the bundled decks), by `quizzer.cards.loader.select`. A deck
    that does not load stops the command, unless `on_broken` takes it (the other decks stay usable);
    `cards=False` refuses single cards (for commands that work on whole decks); `ids_only` loads cached
    decks without their cards' text (for commands that only count them).
    """
    from quizzer.cards.loader import DeckError, SelectionError, select

    broken: list[Path] = []

    def skip(path: Path, error: DeckError) -> None:
        broken.append(path)
        on_broken(path, error)

    try:
        selection = select(
            targets,
            default_decks(),
            on_broken=skip if on_broken else None,
            check_verifiers=check_verifiers,
            ids_only=ids_only,
        )
    except (DeckError, SelectionError) as error:
        raise click.UsageError(str(error)) from None
    if on_broken is not None:
        selection = _skip_duplicate_ids(selection, targets, skip)
    if not selection and not broken:  # `verify empty/` said "0 cards: all verified" and passed CI
        raise click.UsageError(f"no deck files (*.toml) found in {', '.join(targets) or default_decks()}")
    if not cards:
        partial = [loaded.deck.id for loaded, chosen in selection if len(chosen) < len(loaded.deck.cards)]
        if partial:
            raise click.UsageError(
                f"this command works on whole decks; name the deck ({', '.join(partial)}), "
                "or drill single cards with `quizzer cram DECK/CARD`"
            )
    return selection


def _load_decks(targets: tuple[str, ...], *, ids_only: bool = False) -> list[LoadedDeck]:
    """Whole decks for review, due and stats (broken ones reported on stderr and skipped).

    Verifier references are not resolved here: a broken one is the verification's business (as in the
    app), and a cached deck then loads without building its cards. `ids_only`: not even their text.
    """
    selection = _select(targets, cards=False, on_broken=_warn_broken, check_verifiers=False, ids_only=ids_only)
    decks = [loaded for loaded, _ in selection]
    if not decks:
        raise click.ClickException("no usable deck files (*.toml) found")
    return decks


def _skip_duplicate_ids(
    selection: list[Selected], targets: tuple[str, ...], skip: Callable[[Path, DeckError], None]
) -> list[Selected]:
    """A deck found in a folder whose id an earlier deck already has is skipped as broken (one such file made
    `due`, `review` and the app's neighbours fail as a whole). Deck files named one by one are kept: two of
    them with one id stay the error they are (`DuplicateDeckId`)."""
    from quizzer.cards.deckfiles import DeckError, classify_target
    from quizzer.cards.loader import duplicate_id_problem

    named = {_file_key(Path(t.split("::")[0])) for t in targets if classify_target(t).kind == "file"}
    first: dict[str, Path] = {}
    kept = []
    for loaded, cards in selection:
        earlier = first.get(loaded.deck.id)
        if earlier is not None and _file_key(loaded.path) not in named:
            skip(loaded.path, DeckError([duplicate_id_problem(loaded.path, loaded.deck.id, earlier)]))
            continue
        first.setdefault(loaded.deck.id, loaded.path)
        kept.append((loaded, cards))
    return kept


def _file_key(path: Path) -> Path:
    """`path` resolved, to tell two names of one file apart from two files; a symlink loop or a name too long
    (pathlib raises RuntimeError, OSError) is its own absolute path: the loader reports it as unreadable."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _warn_broken(path: Path, error: DeckError) -> None:
    """One line on stderr for a deck file a command skips (`quizzer lint` lists all its problems)."""
    echo(f"warning: skipped a broken deck: {error.one_line()}", err=True)


def _skip_broken(broken: list[Path], path: Path, error: DeckError) -> None:
    """Warn about a broken deck file and keep it for the count under the summary."""
    _warn_broken(path, error)
    broken.append(path)


def _say_broken_skipped(broken: list[Path]) -> None:
    """Under a verify summary: its "all verified" covers only the decks that loaded."""
    if broken:
        echo(f"{len(broken)} broken deck file(s) skipped; `quizzer lint` lists their problems", err=True)


def _app_deck_files(targets: tuple[str, ...]) -> tuple[Path, ...]:
    """The deck files the app opens for these targets: broken ones too, the app lists their problems."""
    broken: list[Path] = []
    if not targets:
        return ()
    from quizzer.cards.deckfiles import classify_target, deck_files

    if all(classify_target(target).whole_files for target in targets):
        # Folders and deck files need no parsing here (on 100,000 cards importing the parser alone took
        # 0.4 s before the first frame): the app loads them in its worker and lists broken ones.

        files = tuple({_file_key(path): path for path in deck_files(targets)}.values())
        if not files:  # not the bundled decks instead: the learner named these
            raise click.ClickException(f"no deck files (*.toml) found in {', '.join(targets)}")
        return files
    # Deck ids (`cnn`) need the decks read, for their files only: ids only, and no verifier checks (a broken
    # reference is the badge's business; checking built every cached card, 8 s on 100k).
    selection = _select(
        targets, cards=False, on_broken=lambda path, _: broken.append(path), check_verifiers=False, ids_only=True
    )
    return (*(loaded.path for loaded, _ in selection), *broken)


@contextmanager
def _open_store(db: Path | None, *, only_if_exists: bool = False) -> Iterator[Store | None]:
    """The state database for one command; any fault of it, on opening or later, is one sentence.

    Damaged, read-only, full, locked or newer-schema files end the command with what is wrong and
    what to do (`quizzer.store.explain_failure`), never a traceback. `only_if_exists`: commands that
    only read (`show`, `export`) never create a database and get None when there is none.
    """
    import sqlite3

    from quizzer.paths import default_db
    from quizzer.store import Store, StoreError, explain_failure

    path = Path(db or default_db()).expanduser()
    try:
        missing = only_if_exists and not path.exists()
    except OSError as error:  # a name too long for the system: pathlib's exists() raises, it does not say False
        raise click.ClickException(explain_failure(path, error)) from None
    if missing:
        yield None
        return
    try:
        store = Store.open(path)
    except (sqlite3.Error, StoreError, OSError) as error:
        raise click.ClickException(explain_failure(path, error)) from None
    try:
        yield store
    except (sqlite3.Error, StoreError) as error:
        raise click.ClickException(explain_failure(path, error)) from None
    finally:
        store.close()


PLAIN_OPTION = click.option("--plain", is_flag=True, help="Line-based review: works over ssh and with piped input.")


@main.command()
@DECKS_ARGUMENT
@PLAIN_OPTION
@click.option(
    "--ahead",
    "ahead_days",
    type=click.IntRange(1, 3650),
    metavar="DAYS",
    help="Review ahead: the reviews falling due in the next DAYS days (scheduled as if due today).",
)
@_limit_options
@DB_OPTION
@TODAY_OPTION
def review(decks, plain, ahead_days, new_per_day, reviews_per_day, db, today) -> None:
    """Review what is due today in DECKs: ids, files or folders (default: ./decks in a project, else the bundled decks).

    Type an answer (Enter alone reveals it), read the verdict and explanation, grade 0-5.
    'u' undoes the last grade, 'q' quits; the sitting ends with a summary. The day starts at the
    rollover hour (4 am unless set in the app's settings).
    """
    from quizzer.review.session import CustomStudy, Limits

    custom = CustomStudy("ahead", days=ahead_days) if ahead_days else None
    limits = Limits(new_per_day, reviews_per_day)
    if not plain:
        _open_app(db, _app_deck_files(decks), today=_fixed_day(today), limits=limits, custom=custom)
        return
    _plain_sitting(_load_decks(decks), db, today, limits, custom)


@main.command()
@DECKS_ARGUMENT
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Only cards with this tag (repeatable: all of them).")
@click.option(
    "--search", default="", metavar="QUERY", help="Only cards matching a browser search: words, tag:, deck:, is:."
)
@PLAIN_OPTION
@DB_OPTION
@TODAY_OPTION
def cram(decks, tags, search, plain, db, today) -> None:
    """Custom study: drill DECKs or DECK/CARDs (default: every deck) now, due or not; no schedule changes.

    Answers are logged as cram: they count in the statistics' answers per day but change no card's
    schedule, EF or due date, and no daily limit. A card graded below 3 comes back in the sitting.
    """
    import shlex

    from quizzer.review.search import Query, SearchError, matching_keys
    from quizzer.review.session import CustomStudy

    selection = _select(decks, on_broken=_warn_broken)
    try:
        query = Query.parse(" ".join([search, *(shlex.quote(f"tag:{tag}") for tag in tags)]))
    except SearchError as error:
        raise click.BadParameter(str(error), param_hint="--search") from None
    with _open_store(db) as store:
        day = _calendar(store, today).of(_clock())
        keys = matching_keys(store, [(loaded.deck, cards) for loaded, cards in selection], query, day)
    if not keys:
        raise click.ClickException("no card matches; `quizzer due` lists the decks, the app's browser (b) searches")
    custom = CustomStudy("cram", keys=frozenset(keys))
    loaded = [loaded for loaded, _ in selection]
    if not plain:
        _open_app(db, tuple(d.path for d in loaded), "cram", today=_fixed_day(today), custom=custom)
        return
    _plain_sitting(loaded, db, today, None, custom)


def _plain_sitting(loaded: list[LoadedDeck], db: Path | None, today: str | None, limits, custom) -> None:
    """`--plain`: the line-based sitting, then its summary (with what waits in the other decks)."""
    from quizzer.review import plain_review
    from quizzer.review.session import DuplicateDeckId, Limits, Session, waiting_elsewhere

    with _open_store(db) as store:
        store.check_integrity()  # now, before the learner's first answer, not when it is recorded
        try:
            calendar = _calendar(store, today)
            session = Session(
                store,
                [d.deck for d in loaded],
                calendar.of(_clock()),
                limits or Limits(),
                calendar=calendar,
                custom=custom,
            )
            summary = plain_review.run(session, _clock, {d.deck.id: d for d in loaded})
            others = [d.deck for d in _other_decks(loaded)]
            elsewhere = waiting_elsewhere(store, others, session.today) if custom is None else None
        except DuplicateDeckId as error:
            raise click.ClickException(str(error)) from None
    echo(plain_review.format_summary(summary, elsewhere))


def _other_decks(loaded: list[LoadedDeck]) -> list[LoadedDeck]:
    """The decks of the default folder that this sitting did not include (broken ones quietly left out)."""
    from quizzer.cards.loader import select

    ids = {d.deck.id for d in loaded}
    everything = select([], default_decks(), on_broken=lambda *_: None, check_verifiers=False)
    return [other for other, _ in everything if other.deck.id not in ids]


@main.command()
@DECKS_ARGUMENT
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@_limit_options
@DB_OPTION
@TODAY_OPTION
def due(decks, as_json, new_per_day, reviews_per_day, db, today) -> None:
    """Count today's due reviews, learning and new cards per deck (after the daily limits)."""
    import json
    from dataclasses import asdict

    from quizzer.review.session import DuplicateDeckId, Limits, outlook

    loaded = [d.deck for d in _load_decks(decks, ids_only=True)]
    with _open_store(db) as store:
        try:
            rows = outlook(store, loaded, _calendar(store, today).of(_clock()), Limits(new_per_day, reviews_per_day))
        except DuplicateDeckId as error:
            raise click.ClickException(str(error)) from None
    if as_json:
        echo(json.dumps([asdict(row) for row in rows], indent=2))
        return
    width = max(len("deck"), *(len(row.deck) for row in rows))
    echo(f"{'deck':{width}}  {'due':>5}  {'learning':>8}  {'new':>5}  unseen")
    for row in rows:
        echo(f"{row.deck:{width}}  {row.due:>5}  {row.learning:>8}  {row.new:>5}  {row.new_total:>6}")
    if len(rows) > 1:
        totals = [sum(getattr(row, name) for row in rows) for name in ("due", "learning", "new", "new_total")]
        echo(f"{'total':{width}}  {totals[0]:>5}  {totals[1]:>8}  {totals[2]:>5}  {totals[3]:>6}")


@main.command()
@DECKS_ARGUMENT
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 3650), help="Days of history/forecast.")
@DB_OPTION
@TODAY_OPTION
def stats(decks, as_json, days, db, today) -> None:
    """Reviews per day, retention and the upcoming forecast, for every deck in the database or DECK files."""
    import json

    from quizzer.review.session import statistics

    deck_ids = sorted({d.deck.id for d in _load_decks(decks, ids_only=True)}) if decks else None
    with _open_store(db) as store:
        report = statistics(store, _calendar(store, today).of(_clock()), days, deck_ids)
    if as_json:
        payload = {
            "reviews_per_day": [
                {"day": c.day.isoformat(), "reviews": c.reviews, "passed": c.passed} for c in report.history
            ],
            "retention": {
                "recent": dict(zip(("passed", "reviews"), report.retention_recent, strict=True)),
                "all_time": dict(zip(("passed", "reviews"), report.retention_all, strict=True)),
            },
            "forecast": {day.isoformat(): count for day, count in report.forecast.items()},
        }
        echo(json.dumps(payload, indent=2))
        return
    peak = max((c.reviews for c in report.history), default=0) or 1
    echo(f"Answers per day (last {days} days; passed = graded 3 or more):")
    for c in report.history:
        bar = "█" * round(20 * c.reviews / peak)
        echo(f"  {c.day.isoformat()}  {bar:20}  {c.reviews:>4}  ({c.passed} passed)")
    recent, all_time = _percent(*report.retention_recent), _percent(*report.retention_all)
    echo(f"Retention of scheduled reviews: {recent} in the last 30 days, {all_time} all time")
    echo(f"Forecast of scheduled reviews (next {days} days; overdue count today):")
    for day, count in report.forecast.items():
        echo(f"  {day.isoformat()}  {count:>5}")


def _percent(passed: int, total: int) -> str:
    return f"{100 * passed / total:.0f}% ({passed}/{total})" if total else "n/a (no reviews)"


@main.command()
def schema() -> None:
    """Print the JSON Schema of deck files (what decks/schema.json holds)."""
    from quizzer.cards.deck import json_schema

    echo(json_schema(), nl=False)


@main.command()
@click.argument("targets", nargs=-1)
@click.option(
    "--jobs", "-j", type=click.IntRange(1, 256), help="Cards verified at once, 1-256 (default: one per core)."
)
@click.option("--timeout", type=_Seconds(0.1, 86400.0), default=60.0, show_default=True, help="Seconds per card.")
@click.option("--no-cache", is_flag=True, help="Run every verifier even if its cached result is current.")
@click.option(
    "--strict",
    is_flag=True,
    help="Count cards without a verifier, and cited figures no verifier produced, as failures (use in CI).",
)
@click.option(
    "--variants",
    type=VARIANT_COUNT,
    default=32,
    show_default=True,
    help="Instances computed per parametric card (the pool reviews draw from).",
)
@click.option("--json", "json_file", type=click.File("w"), help="Write every card's result as JSON to this file.")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML here.")
@FORMAT_OPTION
@click.option("--shard", metavar="I/N", help="Verify only the I-th of N even shares of the cards (by last durations).")
@click.option("--merge", is_flag=True, help="TARGETS are shards' --json reports: join them instead of verifying.")
@click.option(
    "--cache-file",
    "cache_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read cached verifications from FILE (if it exists) first, write them back to it after (repeatable).",
)
@click.option("--watch", is_flag=True, help="Verify again each time a deck or verifier file changes (Ctrl-C stops).")
@click.option("--exit-with", "parent", type=int, hidden=True, help="Stop when process PID (the app starting it) exits.")
@DB_OPTION
def verify(
    targets,
    jobs,
    timeout,
    no_cache,
    strict,
    variants,
    json_file,
    junit_file,
    output_format,
    shard,
    merge,
    cache_files,
    watch,
    parent,
    db,
) -> None:
    """Run the verifiers of DECK files, deck ids or DECK/CARD ids; exit 0 only if every card passed.

    In CI: --shard I/N splits the cards into N shares balanced on their last durations (from the
    --cache-file files if given, else the state database: every shard must see the same ones),
    --merge REPORT... joins the shards' --json reports into one result, and --cache-file shares the
    verification cache between runs, shards and laptops.
    """
    from quizzer.verify.ci import CIError, last_durations, parse_shard, read_cache_file, split, split_fingerprint
    from quizzer.verify.reporting import ReportError, ShardInfo, VerifyReport, read_reports
    from quizzer.verify.runner import Job
    from quizzer.verify.runner import verify as run_verifiers

    if parent is not None:
        from quizzer.verify.zygote import exit_with

        if not exit_with(parent):
            sys.exit(1)  # the app that wanted these results has exited already
    if merge and shard is not None:
        raise click.UsageError("--merge joins finished shards; it takes no --shard")
    if watch:
        if merge or shard is not None or cache_files or json_file or junit_file:
            raise click.UsageError("--watch runs on its own: drop --merge, --shard, --cache-file, --json and --junit")
        _watch_and_verify(targets, jobs=jobs, timeout=timeout, strict=strict, variants=variants, db=db)
        return
    try:
        cached = [record for path in cache_files for record in read_cache_file(path)]
        shard_spec = parse_shard(shard) if shard is not None else None
    except CIError as error:
        raise click.UsageError(str(error)) from None
    with _open_store(db) as store, workflow_commands_paused(output_format == "github") as resume:
        store.merge_verifications(cached)
        broken: list[Path] = []
        shard_info = None
        if merge:
            if not targets:
                raise click.UsageError("--merge needs the shards' JSON reports: quizzer verify --merge report-*.json")
            try:
                rows = read_reports(Path(t) for t in targets)
            except ReportError as error:
                raise click.ClickException(str(error)) from None
            report = VerifyReport([], strict=strict)
            for row in rows:
                report.add_row(row)
            covered = {row.key for row in rows}
        else:
            selection = _select(targets, on_broken=functools.partial(_skip_broken, broken))
            jobs_list = [Job(loaded, card, variants) for loaded, cards in selection for card in cards]
            _trust_projects_of(store, [loaded for loaded, _ in selection])
            if shard_spec is not None:
                index, count = shard_spec
                durations = last_durations(cached if cache_files else store.verifications().values())
                shard_info = ShardInfo(shard, len(jobs_list), split_fingerprint(jobs_list, count, durations))
                jobs_list = split(jobs_list, count, durations)[index - 1]
                echo(f"shard {shard}: {len(jobs_list)} of {shard_info.selected} cards", err=True)
            report = VerifyReport(jobs_list, strict=strict)
            with report.progress():
                run_verifiers(
                    jobs_list,
                    store,
                    workers=jobs,
                    timeout=timeout,
                    use_cache=not no_cache,
                    on_result=report.add,
                    on_start=report.started,
                    on_warning=_warn,
                )
            covered = {job.key for job in jobs_list}
        report.print_summary()
        _say_broken_skipped(broken)
        resume()  # the annotations below are quizzer's own workflow commands
        _write_ci_outputs(report, store, json_file, junit_file, output_format, shard_info, cache_files, covered, cached)
    sys.exit(0 if report.all_passed and not broken else 1)


def _warn(text: str) -> None:
    echo(f"warning: {text}", err=True)


def _watch_and_verify(targets, *, jobs, timeout, strict, variants, db) -> None:
    """`quizzer verify --watch`: verify, then again whenever a deck or verifier file changes, until Ctrl-C.

    Each round verifies the whole selection, and the cache answers for every card whose deck text,
    verifier and local modules did not change: only the edited cards run, each result printed as its
    verifier finishes. A deck broken mid-edit is reported and the watch goes on. One pool serves every
    round, its zygote started while the author edits: a save runs its cards without importing torch.
    """
    import time

    from quizzer.verify.reporting import VerifyReport
    from quizzer.verify.runner import Job, WorkerPool
    from quizzer.verify.runner import verify as run_verifiers

    folders = _watched_folders(targets)
    with _open_store(db) as store, WorkerPool(jobs, timeout, on_warning=_warn) as pool:
        seen = None
        try:
            while True:
                state = _file_state(folders)
                if state != seen:
                    seen = state
                    broken: list[Path] = []
                    try:
                        selection = _select(targets, on_broken=functools.partial(_skip_broken, broken))
                    except click.UsageError as error:
                        echo(f"error: {error.format_message()}", err=True)
                        selection = []
                    jobs_list = [Job(loaded, card, variants) for loaded, cards in selection for card in cards]
                    report = VerifyReport(jobs_list, strict=strict)
                    run_verifiers(jobs_list, store, on_result=report.add, pool=pool)
                    report.print_summary()
                    _say_broken_skipped(broken)
                    echo(f"watching {len(state)} deck and verifier file(s); Ctrl-C stops", err=True)
                    pool.warm()
                    seen = _file_state(folders)  # edits made while verifying start the next round
                    if seen != state:
                        seen = None
                time.sleep(0.2)
        except KeyboardInterrupt:
            echo("stopped watching", err=True)


def _watched_folders(targets) -> list[Path]:
    """The deck folders the targets name (a deck id means the default decks folder) and their verifiers."""
    from quizzer.cards.loader import verifiers_root_for

    folders = set()
    for target in targets or [str(default_decks())]:
        path = Path(target.split("::")[0])
        folder = path if path.is_dir() else path.parent if path.suffix == ".toml" else default_decks()
        folders.add(folder.resolve())
        folders.add(verifiers_root_for(folder / "deck.toml").resolve())
    return sorted(folders)


def _file_state(folders: list[Path]) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every deck file and verifier source under `folders`: a change starts a round."""
    state = {}
    for folder in folders:
        for path in [*folder.glob("*.toml"), *folder.rglob("*.py")]:
            try:
                info = path.stat()
            except OSError:
                continue
            state[str(path)] = (info.st_mtime_ns, info.st_size)
    return state


def _write_ci_outputs(report, store, json_file, junit_file, output_format, shard_info, cache_files, covered, cached):
    """The reports and cache files a verify run was asked for."""
    from quizzer.verify.ci import write_cache_file

    if json_file:
        report.write_json(json_file, shard=shard_info)
    if junit_file:
        report.write_junit(junit_file)
    if output_format == "github":
        for command in report.github_annotations():
            echo(command)
    if cache_files:
        keys = covered | {record.key for record in cached}
        records = [record for key, record in store.verifications().items() if key in keys]
        for path in cache_files:
            count = write_cache_file(path, records)
            echo(f"wrote {count} cached verification(s) to {path}", err=True)


def _trust_projects_of(store, decks: list[LoadedDeck]) -> None:
    """Naming decks to `quizzer verify` is consent: the app may verify their projects' decks from now on."""
    from quizzer.verify.trust import project_named, project_of

    bundled = project_named(bundled_decks())
    for project in sorted({project_of(loaded.path) for loaded in decks} - {bundled}):
        if store.trust_project(project):
            echo(
                f"trusted {project}: the review app may now run its verifiers on its own"
                f" (`quizzer trust --remove {project}` undoes this)",
                err=True,
            )


@main.command()
@click.argument("projects", nargs=-1, type=click.Path(file_okay=False, path_type=Path))
@click.option("--remove", is_flag=True, help="Stop trusting PROJECTS.")
@DB_OPTION
def trust(projects: tuple[Path, ...], remove: bool, db: Path | None) -> None:
    """Let the review app run the verifiers of deck project PROJECTS on its own; without PROJECTS, list them.

    A deck project is the folder holding decks/ and verifiers/ (naming its decks/ folder works too).
    Verifiers are code: the app runs `quizzer verify` in the background only for the bundled decks and
    for trusted projects. Trust covers exactly the project named, never projects in folders below it.
    Running `quizzer verify` on a deck trusts its project too. The list lives in the state database.
    """
    from quizzer.verify.trust import is_project, project_named

    with _open_store(db) as store:
        for given in projects:
            project = project_named(given)
            if remove:
                removed = store.distrust_project(given) or store.distrust_project(project)
                if not removed and project == project_named(bundled_decks()):  # "was not trusted" was untrue
                    raise click.ClickException(f"{project} holds the bundled decks, which are always trusted")
                echo(f"{'no longer trusted' if removed else 'was not trusted'}: {project}")
                continue
            if not project.is_dir():
                raise click.BadParameter(f"{given} is not a folder", param_hint="PROJECTS")
            if not is_project(project):
                raise click.BadParameter(
                    f"{project} holds no decks/ folder and no deck files: "
                    "trust names one deck project, the folder holding decks/ and verifiers/",
                    param_hint="PROJECTS",
                )
            added = store.trust_project(project)
            echo(f"{'trusted' if added else 'already trusted'}: {project}")
        if not projects:
            trusted = store.trusted_projects()
            echo(f"bundled decks (always trusted): {project_named(bundled_decks())}")
            for folder in trusted:
                note = (
                    "" if is_project(Path(folder)) else "  (holds no decks: trusts nothing; trust each project in it)"
                )
                echo(folder + note)
            if not trusted:
                echo("no other project is trusted; `quizzer trust PROJECT` adds one")


# ---------------------------------------------------------------------- authoring and interop


@main.command()
@click.argument("deck")
@click.argument("card_id", metavar="CARD-ID")
@click.option(
    "--kind",
    "-k",
    required=True,
    type=click.Choice(["numeric", "boolean", "choice", "expression", "shape", "tensor", "code", "text"]),
    help="The answer kind.",
)
@click.option(
    "--dir",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="Project folder holding decks/ and verifiers/ (created if missing).",
)
@click.option("--title", help="Title of a new deck (default: from its id).")
@click.option("--params", is_flag=True, help="A parametric card: drawn parameters, a worked example, ctx.params.")
def new(deck, card_id, kind, root, title, params) -> None:
    """Add card CARD-ID to DECK (a deck id or a .toml path) and a verifier stub that fails until written.

    Creates the deck file (with its schema.json for editors), decks/ and verifiers/ as needed.
    Never overwrites: an existing card id is refused.
    """
    from quizzer.authoring.scaffold import AuthoringError, create_card, next_steps, problems_after

    try:
        made = create_card(deck, card_id, kind, root, title, params)
    except AuthoringError as error:
        echo(f"error: {error}", err=True)
        sys.exit(1)
    shown = relative_to_cwd(made.deck_path)
    echo(("Created deck " if made.deck_created else "Added to deck ") + f"'{made.deck_id}': {shown}")
    echo(f"Added card '{made.card_id}' ({made.kind}) at {shown}:{made.card_line}")
    if made.verifier_created:
        echo(f"Created verifier stub {relative_to_cwd(made.verifier_path)} (it fails until you write it)")
    else:
        echo(f"Kept the existing verifier {relative_to_cwd(made.verifier_path)}")
    if made.schema_path:
        echo(f"Wrote {relative_to_cwd(made.schema_path)} (editors validate the deck against it)")
    for problem in problems_after(made):
        echo(f"warning: {problem}", err=True)
    echo("\nNext:\n" + next_steps(made, shown, relative_to_cwd(made.verifier_path)))


@main.command()
@click.argument("target", metavar="DECK/CARD")
@click.option("--variant", type=VARIANT_COUNT, metavar="K", help="A parametric card's instance K of its verified pool.")
@DB_OPTION
def show(target, variant, db) -> None:
    """Show a card as a learner sees it, with its answer, explanation and last verification.

    DECK/CARD is a deck id and card id (looked up in ./decks if it holds decks, else the bundled
    decks) or `path/to/deck.toml::card-id`. A parametric card shows instance 1 of its verified pool
    (--variant K for another), or its first worked example before it is verified.
    """
    from quizzer.output import console
    from quizzer.review import show as showing

    selection = _select((target,))
    cards = [(loaded, card) for loaded, chosen in selection for card in chosen]
    if len(cards) != 1:
        raise click.UsageError(f"{target!r} names {len(cards)} cards; name one as DECK/CARD or deck.toml::card")
    loaded, card = cards[0]
    with _open_store(db, only_if_exists=True) as store:
        last = showing.last_verification(store, loaded, card)
    try:
        instance = showing.instance_to_show(card, last, variant)
    except IndexError as error:
        raise click.UsageError(f"--variant {variant}: {error}") from None
    showing.render_card(console(), loaded, card, last, showing.verify_target(loaded, card), instance)


@main.group()
def export() -> None:
    """Export decks to other formats."""


@export.command("anki")
@click.argument("decks", nargs=-1, metavar="DECK...")
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The .apkg file to write.",
)
@click.option("--strict", is_flag=True, help="Fail (exit 1) unless every card has a current, passing verification.")
@DB_OPTION
def export_anki_command(decks, output, strict, db) -> None:
    """Write DECKs (ids, .toml files, folders or DECK/CARD; default: all) as an Anki package.

    One note per card with a stable GUID from deck-id/card-id, so importing again updates the notes.
    The back shows the answer, the explanation and the last verification from the state database.
    """
    from quizzer.authoring.anki import ExportError, export_anki

    if output.suffix != ".apkg":
        raise click.BadParameter("the output file must end in .apkg", param_hint="-o")
    selection = _select(decks, on_broken=_warn_broken)
    with _open_store(db, only_if_exists=True) as store:
        try:
            summary = export_anki(selection, output, store)
        except ExportError as error:
            raise click.ClickException(str(error)) from None
    echo(str(summary))
    incomplete = summary.failed or summary.stale or summary.unverified
    if incomplete:
        echo("run `quizzer verify` first to put every card's verified demonstration on its back", err=True)
    sys.exit(1 if strict and incomplete else 0)


# ---------------------------------------------------------------------- import (quizzer import anki|csv)

IMPORT_OUTPUT = click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("decks"),
    show_default=True,
    help="Folder to write the decks into (created if missing).",
)
IMPORT_FORCE = click.option("--force", is_flag=True, help="Replace deck files that already exist.")


@main.group("import")
def import_group() -> None:
    """Import cards from Anki packages or CSV files as TOML decks (every card unverified)."""


@import_group.command("anki")
@click.argument("package", type=click.Path(dir_okay=False, path_type=Path))
@IMPORT_OUTPUT
@IMPORT_FORCE
@DB_OPTION
@TODAY_OPTION
def import_anki_command(package, output, force, db, today) -> None:
    """Write each Anki deck of PACKAGE (.apkg, old or current format) as OUTPUT/<deck-id>.toml.

    HTML becomes Markdown (MathJax kept as $...$), cloze notes become a card per cloze, media is
    copied into OUTPUT/<deck-id>-media/. Intervals, ease, due dates and the review log are carried
    into the state database (cards already answered in quizzer keep their own progress).
    """
    from quizzer.authoring.importing import ImportProblem, import_anki

    with _open_store(db) as store:
        store.check_integrity()  # before any deck is written: a damaged file refused the progress after them
        try:
            day = _calendar(store, today).of(_clock())
            summary = import_anki(package, output, today=day, force=force, store=store)
        except ImportProblem as error:
            raise click.ClickException(str(error)) from None
    _report_import(summary)


@import_group.command("csv")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@IMPORT_OUTPUT
@IMPORT_FORCE
@click.option("--deck", help="Deck name for rows without a deck column (default: the file's name).")
def import_csv_command(file, output, force, deck) -> None:
    """Write the rows of FILE (CSV/TSV, or Anki's "Notes in Plain Text") as TOML decks.

    A header row names the columns (prompt/front, answer/back, explanation, tags, deck, id, source);
    without one the columns are prompt, answer and tags.
    """
    from quizzer.authoring.importing import ImportProblem, import_csv

    try:
        summary = import_csv(file, output, deck=deck, force=force)
    except ImportProblem as error:
        raise click.ClickException(str(error)) from None
    _report_import(summary)


def _report_import(summary) -> None:
    for path in summary.decks:
        echo(f"wrote {relative_to_cwd(path)}")
    echo(str(summary))
    for problem in summary.problems:
        echo(f"lint: {problem}", err=True)
    sys.exit(1 if summary.problems else 0)
