"""What ``otwarta console add-user | users | remove-user | set-password | totp | serve`` do.
Changes made here are written to the audit log as made by ``(command line)``."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING

from bot.webconsole import auth
from bot.webconsole.store import Account, ConsoleStore

if TYPE_CHECKING:
    from bot.db import Database
    from bot.settings import Settings

log = logging.getLogger(__name__)

CLI_ACTOR = "(command line)"
ROLES = ("viewer", "editor", "admin")


class AccountError(Exception):
    """A command that cannot be done (the message says why)."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 64 or any(ch.isspace() for ch in name):
        raise AccountError("a name is 1-64 characters with no spaces")
    return name


def check_password(password: str) -> None:
    if len(password) < auth.MIN_PASSWORD:
        raise AccountError(f"a password needs at least {auth.MIN_PASSWORD} characters")


async def open_db(url: str) -> Database:
    """The database; the embedded SQLite one migrated first (as ``otwarta serve`` does), so
    ``add-user`` works on a fresh laptop. PostgreSQL is migrated by ``otwarta db upgrade``."""
    from bot.db import Database
    from bot.db.engine import is_sqlite
    from bot.db.migrate import ensure_schema

    if is_sqlite(url):
        await ensure_schema(url)
    return Database.from_url(url)


async def add_user(db: Database, name: str, role: str, password: str) -> None:
    name = check_name(name)
    check_password(password)
    if role not in ROLES:
        raise AccountError(f"the role is one of {', '.join(ROLES)}")
    async with db.transaction() as uow:
        store = ConsoleStore(uow)
        if await store.account(name) is not None:
            raise AccountError(f"there is already an account named {name}")
        now = _now()
        await store.add_account(name, role, auth.hash_password(password), now)
        await store.audit(CLI_ACTOR, "add_user", {"name": name, "role": role}, now)


async def users(db: Database) -> list[Account]:
    async with db.read() as uow:
        return await ConsoleStore(uow).accounts()


async def remove_user(db: Database, name: str) -> None:
    async with db.transaction() as uow:
        store = ConsoleStore(uow)
        if not await store.remove_account(name):
            raise AccountError(f"no account named {name}")
        await store.audit(CLI_ACTOR, "remove_user", {"name": name}, _now())


async def set_password(db: Database, name: str, password: str) -> None:
    check_password(password)
    async with db.transaction() as uow:
        store = ConsoleStore(uow)
        now = _now()
        if not await store.set_password(name, auth.hash_password(password), now):
            raise AccountError(f"no account named {name}")
        await store.audit(CLI_ACTOR, "set_password", {"name": name}, now)


async def set_totp(db: Database, name: str, *, enable: bool) -> str | None:
    """Turn the account's second factor on (a new secret, returned) or off."""
    secret = auth.new_totp_secret() if enable else None
    async with db.transaction() as uow:
        store = ConsoleStore(uow)
        if not await store.set_totp(name, secret):
            raise AccountError(f"no account named {name}")
        await store.audit(CLI_ACTOR, "totp_on" if enable else "totp_off", {"name": name}, _now())
    return secret


async def serve_alone(settings: Settings, host: str, port: int, stop: asyncio.Event) -> None:
    """The console alone (no messenger, no outbox): for a laptop next to the database."""
    from aiohttp import web

    from bot.webconsole.pages import application
    from bot.webconsole.web import WebConsole

    db = await open_db(settings.database_url)
    runner = web.AppRunner(application(WebConsole(db, settings)), access_log=None)
    try:
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        log.info("console on http://%s:%d/console/", host, port)
        print(f"console on http://{host}:{port}/console/ (Ctrl+C stops it)", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()
        await db.dispose()
