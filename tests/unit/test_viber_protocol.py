"""Viber on the wire: the callback signature (Viber's published vectors), callbacks → events
(the SDK's unicode payload, every message type), our buttons and typed words as text."""

from __future__ import annotations

import json

import pytest

from bot.messengers.viber.inbound import MalformedCallback, callback_to_event, parse_callback
from bot.messengers.viber.protocol import (
    button_body,
    command_body,
    parse_action_body,
    signature,
    typed_command,
    verify_signature,
)
from handlers.model import EventKind, MediaKind, Platform

# The test vector published with Viber's SDK (Viber/viber-bot-python tests/api/test_api.py).
SDK_TOKEN = "44dafb7e0f40021e-61a47a1e6778d187-f2c5a676a07050b3"
SDK_BODY = b'{"event":"webhook","timestamp":4977069964384421269,"message_token":1478683725125}'
SDK_SIGNATURE = "d21b343448c8aee33b8e93768ef6ceb64a6ba6163099973a2b8bd028fea510ef"

# The SDK's unicode request (tests/api/test_data/unicode_request): Japanese sender name, CJK
# text, Hebrew tracking data, and a message_token above 2**53.
CJK_TEXT = (
    "批封廟根縄華勢田郎報株聞。変宝長独部鉱内出殺反提似惑金参勧車査真測。"
    "見名基現画府日室事集百藤米。発目本当党考万名東拓学早職表治月佐。"
    "町要静子呉遊推写間確長無読死覧件一盛治融。"
)
SDK_UNICODE_REQUEST = """{
   "event": "message",
   "timestamp": 1457764197627,
   "message_token": 4912661846655238145,
   "sender": {
       "id": "01234567890A=",
       "name": "ふで都急ぼちラり面関ごル期販ずラ否裁ぞるめ数努むや正記味てょ",
       "avatar": "http://avatar_url",
       "api_version": 2
   },
   "message": {
       "type": "text",
       "text": "CJK_TEXT",
       "tracking_data": "אל תעקוב אחרי!"
   },
   "silent": false
}""".replace("CJK_TEXT", CJK_TEXT)


def test_signature_matches_the_sdk_vector() -> None:
    assert signature(SDK_TOKEN, SDK_BODY) == SDK_SIGNATURE
    assert verify_signature(SDK_TOKEN, SDK_BODY, SDK_SIGNATURE)
    assert verify_signature(SDK_TOKEN, SDK_BODY, SDK_SIGNATURE.upper())  # hex, any case


def test_signature_failure_vector_and_tampering_are_rejected() -> None:
    assert not verify_signature(SDK_TOKEN, b'{"event":"webhook"}', "aaaaaaaaaaaaaaaaaaaaaa")
    assert not verify_signature(SDK_TOKEN, SDK_BODY + b" ", SDK_SIGNATURE)
    assert not verify_signature("another-token", SDK_BODY, SDK_SIGNATURE)
    assert not verify_signature(SDK_TOKEN, SDK_BODY, None)
    assert not verify_signature(SDK_TOKEN, SDK_BODY, "")
    assert not verify_signature(SDK_TOKEN, SDK_BODY, "ż" * 64)  # not even ASCII


def test_sdk_unicode_request_parses_exactly() -> None:
    callback = parse_callback(SDK_UNICODE_REQUEST.encode("utf-8"))
    assert callback.event == "message"
    assert callback.message_token == "4912661846655238145"  # not 4912661846655238144 (a float)
    assert callback.timestamp == 1457764197627
    event = callback_to_event(callback)
    assert event is not None
    assert event.kind is EventKind.TEXT
    assert event.dedupe_key == "4912661846655238145"
    assert event.address.platform is Platform.VIBER
    assert event.address.chat_id == "01234567890A="
    assert (
        event.sender.display_name == "ふで都急ぼちラり面関ごル期販ずラ否裁ぞるめ数努むや正記味てょ"
    )
    assert event.text == CJK_TEXT
    assert event.sender.language_code is None  # the SDK's sender has no language


def test_the_sdk_webhook_vector_is_a_webhook_callback_with_exact_numbers() -> None:
    callback = parse_callback(SDK_BODY)
    assert callback.event == "webhook"
    assert callback.timestamp == 4977069964384421269
    assert callback.message_token == "1478683725125"
    assert callback_to_event(callback) is None


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"dsfdfdsf\\#",
        b"[1, 2]",
        b'{"timestamp": 1}',
        b'{"event": 5}',
        b'{"event": "message", "message_token": 1.5e18}',
        b'{"event": "message", "message_token": true}',
        b"\xff\xfe",
    ],
)
def test_malformed_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(MalformedCallback):
        parse_callback(body)


def _message(message: dict[str, object], **sender: object) -> bytes:
    return json.dumps(
        {
            "event": "message",
            "timestamp": 1457764197627,
            "message_token": 4912661846655238146,
            "sender": {"id": "u1==", "name": "Olena", "language": "uk", **sender},
            "message": message,
        }
    ).encode()


def test_message_without_sender_or_type_is_malformed() -> None:
    no_sender = b'{"event":"message","message_token":1,"message":{"type":"text","text":"x"}}'
    with pytest.raises(MalformedCallback):
        callback_to_event(parse_callback(no_sender))
    no_type = _message({"text": "x"})
    with pytest.raises(MalformedCallback):
        callback_to_event(parse_callback(no_type))


@pytest.mark.parametrize(
    ("message", "kind", "ref", "caption"),
    [
        (
            {"type": "picture", "text": "my card", "media": "https://dl.viber.com/p.jpg",
             "thumbnail": "https://dl.viber.com/t.jpg", "file_name": "p.jpg", "size": 1},
            MediaKind.PHOTO, "https://dl.viber.com/p.jpg", "my card",
        ),
        (
            {"type": "video", "media": "https://dl.viber.com/v.mp4", "size": 10, "duration": 3},
            MediaKind.VIDEO, "https://dl.viber.com/v.mp4", None,
        ),
        (
            {"type": "file", "media": "https://dl.viber.com/f.pdf", "size": 10,
             "file_name": "decyzja.pdf"},
            MediaKind.DOCUMENT, "https://dl.viber.com/f.pdf", None,
        ),
        ({"type": "sticker", "sticker_id": 46105}, MediaKind.STICKER, "46105", None),
        (
            {"type": "location", "location": {"lat": 50.0614, "lon": 19.9366}},
            MediaKind.LOCATION, "50.0614,19.9366", None,
        ),
        (
            {"type": "contact", "contact": {"name": "Ivan", "phone_number": "+48600123456"}},
            MediaKind.CONTACT, "+48600123456", "Ivan",
        ),
        ({"type": "rich_media", "rich_media": {}}, MediaKind.OTHER, None, None),
    ],
)  # fmt: skip
def test_media_messages(
    message: dict[str, object], kind: MediaKind, ref: str | None, caption: str | None
) -> None:
    event = callback_to_event(parse_callback(_message(message)))
    assert event is not None and event.kind is EventKind.MEDIA and event.media is not None
    assert (event.media.kind, event.media.ref, event.media.caption) == (kind, ref, caption)
    assert event.message_id == "4912661846655238146"


def test_file_keeps_its_name() -> None:
    message = {"type": "file", "media": "https://x/f.pdf", "size": 1, "file_name": "a.pdf"}
    event = callback_to_event(parse_callback(_message(message)))
    assert event is not None and event.media is not None
    assert event.media.file_name == "a.pdf"


def test_url_message_is_text() -> None:
    event = callback_to_event(parse_callback(_message({"type": "url", "media": "https://gov.pl"})))
    assert event is not None and (event.kind, event.text) == (EventKind.TEXT, "https://gov.pl")


def test_keyboard_taps_come_back_as_buttons_and_commands() -> None:
    tap = callback_to_event(parse_callback(_message({"type": "text", "text": "~lang:uk"})))
    assert tap is not None and (tap.kind, tap.payload) == (EventKind.BUTTON, "lang:uk")
    nav = callback_to_event(parse_callback(_message({"type": "text", "text": "~/menu"})))
    assert nav is not None and (nav.kind, nav.command) == (EventKind.COMMAND, "menu")


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("menu", "menu"),
        ("Меню!", "menu"),
        ("  МЕНЮ ", "menu"),
        ("мова", "language"),
        ("Язык", "language"),
        ("język", "language"),
        ("/forget", "forget"),
        ("Забудь мене", "forget"),
        ("консультант", "consultant"),
        ("pomoc", "help"),
        ("/start", "start"),
        ("скасувати", "cancel"),
    ],
)
def test_typed_words_are_commands(text: str, command: str) -> None:
    assert typed_command(text) == command
    event = callback_to_event(parse_callback(_message({"type": "text", "text": text})))
    assert event is not None and (event.kind, event.command) == (EventKind.COMMAND, command)


@pytest.mark.parametrize(
    "text",
    [
        "меню на сьогодні в їдальні?",  # a question that contains the word
        "як отримати песель",
        "~",  # a lone marker is not a button
        "~lang uk",  # ids have no spaces
        "~/menu please show",  # not a command name
        "/unknowncommand",
        "lang:uk",  # an id without the marker is just text
    ],
)
def test_ordinary_text_stays_text(text: str) -> None:
    event = callback_to_event(parse_callback(_message({"type": "text", "text": text})))
    assert event is not None and event.kind is EventKind.TEXT and event.text == text


def test_action_bodies_round_trip() -> None:
    assert parse_action_body(button_body("fb:12:1")) == ("button", "fb:12:1")
    assert parse_action_body(command_body("language")) == ("command", "language")
    assert parse_action_body("~" + "x" * 65) is None  # longer than a button id may be
    assert parse_action_body("hello") is None


def test_subscribed_and_unsubscribed() -> None:
    subscribed = parse_callback(
        b'{"event":"subscribed","timestamp":1457764197627,"message_token":4912661846655238145,'
        b'"user":{"id":"u1==","name":"Olena","language":"ru-RU","country":"PL","api_version":9}}'
    )
    event = callback_to_event(subscribed)
    assert event is not None and event.kind is EventKind.STARTED
    assert (event.sender.user_id, event.sender.language_code) == ("u1==", "ru-RU")
    unsubscribed = parse_callback(
        b'{"event":"unsubscribed","timestamp":1457764197627,"user_id":"u1==",'
        b'"message_token":4912661846655238146}'
    )
    event = callback_to_event(unsubscribed)
    assert event is not None and event.kind is EventKind.UNSUBSCRIBED
    assert (event.address.chat_id, event.dedupe_key) == ("u1==", "4912661846655238146")


def test_receipts_and_conversation_started_are_not_events() -> None:
    for body in (
        b'{"event":"delivered","timestamp":1,"message_token":5,"user_id":"u1=="}',
        b'{"event":"conversation_started","timestamp":1,"message_token":5,"type":"open",'
        b'"user":{"id":"u1=="},"subscribed":false}',
    ):
        assert callback_to_event(parse_callback(body)) is None
