"""Consultants' Telegram files reach Viber as real pictures and files
(:mod:`bot.messengers.viber.media`), and Viber media Telegram refuses reach the desk as links.

The signed ``/media/<token>`` route runs on a real aiohttp server, fetching from the Telegram
Bot API double (``getFile`` and the ``/file/bot<token>/`` download); the end-to-end cases run
the whole bot (``serve``) against both doubles, as in ``test_viber_desk``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.http import HttpServer
from bot.messengers.viber.client import ViberClient
from bot.messengers.viber.media import (
    PICTURE_LIMIT,
    InvalidToken,
    LinkSigner,
    MediaLinks,
    TelegramFiles,
    media_links_for,
)
from bot.messengers.viber.sender import ViberSender
from handlers.model import Address, Media, MediaKind, Platform, Reply
from tests.doubles.telegram_double import BotApiDouble
from tests.doubles.telegram_harness import running_bot
from tests.doubles.viber_double import ViberApiDouble, ViberCallbacks
from tests.integration.test_viber_desk import (
    CONSULTANT,
    DESK,
    MYKOLA,
    both_settings,
    in_topic,
    open_ticket,
)

SECRET = "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9"
PHOTO_BYTES = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # a "jpeg" of ~10 KB


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- the token ---------------------------------------------------------------------------------


def test_a_signed_token_names_its_file_and_kind() -> None:
    signer = LinkSigner(SECRET, clock=Clock())
    assert signer.verify(signer.sign("AgACAgIAAxkB:x", picture=True)) == ("AgACAgIAAxkB:x", True)
    assert signer.verify(signer.sign("BQACAgIAAxkB", picture=False)) == ("BQACAgIAAxkB", False)


def test_a_tampered_or_foreign_token_is_refused() -> None:
    signer = LinkSigner(SECRET, clock=Clock())
    token = signer.sign("AgACAgIAAxkB", picture=True)
    payload, _, signature = token.partition(".")
    forged_payload = LinkSigner(SECRET).sign("OTHER-FILE", picture=True).partition(".")[0]
    for bad in (
        f"{forged_payload}.{signature}",  # another file under this signature
        f"{payload}.{signature[:-2]}AA",  # a changed signature
        LinkSigner("another-secret", clock=Clock()).sign("AgACAgIAAxkB", picture=True),
        payload,  # no signature at all
        "not a token",
    ):
        with pytest.raises(InvalidToken):
            signer.verify(bad)


def test_a_token_expires() -> None:
    clock = Clock()
    signer = LinkSigner(SECRET, clock=clock)
    token = signer.sign("AgACAgIAAxkB", picture=True, lifetime=3600)
    clock.now += 3599
    assert signer.verify(token)[0] == "AgACAgIAAxkB"
    clock.now += 2
    with pytest.raises(InvalidToken, match="expired"):
        signer.verify(token)


# -- the route ---------------------------------------------------------------------------------


@pytest.fixture
async def telegram() -> AsyncIterator[BotApiDouble]:
    async with BotApiDouble() as double:
        double.add_forum_group(DESK)
        yield double


@pytest.fixture
async def viber() -> AsyncIterator[ViberApiDouble]:
    async with ViberApiDouble() as double:
        yield double


@pytest.fixture
async def served(telegram: BotApiDouble) -> AsyncIterator[tuple[MediaLinks, str, Clock]]:
    clock = Clock()
    links = MediaLinks(
        LinkSigner(SECRET, clock=clock),
        TelegramFiles(telegram.token, telegram.api_url),
        "https://bot.example.org",
    )
    server = HttpServer("127.0.0.1", 0, routes=[links.route()])
    await server.start()
    try:
        yield links, server.url, clock
    finally:
        await server.stop()
        await links.close()


async def fetch(url: str) -> tuple[int, bytes, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.read(), response.content_type


async def test_the_route_serves_the_file_telegram_holds(
    served: tuple[MediaLinks, str, Clock], telegram: BotApiDouble
) -> None:
    links, base, _clock = served
    telegram.add_file("PHOTO-1", PHOTO_BYTES, "photos/file_7.jpg")
    token = links.signer.sign("PHOTO-1", picture=True)
    assert await fetch(f"{base}/media/{token}") == (200, PHOTO_BYTES, "image/jpeg")
    assert telegram.downloads == ["photos/file_7.jpg"]


async def test_the_route_refuses_bad_expired_unknown_and_oversized(
    served: tuple[MediaLinks, str, Clock], telegram: BotApiDouble
) -> None:
    links, base, clock = served
    telegram.add_file("PHOTO-1", PHOTO_BYTES, "photos/file_7.jpg")
    telegram.add_file("BIG", b"\xff" * (PICTURE_LIMIT + 1), "photos/file_8.jpg")
    token = links.signer.sign("PHOTO-1", picture=True)
    payload, _, signature = token.partition(".")
    assert (await fetch(f"{base}/media/{payload}.{signature[::-1]}"))[0] == 403
    assert (await fetch(f"{base}/media/{links.signer.sign('NOPE', picture=True)}"))[0] == 404
    big_picture = links.signer.sign("BIG", picture=True)
    assert (await fetch(f"{base}/media/{big_picture}"))[0] == 413
    big_file = links.signer.sign("BIG", picture=False)  # as a file it is within 50 MB
    assert (await fetch(f"{base}/media/{big_file}"))[0] == 200
    clock.now += 8 * 24 * 3600
    assert (await fetch(f"{base}/media/{token}"))[0] == 403
    assert telegram.downloads == ["photos/file_8.jpg"]  # refused links fetched nothing


# -- end to end: the consultant's files reach the person on Viber ------------------------------


@pytest.fixture
async def running(
    telegram: BotApiDouble, viber: ViberApiDouble, sqlite_url: str
) -> AsyncIterator[ViberCallbacks]:
    async with running_bot(both_settings(telegram, viber, sqlite_url)):
        await viber.wait_until(lambda: viber.webhook_url is not None, timeout=30)
        assert viber.webhook_url is not None
        yield ViberCallbacks(viber.webhook_url, viber.token, viber)


def consultant_sends(telegram: BotApiDouble, kind: str, thread: int, content: bytes) -> str:
    """The consultant posts a ``kind`` file in the topic (Telegram holds ``content``)."""
    update = telegram.media(
        CONSULTANT, kind, caption="Зразок заяви", chat=telegram.chat_of(DESK), thread_id=thread,
        inject=False,
    )  # fmt: skip
    message = update["message"]
    file_id = message["photo"][-1]["file_id"] if kind == "photo" else message[kind]["file_id"]
    extension = "jpg" if kind == "photo" else "pdf"
    telegram.add_file(file_id, content, f"{kind}s/file_1.{extension}")
    telegram.inject(update)
    return file_id


async def test_a_consultants_photo_arrives_as_a_viber_picture(
    running: ViberCallbacks, telegram: BotApiDouble, viber: ViberApiDouble
) -> None:
    thread = await open_ticket(telegram, viber, running)
    before = len(viber.sent_to(MYKOLA.id))
    consultant_sends(telegram, "photo", thread, PHOTO_BYTES)
    await viber.wait_until(lambda: any(m.type == "picture" for m in viber.sent_to(MYKOLA.id)))
    picture = next(m for m in viber.sent_to(MYKOLA.id)[before:] if m.type == "picture")
    assert "Зразок заяви" in picture.payload["text"]  # the caption rides on the picture
    media_url = picture.payload["media"]
    assert viber.webhook_url is not None
    assert media_url.startswith(viber.webhook_url.removesuffix("/viber/webhook") + "/media/")
    assert await fetch(media_url) == (200, PHOTO_BYTES, "image/jpeg")
    assert viber.invalid == []


async def test_a_consultants_document_arrives_as_a_viber_file(
    running: ViberCallbacks, telegram: BotApiDouble, viber: ViberApiDouble
) -> None:
    thread = await open_ticket(telegram, viber, running)
    before = len(viber.sent_to(MYKOLA.id))
    content = b"%PDF-1.4\n" + b"x" * 3000
    consultant_sends(telegram, "document", thread, content)
    await viber.wait_until(lambda: any(m.type == "file" for m in viber.sent_to(MYKOLA.id)))
    sent = viber.sent_to(MYKOLA.id)[before:]
    file = next(m for m in sent if m.type == "file")
    assert file.payload["size"] == len(content)
    assert file.payload["file_name"] == "wniosek.pdf"
    status, body, content_type = await fetch(file.payload["media"])
    assert (status, body, content_type) == (200, content, "application/pdf")
    # A file message has no caption: the caption follows as text.
    await viber.wait_until(lambda: any("Зразок заяви" in t for t in viber.texts_to(MYKOLA.id)))
    assert viber.invalid == []


async def test_without_public_url_the_person_gets_the_note(
    viber: ViberApiDouble, telegram: BotApiDouble
) -> None:
    assert media_links_for(SECRET, None, telegram.token, telegram.api_url) is None
    client = ViberClient(viber.token, viber.api_url)
    try:
        sender = ViberSender(client, media_links=None)
        reply = Reply(
            Address(Platform.VIBER, MYKOLA.id), "", media=Media(MediaKind.PHOTO, "AgACAgIAAxkB")
        )
        payloads = await sender.render(reply)
    finally:
        await client.close()
    assert [p["type"] for p in payloads] == ["text"]
    assert "Viber" in payloads[0]["text"]


# -- the other way: Viber media Telegram refuses becomes a link in the desk ---------------------


async def test_a_viber_document_telegram_refuses_reaches_the_desk_as_a_link(
    running: ViberCallbacks, telegram: BotApiDouble, viber: ViberApiDouble
) -> None:
    thread = await open_ticket(telegram, viber, running)
    url = "https://dl-media.viber.com/files/umowa.docx"
    telegram.fail(
        400, "Bad Request: wrong type of the web page content", method="sendDocument", times=None
    )
    await running.message(
        MYKOLA,
        {"type": "file", "media": url, "file_name": "umowa.docx", "size": 20480, "text": ""},
    )
    await telegram.wait_until(
        lambda: any(url in str(m.params.get("text", "")) for m in in_topic(telegram, thread)),
        what="the link in the topic",
    )
    link = next(m for m in in_topic(telegram, thread) if url in str(m.params.get("text", "")))
    assert link.method == "sendMessage" and "umowa.docx" in link.text


async def test_a_viber_sticker_reaches_the_desk_as_an_emoji(
    running: ViberCallbacks, telegram: BotApiDouble, viber: ViberApiDouble
) -> None:
    thread = await open_ticket(telegram, viber, running)
    await running.message(MYKOLA, {"type": "sticker", "sticker_id": 40133})
    await telegram.wait_until(
        lambda: any("🎭" in m.text for m in in_topic(telegram, thread)), what="the sticker"
    )
    assert not any(m.method == "sendSticker" for m in in_topic(telegram, thread))
