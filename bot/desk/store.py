"""The desk's SQL: :class:`SqlDeskStore` implements :class:`handlers.desk.model.DeskStore`.

It works on a unit of work (:class:`bot.db.UnitOfWork`) whose transaction it does not own (the
engine's turn, or the desk sender's and reminder's short ones) and never commits. It writes the
desk's tables only, and asks the unit of work's aggregates for the rest (the person, a logged
question, the desk's relays still in the outbox). What must hold under
concurrency is done by the database itself, on both backends:

- one open ticket per person: the partial unique index ``uq_tickets_open_user`` (and the
  engine handles one person's events one after the other);
- exactly one owner: :meth:`SqlDeskStore.take` is a conditional ``UPDATE … WHERE
  state = 'waiting'`` whose row count says who won. On PostgreSQL the second of two
  concurrent claims waits for the first's row lock, re-reads the row, and matches nothing;
  SQLite has one writer at a time;
- a rating once per closing: a unique (ticket, round) key and ``ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.db.desk_models import Consultant as ConsultantRow
from bot.db.desk_models import Ticket as TicketRow
from bot.db.desk_models import TicketMessage, TicketRating
from bot.db.unit import UnitOfWork
from bot.privacy import scrub
from handlers.desk.model import (
    META_TICKET,
    CloseReason,
    Consultant,
    Direction,
    NewTicket,
    PendingComment,
    Ticket,
    TicketState,
)
from handlers.model import Address, Platform

#: How many recent tickets the expected wait is estimated from, and how far back.
WAIT_SAMPLE = 50
WAIT_LOOKBACK = dt.timedelta(days=14)
WAIT_MIN_SAMPLES = 3

#: Closings that a new message from the person may reopen (not cancelled, not erased).
REOPENABLE: tuple[str, ...] = ("resolved", "no_reply")


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


class SqlDeskStore:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Callable[[], dt.datetime],
        *,
        default_wait: dt.timedelta = dt.timedelta(minutes=15),
        desk_chat_id: str | None = None,
    ) -> None:
        self.uow = uow
        self.session = uow.session  # for the desk's own tables
        self.clock = clock
        self.default_wait = default_wait
        self.desk_chat_id = desk_chat_id
        self.dialect = uow.dialect
        #: Transitions made in this transaction, for metrics once it commits.
        self.events: list[tuple[str, Any]] = []

    def _insert(self, table: Any) -> Any:
        return (postgresql if self.dialect == "postgresql" else sqlite).insert(table)

    async def _update_tickets(self, condition: Any, **values: Any) -> int:
        """One conditional UPDATE of tickets; the number of rows it changed (a state
        transition won is exactly 1: the condition is what makes concurrent claims safe)."""
        result = await self.session.execute(
            update(TicketRow)
            .where(condition)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result)

    # -- reading -------------------------------------------------------------------------

    def _select_tickets(self) -> Any:
        query = (
            select(TicketRow, ConsultantRow.display_name)
            .outerjoin(ConsultantRow, ConsultantRow.id == TicketRow.consultant_id)
            .execution_options(populate_existing=True)
        )
        return self.uow.people.with_address(query, TicketRow.user_id)

    async def _one(self, query: Any) -> Ticket | None:
        row = (await self.session.execute(query.limit(1))).first()
        return None if row is None else _ticket(*row)

    async def ticket(self, ticket_id: int) -> Ticket | None:
        return await self._one(self._select_tickets().where(TicketRow.id == ticket_id))

    async def ticket_in_thread(self, thread_id: int) -> Ticket | None:
        return await self._one(
            self._select_tickets()
            .where(TicketRow.thread_id == thread_id)
            .order_by(TicketRow.id.desc())
        )

    async def open_ticket_of(self, user_id: int) -> Ticket | None:
        return await self._one(
            self._select_tickets().where(TicketRow.user_id == user_id, TicketRow.state != "closed")
        )

    async def last_closed_ticket_of(self, user_id: int) -> Ticket | None:
        return await self._one(
            self._select_tickets()
            .where(TicketRow.user_id == user_id, TicketRow.state == "closed")
            .order_by(TicketRow.closed_at.desc(), TicketRow.id.desc())
        )

    def _queue_key(self) -> Any:
        return func.coalesce(TicketRow.reopened_at, TicketRow.opened_at)

    async def waiting_tickets(self, limit: int = 20) -> list[Ticket]:
        rows = await self.session.execute(
            self._select_tickets()
            .where(TicketRow.state == "waiting")
            .order_by(TicketRow.urgent.desc(), self._queue_key(), TicketRow.id)
            .limit(limit)
        )
        return [_ticket(*row) for row in rows.all()]

    async def queue_position(self, ticket_id: int) -> int:
        me = await self.session.get(TicketRow, ticket_id, populate_existing=True)
        if me is None or me.state != "waiting":
            return 0
        mine = me.reopened_at or me.opened_at
        key = self._queue_key()
        same_urgency = and_(
            TicketRow.urgent.is_(me.urgent),
            or_(key < mine, and_(key == mine, TicketRow.id < me.id)),
        )
        ahead = await self.session.scalar(
            select(func.count()).where(
                TicketRow.state == "waiting",
                TicketRow.id != me.id,
                same_urgency if me.urgent else or_(TicketRow.urgent.is_(True), same_urgency),
            )
        )
        return int(ahead or 0) + 1

    async def expected_wait(self) -> dt.timedelta:
        since = self.clock() - WAIT_LOOKBACK
        rows = await self.session.execute(
            select(TicketRow.opened_at, TicketRow.reopened_at, TicketRow.assigned_at)
            .where(TicketRow.assigned_at.is_not(None), TicketRow.assigned_at >= since)
            .order_by(TicketRow.assigned_at.desc())
            .limit(WAIT_SAMPLE)
        )
        waits = [
            (assigned - max(opened, reopened or opened)).total_seconds()
            for opened, reopened, assigned in rows.all()
            if assigned is not None
        ]
        waits = [w for w in waits if w >= 0]
        if len(waits) < WAIT_MIN_SAMPLES:
            return self.default_wait
        return dt.timedelta(seconds=statistics.median(waits))

    # -- ticket lifecycle ----------------------------------------------------------------

    async def open_ticket(self, user_id: int, new: NewTicket) -> Ticket:
        user = await self.uow.people.get(user_id)
        if user is None:
            raise LookupError(f"no user {user_id}")
        now = self.clock()
        row = TicketRow(
            user_id=user_id,
            state="waiting",
            origin=new.origin,
            urgent=new.urgent,
            platform=user.address.platform.value,
            lang=new.lang,
            topic=new.topic,
            audience=new.audience,
            question=scrub(new.question)[:4000] if new.question else None,
            person_name=new.person_name,
            candidates=[[entry, round(float(score), 4)] for entry, score in new.candidates[:5]],
            opened_at=now,
            last_person_at=now,
            reopen_count=0,
        )
        self.session.add(row)
        await self.session.flush()
        self.events.append(("opened", new.urgent))
        ticket = await self.ticket(row.id)
        assert ticket is not None
        return ticket

    async def logged_query(
        self, user_id: int, query_id: int
    ) -> tuple[str, tuple[tuple[str, float], ...]] | None:
        return await self.uow.queries.question(user_id, query_id)

    async def mark_urgent(self, ticket_id: int) -> bool:
        updated = await self._update_tickets(
            and_(
                TicketRow.id == ticket_id, TicketRow.state != "closed", TicketRow.urgent.is_(False)
            ),
            urgent=True,
        )
        return updated == 1

    async def take(self, ticket_id: int, consultant_id: int) -> bool:
        now = self.clock()
        updated = await self._update_tickets(
            and_(TicketRow.id == ticket_id, TicketRow.state == "waiting"),
            state="assigned",
            consultant_id=consultant_id,
            assigned_at=now,
        )
        won = updated == 1
        if won:
            self.events.append(("taken", ticket_id))
        return won

    async def assign(self, ticket_id: int, consultant_id: int | None) -> bool:
        now = self.clock()
        values: dict[str, Any] = {"consultant_id": consultant_id}
        if consultant_id is None:
            values.update(state="waiting", assigned_at=None)
        else:
            values.update(
                state="assigned",
                assigned_at=func.coalesce(TicketRow.assigned_at, now),
            )
        updated = await self._update_tickets(
            and_(TicketRow.id == ticket_id, TicketRow.state != "closed"), **values
        )
        return updated == 1

    async def close(self, ticket_id: int, reason: CloseReason) -> bool:
        now = self.clock()
        updated = await self._update_tickets(
            and_(TicketRow.id == ticket_id, TicketRow.state != "closed"),
            state="closed",
            close_reason=reason,
            closed_at=now,
        )
        closed = updated == 1
        if closed:
            row = await self.session.get(TicketRow, ticket_id, populate_existing=True)
            if row is not None:
                self.events.append(("closed", (reason, now - (row.reopened_at or row.opened_at))))
        return closed

    async def reopen(self, ticket_id: int, window: dt.timedelta) -> bool:
        now = self.clock()
        updated = await self._update_tickets(
            and_(
                TicketRow.id == ticket_id,
                TicketRow.state == "closed",
                TicketRow.close_reason.in_(REOPENABLE),
                TicketRow.closed_at > now - window,
                TicketRow.user_id.is_not(None),
            ),
            state=case((TicketRow.consultant_id.is_(None), "waiting"), else_="assigned"),
            close_reason=None,
            closed_at=None,
            reopened_at=now,
            reopen_count=TicketRow.reopen_count + 1,
            last_person_at=now,
            reminded_at=None,
        )
        reopened = updated == 1
        if reopened:
            self.events.append(("reopened", ticket_id))
        return reopened

    async def record(
        self,
        ticket_id: int,
        direction: Direction,
        kind: str,
        text: str | None,
        consultant_id: int | None = None,
    ) -> None:
        now = self.clock()
        self.session.add(
            TicketMessage(
                ticket_id=ticket_id,
                direction=direction,
                consultant_id=consultant_id,
                kind=kind,
                text=scrub(text)[:4000] if text else None,
                created_at=now,
            )
        )
        if direction == "in":
            await self._update_tickets(TicketRow.id == ticket_id, last_person_at=now)
        elif direction == "out":
            result = await self.session.execute(
                update(TicketRow)
                .where(TicketRow.id == ticket_id, TicketRow.first_response_at.is_(None))
                .values(first_response_at=now)
                .returning(TicketRow.opened_at, TicketRow.reopened_at)
                .execution_options(synchronize_session=False)
            )
            first = result.first()
            if first is not None:
                opened_at, reopened_at = first
                self.events.append(("first_response", now - (reopened_at or opened_at)))
        await self.session.flush()

    async def set_topic(
        self, ticket_id: int, thread_id: int | None, card_message_id: str | None
    ) -> None:
        """Remember the ticket's forum topic and card (the desk sender, after creating them)."""
        await self._update_tickets(
            TicketRow.id == ticket_id, thread_id=thread_id, card_message_id=card_message_id
        )

    async def set_card(self, ticket_id: int, card_message_id: str | None) -> None:
        await self._update_tickets(TicketRow.id == ticket_id, card_message_id=card_message_id)

    async def topic_of(self, ticket_id: int) -> tuple[int | None, str | None]:
        row = (
            await self.session.execute(
                select(TicketRow.thread_id, TicketRow.card_message_id).where(
                    TicketRow.id == ticket_id
                )
            )
        ).first()
        return (None, None) if row is None else (row[0], row[1])

    async def overdue(self, waited: dt.timedelta, remind_every: dt.timedelta) -> list[Ticket]:
        """Waiting tickets older than ``waited`` not reminded about in ``remind_every``."""
        now = self.clock()
        rows = await self.session.execute(
            self._select_tickets()
            .where(
                TicketRow.state == "waiting",
                self._queue_key() <= now - waited,
                or_(TicketRow.reminded_at.is_(None), TicketRow.reminded_at <= now - remind_every),
            )
            .order_by(TicketRow.urgent.desc(), self._queue_key(), TicketRow.id)
            # Several processes run the reminder: each locks what it lists until it has marked
            # it reminded, and skips what another is listing (PostgreSQL; SQLite has one).
            .with_for_update(of=TicketRow, skip_locked=True)
        )
        return [_ticket(*row) for row in rows.all()]

    async def mark_reminded(self, ticket_ids: Sequence[int]) -> None:
        if ticket_ids:
            await self._update_tickets(TicketRow.id.in_(list(ticket_ids)), reminded_at=self.clock())

    async def count_open(self) -> dict[str, int]:
        """Open tickets by state (the metrics gauge)."""
        rows = await self.session.execute(
            select(TicketRow.state, func.count())
            .where(TicketRow.state != "closed")
            .group_by(TicketRow.state)
        )
        counts = {"waiting": 0, "assigned": 0}
        counts.update({state: int(n) for state, n in rows.all()})
        return counts

    async def erase_person(self, user_id: int) -> list[Ticket]:
        rows = (
            await self.session.scalars(select(TicketRow).where(TicketRow.user_id == user_id))
        ).all()
        if not rows:
            return []
        now = self.clock()
        ids = [row.id for row in rows]
        tell = [row.id for row in rows if row.state != "closed" or row.thread_id is not None]
        open_ids = [row.id for row in rows if row.state != "closed"]
        await self.session.execute(delete(TicketMessage).where(TicketMessage.ticket_id.in_(ids)))
        await self.session.execute(
            update(TicketRating)
            .where(TicketRating.ticket_id.in_(ids))
            .values(comment=None, comment_open=False)
        )
        if open_ids:
            await self._update_tickets(
                TicketRow.id.in_(open_ids), state="closed", close_reason="erased", closed_at=now
            )
            self.events.extend(("closed", ("erased", None)) for _ in open_ids)
        await self._update_tickets(
            TicketRow.id.in_(ids),
            user_id=None,
            question=None,
            candidates=[],
            person_name=None,
            audience=None,
        )
        await self._redact_desk_outbox(set(ids))
        told = []
        for ticket_id in tell:
            ticket = await self.ticket(ticket_id)
            if ticket is not None:
                told.append(ticket)
        return told

    async def _redact_desk_outbox(self, ticket_ids: set[int]) -> None:
        """Blank what the outbox still holds of these tickets' relays to the desk (queued or
        recently sent); the desk sender drops the queued ones of an erased ticket anyway."""
        if self.desk_chat_id is None:
            return
        await self.uow.outbox.blank_content(
            Platform.TELEGRAM.value, self.desk_chat_id, META_TICKET, {str(i) for i in ticket_ids}
        )

    # -- consultants ---------------------------------------------------------------------

    async def consultant(self, telegram_user_id: int, display_name: str | None) -> Consultant:
        now = self.clock()
        name = (display_name or "").strip()[:128] or f"id{telegram_user_id}"
        row = await self.session.scalar(
            select(ConsultantRow).where(ConsultantRow.telegram_user_id == telegram_user_id)
        )
        if row is None:
            await self.session.execute(
                self._insert(ConsultantRow)
                .values(
                    telegram_user_id=telegram_user_id,
                    display_name=name,
                    languages=[],
                    created_at=now,
                    last_active=now,
                )
                .on_conflict_do_nothing(index_elements=["telegram_user_id"])
            )
            row = await self.session.scalar(
                select(ConsultantRow)
                .where(ConsultantRow.telegram_user_id == telegram_user_id)
                .execution_options(populate_existing=True)
            )
            assert row is not None
        elif display_name and row.display_name != name:
            row.display_name = name
            row.last_active = now
            await self.session.flush()
        return _consultant(row)

    async def consultant_by_id(self, consultant_id: int) -> Consultant | None:
        row = await self.session.get(ConsultantRow, consultant_id)
        return None if row is None else _consultant(row)

    async def set_languages(self, consultant_id: int, languages: tuple[str, ...]) -> None:
        await self.session.execute(
            update(ConsultantRow)
            .where(ConsultantRow.id == consultant_id)
            .values(languages=list(languages), last_active=self.clock())
            .execution_options(synchronize_session=False)
        )

    async def consultants(self) -> list[Consultant]:
        rows = await self.session.scalars(select(ConsultantRow).order_by(ConsultantRow.id))
        return [_consultant(row) for row in rows.all()]

    # -- ratings -------------------------------------------------------------------------

    async def rate(self, ticket_id: int, user_id: int, score: int) -> PendingComment | None:
        if not 1 <= score <= 5:
            return None
        row = await self.session.get(TicketRow, ticket_id, populate_existing=True)
        if (
            row is None
            or row.user_id != user_id
            or row.state != "closed"
            or row.close_reason not in REOPENABLE
        ):
            return None
        result = await self.session.execute(
            self._insert(TicketRating)
            .values(
                ticket_id=ticket_id,
                round=row.reopen_count,
                score=score,
                comment_open=True,
                created_at=self.clock(),
            )
            .on_conflict_do_nothing(index_elements=["ticket_id", "round"])
        )
        if _rowcount(result) != 1:
            return None
        self.events.append(("rated", score))
        return PendingComment(ticket_id, row.reopen_count)

    async def pending_comment(self, user_id: int, since: dt.datetime) -> PendingComment | None:
        row = (
            await self.session.execute(
                select(TicketRating.ticket_id, TicketRating.round)
                .join(TicketRow, TicketRow.id == TicketRating.ticket_id)
                .where(
                    TicketRow.user_id == user_id,
                    TicketRating.comment_open.is_(True),
                    TicketRating.created_at >= since,
                )
                .order_by(TicketRating.created_at.desc())
                .limit(1)
            )
        ).first()
        return None if row is None else PendingComment(int(row[0]), int(row[1]))

    async def save_comment(self, pending: PendingComment, comment: str | None) -> None:
        await self.session.execute(
            update(TicketRating)
            .where(TicketRating.ticket_id == pending.ticket_id, TicketRating.round == pending.round)
            .values(comment=comment[:2000] if comment else None, comment_open=False)
        )

    async def rating_of(self, ticket_id: int) -> tuple[int, str | None] | None:
        """The latest rating of a ticket (score, comment), for the desk card."""
        row = (
            await self.session.execute(
                select(TicketRating.score, TicketRating.comment)
                .where(TicketRating.ticket_id == ticket_id)
                .order_by(TicketRating.round.desc())
                .limit(1)
            )
        ).first()
        return None if row is None else (int(row[0]), row[1])


def _ticket(
    row: TicketRow, consultant_name: str | None, platform: str | None, external_id: str | None
) -> Ticket:
    person = (
        Address(Platform(platform), external_id)
        if platform is not None and external_id is not None
        else None
    )
    return Ticket(
        id=row.id,
        state=cast(TicketState, row.state),
        close_reason=cast(CloseReason | None, row.close_reason),
        origin=row.origin,
        urgent=row.urgent,
        lang=row.lang,
        topic=row.topic,
        audience=row.audience,
        platform=row.platform,
        user_id=row.user_id,
        person=person,
        consultant_id=row.consultant_id,
        consultant_name=consultant_name,
        question=row.question,
        candidates=tuple((str(c[0]), float(c[1])) for c in (row.candidates or [])),
        opened_at=row.opened_at,
        assigned_at=row.assigned_at,
        first_response_at=row.first_response_at,
        closed_at=row.closed_at,
        reopen_count=row.reopen_count,
        thread_id=row.thread_id,
        person_name=row.person_name,
        last_person_at=row.last_person_at,
    )


def _consultant(row: ConsultantRow) -> Consultant:
    return Consultant(
        id=row.id,
        telegram_user_id=row.telegram_user_id,
        display_name=row.display_name,
        languages=tuple(row.languages or ()),
    )
