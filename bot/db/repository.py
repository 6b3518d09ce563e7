"""The one small layer through which the rest of the bot reaches the database.

A :class:`Repository` wraps a session that is already in a transaction
(:meth:`bot.db.engine.Database.transaction`); it never commits. The SQL that must behave under
concurrency is written so it does on both backends:

- :meth:`Repository.mark_processed` is ``INSERT ... ON CONFLICT DO NOTHING``: a concurrent
  duplicate waits for the first transaction and then inserts nothing.
- :meth:`Repository.touch_user` updates the person's row first, which locks it on PostgreSQL,
  so two events of one person run one after the other and never overwrite each other's state.
- :meth:`Repository.claim_due` picks each chat's first pending message only, with
  ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several processes never send the same message
  and never send a chat's messages out of order.

On PostgreSQL, inside :meth:`~bot.db.engine.Database.transaction`, the statements of every
turn (:meth:`Repository.begin_turn`, :meth:`Repository.log_query`, :meth:`Repository.enqueue`)
and of every outbox round (:meth:`Repository.claim_due`, :meth:`Repository.mark_sent`) run on
the driver's connection directly (:mod:`bot.db.driver`), in the same transaction as the
session's; they are the same Core statements, compiled once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    Integer,
    String,
    Table,
    and_,
    any_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.codec import reply_from_payload, reply_to_payload
from bot.db.driver import DRIVER_CONNECTION, DriverStatement
from bot.db.models import OutboxMessage, ProcessedEvent, QueryLog, User
from handlers.context import UserState
from handlers.model import Address, Platform, Reply

PENDING = ("queued", "sending")


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A claimed outbox message, ready to hand to a sender."""

    id: int
    reply: Reply
    attempts: int
    created_at: dt.datetime
    user_id: int | None

    @property
    def chat(self) -> tuple[str, str]:
        return (self.reply.address.platform.value, self.reply.address.chat_id)


# -- the hot paths' statements ----------------------------------------------------------------
# Core statements on the tables (no ORM identity map or unit of work), each built ONCE with
# bind parameters: building a statement and its cache key costs more than running it on SQLite.
# Inserts without ``.values()`` take their columns from the parameters (compiled once per set).

_USERS = cast(Table, User.__table__)
_OUTBOX = cast(Table, OutboxMessage.__table__)
_EVENTS = cast(Table, ProcessedEvent.__table__)
_QUERIES = cast(Table, QueryLog.__table__)
_USER_COLUMNS = tuple(_USERS.c)
_ITEM_FIELDS = [
    "id",
    "platform",
    "chat_id",
    "thread_id",
    "payload",
    "attempts",
    "created_at",
    "user_id",
]
_ITEM_COLUMNS = tuple(_OUTBOX.c[name] for name in _ITEM_FIELDS)
_TIME = _OUTBOX.c.created_at.type


def _status_is(column: Any, *statuses: str) -> Any:
    """``status IN ('queued', ...)`` with the statuses as SQL literals, not bound parameters:
    the planners use a partial index (``WHERE status = 'queued'``) only for a query whose
    condition visibly implies the index's, which a parameter does not."""
    values: list[Any] = [literal_column(f"'{status}'") for status in statuses]
    return column == values[0] if len(values) == 1 else column.in_(values)


def _per_backend(build: Callable[[Callable[[Table], Any]], Any]) -> dict[str, Any]:
    """A statement built once per backend, given that backend's INSERT (it has
    ``on_conflict_do_nothing``)."""
    return {"postgresql": build(postgresql.insert), "sqlite": build(sqlite.insert)}


_MARK_PROCESSED = _per_backend(
    lambda insert_: (
        insert_(_EVENTS)
        .values(
            platform=bindparam("p_platform"),
            dedupe_key=bindparam("p_key"),
            processed_at=bindparam("p_now", type_=_TIME),
        )
        .on_conflict_do_nothing(index_elements=["platform", "dedupe_key"])
    )
)
_TOUCH_USER = (
    update(_USERS)
    .where(
        _USERS.c.platform == bindparam("p_platform"),
        _USERS.c.external_id == bindparam("p_external_id"),
    )
    .values(last_seen=bindparam("p_now", type_=_TIME), active=True)
    .returning(*_USER_COLUMNS)
)
_CREATE_USER = _per_backend(
    lambda insert_: (
        insert_(_USERS)
        .values(
            platform=bindparam("p_platform"),
            external_id=bindparam("p_external_id"),
            notice_seen=False,
            first_seen=bindparam("p_now", type_=_TIME),
            last_seen=bindparam("p_now", type_=_TIME),
            active=True,
        )
        .on_conflict_do_nothing(index_elements=["platform", "external_id"])
        .returning(*_USER_COLUMNS)
    )
)


def _record_and_touch() -> Any:
    """PostgreSQL: the event's dedupe key and the person's "seen now" in ONE round trip (a
    turn has few, and each is a wait on the server). One row always: ``fresh`` is 1 for a new
    key, 0 for a duplicate; the person's columns are NULL when they are not known yet."""
    fresh = _MARK_PROCESSED["postgresql"].returning(_EVENTS.c.dedupe_key).cte("fresh")
    touched = _TOUCH_USER.cte("touched")
    one = select(literal_column("1").label("one")).subquery("one")
    return select(
        select(func.count()).select_from(fresh).scalar_subquery().label("fresh"), *touched.c
    ).select_from(one.outerjoin(touched, true()))


_RECORD_AND_TOUCH = _record_and_touch()
_SAVE_USER = (
    update(_USERS)
    .where(_USERS.c.id == bindparam("p_id"))
    .values(
        lang=bindparam("p_lang"),
        audience=bindparam("p_audience"),
        notice_seen=bindparam("p_notice_seen"),
        context_entry=bindparam("p_context_entry"),
        context_at=bindparam("p_context_at", type_=_TIME),
    )
)
_LOG_QUERY = insert(_QUERIES).returning(_QUERIES.c.id)
_ENQUEUE = insert(_OUTBOX)

_candidate = _OUTBOX.alias("candidate")  # a message that may be claimed...
_pending = _OUTBOX.alias("pending")  # ...and the pending messages of its chat


def _due_heads(platform_is_one_of: Any) -> tuple[Any, ...]:
    """The candidate is queued, for one of our platforms, and its chat's first pending message.

    A correlated scalar subquery rather than ``NOT EXISTS``: PostgreSQL runs it per candidate
    as one probe of ``ix_outbox_pending_chat`` whatever its statistics say, where an anti-join
    planned on a young table's stale statistics scanned every pending message for every
    candidate."""
    return (
        _status_is(_candidate.c.status, "queued"),
        platform_is_one_of,
        _candidate.c.id
        == select(func.min(_pending.c.id))
        .where(
            _pending.c.platform == _candidate.c.platform,
            _pending.c.chat_id == _candidate.c.chat_id,
            _status_is(_pending.c.status, *PENDING),
        )
        .scalar_subquery(),
    )


_DUE_HEADS = _due_heads(_candidate.c.platform.in_(bindparam("p_platforms", expanding=True)))


def _claim(due: Any) -> Any:
    """One statement: choose the due chat heads, mark them "sending"."""
    return (
        update(_OUTBOX)
        .where(_OUTBOX.c.id.in_(select(due.c.id)), _status_is(_OUTBOX.c.status, "queued"))
        .values(status="sending", lease_until=bindparam("p_lease_until", type_=_TIME))
        .returning(*_ITEM_COLUMNS)
    )


def _due_ids(heads: tuple[Any, ...]) -> Any:
    return (
        select(_candidate.c.id)
        .where(_candidate.c.not_before <= bindparam("p_now", type_=_TIME), *heads)
        .order_by(_candidate.c.id)
        .limit(bindparam("p_limit", type_=Integer))
    )


#: On PostgreSQL the choice skips rows other processes are claiming at that moment, and is a
#: MATERIALIZED CTE: as a plain ``IN (subquery)`` the planner may run it more than once, each
#: run skipping the rows the last one locked, and claim several times the limit. The platforms
#: are one array parameter (``= ANY``), so the statement compiles once for the driver.
_CLAIM = {
    "postgresql": _claim(
        _due_ids(
            _due_heads(_candidate.c.platform == any_(bindparam("p_platforms", type_=ARRAY(String))))
        )
        .with_for_update(skip_locked=True)
        .cte("due")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    ),
    "sqlite": _claim(_due_ids(_DUE_HEADS).cte("due")),
}
_NEXT_DUE = select(func.min(_candidate.c.not_before)).where(*_DUE_HEADS)
_MARK_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("p_id"))
    .values(
        status="sent",
        sent_at=bindparam("p_sent_at", type_=_TIME),
        message_id=bindparam("p_message_id"),
        lease_until=None,
        last_error=None,
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


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name
        #: PostgreSQL, in a transaction: the asyncpg connection, for the hot statements.
        self._driver = session.info.get(DRIVER_CONNECTION)

    async def _fetch(
        self, statement: Any, params: Mapping[str, Any]
    ) -> Sequence[Mapping[Any, Any]]:
        """The rows of a hot statement: straight on the driver in a PostgreSQL transaction
        (:mod:`bot.db.driver`), else through the session."""
        if self._driver is not None:
            return await DriverStatement.of(statement).fetch(self._driver, params)
        return (await self.session.execute(statement, params)).mappings().all()

    async def _execute_many(self, statement: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        """A hot statement once per row, in order (see :meth:`_fetch`)."""
        if self._driver is not None:
            await DriverStatement.of(statement).executemany(self._driver, rows)
            return
        connection = await self.session.connection()  # a plain executemany, not ORM bulk
        await connection.execute(statement, list(rows))

    # -- events ---------------------------------------------------------------------------

    async def mark_processed(self, platform: str, dedupe_key: str, now: dt.datetime) -> bool:
        """Record an event's key; ``False`` when it was already there (a duplicate)."""
        result = await self.session.execute(
            _MARK_PROCESSED[self.dialect],
            {"p_platform": platform, "p_key": dedupe_key, "p_now": now},
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def begin_turn(
        self, platform: str, dedupe_key: str, external_id: str, now: dt.datetime
    ) -> UserState | None:
        """:meth:`mark_processed` then :meth:`touch_user`: ``None`` for a duplicate event (the
        caller rolls back). On PostgreSQL one round trip for a known person."""
        if self.dialect != "postgresql":
            if not await self.mark_processed(platform, dedupe_key, now):
                return None
            return await self.touch_user(platform, external_id, now)
        params = {
            "p_platform": platform,
            "p_key": dedupe_key,
            "p_external_id": external_id,
            "p_now": now,
        }
        (row,) = await self._fetch(_RECORD_AND_TOUCH, params)
        if not row["fresh"]:
            return None
        if row["id"] is not None:
            return user_state(row)
        return await self.touch_user(platform, external_id, now)  # a newcomer: create them

    async def is_processed(self, platform: str, dedupe_key: str) -> bool:
        found = await self.session.scalar(
            select(ProcessedEvent.dedupe_key).where(
                ProcessedEvent.platform == platform, ProcessedEvent.dedupe_key == dedupe_key
            )
        )
        return found is not None

    async def prune_processed_events(self, older_than: dt.datetime) -> int:
        """Forget dedupe keys recorded before ``older_than``; platforms stop redelivering
        within a day, so a few days of keys are plenty."""
        result = await self.session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.processed_at < older_than)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    # -- users ----------------------------------------------------------------------------

    async def find_user(self, platform: str, external_id: str) -> UserState | None:
        row = (
            await self.session.execute(
                select(*_USER_COLUMNS).where(
                    _USERS.c.platform == platform, _USERS.c.external_id == external_id
                )
            )
        ).first()
        return None if row is None else user_state(row._mapping)

    async def touch_user(self, platform: str, external_id: str, now: dt.datetime) -> UserState:
        """Get or create the person, marking them seen (and active) now.

        One round trip for a known person (UPDATE ... RETURNING)."""
        params = {"p_platform": platform, "p_external_id": external_id, "p_now": now}
        for _ in range(2):
            found = (await self.session.execute(_TOUCH_USER, params)).first()
            if found is not None:
                return user_state(found._mapping)
            created = (await self.session.execute(_CREATE_USER[self.dialect], params)).first()
            if created is not None:
                return user_state(created._mapping, is_new=True)
            # Someone created the person between our UPDATE and INSERT: update again.
        raise RuntimeError(f"could not get or create user {platform}:{external_id}")

    async def save_user(self, user: UserState, before: UserState | None = None) -> None:
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
            _SAVE_USER,
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
            await self.session.execute(update(User).where(User.id.in_(ids)).values(active=active))

    async def user_ids_for_chat(self, platform: str, chat_id: str) -> list[int]:
        result = await self.session.scalars(
            select(User.id).where(User.platform == platform, User.external_id == chat_id)
        )
        return list(result)

    async def forget_user(self, user_id: int) -> None:
        """Delete the person; the database cascades to their query log and pending outbox."""
        await self.session.execute(delete(User).where(User.id == user_id))

    # -- query log --------------------------------------------------------------------------

    async def log_query(
        self,
        user_id: int,
        text_scrubbed: str,
        decision: str,
        intent: str | None,
        lang: str,
        candidates: Sequence[tuple[str, float]],
        now: dt.datetime,
    ) -> int:
        ranked = [[entry_id, round(float(score), 4)] for entry_id, score in candidates]
        row = {
            "user_id": user_id,
            "created_at": now,
            "text_scrubbed": text_scrubbed,
            "lang": lang,
            "decision": decision,
            "intent": intent,
            "candidates": ranked,
            "top_entry": ranked[0][0] if ranked else None,
            "top_score": ranked[0][1] if ranked else None,
        }
        (logged,) = await self._fetch(_LOG_QUERY, row)
        return int(logged["id"])

    async def record_feedback(
        self, user_id: int, query_id: int, helpful: bool, now: dt.datetime
    ) -> bool:
        result = await self.session.execute(
            update(QueryLog)
            .where(QueryLog.id == query_id, QueryLog.user_id == user_id)
            .values(feedback=helpful, feedback_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- outbox ---------------------------------------------------------------------------

    async def enqueue(self, replies: Iterable[tuple[Reply, int | None]], now: dt.datetime) -> int:
        """Queue replies (each with the id of the person it is for, if any), in order: the
        rows are inserted one after the other, so their ids follow the order given."""
        rows = [
            {
                "platform": reply.address.platform.value,
                "chat_id": reply.address.chat_id,
                "thread_id": reply.address.thread_id,
                "payload": reply_to_payload(reply),
                "created_at": now,
                "not_before": now,
                "attempts": 0,
                "status": "queued",
                "user_id": user_id,
            }
            for reply, user_id in replies
        ]
        if rows:
            await self._execute_many(_ENQUEUE, rows)
        return len(rows)

    async def claim_due(
        self,
        platforms: Sequence[str],
        now: dt.datetime,
        lease_until: dt.datetime,
        limit: int,
    ) -> list[OutboxItem]:
        """Mark up to ``limit`` due messages "sending" and return them, at most one per chat
        (each chat's first pending message, and only if it is due)."""
        if limit <= 0 or not platforms:
            return []
        params = {
            "p_now": now,
            "p_platforms": list(platforms),
            "p_limit": limit,
            "p_lease_until": lease_until,
        }
        rows = await self._fetch(_CLAIM[self.dialect], params)
        return sorted((_item(row) for row in rows), key=lambda item: item.id)

    async def renew_lease(self, message_id: int, lease_until: dt.datetime) -> bool:
        """Extend a claim before sending; ``False`` if the claim was lost meanwhile."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == "sending")
            .values(lease_until=lease_until)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def release(self, message_ids: Iterable[int]) -> int:
        """Give claims back without an attempt counted (a graceful stop mid-send)."""
        ids = list(message_ids)
        if not ids:
            return 0
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "sending")
            .values(status="queued", lease_until=None)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def mark_sent(self, delivered: Sequence[tuple[int, dt.datetime, str | None]]) -> None:
        """Record deliveries: (message id, when, the platform's id of the message)."""
        if not delivered:
            return
        await self._execute_many(
            _MARK_SENT,
            [
                {"p_id": message_id, "p_sent_at": at, "p_message_id": platform_id}
                for message_id, at, platform_id in delivered
            ],
        )

    async def reschedule(
        self, message_id: int, not_before: dt.datetime, attempts: int, error: str
    ) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(
                status="queued",
                not_before=not_before,
                attempts=attempts,
                last_error=error[:500],
                lease_until=None,
            )
        )

    async def mark_failed(self, message_id: int, attempts: int, error: str) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(status="failed", attempts=attempts, last_error=error[:500], lease_until=None)
        )

    async def fail_pending_for_chat(self, platform: str, chat_id: str, error: str) -> int:
        """Give up every pending message to a chat (the person blocked the bot)."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.platform == platform,
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.status.in_(PENDING),
            )
            .values(status="failed", last_error=error[:500], lease_until=None)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def requeue_stale(
        self, platforms: Sequence[str], now: dt.datetime, *, all_sending: bool = False
    ) -> int:
        """Put "sending" messages whose claim expired (their process died) back in the queue.

        ``all_sending`` re-queues every claim regardless of its lease: right for a database
        only this process uses (embedded SQLite), at start.
        """
        if not platforms:
            return 0
        condition = and_(
            OutboxMessage.status == "sending", OutboxMessage.platform.in_(list(platforms))
        )
        if not all_sending:
            condition = and_(
                condition,
                or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
            )
        result = await self.session.execute(
            update(OutboxMessage).where(condition).values(status="queued", lease_until=None)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def next_due_at(self, platforms: Sequence[str]) -> dt.datetime | None:
        """When the next message may be claimed: the earliest ``not_before`` among the chats'
        first pending messages (``None`` when there is none waiting for its time)."""
        if not platforms:
            return None
        result: dt.datetime | None = await self.session.scalar(
            _NEXT_DUE, {"p_platforms": list(platforms)}
        )
        if result is not None and result.tzinfo is None:  # min() bypasses the column type
            result = result.replace(tzinfo=dt.UTC)
        return result

    async def outbox_depth(self) -> dict[str, int]:
        """Pending messages per platform."""
        result = await self.session.execute(
            select(OutboxMessage.platform, func.count())
            .where(OutboxMessage.status.in_(PENDING))
            .group_by(OutboxMessage.platform)
        )
        return {platform: int(count) for platform, count in result.all()}

    async def prune_outbox(self, older_than: dt.datetime) -> int:
        """Delete sent and failed messages created before ``older_than`` (they hold text)."""
        result = await self.session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.status.in_(("sent", "failed")),
                OutboxMessage.created_at < older_than,
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def _item(row: Mapping[Any, Any]) -> OutboxItem:
    address = Address(Platform(row["platform"]), row["chat_id"], row["thread_id"])
    return OutboxItem(
        id=row["id"],
        reply=reply_from_payload(address, row["payload"]),
        attempts=row["attempts"],
        created_at=row["created_at"],
        user_id=row["user_id"],
    )
