"""Telegram updates (real Bot API JSON, parsed by the real python-telegram-bot) become the
platform-neutral events the handlers see, and updates that are not for us become nothing."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update

from bot.messengers.telegram import chat_key_of, update_to_event
from handlers.model import Address, EventKind, IncomingEvent, MediaKind, Platform
from tests.doubles.telegram_double import BotApiDouble, FakeUser

DESK = -1001234567890
OLENA = FakeUser(1001, first_name="Olena", last_name="K", language_code="uk")


@pytest.fixture
def api() -> BotApiDouble:
    return BotApiDouble()  # builders only: the server is not started


def translate(data: dict[str, Any], consultant_chat_id: int | None = DESK) -> IncomingEvent | None:
    return update_to_event(
        Update.de_json(data, None),
        bot_username="otwarta_test_bot",
        consultant_chat_id=consultant_chat_id,
    )


def test_text_message(api: BotApiDouble) -> None:
    data = api.text(OLENA, "Як отримати PESEL?", inject=False)
    event = translate(data)
    assert event == IncomingEvent(
        address=Address(Platform.TELEGRAM, "1001"),
        kind=EventKind.TEXT,
        dedupe_key=str(data["update_id"]),
        sender=event.sender if event else None,  # type: ignore[arg-type]
        text="Як отримати PESEL?",
        message_id=str(data["message"]["message_id"]),
    )
    assert event is not None
    assert event.sender.user_id == "1001"
    assert event.sender.language_code == "uk"
    assert event.sender.display_name == "Olena K"
    assert not event.sender.is_bot


@pytest.mark.parametrize(
    ("text", "command", "args"),
    [
        ("/start", "start", ()),
        ("/START", "start", ()),
        ("/start ukr-status", "start", ("ukr-status",)),
        ("/menu@otwarta_test_bot", "menu", ()),
        ("/Help@Otwarta_Test_Bot  a   b", "help", ("a", "b")),
    ],
)
def test_commands_lose_slash_botname_and_case(
    api: BotApiDouble, text: str, command: str, args: tuple[str, ...]
) -> None:
    event = translate(api.text(OLENA, text, inject=False))
    assert event is not None
    assert (event.kind, event.command, event.args, event.text) == (
        EventKind.COMMAND,
        command,
        args,
        text,
    )


def test_slash_inside_text_is_not_a_command(api: BotApiDouble) -> None:
    event = translate(api.text(OLENA, "800+/місяць?", inject=False))
    assert event is not None and event.kind is EventKind.TEXT


def test_callback_query_becomes_button_with_payload(api: BotApiDouble) -> None:
    data = api.callback(OLENA, "e:pesel-ukr:12", message_id=77, inject=False)
    event = translate(data)
    assert event is not None
    assert event.kind is EventKind.BUTTON
    assert event.payload == "e:pesel-ukr:12"
    assert event.address == Address(Platform.TELEGRAM, "1001")
    assert event.message_id == "77"
    assert event.dedupe_key == str(data["update_id"])


@pytest.mark.parametrize(
    ("kind", "media_kind"),
    [
        ("photo", MediaKind.PHOTO),
        ("document", MediaKind.DOCUMENT),
        ("voice", MediaKind.VOICE),
        ("video", MediaKind.VIDEO),
        ("video_note", MediaKind.VIDEO_NOTE),
        ("sticker", MediaKind.STICKER),
        ("audio", MediaKind.AUDIO),
        ("animation", MediaKind.ANIMATION),
    ],
)
def test_media_keep_the_file_id(api: BotApiDouble, kind: str, media_kind: MediaKind) -> None:
    data = api.media(OLENA, kind, caption="to jest mój wniosek" if kind != "sticker" else None,
                     inject=False)  # fmt: skip
    event = translate(data)
    assert event is not None and event.media is not None
    assert event.kind is EventKind.MEDIA
    assert event.media.kind is media_kind
    payload = data["message"][kind]
    expected_id = payload[-1]["file_id"] if kind == "photo" else payload["file_id"]
    assert event.media.ref == expected_id  # the largest photo size
    if kind in ("photo", "document", "voice", "video", "audio", "animation"):
        assert event.media.caption == "to jest mój wniosek"
    if kind == "document":
        assert (event.media.file_name, event.media.mime_type) == ("wniosek.pdf", "application/pdf")


def test_location_and_contact(api: BotApiDouble) -> None:
    location = translate(api.media(OLENA, "location", inject=False))
    assert location is not None and location.media is not None
    assert (location.media.kind, location.media.ref) == (MediaKind.LOCATION, "50.061947,19.936856")
    contact = translate(api.media(OLENA, "contact", inject=False))
    assert contact is not None and contact.media is not None
    assert (contact.media.kind, contact.media.ref, contact.media.caption) == (
        MediaKind.CONTACT,
        "+48123456789",
        "Anna",
    )


@pytest.mark.parametrize("status", ["kicked", "left"])
def test_blocking_the_bot_unsubscribes(api: BotApiDouble, status: str) -> None:
    event = translate(api.my_chat_member(OLENA, status, inject=False))
    assert event is not None
    assert event.kind is EventKind.UNSUBSCRIBED
    assert event.address == Address(Platform.TELEGRAM, "1001")


def test_unblocking_is_not_an_event(api: BotApiDouble) -> None:
    assert translate(api.my_chat_member(OLENA, "member", inject=False)) is None


def test_desk_topic_message_carries_the_thread(api: BotApiDouble) -> None:
    consultant = FakeUser(2002, first_name="Kasia", language_code="pl")
    data = api.group_message(DESK, consultant, "Dzień dobry", thread_id=1005, inject=False)
    event = translate(data)
    assert event is not None
    assert event.address == Address(Platform.TELEGRAM, str(DESK), 1005)
    assert event.sender.user_id == "2002"
    assert event.kind is EventKind.TEXT


def test_desk_command_for_another_bot_is_ignored(api: BotApiDouble) -> None:
    consultant = FakeUser(2002)
    mine = api.group_message(DESK, consultant, "/close@otwarta_test_bot", inject=False)
    other = api.group_message(DESK, consultant, "/close@some_other_bot", inject=False)
    assert translate(mine) is not None
    assert translate(other) is None


def test_other_groups_are_ignored(api: BotApiDouble) -> None:
    data = api.group_message(-100999, OLENA, "hello", inject=False)
    assert translate(data) is None
    assert translate(api.group_message(DESK, OLENA, "hi", inject=False), None) is None


def test_reply_thread_in_a_plain_group_is_not_a_topic(api: BotApiDouble) -> None:
    data = api.group_message(DESK, OLENA, "hi", inject=False)
    data["message"]["message_thread_id"] = 55  # a reply thread, is_topic_message absent
    event = translate(data)
    assert event is not None and event.address.thread_id is None


def test_edits_and_service_messages_are_ignored(api: BotApiDouble) -> None:
    data = api.text(OLENA, "typo", inject=False)
    edited = {"update_id": data["update_id"], "edited_message": data["message"]}
    assert translate(edited) is None
    service = api.text(OLENA, "x", inject=False)
    del service["message"]["text"]
    service["message"]["pinned_message"] = {
        "message_id": 1,
        "date": 0,
        "chat": service["message"]["chat"],
    }
    assert translate(service) is None


def test_updates_are_ordered_by_chat(api: BotApiDouble) -> None:
    text = Update.de_json(api.text(OLENA, "a", inject=False), None)
    button = Update.de_json(api.callback(OLENA, "m", message_id=3, inject=False), None)
    desk = Update.de_json(api.group_message(DESK, OLENA, "x", thread_id=9, inject=False), None)
    assert chat_key_of(text) == chat_key_of(button) == 1001
    assert chat_key_of(desk) == DESK
