"""The ``outbox`` table's one owner: replies waiting to be (or already) delivered.

Nothing else in the bot writes this table (a test checks); the outbox worker
(:mod:`bot.outbox`), the engine, the desk and the messengers all come through here, by way of
the unit of work (:class:`bot.db.unit.UnitOfWork`).

:meth:`Outbox.claim_due` picks each chat's first pending message only, with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several processes never send the same message and
never send a chat's messages out of order. It claims in one statement, and the worker marks
every delivery of a round "sent" in the same transaction (:meth:`Outbox.mark_sent`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
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
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.codec import reply_from_payload, reply_to_payload
from bot.db.models import OutboxMessage
from bot.db.sql import TIME, execute_many, fetch, rowcount
from handlers.model import Address, Platform, Reply

PENDING = ("queued", "sending")

#: Priority lanes (``outbox.lane``): replies to people talking to the bot and everything to and
#: from the desk, then announcements (fed in small batches by :mod:`bot.announce.worker`).
LANE_CONVERSATION = 0
LANE_ANNOUNCEMENT = 1


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A claimed outbox message, ready to hand to a sender."""

    id: int
    reply: Reply
    attempts: int
    created_at: dt.datetime
    user_id: int | None
    lane: int = 0

    @property
    def chat(self) -> tuple[str, str]:
        return (self.reply.address.platform.value, self.reply.address.chat_id)


# -- the hot paths' statements, each built ONCE with bind parameters --------------------------

OUTBOX = cast(Table, OutboxMessage.__table__)
_ITEM_FIELDS = [
    "id",
    "platform",
    "chat_id",
    "thread_id",
    "payload",
    "attempts",
    "created_at",
    "user_id",
    "lane",
]
_ITEM_COLUMNS = tuple(OUTBOX.c[name] for name in _ITEM_FIELDS)


def _status_is(column: Any, *statuses: str) -> Any:
    """``status IN ('queued', ...)`` with the statuses as SQL literals, not bound parameters:
    the planners use a partial index (``WHERE status = 'queued'``) only for a query whose
    condition visibly implies the index's, which a parameter does not."""
    values: list[Any] = [literal_column(f"'{status}'") for status in statuses]
    return column == values[0] if len(values) == 1 else column.in_(values)


_ENQUEUE = insert(OUTBOX)  # its columns from the parameters
_ENQUEUE_RETURNING = insert(OUTBOX).returning(OUTBOX.c.id, sort_by_parameter_order=True)

_candidate = OUTBOX.alias("candidate")  # a message that may be claimed...
_pending = OUTBOX.alias("pending")  # ...and the pending messages of its chat


def _due_heads(platform_is_one_of: Any) -> tuple[Any, ...]:
    """The candidate is queued, in the lane asked for, for one of our platforms, and its chat's
    first pending message in that lane (an announcement never holds up a reply to the chat).

    A correlated scalar subquery rather than ``NOT EXISTS``: PostgreSQL runs it per candidate
    as one probe of ``ix_outbox_pending_chat`` whatever its statistics say, where an anti-join
    planned on a young table's stale statistics scanned every pending message for every
    candidate."""
    return (
        _status_is(_candidate.c.status, "queued"),
        _candidate.c.lane == bindparam("p_lane", type_=Integer),
        platform_is_one_of,
        _candidate.c.id
        == select(func.min(_pending.c.id))
        .where(
            _pending.c.platform == _candidate.c.platform,
            _pending.c.chat_id == _candidate.c.chat_id,
            _pending.c.lane == _candidate.c.lane,
            _status_is(_pending.c.status, *PENDING),
        )
        .scalar_subquery(),
    )


_DUE_HEADS = _due_heads(_candidate.c.platform.in_(bindparam("p_platforms", expanding=True)))


def _claim(due: Any) -> Any:
    """One statement: choose the due chat heads, mark them "sending"."""
    return (
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(select(due.c.id)), _status_is(OUTBOX.c.status, "queued"))
        .values(status="sending", lease_until=bindparam("p_lease_until", type_=TIME))
        .returning(*_ITEM_COLUMNS)
    )


def _due_ids(heads: tuple[Any, ...]) -> Any:
    return (
        select(_candidate.c.id)
        .where(_candidate.c.not_before <= bindparam("p_now", type_=TIME), *heads)
        .order_by(_candidate.c.id)
        .limit(bindparam("p_limit", type_=Integer))
    )


#: On PostgreSQL the choice skips rows other processes are claiming at that moment, and is a
#: MATERIALIZED CTE: as a plain ``IN (subquery)`` the planner may run it more than once, each
#: run skipping the rows the last one locked, and claim several times the limit. The platforms
#: are one array parameter (``= ANY``): one statement whatever their number.
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
_PENDING_IN_LANE = select(func.count()).where(
    OUTBOX.c.lane == bindparam("p_lane", type_=Integer), _status_is(OUTBOX.c.status, *PENDING)
)
_MARK_SENT = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("p_id"))
    .values(
        status="sent",
        sent_at=bindparam("p_sent_at", type_=TIME),
        message_id=bindparam("p_message_id"),
        lease_until=None,
        last_error=None,
    )
)


class Outbox:
    """The outbox, inside a transaction it does not own (:class:`bot.db.unit.UnitOfWork`)."""

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self.session = session
        self.dialect = dialect

    async def _update(self, condition: Any, **values: Any) -> int:
        result = await self.session.execute(update(OUTBOX).where(condition).values(**values))
        return rowcount(result)

    async def enqueue(
        self,
        replies: Iterable[tuple[Reply, int | None]],
        now: dt.datetime,
        *,
        lane: int = LANE_CONVERSATION,
    ) -> int:
        """Queue replies (each with the id of the person it is for, if any), in order: the
        rows are inserted one after the other, so their ids follow the order given."""
        rows = self._rows(replies, now, lane)
        if rows:
            await execute_many(self.session, _ENQUEUE, rows)
        return len(rows)

    async def enqueue_returning_ids(
        self, replies: Iterable[tuple[Reply, int | None]], now: dt.datetime, *, lane: int
    ) -> list[int]:
        """:meth:`enqueue`, returning the new rows' ids in the order given (the announcement
        worker records each recipient's outbox row in the same transaction)."""
        rows = self._rows(replies, now, lane)
        if not rows:
            return []
        result = await self.session.execute(_ENQUEUE_RETURNING, rows)
        return [int(outbox_id) for outbox_id in result.scalars().all()]

    @staticmethod
    def _rows(
        replies: Iterable[tuple[Reply, int | None]], now: dt.datetime, lane: int
    ) -> list[dict[str, Any]]:
        return [
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
                "lane": lane,
            }
            for reply, user_id in replies
        ]

    async def claim_due(
        self,
        platforms: Sequence[str],
        now: dt.datetime,
        lease_until: dt.datetime,
        limit: int,
        *,
        lane: int = LANE_CONVERSATION,
    ) -> list[OutboxItem]:
        """Mark up to ``limit`` due messages of ``lane`` "sending" and return them, at most one
        per chat and lane (each chat's first pending message, and only if it is due)."""
        if limit <= 0 or not platforms:
            return []
        params = {
            "p_lane": lane,
            "p_now": now,
            "p_platforms": list(platforms),
            "p_limit": limit,
            "p_lease_until": lease_until,
        }
        rows = await fetch(self.session, _CLAIM[self.dialect], params)
        return sorted((_item(row) for row in rows), key=lambda item: item.id)

    async def renew_lease(self, message_id: int, lease_until: dt.datetime) -> bool:
        """Extend a claim before sending; ``False`` if the claim was lost meanwhile."""
        return bool(
            await self._update(
                and_(OUTBOX.c.id == message_id, OUTBOX.c.status == "sending"),
                lease_until=lease_until,
            )
        )

    async def release(self, message_ids: Iterable[int]) -> int:
        """Give claims back without an attempt counted (a graceful stop mid-send)."""
        ids = list(message_ids)
        if not ids:
            return 0
        return await self._update(
            and_(OUTBOX.c.id.in_(ids), OUTBOX.c.status == "sending"),
            status="queued",
            lease_until=None,
        )

    async def mark_sent(self, delivered: Sequence[tuple[int, dt.datetime, str | None]]) -> None:
        """Record deliveries: (message id, when, the platform's id of the message)."""
        if not delivered:
            return
        await execute_many(
            self.session,
            _MARK_SENT,
            [
                {"p_id": message_id, "p_sent_at": at, "p_message_id": platform_id}
                for message_id, at, platform_id in delivered
            ],
        )

    async def reschedule(
        self, message_id: int, not_before: dt.datetime, attempts: int, error: str
    ) -> None:
        await self._update(
            OUTBOX.c.id == message_id,
            status="queued",
            not_before=not_before,
            attempts=attempts,
            last_error=error[:500],
            lease_until=None,
        )

    async def mark_failed(self, message_id: int, attempts: int, error: str) -> None:
        await self._update(
            OUTBOX.c.id == message_id,
            status="failed",
            attempts=attempts,
            last_error=error[:500],
            lease_until=None,
        )

    async def fail_pending_for_chat(self, platform: str, chat_id: str, error: str) -> int:
        """Give up every pending message to a chat (the person blocked the bot)."""
        return await self._update(
            and_(
                OUTBOX.c.platform == platform,
                OUTBOX.c.chat_id == chat_id,
                _status_is(OUTBOX.c.status, *PENDING),
            ),
            status="failed",
            last_error=error[:500],
            lease_until=None,
        )

    async def delivery_failed(self, platform: str, message_id: str, error: str) -> int:
        """A message the platform accepted (``message_id`` is its id for it) and later reported
        undelivered: "sent" becomes "failed"; how many rows that was (0 once pruned)."""
        return await self._update(
            and_(
                OUTBOX.c.platform == platform,
                OUTBOX.c.message_id == message_id,
                OUTBOX.c.status == "sent",
            ),
            status="failed",
            last_error=error[:500],
        )

    async def blank_content(
        self, platform: str, chat_id: str, meta_key: str, meta_values: Collection[str]
    ) -> int:
        """Blank the text and media of the messages to one chat whose payload's
        ``meta[meta_key]`` is one of ``meta_values`` (queued or still kept after sending):
        what /forget removes from the desk's relays. Returns how many were blanked."""
        wanted = {str(value) for value in meta_values}
        rows = (
            await self.session.execute(
                select(OUTBOX.c.id, OUTBOX.c.payload).where(
                    OUTBOX.c.platform == platform, OUTBOX.c.chat_id == chat_id
                )
            )
        ).all()
        blanked = 0
        for outbox_id, payload in rows:
            meta = payload.get("meta") or {}
            if str(meta.get(meta_key, "")) not in wanted:
                continue
            if not payload.get("text") and not payload.get("media"):
                continue
            redacted = {k: v for k, v in payload.items() if k not in ("text", "media")}
            redacted["text"] = ""
            blanked += await self._update(OUTBOX.c.id == outbox_id, payload=redacted)
        return blanked

    async def requeue_stale(
        self, platforms: Sequence[str], now: dt.datetime, *, all_sending: bool = False
    ) -> int:
        """Put "sending" messages whose claim expired (their process died) back in the queue.

        ``all_sending`` re-queues every claim regardless of its lease: right for a database
        only this process uses (embedded SQLite), at start.
        """
        if not platforms:
            return 0
        # "pending" spelled out as well: the partial index of pending messages, not a scan of
        # every message ever sent, answers it (this runs every few seconds).
        condition = and_(
            _status_is(OUTBOX.c.status, *PENDING),
            OUTBOX.c.status == "sending",
            OUTBOX.c.platform.in_(list(platforms)),
        )
        if not all_sending:
            condition = and_(
                condition, or_(OUTBOX.c.lease_until.is_(None), OUTBOX.c.lease_until < now)
            )
        return await self._update(condition, status="queued", lease_until=None)

    async def next_due_at(self, platforms: Sequence[str]) -> dt.datetime | None:
        """When the next message may be claimed: the earliest ``not_before`` among the chats'
        first pending messages (``None`` when there is none waiting for its time)."""
        if not platforms:
            return None
        found: list[dt.datetime] = []
        for lane in (LANE_CONVERSATION, LANE_ANNOUNCEMENT):
            result: dt.datetime | None = await self.session.scalar(
                _NEXT_DUE, {"p_platforms": list(platforms), "p_lane": lane}
            )
            if result is not None:
                found.append(result if result.tzinfo else result.replace(tzinfo=dt.UTC))
        return min(found, default=None)

    async def pending_in_lane(self, lane: int) -> int:
        """Messages of ``lane`` queued or being sent (the announcement worker keeps this small)."""
        return int(await self.session.scalar(_PENDING_IN_LANE, {"p_lane": lane}) or 0)

    async def depth(self) -> dict[str, int]:
        """Pending messages per platform."""
        result = await self.session.execute(
            select(OUTBOX.c.platform, func.count())
            .where(_status_is(OUTBOX.c.status, *PENDING))  # the partial index, not a scan
            .group_by(OUTBOX.c.platform)
        )
        return {platform: int(count) for platform, count in result.all()}

    async def prune(self, older_than: dt.datetime) -> int:
        """Delete sent and failed messages created before ``older_than`` (they hold text)."""
        result = await self.session.execute(
            delete(OUTBOX).where(
                OUTBOX.c.status.in_(("sent", "failed")), OUTBOX.c.created_at < older_than
            )
        )
        return rowcount(result)


def _item(row: Mapping[Any, Any]) -> OutboxItem:
    address = Address(Platform(row["platform"]), row["chat_id"], row["thread_id"])
    return OutboxItem(
        id=row["id"],
        reply=reply_from_payload(address, row["payload"]),
        attempts=row["attempts"],
        created_at=row["created_at"],
        user_id=row["user_id"],
        lane=row["lane"],
    )
