"""Viber bills messages sent more than 24 hours after the person's last one: the capability
(:class:`bot.ports.ReplyWindow` on the Viber sender), how the desk gets it
(:func:`bot.desk.runtime.free_window_of`), and the desk's hold-and-confirm
(:mod:`handlers.desk.billing`). The whole flow runs end to end in ``test_viber_desk.py``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bot.desk.runtime import free_window_of
from bot.engine import IdentityTranslator
from bot.messengers.viber.client import ViberClient
from bot.messengers.viber.sender import ViberSender
from bot.ports import ReplyWindow
from handlers.desk import DeskConfig
from handlers.desk.billing import confirmation, hold
from handlers.desk.effects import DeskEffect, EffectKind
from handlers.desk.model import Ticket
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

NOW = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)
VIBER_PERSON = Address(Platform.VIBER, "v1==")
TELEGRAM_PERSON = Address(Platform.TELEGRAM, "42")


class TelegramLike:
    """A sender without the capability: every message is free."""

    platform = Platform.TELEGRAM

    def limits_for(self, address: Address) -> tuple[()]:
        return ()

    async def send(self, reply: Reply) -> Any:
        raise NotImplementedError


def viber_sender() -> ViberSender:
    return ViberSender(ViberClient("t" * 20), translator_for=IdentityTranslator)


def test_only_viber_has_the_capability() -> None:
    assert isinstance(viber_sender(), ReplyWindow)
    assert not isinstance(TelegramLike(), ReplyWindow)


def test_free_window_of_asks_the_persons_messenger() -> None:
    free = free_window_of([TelegramLike(), viber_sender()])  # type: ignore[list-item]
    long_ago = NOW - dt.timedelta(hours=26)
    assert free(TELEGRAM_PERSON, long_ago, NOW)  # Telegram never bills
    assert not free(VIBER_PERSON, long_ago, NOW)
    assert free(VIBER_PERSON, NOW - dt.timedelta(hours=2), NOW)


@dataclass
class Turn:
    """The slice of a TurnContext the desk's billing hold uses."""

    now: dt.datetime = NOW
    replies: list[Reply] = field(default_factory=list)

    def translator_for(self, lang: str) -> IdentityTranslator:
        return IdentityTranslator(lang)


def ticket(last_person_at: dt.datetime | None, person: Address = VIBER_PERSON) -> Ticket:
    return Ticket(
        id=7,
        state="assigned",
        close_reason=None,
        origin="request",
        urgent=False,
        lang="uk",
        topic=None,
        audience=None,
        platform=person.platform.value,
        user_id=1,
        person=person,
        consultant_id=1,
        consultant_name="Olena",
        question=None,
        candidates=(),
        opened_at=NOW - dt.timedelta(days=2),
        last_person_at=last_person_at,
    )


def desk() -> DeskConfig:
    return DeskConfig(chat_id="-100123", free_window=free_window_of([viber_sender()]))


class Effects:
    """Where the desk's effects are queued (the store's ``queue``), recorded."""

    def __init__(self) -> None:
        self.queued: list[DeskEffect] = []

    async def queue(self, effect: DeskEffect) -> None:
        self.queued.append(effect)


async def test_a_late_reply_is_held_with_a_warning_in_the_topic() -> None:
    turn, effects = Turn(), Effects()
    assert await hold(desk(), turn, effects, ticket(NOW - dt.timedelta(hours=26, minutes=5)))  # type: ignore[arg-type]
    (warning,) = effects.queued
    assert warning.kind is EffectKind.POST and turn.replies == []  # into the ticket's topic
    assert warning.ticket_id == 7
    assert "26 h ago" in warning.text and "Viber" in warning.text and "/send" in warning.text


async def test_a_reply_within_the_window_goes() -> None:
    turn, effects = Turn(), Effects()
    assert not await hold(desk(), turn, effects, ticket(NOW - dt.timedelta(hours=23)))  # type: ignore[arg-type]
    assert turn.replies == [] and effects.queued == []


async def test_telegram_people_and_desks_without_the_check_are_never_held() -> None:
    turn, effects = Turn(), Effects()
    late = NOW - dt.timedelta(days=3)
    assert not await hold(desk(), turn, effects, ticket(late, TELEGRAM_PERSON))  # type: ignore[arg-type]
    unconfigured = DeskConfig(chat_id="-100123")
    assert not await hold(unconfigured, turn, effects, ticket(late))  # type: ignore[arg-type]
    assert turn.replies == [] and effects.queued == []


def consultant_event(**kwargs: Any) -> IncomingEvent:
    return IncomingEvent(
        address=Address(Platform.TELEGRAM, "-100123", 55),
        dedupe_key="1",
        sender=Sender("7001"),
        **kwargs,
    )


def test_send_confirms_and_is_taken_off() -> None:
    command = consultant_event(
        kind=EventKind.COMMAND,
        command="send",
        text="/send Ваша справа готова.\nДругий рядок",
        args=("Ваша", "справа", "готова.", "Другий", "рядок"),
    )
    confirmed, event = confirmation(command)
    assert confirmed
    assert (event.kind, event.text, event.command) == (
        EventKind.TEXT,
        "Ваша справа готова.\nДругий рядок",
        None,
    )
    photo = consultant_event(
        kind=EventKind.MEDIA, media=Media(MediaKind.PHOTO, "file-id", caption="/send Зразок")
    )
    confirmed, event = confirmation(photo)
    assert confirmed and event.media is not None and event.media.caption == "Зразок"


def test_other_messages_are_not_confirmations() -> None:
    for event in (
        consultant_event(kind=EventKind.TEXT, text="send it please"),
        consultant_event(kind=EventKind.COMMAND, command="sender", text="/sender"),
        consultant_event(kind=EventKind.MEDIA, media=Media(MediaKind.PHOTO, "f", "/sendx")),
    ):
        confirmed, same = confirmation(event)
        assert not confirmed and same is event
