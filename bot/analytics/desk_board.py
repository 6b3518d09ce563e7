"""The desk lead's board (the console's Desk page): what is waiting now, tickets by state, and
per consultant counts — the operational view, next to the desk figures of :func:`compute`
(times and ratings, k-anonymous, in :class:`~bot.analytics.figures.DeskFigures`).

Unlike the report this is not published: it is for the people who run the desk, behind the
console's sign-in. Even so it names nobody it need not: people appear only by the desk's
pseudonym (:func:`bot.desk.sync.pseudonym_code`, the four characters consultants see on a
card), consultants by their Telegram display name; no text of any message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, case, func, select

from bot.analytics.store import TICKETS
from bot.db import Database
from bot.db.desk_models import Consultant, TicketMessage
from bot.db.models import User

CONSULTANTS = cast(Table, Consultant.__table__)
MESSAGES = cast(Table, TicketMessage.__table__)
USERS = cast(Table, User.__table__)


def _where(filters: Any) -> list[Any]:
    """The tickets of the filters' language, platform and audience."""
    if filters is None:
        return []
    wanted = {"lang": filters.lang, "platform": filters.platform, "audience": filters.audience}
    return [TICKETS.c[column] == value for column, value in wanted.items() if value is not None]


@dataclass(frozen=True)
class Waiting:
    ticket: int
    pseudonym: str
    lang: str
    urgent: bool
    origin: str
    opened_at: dt.datetime


@dataclass(frozen=True)
class ConsultantCounts:
    name: str
    taken: int  # tickets of the period assigned to them
    closed: int  # of those, closed
    replies: int  # their messages to people in the period


@dataclass(frozen=True)
class DeskBoard:
    waiting: list[Waiting]
    by_state: dict[str, int]
    consultants: list[ConsultantCounts]


async def desk_board(
    db: Database,
    start: dt.datetime,
    end: dt.datetime,
    *,
    pseudonym_key: bytes,
    filters: Any = None,
) -> DeskBoard:
    """The board now, with the per consultant counts of ``[start, end)``; ``filters``
    (:class:`~bot.analytics.figures.Filters`) as for the figures: the tickets' language,
    platform, audience."""
    from bot.desk.sync import pseudonym_code
    from handlers.model import Address, Platform

    where = _where(filters)
    async with db.read() as uow:
        session = uow.session
        rows = await session.execute(
            select(
                TICKETS.c.id,
                USERS.c.platform,
                USERS.c.external_id,
                TICKETS.c.lang,
                TICKETS.c.urgent,
                TICKETS.c.origin,
                TICKETS.c.opened_at,
            )
            .select_from(TICKETS.outerjoin(USERS, USERS.c.id == TICKETS.c.user_id))
            .where(TICKETS.c.state == "waiting", *where)
            .order_by(TICKETS.c.urgent.desc(), TICKETS.c.opened_at, TICKETS.c.id)
        )
        waiting = []
        for ticket, platform, external_id, lang, urgent, origin, opened_at in rows.all():
            code = "----"
            if external_id is not None:
                with contextlib.suppress(ValueError):
                    code = pseudonym_code(
                        pseudonym_key, Address(Platform(platform), str(external_id))
                    )
            waiting.append(
                Waiting(int(ticket), code, str(lang), bool(urgent), str(origin), opened_at)
            )
        by_state = {"waiting": 0, "assigned": 0, "closed": 0}
        states = await session.execute(
            select(TICKETS.c.state, func.count())
            .where(
                (TICKETS.c.state != "closed")
                | ((TICKETS.c.closed_at >= start) & (TICKETS.c.closed_at < end)),
                *where,
            )
            .group_by(TICKETS.c.state)
        )
        for state, n in states.all():
            by_state[str(state)] = int(n)
        taken = await session.execute(
            select(
                CONSULTANTS.c.display_name,
                func.count(),
                func.sum(case((TICKETS.c.state == "closed", 1), else_=0)),
            )
            .select_from(TICKETS.join(CONSULTANTS, CONSULTANTS.c.id == TICKETS.c.consultant_id))
            .where(TICKETS.c.opened_at >= start, TICKETS.c.opened_at < end, *where)
            .group_by(CONSULTANTS.c.id, CONSULTANTS.c.display_name)
        )
        counts: dict[str, list[int]] = {}
        for name, n, closed in taken.all():
            counts[str(name)] = [int(n), int(closed or 0), 0]
        replies = await session.execute(
            select(CONSULTANTS.c.display_name, func.count())
            .select_from(
                MESSAGES.join(CONSULTANTS, CONSULTANTS.c.id == MESSAGES.c.consultant_id).join(
                    TICKETS, TICKETS.c.id == MESSAGES.c.ticket_id
                )
            )
            .where(
                *where,
                MESSAGES.c.direction == "out",
                MESSAGES.c.created_at >= start,
                MESSAGES.c.created_at < end,
            )
            .group_by(CONSULTANTS.c.id, CONSULTANTS.c.display_name)
        )
        for name, n in replies.all():
            counts.setdefault(str(name), [0, 0, 0])[2] = int(n)
    consultants = [
        ConsultantCounts(name, *values)
        for name, values in sorted(counts.items(), key=lambda kv: (-kv[1][0], kv[0]))
    ]
    return DeskBoard(waiting, by_state, consultants)
