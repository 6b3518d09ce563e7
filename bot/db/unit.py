"""The unit of work: one transaction, and the aggregates reached through it.

:meth:`bot.db.engine.Database.transaction` yields a :class:`UnitOfWork`; everything the bot
writes goes through one (``async with db.transaction() as uow: uow.people.…,
uow.outbox.enqueue(…)``), so writes to several aggregates commit or roll back together. Each
table has one owner module:

- :mod:`bot.db.events`: the dedupe keys of the events handled (``processed_events``);
- :mod:`bot.db.people`: the people (``users``);
- :mod:`bot.db.query_log`: their questions and the matcher's decisions (``query_log``);
- :mod:`bot.db.outbox`: the replies waiting to go out (``outbox``), written only there.

The consultant desk's store (:mod:`bot.desk.store`) is built on a unit of work too: it owns
the desk's tables and asks these aggregates for the rest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, func, literal_column, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import events as _events
from bot.db import people as _people
from bot.db.events import Events
from bot.db.outbox import Outbox
from bot.db.people import People, user_state
from bot.db.query_log import Queries
from bot.db.sql import fetch
from handlers.context import UserState


def _record_and_touch() -> Any:
    """PostgreSQL: the event's dedupe key and the person's "seen now" in ONE round trip (a
    turn has few, and each is a wait on the server). One row always: ``fresh`` is 1 for a new
    key, 0 for a duplicate; the person's columns are NULL when they are not known yet."""
    fresh = _events.MARK_PROCESSED["postgresql"].returning(_events.EVENTS.c.dedupe_key).cte("fresh")
    touched = _people.TOUCH.cte("touched")
    one = select(literal_column("1").label("one")).subquery("one")
    return select(
        select(func.count()).select_from(fresh).scalar_subquery().label("fresh"), *touched.c
    ).select_from(one.outerjoin(touched, true()))


_RECORD_AND_TOUCH = _record_and_touch()


class UnitOfWork:
    """The aggregates of one transaction, which the unit of work does not commit itself:
    :meth:`~bot.db.engine.Database.transaction` does on a normal exit, and rolls back on an
    error. (Read-only work: :meth:`~bot.db.engine.Database.read`.)"""

    def __init__(self, session: AsyncSession) -> None:
        #: The transaction's session, for the modules that own the desk's tables.
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self.events = Events(session, self.dialect)
        self.people = People(session, self.dialect)
        self.queries = Queries(session)
        self.outbox = Outbox(session, self.dialect)

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the transaction has committed (never if it rolls back): for
        what must count only committed work, such as metrics."""
        event.listen(
            self.session.sync_session, "after_commit", lambda _session: callback(), once=True
        )

    async def begin_turn(
        self, platform: str, dedupe_key: str, external_id: str, now: dt.datetime
    ) -> UserState | None:
        """Record the event's key, then get or create the person, seen now: ``None`` for a
        duplicate event (the caller rolls back). On PostgreSQL one round trip for a known
        person (the two statements as one)."""
        if self.dialect != "postgresql":
            if not await self.events.mark_processed(platform, dedupe_key, now):
                return None
            return await self.people.touch(platform, external_id, now)
        params = {
            "p_platform": platform,
            "p_key": dedupe_key,
            "p_external_id": external_id,
            "p_now": now,
        }
        (row,) = await fetch(self.session, _RECORD_AND_TOUCH, params)
        if not row["fresh"]:
            return None
        if row["id"] is not None:
            return user_state(row)
        return await self.people.touch(platform, external_id, now)  # a newcomer: create them
