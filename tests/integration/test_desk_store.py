"""The desk's SQL on real databases: the ticket life, one open ticket per person, exactly one
owner under concurrent claims, ratings once, and erasing a person's tickets."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.db import Database, UnitOfWork
from bot.db.desk_models import DeskEffect as EffectRow
from bot.db.desk_models import Ticket as TicketRow
from bot.db.desk_models import TicketMessage, TicketRating
from bot.desk.store import SqlDeskStore
from handlers.desk.effects import DeskEffect, EffectKind
from handlers.desk.machine import FirstResponse
from handlers.desk.model import NewTicket
from handlers.model import Address, Platform
from tests.conftest import Clock


async def _person(db: Database, clock: Clock, external_id: str = "501") -> int:
    async with db.transaction() as uow:
        return (await uow.people.touch("telegram", external_id, clock())).id


def _store(uow: UnitOfWork, clock: Clock) -> SqlDeskStore:
    return SqlDeskStore(uow, clock)


async def _open(db: Database, clock: Clock, user_id: int, **kw: object) -> int:
    new = NewTicket(
        origin="request",
        lang="uk",
        question="мій песель 85010112345 не працює",
        candidates=(("pesel-ukr", 0.61), ("ukr-status", 0.4)),
        topic="stay",
        **kw,  # type: ignore[arg-type]
    )
    async with db.transaction() as uow:
        return (await _store(uow, clock).open_ticket(user_id, new)).id


async def test_ticket_life_with_timestamps(db: Database, clock: Clock) -> None:
    user_id = await _person(db, clock)
    ticket_id = await _open(db, clock, user_id)
    async with db.transaction() as uow:
        store = _store(uow, clock)
        ticket = await store.ticket(ticket_id)
        assert ticket is not None and ticket.state == "waiting" and ticket.is_open
        assert ticket.person == Address(Platform.TELEGRAM, "501")
        assert ticket.question is not None and "85010112345" not in ticket.question
        assert ticket.candidates[0] == ("pesel-ukr", 0.61)
        assert (await store.open_ticket_of(user_id)) == ticket
        consultant = await store.consultant(9001, "Olena K.")
    clock.advance(120)
    async with db.transaction() as uow:
        store = _store(uow, clock)
        assert await store.take(ticket_id, consultant.id)
        assert not await store.take(ticket_id, consultant.id)  # no longer waiting
    clock.advance(60)
    async with db.transaction() as uow:
        store = _store(uow, clock)
        await store.record(ticket_id, "in", "text", "ще питання")
        await store.record(ticket_id, "out", "text", "Добрий день!", consultant.id)
        await store.record(ticket_id, "out", "text", "Друге повідомлення", consultant.id)
        assert store.events == [FirstResponse(dt.timedelta(seconds=180))]
    clock.advance(600)
    async with db.transaction() as uow:
        store = _store(uow, clock)
        assert await store.close(ticket_id, "resolved")
        assert not await store.close(ticket_id, "resolved")
        ticket = await store.ticket(ticket_id)
    assert ticket is not None and ticket.state == "closed" and ticket.close_reason == "resolved"
    assert ticket.consultant_name == "Olena K."
    start = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
    assert ticket.opened_at == start
    assert ticket.assigned_at == start + dt.timedelta(seconds=120)
    assert ticket.first_response_at == start + dt.timedelta(seconds=180)
    assert ticket.closed_at == start + dt.timedelta(seconds=780)


async def test_one_open_ticket_per_person_is_enforced_by_the_database(
    db: Database, clock: Clock
) -> None:
    user_id = await _person(db, clock)
    await _open(db, clock, user_id)
    with pytest.raises(IntegrityError):
        await _open(db, clock, user_id)
    other = await _person(db, clock, "502")
    await _open(db, clock, other)  # someone else may


async def test_reopen_within_the_window_only(db: Database, clock: Clock) -> None:
    user_id = await _person(db, clock)
    ticket_id = await _open(db, clock, user_id)
    async with db.transaction() as uow:
        store = _store(uow, clock)
        consultant = await store.consultant(9001, "Olena")
        assert await store.take(ticket_id, consultant.id)
        assert await store.close(ticket_id, "resolved")
    clock.advance(3600)
    async with db.transaction() as uow:
        store = _store(uow, clock)
        assert not await store.reopen(ticket_id, dt.timedelta(minutes=30))
        assert await store.reopen(ticket_id, dt.timedelta(hours=2))
        ticket = await store.ticket(ticket_id)
        assert ticket is not None and ticket.state == "assigned" and ticket.reopen_count == 1
        assert await store.close(ticket_id, "cancelled")
        assert not await store.reopen(ticket_id, dt.timedelta(hours=2))  # cancelled stays closed


async def test_queue_urgent_first_then_oldest(db: Database, clock: Clock) -> None:
    ids = []
    for n in range(3):
        user_id = await _person(db, clock, f"60{n}")
        ids.append(await _open(db, clock, user_id, urgent=(n == 2)))
        clock.advance(10)
    async with db.transaction() as uow:
        store = _store(uow, clock)
        assert [t.id for t in await store.waiting_tickets()] == [ids[2], ids[0], ids[1]]
        assert [await store.queue_position(i) for i in ids] == [2, 3, 1]
        assert await store.expected_wait() == dt.timedelta(minutes=15)  # no history yet


async def test_expected_wait_is_the_median_of_recent_claims(db: Database, clock: Clock) -> None:
    async with db.transaction() as uow:
        consultant = await _store(uow, clock).consultant(9001, "Olena")
    for n, wait in enumerate((60, 300, 600, 6000)):
        ticket_id = await _open(db, clock, await _person(db, clock, f"70{n}"))
        clock.advance(wait)
        async with db.transaction() as uow:
            assert await _store(uow, clock).take(ticket_id, consultant.id)
    async with db.transaction() as uow:
        assert await _store(uow, clock).expected_wait() == dt.timedelta(seconds=450)


async def test_rating_once_per_closing_and_comment(db: Database, clock: Clock) -> None:
    user_id = await _person(db, clock)
    stranger = await _person(db, clock, "999")
    ticket_id = await _open(db, clock, user_id)
    async with db.transaction() as uow:
        store = _store(uow, clock)
        assert await store.rate(ticket_id, user_id, 5) is None  # still open
        await store.close(ticket_id, "resolved")
        assert await store.rate(ticket_id, stranger, 5) is None  # not theirs
        assert await store.rate(ticket_id, user_id, 6) is None
        pending = await store.rate(ticket_id, user_id, 4)
        assert pending is not None
        assert await store.rate(ticket_id, user_id, 1) is None  # already rated
        assert await store.pending_comment(user_id, clock() - dt.timedelta(minutes=5)) == pending
        await store.save_comment(pending, "Дуже допомогли")
        assert await store.pending_comment(user_id, clock() - dt.timedelta(minutes=5)) is None
        assert await store.rating_of(ticket_id) == (4, "Дуже допомогли")


async def test_erase_person_keeps_an_anonymous_stub(db: Database, clock: Clock) -> None:
    user_id = await _person(db, clock)
    old = await _open(db, clock, user_id)
    async with db.transaction() as uow:
        store = _store(uow, clock)
        await store.set_topic(old, 77, "5")
        await store.record(old, "in", "text", "мій номер 600 123 456")
        await store.close(old, "resolved")
        pending = await store.rate(old, user_id, 3)
        assert pending is not None
        await store.save_comment(pending, "so-so")
    current = await _open(db, clock, user_id)
    async with db.transaction() as uow:
        await _store(uow, clock).queue(DeskEffect(EffectKind.POST, current, "👤 приватний текст"))
    async with db.transaction() as uow:
        store = _store(uow, clock)
        told = await store.erase_person(user_id)
        assert {t.id for t in told} == {old, current}
        await uow.people.forget(user_id)
    async with db.transaction() as uow:
        rows = (await uow.session.scalars(select(TicketRow).order_by(TicketRow.id))).all()
        assert [(r.state, r.close_reason) for r in rows] == [
            ("closed", "resolved"),
            ("closed", "erased"),
        ]
        assert all(r.user_id is None and r.question is None and r.candidates == [] for r in rows)
        assert rows[0].thread_id == 77  # the topic still resolves to its (empty) ticket
        assert await uow.session.scalar(select(func.count()).select_from(TicketMessage)) == 0
        rating = await uow.session.scalar(select(TicketRating))
        assert rating is not None and rating.score == 3 and rating.comment is None
        # What the desk group was still to be shown of them is gone with them.
        assert await uow.session.scalar(select(func.count()).select_from(EffectRow)) == 0


async def test_consultants_and_languages(db: Database, clock: Clock) -> None:
    async with db.transaction() as uow:
        store = _store(uow, clock)
        first = await store.consultant(9001, "Olena")
        again = await store.consultant(9001, "Olena K.")
        assert again.id == first.id and again.display_name == "Olena K."
        await store.set_languages(first.id, ("uk", "pl"))
        nameless = await store.consultant(9002, None)
        assert nameless.display_name == "id9002"
        assert [(c.display_name, c.languages) for c in await store.consultants()] == [
            ("Olena K.", ("uk", "pl")),
            ("id9002", ()),
        ]


async def _claim_round(
    engines: list[Database], clock: Clock, ticket_id: int, consultants: list[int]
) -> list[bool]:
    async def claim(db: Database, consultant_id: int) -> bool:
        async with db.transaction() as uow:
            return await _store(uow, clock).take(ticket_id, consultant_id)

    return list(
        await asyncio.gather(*(claim(db, c) for db, c in zip(engines, consultants, strict=True)))
    )


@pytest.mark.postgres
async def test_concurrent_take_has_exactly_one_winner_on_postgres(
    postgres_url: str, clock: Clock
) -> None:
    """Two (and three) consultants press Take at once, from separate engines (separate
    processes in production): every round, exactly one claim wins, and the stored owner is
    the winner."""
    engines = [Database.from_url(postgres_url) for _ in range(3)]
    try:
        async with engines[0].transaction() as uow:
            store = _store(uow, clock)
            consultants = [(await store.consultant(9000 + n, f"C{n}")).id for n in range(3)]
        winners: set[int] = set()
        for round_ in range(40):
            ticket_id = await _open(
                engines[0], clock, await _person(engines[0], clock, f"p{round_}")
            )
            players = engines[: 2 + round_ % 2]
            claimants = consultants[: len(players)]
            if round_ % 3 == 0:
                claimants = list(reversed(claimants))
            results = await _claim_round(players, clock, ticket_id, claimants)
            assert results.count(True) == 1, results
            winner = claimants[results.index(True)]
            winners.add(winner)
            async with engines[0].transaction() as uow:
                ticket = await _store(uow, clock).ticket(ticket_id)
            assert ticket is not None and ticket.consultant_id == winner
            assert ticket.state == "assigned"
        assert len(winners) >= 1
    finally:
        for engine in engines:
            await engine.dispose()


async def test_concurrent_take_on_sqlite(sqlite_url: str, clock: Clock) -> None:
    """The same race through two engines on one SQLite file (two writers, one lock)."""
    engines = [Database.from_url(sqlite_url) for _ in range(2)]
    try:
        async with engines[0].transaction() as uow:
            store = _store(uow, clock)
            consultants = [(await store.consultant(9000 + n, f"C{n}")).id for n in range(2)]
        for round_ in range(15):
            ticket_id = await _open(
                engines[0], clock, await _person(engines[0], clock, f"s{round_}")
            )
            results = await _claim_round(engines, clock, ticket_id, consultants)
            assert results.count(True) == 1, results
    finally:
        for engine in engines:
            await engine.dispose()
