"""TelegramSender: rendering, splitting, keyboards, media relay, topics, limits and the
mapping of Bot API errors — through the real python-telegram-bot against the double."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.markup import render_telegram_html
from bot.messengers.telegram import TelegramSender
from bot.messengers.telegram import sender as telegram_sender
from bot.ports import MessageSender, PermanentFailure, RecipientGone, RetryLater, ThreadGone
from handlers.model import Address, Button, Media, MediaKind, Platform, Reply
from tests.doubles.telegram_double import BotApiDouble, FakeUser, parse_html, utf16_len

OLENA = FakeUser(1001)
DESK = -1001234567890


@pytest.fixture
async def api() -> AsyncIterator[BotApiDouble]:
    async with BotApiDouble() as double:
        double.add_chat(OLENA.private_chat())
        yield double


@pytest.fixture
async def sender(api: BotApiDouble) -> AsyncIterator[TelegramSender]:
    bot = Bot(api.token, base_url=f"{api.api_url}/bot", base_file_url=f"{api.api_url}/file/bot")
    async with bot:
        yield TelegramSender(bot)


def to_olena(text: str = "", **kwargs: object) -> Reply:
    return Reply(Address(Platform.TELEGRAM, str(OLENA.id)), text, **kwargs)  # type: ignore[arg-type]


async def test_is_a_message_sender(sender: TelegramSender) -> None:
    assert isinstance(sender, MessageSender)
    assert sender.platform is Platform.TELEGRAM


async def test_markup_rendered_as_html_without_link_previews(
    api: BotApiDouble, sender: TelegramSender
) -> None:
    delivered = await sender.send(
        to_olena("**PESEL UKR** — see [gov.pl](https://www.gov.pl) & <bring> a passport\n- photo")
    )
    [message] = api.sent_to(OLENA.id)
    assert delivered.message_id == str(message.message_id)
    assert message.parse_mode == "HTML"
    assert message.text == "PESEL UKR — see gov.pl & <bring> a passport\n• photo"
    assert "<b>PESEL UKR</b>" in message.raw
    assert message.params["link_preview_options"] == {"is_disabled": True}


async def test_long_text_is_split_with_buttons_on_the_last_part(
    api: BotApiDouble, sender: TelegramSender
) -> None:
    paragraph = "**Krok.** " + "Złóż wniosek w urzędzie i weź paszport. " * 20
    text = "\n\n".join(f"{i}. {paragraph}" for i in range(15))  # ~12,000 characters
    buttons = ((Button("👍", id="fb:1:1"), Button("👎", id="fb:1:0")),)
    await sender.send(to_olena(text, buttons=buttons))
    parts = api.sent_to(OLENA.id)
    assert len(parts) >= 3
    assert all(utf16_len(p.text) <= 4096 for p in parts)
    assert [bool(p.reply_markup) for p in parts] == [False] * (len(parts) - 1) + [True]
    assert parts[-1].callback_data == ["fb:1:1", "fb:1:0"]
    # nothing lost or repeated: the parts put together are the whole text
    assert " ".join(p.text for p in parts).split() == parse_html(render_telegram_html(text)).split()


async def test_split_counts_utf16_units_like_telegram(
    api: BotApiDouble, sender: TelegramSender
) -> None:
    text = "🇵🇱" * 1500  # 6,000 UTF-16 units in 3,000 characters: fits by length, not by units
    await sender.send(to_olena(text))
    parts = api.sent_to(OLENA.id)
    assert len(parts) == 2
    assert "".join(p.text for p in parts) == text


async def test_a_part_that_failed_is_retried_without_repeating_earlier_parts(
    api: BotApiDouble, sender: TelegramSender
) -> None:
    text = "\n\n".join(f"Part {i}. " + "x " * 2000 for i in range(3))
    api.fail(500, method="sendMessage", skip=1, times=1)
    with pytest.raises(RetryLater):
        await sender.send(to_olena(text))
    await sender.send(to_olena(text))
    starts = [p.text.split(".")[0] for p in api.sent_to(OLENA.id)]
    assert starts == ["Part 0", "Part 1", "Part 2"]


async def test_callback_data_over_64_bytes_is_refused_before_sending(
    api: BotApiDouble, sender: TelegramSender
) -> None:
    too_long = "e:" + "ж" * 32  # 66 bytes
    with pytest.raises(PermanentFailure, match="64 bytes"):
        await sender.send(to_olena("x", buttons=((Button("a", id=too_long),),)))
    assert api.calls_to("sendMessage") == []


async def test_html_telegram_rejects_falls_back_to_plain_text(
    api: BotApiDouble, sender: TelegramSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        telegram_sender, "render_telegram_html", lambda text: f"<blink>{text}</blink>"
    )
    await sender.send(to_olena("**hello** [site](https://example.org)"))
    [rejected, plain] = api.calls_to("sendMessage")
    assert rejected.status == 400
    assert "can't parse entities" in rejected.response["description"]
    [message] = api.sent_to(OLENA.id)
    assert message.parse_mode is None
    assert message.text == "hello site: https://example.org"
    assert plain.status == 200


@pytest.mark.parametrize(
    ("kind", "method", "field"),
    [
        (MediaKind.PHOTO, "sendPhoto", "photo"),
        (MediaKind.DOCUMENT, "sendDocument", "document"),
        (MediaKind.VOICE, "sendVoice", "voice"),
        (MediaKind.VIDEO, "sendVideo", "video"),
        (MediaKind.AUDIO, "sendAudio", "audio"),
        (MediaKind.ANIMATION, "sendAnimation", "animation"),
    ],
)
async def test_media_relayed_by_file_id_with_caption(
    api: BotApiDouble, sender: TelegramSender, kind: MediaKind, method: str, field: str
) -> None:
    media = Media(kind, ref="FILE-abc123")
    await sender.send(to_olena("**#42** from Olena", media=media))
    [message] = api.sent_to(OLENA.id)
    assert message.method == method
    assert message.params[field] == "FILE-abc123"
    assert message.params["caption"] == "<b>#42</b> from Olena"
    assert message.text == "#42 from Olena"


@pytest.mark.parametrize(
    ("media", "method"),
    [
        (Media(MediaKind.STICKER, ref="STICKER-1"), "sendSticker"),
        (Media(MediaKind.VIDEO_NOTE, ref="NOTE-1"), "sendVideoNote"),
        (Media(MediaKind.LOCATION, ref="50.06,19.93"), "sendLocation"),
        (Media(MediaKind.CONTACT, ref="+48123456789", caption="Anna"), "sendContact"),
    ],
)
async def test_captionless_media_then_the_text(
    api: BotApiDouble, sender: TelegramSender, media: Media, method: str
) -> None:
    await sender.send(to_olena("#42", media=media, buttons=((Button("ok", id="m"),),)))
    first, second = api.sent_to(OLENA.id)
    assert first.method == method
    assert (second.method, second.text, second.callback_data) == ("sendMessage", "#42", ["m"])
    if media.kind is MediaKind.LOCATION:
        assert (first.params["latitude"], first.params["longitude"]) == ("50.06", "19.93")
    if media.kind is MediaKind.CONTACT:
        assert (first.params["phone_number"], first.params["first_name"]) == (
            "+48123456789",
            "Anna",
        )


async def test_long_caption_goes_as_separate_messages(
    api: BotApiDouble, sender: TelegramSender
) -> None:
    await sender.send(to_olena("słowo " * 300, media=Media(MediaKind.PHOTO, ref="P1")))
    photo, text = api.sent_to(OLENA.id)
    assert photo.method == "sendPhoto" and "caption" not in photo.params
    assert text.method == "sendMessage" and text.text.startswith("słowo")


async def test_forum_topic_and_deleted_topic(api: BotApiDouble, sender: TelegramSender) -> None:
    api.add_forum_group(DESK)
    bot_topic = await sender._bot.create_forum_topic(DESK, "#42 Olena · uk")
    thread = bot_topic.message_thread_id
    await sender.send(
        Reply(Address(Platform.TELEGRAM, str(DESK), thread), "new ticket", silent=True)
    )
    [message] = api.sent_to(DESK)
    assert message.message_thread_id == thread
    assert message.params["disable_notification"] in (True, "true")
    api.delete_topic(DESK, thread)
    with pytest.raises(ThreadGone):
        await sender.send(Reply(Address(Platform.TELEGRAM, str(DESK), thread), "again"))


@pytest.mark.parametrize(
    ("code", "description", "error"),
    [
        (429, None, RetryLater),
        (500, None, RetryLater),
        (502, None, RetryLater),
        (403, "Forbidden: bot was blocked by the user", RecipientGone),
        (403, "Forbidden: user is deactivated", RecipientGone),
        (400, "Bad Request: message thread not found", ThreadGone),
        (400, "Bad Request: chat not found", PermanentFailure),
    ],
)
async def test_errors_mapped_for_the_outbox(
    api: BotApiDouble,
    sender: TelegramSender,
    code: int,
    description: str | None,
    error: type[Exception],
) -> None:
    api.fail(code, description, method="sendMessage", retry_after=7 if code == 429 else None)
    with pytest.raises(error) as raised:
        await sender.send(to_olena("hi"))
    if code == 429:
        assert isinstance(raised.value, RetryLater) and raised.value.after == 7
    if error is PermanentFailure:
        assert not isinstance(raised.value, ThreadGone)


async def test_unreachable_api_is_retry_later(api: BotApiDouble, sender: TelegramSender) -> None:
    await api.close()  # connection refused from now on
    with pytest.raises(RetryLater):
        await sender.send(to_olena("hi"))


def test_limits_per_chat_global_and_group() -> None:
    sender = TelegramSender(Bot("1:x"))
    private = sender.limits_for(Address(Platform.TELEGRAM, "1001"))
    group = sender.limits_for(Address(Platform.TELEGRAM, str(DESK), 7))
    assert {(limit.count / limit.period) for limit in private} == {30.0, 1.0}
    assert {limit.key for limit in private} == {"telegram:global", "telegram:chat:1001"}
    assert f"telegram:group:{DESK}" in {limit.key for limit in group}
    [group_limit] = [limit for limit in group if limit.key.startswith("telegram:group:")]
    assert (group_limit.count, group_limit.period) == (20, 60.0)
