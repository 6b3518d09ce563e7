"""``otwarta announce FILE [--dry-run]`` and ``otwarta announce status [ID] [--watch]``."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # imported when a command runs: `otwarta content check` pays nothing
    from bot.db import Database

_STATUS_ORDER = ("sent", "failed", "skipped", "queued", "pending")


class AnnounceGroup(click.Group):
    """``announce FILE`` runs the ``send`` subcommand; ``announce status`` is a subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["send", *args]
        return super().parse_args(ctx, args)


async def _open(url: str) -> Database:
    from bot.db import Database
    from bot.db.engine import is_sqlite
    from bot.db.migrate import ensure_schema

    if is_sqlite(url):
        await ensure_schema(url)
    else:
        from bot.app import check_schema

        await check_schema(url)
    return Database.from_url(url)


def send(file: Path, dry_run: bool, content_dir: Path, url: str) -> None:
    from bot.announce.queue import load, queue, reach
    from faq.content import load_knowledge_base

    kb = load_knowledge_base(content_dir)
    announcement, problems = load(file, kb)
    for problem in problems:
        click.echo(str(problem), err=True)
    if announcement is None:
        raise click.ClickException(f"{file} is not a valid announcement")

    async def run() -> None:
        db = await _open(url)
        try:
            reached = await reach(db, announcement)
            click.echo(f"announcement {announcement.id}: reaches {reached.total} people now")
            for platform, count in sorted(reached.by_platform.items()):
                click.echo(f"  {platform:<10} {count}")
            for lang, count in sorted(reached.by_lang.items()):
                click.echo(f"  in {lang:<7} {count}")
            if dry_run:
                click.echo("dry run: nothing queued")
                return
            row, created = await queue(db, announcement, dt.datetime.now(dt.UTC))
            when = row.publish_at.isoformat(timespec="minutes")
            if created:
                click.echo(f"queued as #{row.id}, publishing at {when} (UTC)")
            else:
                click.echo(f"already queued as #{row.id} ({row.status}); not queued again")
        finally:
            await db.dispose()

    asyncio.run(run())


def status(announcement_id: int | None, watch: bool, url: str) -> None:
    async def snapshot() -> list[tuple[Any, dict[str, int]]]:
        db = await _open(url)
        try:
            async with db.read() as uow:
                if announcement_id is not None:
                    row = await uow.announcements.get(announcement_id)
                    rows = [row] if row is not None else []
                else:
                    rows = await uow.announcements.recent(5)
                return [(row, await uow.announcements.progress(row.id)) for row in rows]
        finally:
            await db.dispose()

    shown = asyncio.run(snapshot())
    if not shown:
        click.echo("no announcements" if announcement_id is None else "no such announcement")
        sys.exit(0 if announcement_id is None else 1)
    for row, counts in shown:
        _print(row, counts)
    if not watch:
        return
    row, counts = shown[0]
    if row.status == "scheduled":
        click.echo(f"#{row.id} is not published yet: nothing to watch")
        return
    total = row.total or sum(counts.values())
    with click.progressbar(length=max(total, 1), label=f"#{row.id} {row.key}") as bar:
        done = 0
        while True:
            finished = sum(counts.get(s, 0) for s in ("sent", "failed", "skipped"))
            bar.update(finished - done)
            done = finished
            if row.status in ("done", "cancelled") or (total and finished >= total):
                break
            time.sleep(1.0)
            row, counts = asyncio.run(_one(row.id, url))
    _print(row, counts)


async def _one(announcement_id: int, url: str) -> tuple[Any, dict[str, int]]:
    from bot.db import Database

    db = Database.from_url(url)
    try:
        async with db.read() as uow:
            row = await uow.announcements.get(announcement_id)
            return row, await uow.announcements.progress(announcement_id)
    finally:
        await db.dispose()


def _print(row: Any, counts: dict[str, int]) -> None:
    total = row.total if row.total is not None else sum(counts.values())
    finished = sum(counts.get(s, 0) for s in ("sent", "failed", "skipped"))
    width = 30
    filled = int(width * finished / total) if total else (width if row.status == "done" else 0)
    bar = "#" * filled + "-" * (width - filled)
    parts = " · ".join(f"{status} {counts.get(status, 0)}" for status in _STATUS_ORDER)
    click.echo(
        f"#{row.id} {row.key} [{row.status}] publish {row.publish_at.isoformat(timespec='minutes')}"
    )
    click.echo(f"  [{bar}] {finished}/{total}  {parts}")
