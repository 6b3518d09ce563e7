"""The ``users`` table's one owner: the people the bot talks to, one row per platform id.

:meth:`People.touch` updates the person's row first, which locks it on PostgreSQL, so two
events of one person run one after the other and never overwrite each other's state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import User
from bot.db.sql import TIME, per_backend
from handlers.context import UserState
from handlers.model import Address, Platform

USERS = cast(Table, User.__table__)
USER_COLUMNS = tuple(USERS.c)

# Core statements (no ORM identity map or unit of work), each built ONCE with bind
# parameters: building a statement and its cache key costs more than running it on SQLite.

#: Mark a known person seen now and return their row (``p_platform``, ``p_external_id``,
#: ``p_now``); no row for a newcomer.
TOUCH = (
    update(USERS)
    .where(
        USERS.c.platform == bindparam("p_platform"),
        USERS.c.external_id == bindparam("p_external_id"),
    )
    .values(last_seen=bindparam("p_now", type_=TIME), active=True)
    .returning(*USER_COLUMNS)
)
_CREATE = per_backend(
    lambda insert_: (
        insert_(USERS)
        .values(
            platform=bindparam("p_platform"),
            external_id=bindparam("p_external_id"),
            notice_seen=False,
            first_seen=bindparam("p_now", type_=TIME),
            last_seen=bindparam("p_now", type_=TIME),
            active=True,
        )
        .on_conflict_do_nothing(index_elements=["platform", "external_id"])
        .returning(*USER_COLUMNS)
    )
)
_SAVE = (
    update(USERS)
    .where(USERS.c.id == bindparam("p_id"))
    .values(
        lang=bindparam("p_lang"),
        audience=bindparam("p_audience"),
        notice_seen=bindparam("p_notice_seen"),
        context_entry=bindparam("p_context_entry"),
        context_at=bindparam("p_context_at", type_=TIME),
    )
)


def user_state(row: Mapping[Any, Any], *, is_new: bool = False) -> UserState:
    """A :class:`UserState` from a row with the ``users`` columns."""
    return UserState(
        id=row["id"],
        address=Address(Platform(row["platform"]), row["external_id"]),
        lang=row["lang"],
        audience=row["audience"],
        notice_seen=row["notice_seen"],
        is_new=is_new,
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        context_entry=row["context_entry"],
        context_at=row["context_at"],
    )


class People:
    """People, inside a transaction it does not own (:class:`bot.db.unit.UnitOfWork`)."""

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self.session = session
        self.dialect = dialect

    async def find(self, platform: str, external_id: str) -> UserState | None:
        row = (
            await self.session.execute(
                select(*USER_COLUMNS).where(
                    USERS.c.platform == platform, USERS.c.external_id == external_id
                )
            )
        ).first()
        return None if row is None else user_state(row._mapping)

    async def get(self, user_id: int) -> UserState | None:
        row = (
            await self.session.execute(select(*USER_COLUMNS).where(USERS.c.id == user_id))
        ).first()
        return None if row is None else user_state(row._mapping)

    async def touch(self, platform: str, external_id: str, now: dt.datetime) -> UserState:
        """Get or create the person, marking them seen (and active) now.

        One round trip for a known person (UPDATE ... RETURNING)."""
        params = {"p_platform": platform, "p_external_id": external_id, "p_now": now}
        for _ in range(2):
            found = (await self.session.execute(TOUCH, params)).first()
            if found is not None:
                return user_state(found._mapping)
            created = (await self.session.execute(_CREATE[self.dialect], params)).first()
            if created is not None:
                return user_state(created._mapping, is_new=True)
            # Someone created the person between our UPDATE and INSERT: update again.
        raise RuntimeError(f"could not get or create user {platform}:{external_id}")

    async def save(self, user: UserState, before: UserState | None = None) -> None:
        """Persist the fields handlers may change (nothing to do if ``before`` is the same)."""
        values = (user.lang, user.audience, user.notice_seen, user.context_entry, user.context_at)
        if before is not None and values == (
            before.lang,
            before.audience,
            before.notice_seen,
            before.context_entry,
            before.context_at,
        ):
            return
        await self.session.execute(
            _SAVE,
            {
                "p_id": user.id,
                "p_lang": values[0],
                "p_audience": values[1],
                "p_notice_seen": values[2],
                "p_context_entry": values[3],
                "p_context_at": values[4],
            },
        )

    async def set_active(self, user_ids: Iterable[int], active: bool) -> None:
        ids = list(user_ids)
        if ids:
            await self.session.execute(
                update(USERS).where(USERS.c.id.in_(ids)).values(active=active)
            )

    async def ids_for_chat(self, platform: str, chat_id: str) -> list[int]:
        result = await self.session.scalars(
            select(USERS.c.id).where(USERS.c.platform == platform, USERS.c.external_id == chat_id)
        )
        return list(result)

    async def forget(self, user_id: int) -> None:
        """Delete the person; the database cascades to their query log and pending outbox
        (and unlinks their tickets)."""
        await self.session.execute(delete(USERS).where(USERS.c.id == user_id))

    @staticmethod
    def with_address(query: Any, user_id: Any) -> Any:
        """``query`` with two more columns, the platform and platform id of the person whose
        id is ``user_id`` (a column of ``query``), NULL when there is no such person: for
        other aggregates' reads that show whom a row is about, in the same statement."""
        return query.add_columns(USERS.c.platform, USERS.c.external_id).outerjoin(
            USERS, USERS.c.id == user_id
        )
