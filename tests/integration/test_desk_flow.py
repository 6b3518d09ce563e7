"""The desk's conversation through the real engine: real database (SQLite and PostgreSQL),
real router and matcher on the real content, real catalogs, an injected clock. What the turn
queues in the outbox is what is checked (the Telegram side has its own end-to-end tests).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from bot.db import Database
from bot.db.codec import reply_from_payload
from bot.db.desk_models import Consultant as ConsultantRow
from bot.db.desk_models import DeskEffect as EffectRow
from bot.db.desk_models import Ticket as TicketRow
from bot.db.desk_models import TicketMessage
from bot.db.models import OutboxMessage, User
from bot.desk.reminder import DeskReminder
from bot.desk.runtime import DeskRuntime
from bot.desk.store import SqlDeskStore, effect_from_row
from bot.engine import Engine
from bot.i18n import translator_for
from bot.settings import Settings
from faq import load_matcher
from faq.matcher import Matcher
from handlers.desk.effects import DeskEffect
from handlers.model import (
    Address,
    EventKind,
    IncomingEvent,
    Media,
    MediaKind,
    Platform,
    Reply,
    Sender,
)
from tests.conftest import Clock, names_ticket

DESK = "-100555"
# What the desk group is to be shown is a typed effect queued for the topic-sync worker; the
# harness shows each as the reply it becomes, its kind and ticket under these keys.
META_TICKET = "desk_ticket"
META_OP = "desk_op"
PERSON = "2001"
OLENA = "7001"
TARAS = "7002"
_keys = itertools.count(1)

# Mon 4 May 2026, 11:00 in Warsaw (CEST): the desk is open.
MONDAY_MORNING = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return load_matcher()


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "consultant_chat_id": int(DESK),
        "desk_hours": "mon-fri 09:00-17:00",
        "desk_reminder_minutes": 30,
        "desk_reopen_hours": 24,
        "desk_pseudonym_key": "test-key",
        "consultants": f"{OLENA} {TARAS}",  # the consultants' list (issue 18 item 5)
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class DeskHarness:
    """The engine with the desk in front of the router; events in, queued replies out."""

    def __init__(self, db: Database, clock: Clock, matcher: Matcher, **overrides: Any) -> None:
        self.db = db
        self.clock = clock
        self.runtime = DeskRuntime(
            settings(**overrides), translator_for=translator_for, clock=clock
        )
        self.engine = Engine(
            db,
            matcher=matcher,
            translator_for=translator_for,
            clock=clock,
            middleware=self.runtime,  # as serve builds it
        )
        self.seen_outbox = 0
        self.seen_effects = 0

    # -- events --------------------------------------------------------------------------

    async def send(self, event: IncomingEvent) -> list[Reply]:
        assert await self.engine.process(event)
        return await self.new_replies()

    async def new_replies(self) -> list[Reply]:
        async with self.db.transaction() as uow:
            rows = (
                await uow.session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.id > self.seen_outbox)
                    .order_by(OutboxMessage.id)
                )
            ).all()
            effects = (
                await uow.session.scalars(
                    select(EffectRow).where(EffectRow.id > self.seen_effects).order_by(EffectRow.id)
                )
            ).all()
        if rows:
            self.seen_outbox = rows[-1].id
        if effects:
            self.seen_effects = effects[-1].id
        replies = [
            reply_from_payload(
                Address(Platform(row.platform), row.chat_id, row.thread_id), row.payload
            )
            for row in rows
        ]
        return replies + [as_reply(effect_from_row(row)) for row in effects]

    def person_event(
        self,
        kind: EventKind,
        *,
        user: str = PERSON,
        platform: Platform = Platform.TELEGRAM,
        **fields: Any,
    ) -> IncomingEvent:
        return IncomingEvent(
            address=Address(platform, user),
            kind=kind,
            dedupe_key=f"k{next(_keys)}",
            sender=Sender(user_id=user, language_code="uk", display_name="Oksana Shevchenko"),
            **fields,
        )

    async def says(self, text: str, **kw: Any) -> list[Reply]:
        return await self.send(self.person_event(EventKind.TEXT, text=text, **kw))

    async def command(self, name: str, *args: str, **kw: Any) -> list[Reply]:
        return await self.send(
            self.person_event(
                EventKind.COMMAND, command=name, args=args, text=f"/{name} {' '.join(args)}", **kw
            )
        )

    async def taps(self, payload: str, **kw: Any) -> list[Reply]:
        return await self.send(self.person_event(EventKind.BUTTON, payload=payload, **kw))

    async def sends_photo(self, caption: str | None = None, **kw: Any) -> list[Reply]:
        media = Media(MediaKind.PHOTO, "PHOTO-FILE-1", caption)
        return await self.send(self.person_event(EventKind.MEDIA, media=media, **kw))

    def desk_event(
        self, consultant: str, kind: EventKind, thread: int | None, **fields: Any
    ) -> IncomingEvent:
        names = {OLENA: "Olena Koval", TARAS: "Taras"}
        return IncomingEvent(
            address=Address(Platform.TELEGRAM, DESK, thread),
            kind=kind,
            dedupe_key=f"k{next(_keys)}",
            sender=Sender(user_id=consultant, display_name=names.get(consultant, "X")),
            **fields,
        )

    async def consultant_says(self, consultant: str, thread: int | None, text: str) -> list[Reply]:
        if text.startswith("/"):
            name, *args = text[1:].split()
            event = self.desk_event(
                consultant, EventKind.COMMAND, thread, command=name, args=tuple(args), text=text
            )
        else:
            event = self.desk_event(consultant, EventKind.TEXT, thread, text=text)
        return await self.send(event)

    async def consultant_taps(
        self, consultant: str, payload: str, thread: int | None = None
    ) -> list[Reply]:
        return await self.send(
            self.desk_event(consultant, EventKind.BUTTON, thread, payload=payload)
        )

    # -- the database --------------------------------------------------------------------

    async def open_ticket(self, user: str = PERSON, **kw: Any) -> int:
        """The person asks for a human; returns the ticket's number."""
        replies = await self.says("Хочу поговорити з консультантом", user=user, **kw)
        [opened] = [r for r in replies if r.meta.get(META_OP) == "open"]
        return int(opened.meta[META_TICKET])

    async def give_topic(self, ticket_id: int, thread: int) -> None:
        """What the topic-sync worker does when it creates the ticket's topic."""
        async with self.db.transaction() as uow:
            await SqlDeskStore(uow, self.clock).set_topic(ticket_id, thread, "1")

    async def ticket(self, ticket_id: int) -> TicketRow:
        async with self.db.transaction() as uow:
            row = await uow.session.get(TicketRow, ticket_id)
            assert row is not None
            return row


def as_reply(effect: DeskEffect) -> Reply:
    """A queued desk effect as the reply to the desk group it stands for."""
    meta = {"kind": "desk"}
    if effect.ticket_id is not None:
        meta.update({META_TICKET: str(effect.ticket_id), META_OP: effect.kind.value})
    return Reply(
        Address(Platform.TELEGRAM, DESK, effect.thread_id),
        effect.text,
        effect.buttons,
        effect.media,
        effect.silent,
        meta=meta,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_MORNING)


@pytest.fixture
def desk(db: Database, clock: Clock, matcher: Matcher) -> DeskHarness:
    return DeskHarness(db, clock, matcher)


def to_person(replies: list[Reply], user: str = PERSON) -> list[Reply]:
    return [r for r in replies if r.address.chat_id == user]


def to_desk(replies: list[Reply]) -> list[Reply]:
    return [r for r in replies if r.address.chat_id == DESK]


def sample(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


# -- opening -------------------------------------------------------------------------------


async def test_asking_for_a_person_opens_a_ticket_and_acknowledges(desk: DeskHarness) -> None:
    opened_before = sample("otwarta_desk_tickets_opened_total", {"urgent": "no"})
    replies = await desk.says("Хочу поговорити з консультантом про мій песель")
    [open_op] = to_desk(replies)
    assert open_op.meta[META_OP] == "open" and open_op.address.thread_id is None
    t = int(open_op.meta[META_TICKET])
    ack = to_person(replies)[0]
    assert names_ticket(ack.text, t)
    assert "15" in ack.text  # the default expected wait, with no history yet
    assert ack.buttons[0][0].id == f"dk:cancel:{t}"
    ticket = await desk.ticket(t)
    assert (ticket.state, ticket.origin, ticket.lang, ticket.platform) == (
        "waiting",
        "request",
        "uk",
        "telegram",
    )
    assert ticket.question == "Хочу поговорити з консультантом про мій песель"
    assert ticket.person_name is None  # DESK_SHOW_NAMES is off
    assert sample("otwarta_desk_tickets_opened_total", {"urgent": "no"}) == opened_before + 1


async def test_queue_position_in_the_acknowledgement(desk: DeskHarness) -> None:
    await desk.open_ticket(user="2002")
    await desk.open_ticket(user="2003")
    replies = await desk.says("Хочу поговорити з консультантом")
    assert "3" in to_person(replies)[0].text.split("\n\n")[1]


async def test_asking_again_points_to_the_open_ticket(desk: DeskHarness) -> None:
    t = await desk.open_ticket()
    replies = await desk.command("consultant")
    assert not to_desk(replies)
    assert names_ticket(to_person(replies)[0].text, t)
    async with desk.db.transaction() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(TicketRow)) == 1


async def test_out_of_hours_says_when_consultants_are_back(desk: DeskHarness, clock: Clock) -> None:
    clock.now = dt.datetime(2026, 11, 10, 20, 0, tzinfo=dt.UTC)  # Tue 21:00; Wed 11 Nov: holiday
    replies = await desk.says("Хочу поговорити з консультантом")
    ack = to_person(replies)[0].text
    assert "12 листопада" in ack and "09:00" in ack  # Thursday, not the Independence Day
    [opened] = to_desk(replies)
    assert (await desk.ticket(int(opened.meta[META_TICKET]))).state == "waiting"


async def test_out_of_hours_on_a_weekend_in_polish(desk: DeskHarness, clock: Clock) -> None:
    clock.now = dt.datetime(2026, 5, 9, 10, 0, tzinfo=dt.UTC)  # Saturday
    replies = await desk.says("Chcę porozmawiać z konsultantem")
    ack = to_person(replies)[0].text
    assert "11 maja" in ack and "09:00" in ack


async def test_show_names_puts_the_name_on_the_ticket(
    db: Database, clock: Clock, matcher: Matcher
) -> None:
    desk = DeskHarness(db, clock, matcher, desk_show_names=True)
    t = await desk.open_ticket()
    assert (await desk.ticket(t)).person_name == "Oksana Shevchenko"


# -- while the ticket is open ---------------------------------------------------------------


async def test_everything_the_person_sends_goes_to_the_desk_not_the_matcher(
    desk: DeskHarness,
) -> None:
    t = await desk.open_ticket()
    replies = await desk.says("як отримати песель")  # a question the matcher would answer
    assert to_person(replies) == []
    [relayed] = to_desk(replies)
    assert relayed.text == "👤 як отримати песель"
    assert relayed.meta[META_TICKET] == str(t) and relayed.meta[META_OP] == "post"
    replies = await desk.sends_photo("мій документ")
    [photo] = to_desk(replies)
    assert photo.media is not None and photo.media.ref == "PHOTO-FILE-1"
    assert photo.text == "👤 мій документ"
    async with desk.db.transaction() as uow:
        kinds = (
            await uow.session.scalars(select(TicketMessage.kind).order_by(TicketMessage.id))
        ).all()
    assert kinds == ["text", "photo"]


async def test_danger_words_during_a_ticket_make_it_urgent(desk: DeskHarness) -> None:
    t = await desk.open_ticket()
    replies = await desk.says("мене б'є чоловік, допоможіть")
    assert "112" in to_person(replies)[0].text  # the emergency numbers first
    assert (await desk.ticket(t)).urgent
    assert any(r.meta.get(META_OP) == "card" for r in to_desk(replies))


async def test_cancel(desk: DeskHarness) -> None:
    t = await desk.open_ticket()
    replies = await desk.command("cancel")
    [closing] = to_desk(replies)
    assert closing.meta[META_OP] == "close"
    row = await desk.ticket(t)
    assert (row.state, row.close_reason) == ("closed", "cancelled")
    replies = await desk.command("cancel")
    assert to_desk(replies) == [] and to_person(replies)
    # A cancelled ticket is not reopened: the next question goes to the matcher.
    replies = await desk.says("як отримати песель")
    assert to_desk(replies) == []


async def test_cancel_button(desk: DeskHarness) -> None:
    t = await desk.open_ticket()
    await desk.taps(f"dk:cancel:{t}")
    assert (await desk.ticket(t)).close_reason == "cancelled"


# -- the consultants ------------------------------------------------------------------------


async def test_take_relay_note_close_and_rating(desk: DeskHarness, clock: Clock) -> None:
    t = await desk.open_ticket()
    await desk.give_topic(t, 55)
    clock.advance(300)
    replies = await desk.consultant_taps(OLENA, f"dk:take:{t}", 55)
    [card] = to_desk(replies)
    assert card.meta[META_OP] == "card" and "Olena Koval" in card.text
    assert to_person(replies)  # "a consultant has taken your question"

    replies = await desk.consultant_taps(TARAS, f"dk:take:{t}", 55)
    [lost] = to_desk(replies)
    assert "Olena Koval" in lost.text and to_person(replies) == []

    first_before = sample("otwarta_desk_first_response_seconds_count")
    clock.advance(60)
    replies = await desk.consultant_says(OLENA, 55, "Добрий день! Потрібен паспорт.")
    [answer] = to_person(replies)
    assert "Добрий день! Потрібен паспорт." in answer.text
    assert sample("otwarta_desk_first_response_seconds_count") == first_before + 1

    assert await desk.consultant_says(OLENA, 55, "! перевірити у вівторок") == []

    replies = await desk.consultant_says(OLENA, 55, "/close")
    [closing] = to_desk(replies)
    assert closing.meta[META_OP] == "close"
    [rate] = to_person(replies)
    assert [b.id for b in rate.buttons[0]] == [f"dk:rate:{t}:{n}" for n in range(1, 6)]
    row = await desk.ticket(t)
    assert row.assigned_at == MONDAY_MORNING + dt.timedelta(seconds=300)
    assert row.first_response_at == MONDAY_MORNING + dt.timedelta(seconds=360)

    rated_before = sample("otwarta_desk_ratings_total", {"score": "5"})
    replies = await desk.taps(f"dk:rate:{t}:5")
    assert any("5/5" in r.text for r in to_desk(replies))
    assert sample("otwarta_desk_ratings_total", {"score": "5"}) == rated_before + 1
    assert to_desk(await desk.taps(f"dk:rate:{t}:1")) == []  # rated once
    replies = await desk.taps(f"dk:skip:{t}")
    assert to_person(replies)


async def test_answering_a_waiting_ticket_takes_it(desk: DeskHarness) -> None:
    t = await desk.open_ticket()
    await desk.give_topic(t, 55)
    replies = await desk.consultant_says(TARAS, 55, "Вітаю!")
    assert any(r.meta.get(META_OP) == "card" for r in to_desk(replies))
    assert (await desk.ticket(t)).state == "assigned"


async def test_a_burst_of_consultant_messages_is_never_flood_limited(desk: DeskHarness) -> None:
    t = await desk.open_ticket()
    await desk.give_topic(t, 55)
    answers = []
    for n in range(12):  # the engine's flood control allows 8 in 10 s to a person
        answers += [r for r in to_person(await desk.consultant_says(OLENA, 55, f"part {n}"))]
    assert [r.text.splitlines()[-1] for r in answers if "part" in r.text] == [
        f"part {n}" for n in range(12)
    ]


async def test_a_persons_album_during_a_ticket_is_never_flood_limited(desk: DeskHarness) -> None:
    await desk.open_ticket()
    relayed = []
    for n in range(12):  # more than the 8 in 10 s the engine allows a person
        relayed += to_desk(await desk.sends_photo(f"page {n}"))
    assert [r.text for r in relayed] == [f"👤 page {n}" for n in range(12)]


async def test_without_a_ticket_a_flood_is_still_limited(desk: DeskHarness) -> None:
    replies = []
    for n in range(12):
        replies += await desk.says(f"питання {n}")
    flood = [r for r in replies if r.meta.get("kind") == "flood"]
    assert len(flood) == 1
    assert len(replies) < 12 + 12


async def test_a_person_on_viber_gets_the_consultants_reply_on_viber(desk: DeskHarness) -> None:
    t = await desk.open_ticket(user="viber-user-1", platform=Platform.VIBER)
    await desk.give_topic(t, 55)
    replies = await desk.consultant_says(OLENA, 55, "Добрий день!")
    _taken, answer = [r for r in replies if r.address.platform is Platform.VIBER]
    assert answer.address.chat_id == "viber-user-1" and "Добрий день!" in answer.text


async def test_faq_command_sends_the_entry_in_the_persons_language(desk: DeskHarness) -> None:
    t = await desk.open_ticket()
    await desk.give_topic(t, 55)
    replies = await desk.consultant_says(OLENA, 55, "/faq pesel-ukr")
    _taken, answer = to_person(replies)  # answering a waiting ticket takes it
    entry = desk.engine.kb.entries["pesel-ukr"]
    assert entry.answer.get("uk") in answer.text
    replies = await desk.consultant_says(OLENA, 55, "/faq no-such-entry")
    assert to_person(replies) == [] and "/faq" in to_desk(replies)[0].text


async def test_langs_are_recorded_and_commands_elsewhere_are_ignored(desk: DeskHarness) -> None:
    replies = await desk.consultant_says(OLENA, None, "/langs uk ru")
    assert "UK RU" in replies[0].text
    replies = await desk.consultant_says(OLENA, None, "/langs uk de")
    assert "/langs" in replies[0].text  # usage; nothing changed
    async with desk.db.transaction() as uow:
        row = await uow.session.scalar(select(ConsultantRow))
        assert row is not None and row.languages == ["uk", "ru"]
    # The same commands from a private chat are not consultant commands.
    await desk.open_ticket(user=TARAS)
    replies = await desk.command("langs", "pl", user=TARAS)
    replies += await desk.command("close", user=TARAS)
    assert to_desk(replies) == []
    async with desk.db.transaction() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(ConsultantRow)) == 1
        ticket = await uow.session.scalar(select(TicketRow))
        assert ticket is not None and ticket.state == "waiting"


async def test_a_person_cannot_press_desk_buttons(desk: DeskHarness) -> None:
    t = await desk.open_ticket()
    replies = await desk.taps(f"dk:take:{t}")
    replies += await desk.taps(f"dk:close:{t}")
    assert to_desk(replies) == []
    assert (await desk.ticket(t)).state == "waiting"


async def consultant_id(desk: DeskHarness, telegram_id: str) -> int:
    async with desk.db.transaction() as uow:
        row = await uow.session.scalar(
            select(ConsultantRow).where(ConsultantRow.telegram_user_id == int(telegram_id))
        )
        assert row is not None
        return row.id


async def test_transfer_to_a_colleague_and_back_to_the_queue(desk: DeskHarness) -> None:
    await desk.consultant_says(TARAS, None, "/langs uk")
    t = await desk.open_ticket()
    await desk.give_topic(t, 55)
    await desk.consultant_taps(OLENA, f"dk:take:{t}", 55)
    replies = await desk.consultant_taps(OLENA, f"dk:xfer:{t}", 55)
    [menu] = to_desk(replies)
    taras = await consultant_id(desk, TARAS)
    assert [b.id for row in menu.buttons for b in row] == [f"dk:to:{t}:{taras}", f"dk:to:{t}:0"]
    await desk.consultant_taps(OLENA, f"dk:to:{t}:{taras}", 55)
    assert (await desk.ticket(t)).consultant_id == taras
    await desk.consultant_taps(TARAS, f"dk:to:{t}:0", 55)
    row = await desk.ticket(t)
    assert (row.state, row.consultant_id) == ("waiting", None)


async def test_messages_to_a_closed_ticket_are_not_sent(desk: DeskHarness) -> None:
    t = await desk.open_ticket()
    await desk.give_topic(t, 55)
    await desk.consultant_says(OLENA, 55, "/close")
    replies = await desk.consultant_says(OLENA, 55, "ще одне")
    assert to_person(replies) == []
    assert names_ticket(to_desk(replies)[0].text, t)


# -- after the closing ------------------------------------------------------------------------


async def test_writing_again_soon_reopens_and_thanks_does_not(
    desk: DeskHarness, clock: Clock
) -> None:
    t = await desk.open_ticket()
    await desk.give_topic(t, 55)
    await desk.consultant_taps(OLENA, f"dk:take:{t}", 55)
    await desk.consultant_says(OLENA, 55, "/close")
    clock.advance(3600)
    replies = await desk.says("дякую!")
    assert to_desk(replies) == []  # a plain thank-you calls nobody back
    replies = await desk.says("І ще одне питання")
    assert [r.meta[META_OP] for r in to_desk(replies)] == ["reopen", "post"]
    row = await desk.ticket(t)
    assert (row.state, row.reopen_count) == ("assigned", 1)  # back to the same consultant


async def test_writing_after_the_window_goes_to_the_matcher(
    desk: DeskHarness, clock: Clock
) -> None:
    t = await desk.open_ticket()
    await desk.give_topic(t, 55)
    await desk.consultant_says(OLENA, 55, "/close")
    clock.advance(25 * 3600)  # the window is 24 hours here
    replies = await desk.says("як отримати песель")
    assert to_desk(replies) == []
    assert to_person(replies)


# -- /forget ------------------------------------------------------------------------------------


async def test_forget_erases_the_tickets_and_tells_the_desk(desk: DeskHarness) -> None:
    t = await desk.open_ticket()
    await desk.give_topic(t, 55)
    await desk.says("мій телефон 600 123 456")
    replies = await desk.taps("fg:yes")
    [erase] = to_desk(replies)
    assert erase.meta[META_OP] == "erase" and names_ticket(erase.text, t)
    async with desk.db.transaction() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(User)) == 0
        assert await uow.session.scalar(select(func.count()).select_from(TicketMessage)) == 0
        row = await uow.session.get(TicketRow, t)
        assert row is not None
        assert (row.state, row.close_reason, row.user_id, row.question) == (
            "closed",
            "erased",
            None,
            None,
        )
    # A consultant writing in the old topic learns why nothing is sent.
    replies = await desk.consultant_says(OLENA, 55, "Ви тут?")
    assert to_person(replies) == [] and names_ticket(to_desk(replies)[0].text, t)


# -- the reminder -----------------------------------------------------------------------------


async def test_reminder_posts_once_per_threshold_and_only_in_working_hours(
    desk: DeskHarness, clock: Clock
) -> None:
    reminder = DeskReminder(
        desk.db,
        chat_id=DESK,
        translator_for=translator_for,
        desk_lang="uk",
        threshold=dt.timedelta(minutes=30),
        hours=desk.runtime.config.hours,
        clock=clock,
    )
    first = await desk.open_ticket()
    second = await desk.open_ticket(user="2002")
    replies = await desk.says("мене б'є чоловік, допоможіть", user="2003")  # urgent
    [urgent] = [int(r.meta[META_TICKET]) for r in to_desk(replies)]
    await desk.new_replies()
    assert await reminder.run_once() == []
    clock.advance(31 * 60)
    assert await reminder.run_once() == [urgent, first, second]  # urgent first
    [posted] = await desk.new_replies()
    assert posted.address == Address(Platform.TELEGRAM, DESK)
    assert f"🚨 #{urgent}" in posted.text and names_ticket(posted.text, first)
    assert sample("otwarta_desk_tickets", {"state": "waiting"}) == 3
    clock.advance(10 * 60)
    assert await reminder.run_once() == []  # reminded 10 minutes ago
    clock.advance(25 * 60)
    assert await reminder.run_once() == [urgent, first, second]
    clock.now = dt.datetime(2026, 5, 4, 18, 0, tzinfo=dt.UTC)  # 20:00 in Warsaw
    assert await reminder.run_once() == []


# -- concurrency ------------------------------------------------------------------------------


@pytest.mark.postgres
async def test_reminders_of_two_processes_never_list_a_ticket_twice(
    postgres_url: str, clock: Clock, matcher: Matcher
) -> None:
    dbs = [Database.from_url(postgres_url) for _ in range(2)]
    try:
        desk = DeskHarness(dbs[0], clock, matcher)
        tickets = {await desk.open_ticket(user=f"40{n}") for n in range(6)}
        reminders = [
            DeskReminder(
                db,
                chat_id=DESK,
                translator_for=translator_for,
                desk_lang="uk",
                threshold=dt.timedelta(minutes=30),
                clock=clock,
            )
            for db in dbs
        ]
        for _ in range(5):
            clock.advance(31 * 60)
            listed = await asyncio.gather(*(reminder.run_once() for reminder in reminders))
            assert sorted(listed[0] + listed[1]) == sorted(tickets), listed
    finally:
        for db in dbs:
            await db.dispose()


@pytest.mark.postgres
async def test_two_consultants_press_take_at_once_through_two_engines(
    postgres_url: str, clock: Clock, matcher: Matcher
) -> None:
    """Two bot processes (two engines, two connection pools) handle two Take presses for
    the same ticket at the same moment: every time exactly one wins, the card is redrawn
    once, and the other consultant is told who has it."""
    dbs = [Database.from_url(postgres_url) for _ in range(2)]
    try:
        desks = [DeskHarness(db, clock, matcher) for db in dbs]
        for n in range(12):
            ticket = await desks[0].open_ticket(user=f"30{n}")
            await desks[0].new_replies()
            presses = [
                desk.engine.process(
                    desk.desk_event(who, EventKind.BUTTON, None, payload=f"dk:take:{ticket}")
                )
                for desk, who in zip(
                    desks, (OLENA, TARAS) if n % 2 else (TARAS, OLENA), strict=True
                )
            ]
            assert await asyncio.gather(*presses) == [True, True]
            replies = await desks[0].new_replies()
            assert len([r for r in replies if r.meta.get(META_OP) == "card"]) == 1, replies
            others = [r for r in to_desk(replies) if r.meta.get(META_OP) == "post"]
            assert len(others) == 1  # the loser is told who has it
            assert len(to_person(replies, f"30{n}")) == 1  # the person hears it once
            row = await desks[0].ticket(ticket)
            assert row.state == "assigned" and row.consultant_id is not None
    finally:
        for db in dbs:
            await db.dispose()
