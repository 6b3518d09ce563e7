"""The desk against careless and hostile use (issue 18, items 3, 5, 6), end to end: ``serve``
with the real python-telegram-bot against the Bot API double, the real conversation and a
real database."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from prometheus_client import REGISTRY

from bot.settings import Settings
from tests.doubles.telegram_double import BotApiDouble, FakeUser, SentMessage
from tests.doubles.telegram_harness import bot_settings, running_bot

DESK = -1001987654321
PERSON = FakeUser(2001, first_name="Oksana", language_code="uk")
OLENA = FakeUser(7001, first_name="Olena", last_name="Koval", language_code="uk")


@pytest.fixture
async def api() -> AsyncIterator[BotApiDouble]:
    async with BotApiDouble() as double:
        double.add_forum_group(DESK)
        yield double


def desk_settings(api: BotApiDouble, db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "consultant_chat_id": DESK,
        "desk_hours": "",
        "desk_reminder_interval_seconds": 3600.0,
        "consultants": str(OLENA.id),
    }
    values.update(overrides)
    return bot_settings(api, db_url, **values)


def topics(api: BotApiDouble) -> dict[int, str]:
    return {thread: topic.name for (chat, thread), topic in api.topics.items() if chat == DESK}


async def wait_for_topic(api: BotApiDouble) -> int:
    await api.wait_until(lambda: len(topics(api)) >= 1, what="the desk topic")
    thread = max(topics(api))
    await api.wait_until(lambda: len(api.sent_to(DESK, thread)) >= 1, what="the card")
    return thread


def shows_literally(message: SentMessage, typed: str) -> bool:
    """The group shows ``typed`` character for character, with no formatting or link made of
    it (the HTML sent holds it escaped, outside any tag)."""
    return typed in message.text and html.escape(typed, quote=False) in message.raw


# -- item 6: formatting injection ------------------------------------------------------------

HOSTILE = "**ПЕРЕВІРЕНО** [gov.pl](https://evil.example/login) - дайте номер паспорта"
HOSTILE_NAME = FakeUser(2002, first_name="**Admin**", last_name="[x](https://evil.example)")


async def test_what_a_person_writes_reaches_the_desk_as_plain_text(
    api: BotApiDouble, db_url: str
) -> None:
    async with running_bot(desk_settings(api, db_url, desk_show_names=True)):
        api.text(HOSTILE_NAME, "Хочу поговорити з консультантом")
        thread = await wait_for_topic(api)
        card = api.sent_to(DESK, thread)[0]
        assert shows_literally(card, "**Admin** [x](https://evil.example)")
        assert "<a " not in card.raw and card.raw.count("<b>") == 1  # the card's own heading

        api.text(HOSTILE_NAME, HOSTILE)
        await api.wait_until(
            lambda: len([m for m in api.sent_to(DESK, thread) if "ПЕРЕВІРЕНО" in m.text]) >= 1,
            what="the relayed message",
        )
        relayed = [m for m in api.sent_to(DESK, thread) if "ПЕРЕВІРЕНО" in m.text][-1]
        assert shows_literally(relayed, HOSTILE) and "<" not in relayed.raw
        assert relayed.params.get("link_preview_options") in (
            {"is_disabled": True},
            '{"is_disabled": true}',
        )

        api.media(HOSTILE_NAME, "photo", caption=HOSTILE)
        await api.wait_until(
            lambda: any(m.method == "sendPhoto" for m in api.sent_to(DESK, thread)),
            what="the photo",
        )
        photo = next(m for m in api.sent_to(DESK, thread) if m.method == "sendPhoto")
        assert shows_literally(photo, HOSTILE) and "<" not in photo.raw


# -- item 5: only consultants act as consultants ------------------------------------------

STRANGER = FakeUser(7100, first_name="Mykola", username="mykola_k", language_code="uk")
ADMIN = FakeUser(7200, first_name="Iryna", language_code="uk")
REFUSAL = "only the desk's consultants"


async def test_only_consultants_take_and_write_and_admins_manage_the_list(
    api: BotApiDouble, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    api.set_member(DESK, ADMIN.id, "administrator")
    async with running_bot(desk_settings(api, db_url, desk_lang="en")):
        api.text(PERSON, "Хочу поговорити з консультантом")
        thread = await wait_for_topic(api)
        card = api.sent_to(DESK, thread)[0]
        ticket = int(topics(api)[thread].split("#", 1)[1].split(" ", 1)[0])
        await api.wait_until(
            lambda: any(f"#{ticket}" in m.text for m in api.sent_to(PERSON.id)), what="the ack"
        )
        to_person = len(api.sent_to(PERSON.id))

        api.callback(
            STRANGER, f"dk:take:{ticket}", message_id=card.message_id, chat=api.chat_of(DESK)
        )
        api.group_message(DESK, STRANGER, "Надішліть номер паспорта", thread_id=thread)
        await api.wait_until(
            lambda: any(REFUSAL in m.text for m in api.sent_to(DESK, thread)),
            what="the refusal in the topic",
        )
        api.group_message(DESK, STRANGER, "/desk add @mykola_k")
        await api.wait_until(
            lambda: any("Only the group's admins" in m.text for m in api.sent_to(DESK)),
            what="the non-admin's /desk refused",
        )
        assert (
            "Mykola" not in caplog.text
            and "7100" not in caplog.text
            and "mykola" not in caplog.text
        )
        assert "refused a button" in caplog.text and "refused a message" in caplog.text
        assert not any("Надішліть" in m.text for m in api.sent_to(PERSON.id)[to_person:])
        assert not any("консультант узяв" in m.text.lower() for m in api.sent_to(PERSON.id))
        assert "Mykola" not in api._messages[(DESK, card.message_id)]["text"]

        api.group_message(DESK, ADMIN, "/desk add @mykola_k")
        await api.wait_until(
            lambda: any("Added to the consultants: @mykola_k" in m.text for m in api.sent_to(DESK)),
            what="the admin's /desk add",
        )
        api.callback(
            STRANGER, f"dk:take:{ticket}", message_id=card.message_id, chat=api.chat_of(DESK)
        )
        await api.wait_until(
            lambda: "Mykola" in api._messages[(DESK, card.message_id)]["text"],
            what="the added consultant took the ticket",
        )
        api.group_message(DESK, ADMIN, "/desk remove @mykola_k")
        await api.wait_until(
            lambda: any(
                "Removed from the consultants: @mykola_k" in m.text for m in api.sent_to(DESK)
            ),
            what="the admin's /desk remove",
        )
        refusals = len([m for m in api.sent_to(DESK, thread) if REFUSAL in m.text])
        api.group_message(DESK, STRANGER, "Ще одне питання", thread_id=thread)
        await api.wait_until(
            lambda: len([m for m in api.sent_to(DESK, thread) if REFUSAL in m.text]) > refusals,
            what="refused again once removed",
        )
        assert not any("Ще одне питання" in m.text for m in api.sent_to(PERSON.id))


# -- item 3: a misconfigured desk is said out loud, and no ticket is lost --------------------


async def test_a_group_without_the_topic_right_says_so_and_loses_no_ticket(
    api: BotApiDouble, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    api.set_rights(DESK, can_manage_topics=False)
    before = REGISTRY.get_sample_value("otwarta_desk_unreachable_total", {"step": "topic"}) or 0
    async with running_bot(desk_settings(api, db_url, desk_lang="en")) as bot:
        await api.wait_until(
            lambda: any("cannot work in this group yet" in m.text for m in api.sent_to(DESK)),
            what="the group is told what is missing",
        )
        warning = next(m for m in api.sent_to(DESK) if "cannot work in this group" in m.text)
        assert "may not manage topics" in warning.text and "Topics are off" not in warning.text
        assert "lacks the Manage topics right" in caplog.text  # one clear log line
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{bot.url}/readyz") as response,
        ):
            body = await response.json()
        assert response.status == 200  # the bot still answers people
        assert body["desk"] == {
            "ready": False,
            "missing": ["the bot lacks the Manage topics right"],
        }

        api.text(PERSON, "Хочу поговорити з консультантом")
        await api.wait_until(
            lambda: any("не можу зв" in m.text.lower() for m in api.sent_to(PERSON.id)),
            what="the person is told the truth",
        )
        told = next(m for m in api.sent_to(PERSON.id) if "не можу зв" in m.text.lower())
        number = re.search(r"\(#(\d+)\)", told.text)
        assert number is not None and "Я передав" not in told.text
        assert "☎️" in told.text  # the contact points
        await api.wait_until(
            lambda: any(c.method == "createForumTopic" and c.status == 400 for c in api.calls),
            what="a topic is tried",
        )
        assert topics(api) == {}
        assert (
            REGISTRY.get_sample_value("otwarta_desk_unreachable_total", {"step": "topic"}) or 0
        ) > before  # counted

        api.set_rights(DESK, can_manage_topics=True)  # an admin fixes the group
        thread = await wait_for_topic(api)  # retried: the ticket reaches the desk after all
        assert topics(api)[thread].startswith(f"#{number.group(1)} ")
