"""The ``otwarta`` command (also ``python -m bot``); its commands are a public contract.

Each command is a thin shell around a function in the module that owns the work, imported
lazily so ``otwarta content check`` does not pay for python-telegram-bot or SQLAlchemy.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from faq.languages import LANGS

T = TypeVar("T")

if TYPE_CHECKING:
    from bot.analytics.figures import Figures, Knowledge, Period
    from bot.analytics.retention import PruneResult
    from bot.db import Database
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


def _announce_group() -> type[click.Group]:
    from bot.announce.cli import AnnounceGroup

    return AnnounceGroup


@main.group(cls=_announce_group())
def announce() -> None:
    """Announcements to subscribers: ``announce FILE [--dry-run]``, ``announce status``."""


@announce.command("send", hidden=True)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Validate and count the people reached; queue nothing."
)
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None)
def announce_send(file: Path, dry_run: bool, directory: Path | None) -> None:
    """Validate FILE, say how many people it reaches (by language and platform), queue it."""
    from bot.announce.cli import send
    from bot.settings import get_settings

    send(file, dry_run, _content_dir(directory), get_settings().database_url)


@announce.command("status")
@click.argument("announcement_id", type=int, required=False)
@click.option("--watch", is_flag=True, help="A progress bar until it is done.")
def announce_status(announcement_id: int | None, watch: bool) -> None:
    """Progress of the latest announcements (or of ANNOUNCEMENT_ID)."""
    from bot.announce.cli import status
    from bot.settings import get_settings

    status(announcement_id, watch, get_settings().database_url)


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


# -- analytics (issue 15) ----------------------------------------------------------------------

#: ``otwarta report`` exit codes besides click's 2 for bad options and dates.
EXIT_EMPTY = 3
EXIT_DATABASE = 4


@main.command()
@click.option("--from", "start", required=True, metavar="YYYY-MM-DD", help="First day (UTC).")
@click.option("--to", "end", required=True, metavar="YYYY-MM-DD", help="Last day, included.")
@click.option(
    "--format", "fmt", type=click.Choice(["html", "json", "csv"]), default="html", show_default=True
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="File (html, json), folder or .zip (csv); default: standard output.",
)
@click.option(
    "--lang", type=click.Choice(["pl", "en", "uk", "ru"]), default="pl", show_default=True
)
@click.option(
    "--bucket",
    type=click.Choice(["day", "week", "month"]),
    default=None,
    help="Chart bucket (default: by the period's length).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def report(
    start: str,
    end: str,
    fmt: str,
    out: Path | None,
    lang: str,
    bucket: str | None,
    quiet: bool,
) -> None:
    """The anonymised report of a period (html, json or csv).

    Exit codes: 0 done, 2 bad options or dates, 3 nothing happened in the period,
    4 the database could not be read."""
    from bot.analytics.figures import Period, PeriodError

    try:
        period = Period.parse(start, end)
    except PeriodError as exc:
        raise click.BadParameter(str(exc), param_hint="--from/--to") from None
    if fmt == "csv" and out is None:
        raise click.UsageError(
            "--format csv writes one file per table: give --out FOLDER or FILE.zip"
        )
    if bucket is None:
        bucket = "day" if period.days <= 62 else "week" if period.days <= 190 else "month"
    from bot.analytics.report import render, write_csv

    result = asyncio.run(_report(period, bucket, quiet))
    if isinstance(result, int):
        sys.exit(result)
    figures, knowledge = result
    if fmt == "csv":
        assert out is not None
        written = write_csv(figures, out)
        click.echo(f"wrote {len(written)} file(s) to {out}", err=True)
        return
    text = render(figures, knowledge, fmt, lang)
    if out is None:
        click.echo(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {out}", err=True)


async def _report(period: Period, bucket: str, quiet: bool) -> tuple[Figures, Knowledge] | int:
    from bot.analytics.figures import Filters, Knowledge, compute, expected_rows
    from bot.analytics.store import AnalyticsStore
    from bot.db import Database
    from bot.desk.hours import WorkingHours
    from bot.settings import get_settings

    settings = get_settings()
    knowledge = await asyncio.to_thread(Knowledge.load, settings.content_dir)
    hours = WorkingHours.from_text(
        settings.desk_hours, settings.desk_timezone, observe_holidays=settings.desk_holidays
    )
    db = Database.from_url(settings.database_url)
    try:
        try:
            async with db.read() as uow:
                total = await expected_rows(AnalyticsStore(uow), period, Filters())
        except Exception as exc:
            click.echo(f"error: cannot read the database ({type(exc).__name__}: {exc})", err=True)
            return EXIT_DATABASE
        show = not quiet and total >= 50_000
        with click.progressbar(
            length=max(total, 1), label="reading", file=sys.stderr, hidden=not show
        ) as bar:
            figures = await compute(
                db,
                period,
                knowledge=knowledge,
                bucket=bucket,  # type: ignore[arg-type]
                min_count=settings.analytics_min_count,
                hours=hours,
                progress=bar.update,
            )
    finally:
        await db.dispose()
    if not figures.questions.n and not figures.desk.opened.n and not figures.desk.ratings_total:
        click.echo(
            f"error: nothing to report: no questions and no tickets from {period.start} "
            f"to {period.end}",
            err=True,
        )
        return EXIT_EMPTY
    return figures, knowledge


@main.command()
@click.option(
    "--older-than-days",
    type=click.IntRange(min=0),
    default=None,
    help="Delete what is older than this many days (default: RETENTION_DAYS, 180).",
)
def prune(older_than_days: int | None) -> None:
    """Roll up the analytics, then delete question texts, ticket contents and the rest of
    what is personal older than RETENTION_DAYS (the daily job of `otwarta serve`)."""
    from bot.settings import get_settings

    settings = get_settings()
    days = older_than_days if older_than_days is not None else settings.retention_days
    result = asyncio.run(_prune(settings.database_url, settings.content_dir, days))
    click.echo(
        f"rolled up {result.rolled_days} day(s); deleted {result.questions} question(s), "
        f"the contents of {result.tickets} ticket(s) and {result.tokens} analytics token(s) "
        f"older than {days} day(s)"
    )


async def _prune(url: str, content_dir: Path, days: int) -> PruneResult:
    from bot.analytics.figures import Knowledge
    from bot.analytics.retention import prune as prune_
    from bot.db import Database

    knowledge = await asyncio.to_thread(Knowledge.load, content_dir)
    db = Database.from_url(url)
    try:
        return await prune_(db, knowledge, older_than_days=days)
    finally:
        await db.dispose()


# -- the web console (issue 19) -----------------------------------------------------------


@main.group("console")
def console_group() -> None:
    """The supervisors' web console: its accounts, and serving it alone."""


def _console_run(action: Callable[[Database], Awaitable[T]]) -> T:
    from bot.settings import get_settings
    from bot.webconsole.accounts import AccountError, open_db

    async def run() -> T:
        db = await open_db(get_settings().database_url)
        try:
            return await action(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise click.ClickException("no password given")
    return str(password)


_password_stdin = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)


@console_group.command("add-user")
@click.argument("name")
@click.option("--role", type=click.Choice(["viewer", "editor", "admin"]), required=True)
@_password_stdin
def console_add_user(name: str, role: str, password_stdin: bool) -> None:
    """Add an account (the password is asked for, never given as an argument)."""
    from bot.webconsole.accounts import add_user

    password = _read_password(password_stdin)
    _console_run(lambda db: add_user(db, name, role, password))
    click.echo(f"added {name} ({role})")


@console_group.command("users")
def console_users() -> None:
    """List the accounts."""
    from bot.webconsole.accounts import users

    accounts = _console_run(users)
    if not accounts:
        click.echo("no accounts: otwarta console add-user NAME --role admin")
    for a in accounts:
        totp = " totp" if a.totp_secret else ""
        click.echo(f"{a.name}\t{a.role}{totp}\tsince {a.created_at:%Y-%m-%d}")


@console_group.command("remove-user")
@click.argument("name")
def console_remove_user(name: str) -> None:
    """Remove an account (its sessions end)."""
    from bot.webconsole.accounts import remove_user

    _console_run(lambda db: remove_user(db, name))
    click.echo(f"removed {name}")


@console_group.command("set-password")
@click.argument("name")
@_password_stdin
def console_set_password(name: str, password_stdin: bool) -> None:
    """Set an account's password (its sessions end)."""
    from bot.webconsole.accounts import set_password

    password = _read_password(password_stdin)
    _console_run(lambda db: set_password(db, name, password))
    click.echo(f"password of {name} set")


@console_group.command("totp")
@click.argument("name")
@click.option("--off", is_flag=True, help="Turn the second factor off.")
def console_totp(name: str, off: bool) -> None:
    """Turn on (a new secret for an authenticator app) or off an account's second factor."""
    from bot.webconsole.accounts import set_totp
    from bot.webconsole.auth import totp_uri

    secret = _console_run(lambda db: set_totp(db, name, enable=not off))
    if secret is None:
        click.echo(f"second factor of {name} off")
    else:
        click.echo(f"secret: {secret}\n{totp_uri(secret, name)}")


@console_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8090, show_default=True)
def console_serve(host: str, port: int) -> None:
    """Serve the console alone (no messenger) on http://HOST:PORT/console/."""
    from bot.logging import setup_logging
    from bot.settings import get_settings
    from bot.webconsole.accounts import serve_alone

    settings = get_settings()
    setup_logging(settings)

    async def run() -> None:
        import signal

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve_alone(settings, host, port, stop)

    asyncio.run(run())


if __name__ == "__main__":
    main()
