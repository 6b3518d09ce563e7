"""The console's tables' one owner (:mod:`bot.db.console_models`): accounts, sessions, the
audit log, the marks on clusters. Built on a unit of work like the other stores: it never
commits; :meth:`bot.db.Database.transaction` does."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, update

from bot.db.console_models import ConsoleAudit, ConsoleMark, ConsoleSession, ConsoleUser
from bot.db.sql import rowcount
from bot.db.unit import UnitOfWork

USERS = cast(Table, ConsoleUser.__table__)
SESSIONS = cast(Table, ConsoleSession.__table__)
AUDIT = cast(Table, ConsoleAudit.__table__)
MARKS = cast(Table, ConsoleMark.__table__)


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    role: str
    password_hash: str
    totp_secret: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class Session:
    token_hash: str
    csrf: str
    created_at: dt.datetime
    last_seen: dt.datetime
    account: Account


@dataclass(frozen=True)
class AuditRow:
    at: dt.datetime
    actor: str
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class Mark:
    cluster_id: str
    verdict: str
    entry_id: str | None
    lang: str | None
    examples: list[str]
    marked_by: str
    marked_at: dt.datetime


_ACCOUNT = (
    USERS.c.id,
    USERS.c.name,
    USERS.c.role,
    USERS.c.password_hash,
    USERS.c.totp_secret,
    USERS.c.created_at,
)


class ConsoleStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self.session = uow.session

    # -- accounts --------------------------------------------------------------------------

    async def accounts(self) -> list[Account]:
        rows = await self.session.execute(select(*_ACCOUNT).order_by(USERS.c.name))
        return [Account(*row) for row in rows.all()]

    async def count_accounts(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(USERS)) or 0)

    async def account(self, name: str) -> Account | None:
        row = (await self.session.execute(select(*_ACCOUNT).where(USERS.c.name == name))).first()
        return None if row is None else Account(*row)

    async def add_account(self, name: str, role: str, password_hash: str, now: dt.datetime) -> None:
        await self.session.execute(
            insert(USERS).values(
                name=name,
                role=role,
                password_hash=password_hash,
                created_at=now,
                password_changed_at=now,
            )
        )

    async def remove_account(self, name: str) -> bool:
        return rowcount(await self.session.execute(delete(USERS).where(USERS.c.name == name))) > 0

    async def set_password(self, name: str, password_hash: str, now: dt.datetime) -> bool:
        """A new hash, and every session of the account ends."""
        result = await self.session.execute(
            update(USERS)
            .where(USERS.c.name == name)
            .values(password_hash=password_hash, password_changed_at=now)
        )
        account = await self.account(name)
        if account is not None:
            await self.session.execute(delete(SESSIONS).where(SESSIONS.c.user_id == account.id))
        return rowcount(result) > 0

    async def set_role(self, name: str, role: str) -> bool:
        result = await self.session.execute(
            update(USERS).where(USERS.c.name == name).values(role=role)
        )
        return rowcount(result) > 0

    async def set_totp(self, name: str, secret: str | None) -> bool:
        result = await self.session.execute(
            update(USERS).where(USERS.c.name == name).values(totp_secret=secret)
        )
        return rowcount(result) > 0

    # -- sessions --------------------------------------------------------------------------

    async def open_session(
        self, token_hash: str, account_id: int, csrf: str, now: dt.datetime
    ) -> None:
        await self.session.execute(
            insert(SESSIONS).values(
                token_hash=token_hash, user_id=account_id, csrf=csrf, created_at=now, last_seen=now
            )
        )

    async def session_of(self, token_hash: str) -> Session | None:
        row = (
            await self.session.execute(
                select(
                    SESSIONS.c.token_hash,
                    SESSIONS.c.csrf,
                    SESSIONS.c.created_at,
                    SESSIONS.c.last_seen,
                    *_ACCOUNT,
                )
                .select_from(SESSIONS.join(USERS, USERS.c.id == SESSIONS.c.user_id))
                .where(SESSIONS.c.token_hash == token_hash)
            )
        ).first()
        if row is None:
            return None
        return Session(row[0], row[1], row[2], row[3], Account(*tuple(row)[4:]))

    async def touch_session(self, token_hash: str, now: dt.datetime) -> None:
        await self.session.execute(
            update(SESSIONS).where(SESSIONS.c.token_hash == token_hash).values(last_seen=now)
        )

    async def close_session(self, token_hash: str) -> None:
        await self.session.execute(delete(SESSIONS).where(SESSIONS.c.token_hash == token_hash))

    async def close_sessions_before(
        self, idle_before: dt.datetime, made_before: dt.datetime
    ) -> int:
        result = await self.session.execute(
            delete(SESSIONS).where(
                (SESSIONS.c.last_seen < idle_before) | (SESSIONS.c.created_at < made_before)
            )
        )
        return rowcount(result)

    # -- the audit log ---------------------------------------------------------------------

    async def audit(
        self, actor: str, action: str, detail: dict[str, Any], now: dt.datetime
    ) -> None:
        await self.session.execute(
            insert(AUDIT).values(at=now, actor=actor, action=action, detail=detail)
        )

    async def audit_log(self, limit: int = 200) -> list[AuditRow]:
        rows = await self.session.execute(
            select(AUDIT.c.at, AUDIT.c.actor, AUDIT.c.action, AUDIT.c.detail)
            .order_by(AUDIT.c.id.desc())
            .limit(limit)
        )
        return [AuditRow(*row) for row in rows.all()]

    # -- marks -----------------------------------------------------------------------------

    async def marks(self) -> dict[str, Mark]:
        rows = await self.session.execute(
            select(
                MARKS.c.cluster_id,
                MARKS.c.verdict,
                MARKS.c.entry_id,
                MARKS.c.lang,
                MARKS.c.examples,
                MARKS.c.marked_by,
                MARKS.c.marked_at,
            ).order_by(MARKS.c.marked_at)
        )
        return {row[0]: Mark(*row) for row in rows.all()}

    async def set_mark(self, mark: Mark) -> None:
        await self.session.execute(delete(MARKS).where(MARKS.c.cluster_id == mark.cluster_id))
        await self.session.execute(
            insert(MARKS).values(
                cluster_id=mark.cluster_id,
                verdict=mark.verdict,
                entry_id=mark.entry_id,
                lang=mark.lang,
                examples=list(mark.examples),
                marked_by=mark.marked_by,
                marked_at=mark.marked_at,
            )
        )

    async def clear_mark(self, cluster_id: str) -> bool:
        result = await self.session.execute(delete(MARKS).where(MARKS.c.cluster_id == cluster_id))
        return rowcount(result) > 0
