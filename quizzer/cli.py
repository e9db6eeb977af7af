"""The `quizzer` command: a thin layer over the library. Heavy imports happen inside commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from quizzer.paths import bundled_decks

DB_OPTION = click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="QUIZZER_DB",
    help="State database (default: $QUIZZER_HOME/quizzer.db or the user data directory).",
)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="quizzer")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Spaced-repetition quizzes whose answers are verified by code.

    Run without a command to open the review app on the bundled decks.
    """
    if ctx.invoked_subcommand is None:
        click.echo("The review app is not built yet: try `quizzer lint` or `quizzer verify`.")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def lint(paths: tuple[Path, ...]) -> None:
    """Check deck files (default: the bundled decks); print each problem as path:line:col: message."""
    from quizzer.loader import deck_files
    from quizzer.loader import lint as lint_file

    files = list(deck_files(paths or [bundled_decks()]))
    if not files:
        raise click.UsageError("no deck files (*.toml) found")
    problems = [problem for path in files for problem in lint_file(path)]
    for problem in problems:
        click.echo(str(problem))
    count = len(problems)
    click.echo(
        f"{len(files)} deck file(s): " + ("no problems" if not count else f"{count} problem(s)"),
        err=bool(count),
    )
    sys.exit(1 if count else 0)


@main.command()
def schema() -> None:
    """Print the JSON Schema of deck files (what decks/schema.json holds)."""
    from quizzer.deck import json_schema

    click.echo(json_schema(), nl=False)


@main.command()
@click.argument("targets", nargs=-1)
@click.option("--strict", is_flag=True, help="Count cards without a verifier as failures.")
def verify(targets: tuple[str, ...], strict: bool) -> None:
    """Run the verifiers of DECK files or DECK/CARD ids and compare with the stated answers."""
    from quizzer.execution import execute
    from quizzer.loader import DeckError, deck_files, load_deck

    failures = 0
    for path in deck_files(targets or [bundled_decks()]):
        try:
            loaded = load_deck(path)
        except DeckError as e:
            click.echo(str(e), err=True)
            sys.exit(1)
        for card in loaded.deck.cards:
            outcome = execute(card, loaded.verifiers_root)
            bad = not outcome.ok and (strict or outcome.status != "unverified")
            failures += bad
            click.echo(f"{outcome.status:10} {loaded.deck.id}/{card.id} ({outcome.duration:.2f}s) {outcome.message}")
            for claim in outcome.claims:
                click.echo(f"    {'✓' if claim['holds'] else '✗'} {claim['name']}: {claim['measured']}")
            for note in outcome.notes:
                click.echo(f"    | {note}")
            if outcome.traceback:
                click.echo(outcome.traceback)
    sys.exit(1 if failures else 0)
