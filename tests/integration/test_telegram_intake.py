"""The Telegram intake on its own (real PTB, the double, a recording EventSink in place of the
engine): chats run concurrently and each chat in order; polling confirms an update only after
it was processed; failed updates come back; the command menu is published in four languages.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from bot.messengers.telegram import TelegramAdapter
from handlers.model import IncomingEvent
from tests.doubles.telegram_double import BotApiDouble, FakeUser
from tests.doubles.telegram_harness import bot_settings


class RecordingSink:
    """An EventSink that records events, optionally running a hook first."""

    def __init__(self) -> None:
        self.events: list[IncomingEvent] = []
        self.started: list[IncomingEvent] = []
        self.hook: Callable[[IncomingEvent], Awaitable[None]] | None = None

    async def process(self, event: IncomingEvent) -> bool:
        self.started.append(event)
        if self.hook is not None:
            await self.hook(event)
        self.events.append(event)
        return True

    def texts(self, chat_id: int) -> list[str]:
        return [e.text for e in self.events if e.address.chat_id == str(chat_id)]


@pytest.fixture
async def api() -> AsyncIterator[BotApiDouble]:
    async with BotApiDouble() as double:
        yield double


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


DESK = -1001234567890


@pytest.fixture
async def adapter(api: BotApiDouble, sink: RecordingSink) -> AsyncIterator[TelegramAdapter]:
    settings = bot_settings(api, "sqlite+aiosqlite:///unused.sqlite3", consultant_chat_id=DESK)
    telegram = TelegramAdapter(
        settings,
        sink,
        command_descriptions=lambda lang: [
            ("start", f"start ({lang})"),
            ("menu", f"menu ({lang})"),
        ],
        failure_backoff=0.01,
    )
    await telegram.initialize()
    await telegram.start()
    try:
        yield telegram
    finally:
        await telegram.close()


async def test_chats_concurrent_each_chat_in_order(
    api: BotApiDouble, sink: RecordingSink, adapter: TelegramAdapter
) -> None:
    users = [FakeUser(3000 + i) for i in range(6)]
    b_started = asyncio.Event()
    in_flight: dict[str, int] = defaultdict(int)
    overlaps: list[str] = []
    rng = random.Random(7)

    async def hook(event: IncomingEvent) -> None:
        chat = event.address.chat_id
        in_flight[chat] += 1
        if in_flight[chat] > 1:
            overlaps.append(chat)
        try:
            if event.text == "0" and chat == str(users[1].id):
                b_started.set()
            if event.text == "0" and chat == str(users[0].id):
                # Chat 0 cannot finish until chat 1 has started: serial processing would hang.
                await asyncio.wait_for(b_started.wait(), 10)
            await asyncio.sleep(rng.random() * 0.005)
        finally:
            in_flight[chat] -= 1

    sink.hook = hook
    for n in range(8):
        for user in users:
            api.text(user, str(n))
    await api.wait_until(lambda: len(sink.events) == 48, what="48 events processed")
    assert overlaps == []
    for user in users:
        assert sink.texts(user.id) == [str(n) for n in range(8)]


async def test_polling_confirms_only_processed_updates(
    api: BotApiDouble, sink: RecordingSink, adapter: TelegramAdapter
) -> None:
    release = asyncio.Event()

    async def hook(event: IncomingEvent) -> None:
        await release.wait()

    sink.hook = hook
    update = api.text(FakeUser(1001), "hello")
    await api.wait_until(lambda: len(sink.started) == 1, what="update handed to the engine")
    # In processing, not yet committed: Telegram must still hold it (a crash now loses nothing).
    assert update["update_id"] in api.pending_update_ids
    assert api.confirmed_offset <= update["update_id"]
    release.set()
    await api.wait_until(lambda: api.confirmed_offset > update["update_id"], what="confirmation")
    assert update["update_id"] not in api.pending_update_ids


async def test_failed_update_is_fetched_again(
    api: BotApiDouble, sink: RecordingSink, adapter: TelegramAdapter
) -> None:
    failures = {"left": 2}

    async def hook(event: IncomingEvent) -> None:
        if event.text == "flaky" and failures["left"]:
            failures["left"] -= 1
            raise ConnectionRefusedError("database down")

    sink.hook = hook
    user = FakeUser(1001)
    api.text(user, "flaky")
    api.text(user, "after")
    await api.wait_until(lambda: "after" in sink.texts(user.id), what="both processed")
    # "after" may be handed over again with the retried batch (the engine drops duplicates),
    # but never before "flaky" succeeded.
    texts = sink.texts(user.id)
    assert texts[0] == "flaky"
    assert set(texts) == {"flaky", "after"}
    assert len([e for e in sink.started if e.text == "flaky"]) == 3


async def test_a_poison_update_is_skipped_after_a_few_attempts(
    api: BotApiDouble, sink: RecordingSink, adapter: TelegramAdapter
) -> None:
    async def hook(event: IncomingEvent) -> None:
        if event.text == "poison":
            raise ValueError("a bug, not an outage")

    sink.hook = hook
    user = FakeUser(1001)
    api.text(user, "poison")
    api.text(user, "next")
    await api.wait_until(lambda: "next" in sink.texts(user.id), within=20, what="next processed")
    assert len([e for e in sink.started if e.text == "poison"]) == 5
    await api.wait_until(lambda: not api.pending_update_ids, what="all confirmed")


async def test_callback_spinner_is_stopped(
    api: BotApiDouble, sink: RecordingSink, adapter: TelegramAdapter
) -> None:
    update = api.callback(FakeUser(1001), "m", message_id=5)
    query_id = update["callback_query"]["id"]
    await api.wait_until(lambda: query_id in api.callback_answers, what="answerCallbackQuery")
    assert [e.payload for e in sink.events] == ["m"]


async def test_command_menu_in_four_languages_and_a_default(
    api: BotApiDouble, adapter: TelegramAdapter
) -> None:
    assert set(api.commands) == {("default", lang) for lang in ("uk", "ru", "pl", "en", "")}
    assert api.commands[("default", "uk")][0] == {"command": "start", "description": "start (uk)"}
    assert api.commands[("default", "")][1] == {"command": "menu", "description": "menu (en)"}


async def test_real_command_descriptions_are_accepted(
    api: BotApiDouble, sink: RecordingSink
) -> None:
    """bot.i18n.command_descriptions passes the Bot API's rules in every language."""
    telegram = TelegramAdapter(bot_settings(api, "sqlite+aiosqlite:///unused.sqlite3"), sink)
    await telegram.initialize()
    try:
        failed = [c for c in api.calls_to("setMyCommands") if c.status != 200]
        assert failed == []
        assert len(api.commands) == 5
        assert all(api.commands[key] for key in api.commands)
    finally:
        await telegram.close()


async def test_stop_finishes_in_flight_updates_and_confirms_them(
    api: BotApiDouble, sink: RecordingSink, adapter: TelegramAdapter
) -> None:
    release = asyncio.Event()

    async def hook(event: IncomingEvent) -> None:
        await release.wait()

    sink.hook = hook
    update = api.text(FakeUser(1001), "in flight")
    await api.wait_until(lambda: len(sink.started) == 1, what="processing started")
    stopping = asyncio.create_task(adapter.stop())
    await asyncio.sleep(0)
    assert not stopping.done()
    release.set()
    await asyncio.wait_for(stopping, 10)
    assert [e.text for e in sink.events] == ["in flight"]
    assert api.confirmed_offset > update["update_id"]


async def test_desk_topic_messages_pass_other_groups_do_not(
    api: BotApiDouble, sink: RecordingSink, adapter: TelegramAdapter
) -> None:
    api.add_forum_group(DESK)
    thread = api.add_topic(DESK, "#1 Olena")
    consultant = FakeUser(2002, language_code="pl")
    api.group_message(-100777, consultant, "not for us")
    api.group_message(DESK, consultant, "dzień dobry", thread_id=thread)
    await api.wait_until(lambda: not api.pending_update_ids, what="all confirmed")
    [event] = sink.events
    assert (event.address.chat_id, event.address.thread_id) == (str(DESK), thread)
    assert event.text == "dzień dobry"
