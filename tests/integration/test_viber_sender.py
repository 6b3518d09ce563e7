"""The Viber client and sender against the REST API double, alone and under the real outbox
(SQLite): status codes, 429/5xx/timeouts, people who left, old apps, split replies."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.db import Database
from bot.db.models import OutboxMessage, User
from bot.engine import IdentityTranslator
from bot.messengers.viber.client import ViberClient, ViberStatusError, ViberUnavailable
from bot.messengers.viber.protocol import parse_action_body
from bot.messengers.viber.sender import FREE_WINDOW, ViberSender
from bot.outbox import OutboxWorker, RetryPolicy
from bot.ports import (
    Delivered,
    MessageSender,
    PermanentFailure,
    RateLimit,
    RecipientGone,
    RetryLater,
)
from handlers.model import Address, Button, Platform, Reply
from tests.conftest import Clock
from tests.doubles.viber_double import FIRST_TOKEN, ViberApiDouble, ViberUser

OLENA = ViberUser("o1ena+AAAAAAAAAAAAAAAA==")
TO = Address(Platform.VIBER, OLENA.id)


@pytest.fixture
async def viber() -> AsyncIterator[ViberApiDouble]:
    async with ViberApiDouble() as double:
        double.add_user(OLENA)
        double.subscribed.add(OLENA.id)
        yield double


@pytest.fixture
async def client(viber: ViberApiDouble) -> AsyncIterator[ViberClient]:
    api = ViberClient(viber.token, viber.api_url)
    yield api
    await api.close()


class Prefixed(IdentityTranslator):
    """Marks every UI string with its language, so a test sees which one was used."""

    def gettext(self, message: str) -> str:
        return f"[{self.lang}] {message}"


def sender_for(client: ViberClient, **kwargs: Any) -> ViberSender:
    kwargs.setdefault("translator_for", Prefixed)
    kwargs.setdefault("rate_limited_after", 0.0)
    return ViberSender(client, **kwargs)


async def test_sender_is_a_message_sender(viber: ViberApiDouble, client: ViberClient) -> None:
    """What the outbox relies on, used as the outbox uses it (a Protocol ``isinstance`` checks
    only that the names exist): the platform, per-chat and global limits, and a send that
    returns what the platform answered."""
    sender: MessageSender = sender_for(client)
    assert sender.platform is Platform.VIBER
    limits = sender.limits_for(TO)
    keys = [limit.key for limit in limits]
    assert len(set(keys)) == len(keys) >= 2
    assert any(OLENA.id in key for key in keys)  # one chat's own limit...
    assert any(OLENA.id not in key for key in keys)  # ...and one every chat shares
    assert all(isinstance(limit, RateLimit) and limit.count > 0 < limit.period for limit in limits)
    delivered = await sender.send(Reply(TO, "Привіт!"))
    assert isinstance(delivered, Delivered) and delivered.message_id
    (message,) = viber.sent_to(OLENA.id)
    assert message.text == "Привіт!"


async def test_text_goes_out_with_the_token_header_and_an_exact_message_token(
    viber: ViberApiDouble, client: ViberClient
) -> None:
    delivered = await sender_for(client).send(Reply(TO, "Привіт!"))
    (call,) = viber.calls_to("send_message")
    assert call.token == viber.token
    assert call.ok
    (message,) = viber.sent_to(OLENA.id)
    assert message.text == "Привіт!"
    assert delivered.message_id == str(FIRST_TOKEN)  # a 64-bit integer, exact
    assert viber.invalid == []


async def test_keyboard_labels_follow_the_persons_language(
    viber: ViberApiDouble, client: ViberClient
) -> None:
    async def language_of(address: Address) -> str | None:
        return "pl" if address == TO else None

    sender = sender_for(client, language_of=language_of)
    await sender.send(Reply(TO, "Odpowiedź", ((Button("👍", "fb:1:1"),),)))
    labels = viber.sent_to(OLENA.id)[0].labels
    assert labels[0] == "👍"
    assert labels[1:] and all(label.startswith("[pl] ") for label in labels[1:])


async def test_a_reply_carrying_its_language_is_rendered_in_it_without_a_lookup(
    viber: ViberApiDouble, client: ViberClient
) -> None:
    async def language_of(address: Address) -> str | None:
        raise AssertionError("the reply says its language: no lookup")

    sender = sender_for(client, language_of=language_of)
    await sender.send(Reply(TO, "Ответ", lang="ru"))
    labels = viber.sent_to(OLENA.id)[0].labels
    assert labels and all(label.startswith("[ru] ") for label in labels)


async def test_not_subscribed_and_unknown_receivers_are_gone(
    viber: ViberApiDouble, client: ViberClient
) -> None:
    sender = sender_for(client)
    viber.subscribed.discard(OLENA.id)
    with pytest.raises(RecipientGone):
        await sender.send(Reply(TO, "x"))
    with pytest.raises(RecipientGone):
        await sender.send(Reply(Address(Platform.VIBER, "nobody=="), "x"))


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        ({"status": 12}, RetryLater),
        ({"http_status": 429, "retry_after": 7}, RetryLater),
        ({"http_status": 500}, RetryLater),
        ({"http_status": 503}, RetryLater),
        ({"status": 6}, RecipientGone),
        ({"status": 5}, RecipientGone),
        ({"status": 3}, PermanentFailure),
        ({"status": 1}, PermanentFailure),
        ({"status": 7}, PermanentFailure),
        ({"status": 9}, PermanentFailure),
        ({"http_status": 404}, PermanentFailure),
    ],
)
async def test_viber_answers_map_onto_delivery_errors(
    viber: ViberApiDouble, client: ViberClient, failure: dict[str, Any], expected: type
) -> None:
    viber.fail(**failure)
    with pytest.raises(expected) as caught:
        await sender_for(client).send(Reply(TO, "x"))
    if failure.get("retry_after"):
        assert isinstance(caught.value, RetryLater) and caught.value.after == 7


async def test_wrong_token_is_permanent_and_never_logged(
    viber: ViberApiDouble, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "0123456789abcdef-0123456789abcdef-0123456789abcdef"
    wrong = ViberClient(secret, viber.api_url)
    try:
        with caplog.at_level(logging.DEBUG), pytest.raises(PermanentFailure) as caught:
            await sender_for(wrong).send(Reply(TO, "x"))
    finally:
        await wrong.close()
    assert "invalidAuthToken" in str(caught.value)
    assert secret not in caplog.text and secret not in str(caught.value)
    assert "VIBER_AUTH_TOKEN" in caplog.text  # the operator is told what to check
    assert secret not in repr(wrong)


async def test_unreachable_api_is_retry_later() -> None:
    dead = ViberClient("t" * 20, "http://127.0.0.1:9/pa")  # nothing listens on port 9
    try:
        with pytest.raises(RetryLater):
            await sender_for(dead).send(Reply(TO, "x"))
        with pytest.raises(ViberUnavailable):
            await dead.get_account_info()
    finally:
        await dead.close()


async def test_old_app_gets_the_message_at_api_level_1(
    viber: ViberApiDouble, client: ViberClient
) -> None:
    old = ViberUser("old+AAAAAAAAAAAAAAAAAAA==", api_version=3)
    viber.add_user(old)
    viber.subscribed.add(old.id)
    await sender_for(client).send(
        Reply(Address(Platform.VIBER, old.id), "x", ((Button("a", "m"),),))
    )
    first, second = viber.calls_to("send_message")
    assert first.answer["status"] == 13 and second.ok
    (message,) = viber.sent_to(old.id)
    assert message.payload["min_api_version"] == 1
    assert all("Silent" not in button for button in message.buttons)


async def test_split_reply_resumes_after_the_parts_already_sent(
    viber: ViberApiDouble, client: ViberClient
) -> None:
    text = "\n\n".join(f"Абзац {i}. " + "слово " * 1100 for i in range(3))  # 3 parts
    sender = sender_for(client)
    reply = Reply(TO, text)
    parts = await sender.render(reply)
    assert len(parts) == 3
    original = viber._answer
    calls = 0

    async def fail_second(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            return 502, {}
        return await original(*args)

    viber._answer = fail_second  # type: ignore[method-assign]
    with pytest.raises(RetryLater):
        await sender.send(reply)
    assert len(viber.sent_to(OLENA.id)) == 1
    await sender.send(reply)  # the outbox's retry
    texts = viber.texts_to(OLENA.id)
    assert texts == [p["text"] for p in parts]  # each part once, in order


def test_free_window_is_24_hours() -> None:
    sender = ViberSender(ViberClient("t" * 20), translator_for=IdentityTranslator)
    now = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)
    assert sender.free_window(TO, now - dt.timedelta(hours=23, minutes=59), now)
    assert sender.free_window(TO, now - FREE_WINDOW, now)
    assert not sender.free_window(TO, now - dt.timedelta(hours=26), now)
    assert not sender.free_window(TO, None, now)


async def test_client_status_errors_say_what_happened(
    viber: ViberApiDouble, client: ViberClient
) -> None:
    viber.fail("set_webhook", status=1)
    with pytest.raises(ViberStatusError) as caught:
        await client.set_webhook("https://example.org/viber/webhook")
    assert caught.value.status == 1 and "invalidUrl" in str(caught.value)
    info = await client.get_account_info()
    assert info["name"] == "Małopolska Otwarta"


# -- under the real outbox -------------------------------------------------------------------


async def make_viber_user(db: Database, clock: Clock, user_id: str) -> int:
    async with db.transaction() as uow:
        return (await uow.people.touch("viber", user_id, clock())).id


async def enqueue(db: Database, clock: Clock, reply: Reply, user_id: int | None) -> None:
    async with db.transaction() as uow:
        await uow.outbox.enqueue([(reply, user_id)], clock())


async def outbox_rows(db: Database) -> list[OutboxMessage]:
    async with db.sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.fixture
async def sqlite_db(sqlite_url: str) -> AsyncIterator[Database]:
    database = Database.from_url(sqlite_url)
    yield database
    await database.dispose()


def fast_outbox(db: Database, sender: ViberSender) -> OutboxWorker:
    return OutboxWorker(db, [sender], retry=RetryPolicy(base=0.01, cap=0.05), poll_interval=0.05)


@pytest.mark.parametrize(
    "failure",
    [{"status": 12, "count": 3}, {"http_status": 429, "count": 3, "retry_after": 0},
     {"http_status": 500, "count": 2}],
)  # fmt: skip
async def test_outbox_retries_until_viber_takes_it(
    viber: ViberApiDouble,
    client: ViberClient,
    sqlite_db: Database,
    failure: dict[str, Any],
) -> None:
    clock = Clock(dt.datetime.now(dt.UTC))
    user_id = await make_viber_user(sqlite_db, clock, OLENA.id)
    viber.fail(**failure)
    outbox = fast_outbox(sqlite_db, sender_for(client))
    await enqueue(sqlite_db, clock, Reply(TO, "Відповідь"), user_id)
    await outbox.start()
    try:
        await viber.wait_for_sent(OLENA.id)
    finally:
        await outbox.stop()
    assert viber.texts_to(OLENA.id) == ["Відповідь"]  # once
    assert len(viber.calls_to("send_message")) == failure["count"] + 1
    (row,) = await outbox_rows(sqlite_db)
    assert (row.status, row.message_id, row.attempts) == (
        "sent",
        str(FIRST_TOKEN),
        failure["count"],
    )


async def test_not_subscribed_marks_the_person_inactive_and_drops_their_queue(
    viber: ViberApiDouble, client: ViberClient, sqlite_db: Database
) -> None:
    clock = Clock(dt.datetime.now(dt.UTC))
    user_id = await make_viber_user(sqlite_db, clock, OLENA.id)
    viber.subscribed.discard(OLENA.id)  # they left; Viber answers status 6
    for text in ("one", "two"):
        await enqueue(sqlite_db, clock, Reply(TO, text), user_id)
    outbox = fast_outbox(sqlite_db, sender_for(client))
    await outbox.start()
    try:
        await viber.wait_until(lambda: len(viber.calls_to("send_message")) >= 1)
        await outbox.drain(timeout=5)
    finally:
        await outbox.stop()
    assert [call.answer["status"] for call in viber.calls_to("send_message")] == [6]
    assert [row.status for row in await outbox_rows(sqlite_db)] == ["failed", "failed"]
    async with sqlite_db.sessions() as session:
        user = await session.get(User, user_id)
    assert user is not None and user.active is False


async def test_sends_are_concurrent_across_people(
    viber: ViberApiDouble, client: ViberClient, sqlite_db: Database
) -> None:
    clock = Clock(dt.datetime.now(dt.UTC))
    people = [ViberUser(f"p{i:02d}+AAAAAAAAAAAAAAAAAA==") for i in range(10)]
    for person in people:
        viber.add_user(person)
        viber.subscribed.add(person.id)
        uid = await make_viber_user(sqlite_db, clock, person.id)
        await enqueue(sqlite_db, clock, Reply(Address(Platform.VIBER, person.id), "hi"), uid)
    outbox = fast_outbox(sqlite_db, sender_for(client))
    await outbox.start()
    try:
        await viber.wait_until(lambda: len(viber.sent) == len(people))
    finally:
        await outbox.stop()
    assert sorted(m.receiver for m in viber.sent) == sorted(p.id for p in people)
    bodies = [parse_action_body(b["ActionBody"]) for b in viber.sent[0].buttons]
    assert ("command", "menu") in bodies
