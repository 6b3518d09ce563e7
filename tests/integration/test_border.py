"""The border: whatever bytes a messenger delivers, the question reaches the bot. A NUL
(PostgreSQL refuses it in text and JSON) or a lone surrogate (no UTF-8 encoder takes it)
used to end in "Sorry, something went wrong"; every event is cleaned where it enters the
engine (``handlers.model.clean_text``), whichever adapter built it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.engine import ERROR_NOTICE
from bot.i18n import translator_for
from handlers.model import (
    Address,
    EventKind,
    IncomingEvent,
    Media,
    MediaKind,
    Platform,
    Sender,
    clean_text,
)
from tests.doubles.telegram_double import BotApiDouble, FakeUser
from tests.doubles.telegram_harness import running_bot, webhook_settings


@pytest.mark.parametrize(
    "text",
    [
        "як отримати\x00 песель",  # a NUL inside the question
        "як отримати песель \ud83d",  # half of an emoji: a lone surrogate
        "як отримати \udc00песель\x07",
    ],
)
async def test_a_nul_or_a_lone_surrogate_does_not_lose_the_question(db_url: str, text: str) -> None:
    async with BotApiDouble() as api:
        # Webhook mode: the double posts updates as Telegram does, in ASCII JSON with escapes.
        settings = webhook_settings(api, db_url)
        async with running_bot(settings):  # the real router, matcher and database
            api.text(FakeUser(1001, language_code="uk"), text)
            await api.wait_for_sent(1001, 1)
    replies = api.texts_to(1001)
    assert translator_for("uk").gettext(ERROR_NOTICE) not in replies
    assert "PESEL" in replies[0]  # the answer to the question


def test_clean_text_keeps_what_people_write() -> None:
    assert clean_text("Добрий день!\n\tЯк справи? 😊") == "Добрий день!\n\tЯк справи? 😊"
    assert clean_text("a\x00b\x1bc\x7f") == "abc"
    assert clean_text("emoji \ud83d half") == "emoji \ufffd half"
    assert clean_text("й") == "й"  # и + combining breve → one code point (NFC)
    assert clean_text("zero\u200bwidth") == "zero\u200bwidth"  # the matcher's business


@given(st.text(alphabet=st.characters(blacklist_categories=()), max_size=200))
def test_clean_text_is_always_storable_and_idempotent(text: str) -> None:
    cleaned = clean_text(text)
    cleaned.encode("utf-8")  # no lone surrogate left
    assert "\x00" not in cleaned
    assert clean_text(cleaned) == cleaned


def test_every_text_of_an_event_is_cleaned() -> None:
    event = IncomingEvent(
        Address(Platform.VIBER, "u1"),
        EventKind.MEDIA,
        "k1",
        Sender("u1", display_name="Ol\x00ena"),
        text="caption\x00",
        args=("a\x00",),
        media=Media(MediaKind.PHOTO, ref="r", caption="cap\ud800", file_name="f\x00.jpg"),
    )
    cleaned = event.cleaned()
    assert (cleaned.text, cleaned.args, cleaned.sender.display_name) == ("caption", ("a",), "Olena")
    assert cleaned.media is not None
    assert (cleaned.media.caption, cleaned.media.file_name) == ("cap\ufffd", "f.jpg")
    ordinary = IncomingEvent(
        Address(Platform.TELEGRAM, "1"), EventKind.TEXT, "k", Sender("1"), text="ok"
    )
    assert ordinary.cleaned() is ordinary
