"""The ``otwarta`` command (also ``python -m bot``); its commands are a public contract.

Each command is a thin shell around a function in the module that owns the work, imported
lazily so ``otwarta content check`` does not pay for python-telegram-bot or SQLAlchemy.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from faq.languages import LANGS

if TYPE_CHECKING:
    from bot.settings import Settings


def _content_dir(value: Path | None) -> Path:
    return value if value is not None else _settings().content_dir


def _settings() -> Settings:
    """The settings, or one clear line (JSON with ``LOG_JSON=true``) and exit 2 when a
    variable is invalid (a typo in ``DESK_HOURS``, the desk without a Telegram token...)."""
    from pydantic import ValidationError

    from bot.settings import describe_invalid, get_settings

    try:
        return get_settings()
    except ValidationError as exc:
        _fail_line(describe_invalid(exc))
        raise SystemExit(2) from None


def _fail_line(message: str) -> None:
    """Log ``message`` as one ERROR line before the logging settings could be read."""
    import logging
    import os

    from bot.logging import JsonFormatter, TextFormatter

    as_json = os.environ.get("LOG_JSON", "").strip().lower() in ("1", "true", "yes", "on")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else TextFormatter())
    logger = logging.getLogger("bot.settings")
    logger.addHandler(handler)
    logger.propagate = False
    logger.error("%s", message)
    logger.removeHandler(handler)


#: At most this many of the content's errors are listed when ``serve``/``chat`` refuse to start.
MAX_ERRORS_SHOWN = 10


def _refuse_invalid_content(command: str) -> None:
    """``serve`` and ``chat`` answer only from content that ``otwarta content check`` accepts:
    on any error, one message saying why (the first errors, where they are) and exit 2.
    Warnings (a date passed, a check due) never stop the bot."""
    from faq.check import check_content

    directory = _content_dir(None)
    errors = sorted(check_content(directory).errors, key=lambda problem: problem.where)
    if not errors:
        return
    lines = [f"  {problem}" for problem in errors[:MAX_ERRORS_SHOWN]]
    if len(errors) > MAX_ERRORS_SHOWN:
        lines.append(f"  … and {len(errors) - MAX_ERRORS_SHOWN} more")
    click.echo(
        f"otwarta {command}: not starting: the content in {directory} has {len(errors)} "
        "error(s) (`otwarta content check` lists every problem):\n" + "\n".join(lines),
        err=True,
    )
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Małopolska Otwarta: the orientation bot for immigrants in Małopolska."""
    # Phones and terminals send UTF-8; make sure we print it whatever the locale says.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(encoding="utf-8", errors="replace")


@main.command()
def chat() -> None:
    """Talk to the bot in the terminal as a user would (embedded SQLite, no token)."""
    from bot.messengers.console import run_console

    _refuse_invalid_content("chat")
    asyncio.run(run_console(_settings()))


@main.command()
def serve() -> None:
    """Run every configured messenger plus the HTTP server."""
    from bot.app import serve as serve_app

    _refuse_invalid_content("serve")
    asyncio.run(serve_app(_settings()))


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations to DATABASE_URL (``alembic upgrade head``)."""
    from bot.db.migrate import upgrade

    url = _settings().database_url
    upgrade(url, revision)
    click.echo(f"database at revision {revision}")


@main.group()
def content() -> None:
    """The knowledge base in content/."""


@content.command("check")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None)
@click.option(
    "--max-age-days",
    type=int,
    default=None,
    help="Warn when last_verified is older than this (default: 180).",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Check as if today were YYYY-MM-DD (e.g. what goes stale next month).",
)
def content_check(
    directory: Path | None, max_age_days: int | None, strict: bool, today: dt.datetime | None
) -> None:
    """Validate content/; exit non-zero with a list of problems when invalid."""
    from faq.check import DEFAULT_MAX_AGE_DAYS, check_content, format_report

    report = check_content(
        _content_dir(directory),
        max_age_days=max_age_days if max_age_days is not None else DEFAULT_MAX_AGE_DAYS,
        today=today.date() if today is not None else None,
    )
    click.echo(format_report(report))
    failed = report.errors or (strict and report.warnings)
    sys.exit(1 if failed else 0)


@main.group()
def faq() -> None:
    """The FAQ matcher."""


@faq.command("ask")
@click.argument("text", nargs=-1, required=True)
@click.option("--lang", type=click.Choice(LANGS), default=None)
@click.option("--top", type=int, default=5, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None)
def faq_ask(
    text: tuple[str, ...], lang: str | None, top: int, as_json: bool, directory: Path | None
) -> None:
    """Print the decision and the top candidates with scores."""
    from faq import load_matcher
    from faq.evaluate import format_match

    matcher = load_matcher(_content_dir(directory))
    result = matcher.match(" ".join(text), lang=lang)
    if as_json:
        click.echo(json.dumps(result.to_dict(top), ensure_ascii=False, indent=2))
    else:
        click.echo(format_match(result, matcher, top))


@faq.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
@click.option("--no-baseline", is_flag=True, help="Skip the naive rapidfuzz baseline.")
@click.option("--errors", is_flag=True, help="Also list every miss.")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None)
def faq_eval(
    file: Path, as_json: bool, no_baseline: bool, errors: bool, directory: Path | None
) -> None:
    """Evaluate the matcher on a labelled JSONL set (see shared/eval/README.md)."""
    from faq.evaluate import run_eval

    try:
        output = run_eval(
            file,
            content_dir=_content_dir(directory),
            as_json=as_json,
            baseline=not no_baseline,
            list_errors=errors,
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(output)


@faq.command("urgent-eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None)
def faq_urgent_eval(file: Path, as_json: bool, directory: Path | None) -> None:
    """Urgent detection on a labelled JSONL set: recall, false alarms, kind (faq/urgent_eval.py)."""
    from faq.urgent_eval import run_urgent_eval

    try:
        output = run_urgent_eval(file, content_dir=_content_dir(directory), as_json=as_json)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(output)


if __name__ == "__main__":
    main()
