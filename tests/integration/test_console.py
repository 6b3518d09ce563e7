"""``otwarta chat`` driven by scripted input: the real engine, outbox and SQLite database."""

from __future__ import annotations

import importlib.util
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db import Database
from bot.db.models import QueryLog, User
from bot.engine import ERROR_NOTICE, IdentityTranslator
from bot.messengers.console import ConsoleSender, run_console
from bot.settings import Settings
from handlers.context import TurnContext
from handlers.model import Button, EventKind, Platform, Reply

HAS_ROUTER = importlib.util.find_spec("handlers.router") is not None


class StubMatcher:
    kb = None


class ScriptedBot:
    """A tiny conversation: /start offers two buttons; text gets two replies with buttons."""

    def __init__(self) -> None:
        self.events: list[tuple[EventKind, str | None, str]] = []

    async def __call__(self, ctx: TurnContext) -> None:
        event = ctx.event
        self.events.append((event.kind, event.command or event.payload, event.text))
        if event.kind is EventKind.COMMAND and event.command == "start":
            ctx.reply("Choose:", [[Button("Alpha", "a"), Button("Beta", "b")]])
        elif event.kind is EventKind.BUTTON:
            ctx.reply(f"pressed {event.payload}", [[Button("Site", url="https://example.org")]])
        elif event.kind is EventKind.TEXT:
            ctx.reply("**Answer** with [a link](https://gov.pl)", [[Button("Yes", "y")]])
            ctx.reply("- more", [[Button("Menu", "m")], [Button("Help", "h")]])
        else:
            ctx.reply(f"command {event.command} {' '.join(event.args)}".strip())


async def chat(
    tmp_path: Path, script: str, bot: ScriptedBot, language_code: str | None = None
) -> str:
    output = io.StringIO()
    await run_console(
        Settings(_env_file=None),  # type: ignore[call-arg]
        input=io.StringIO(script),
        output=output,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'chat.sqlite3'}",
        language_code=language_code,
        handler=bot,
        matcher=StubMatcher(),  # type: ignore[arg-type]
        translator_for=IdentityTranslator,
    )
    return output.getvalue()


async def test_scripted_conversation(tmp_path: Path) -> None:
    bot = ScriptedBot()
    out = await chat(
        tmp_path, "2\nhow do I get PESEL?\n3\n\n/Help@otwarta now\n/quit\nnever\n", bot
    )

    assert bot.events == [
        (EventKind.COMMAND, "start", "/start"),  # a first visit starts by itself
        (EventKind.BUTTON, "b", "Beta"),
        (EventKind.TEXT, None, "how do I get PESEL?"),
        (EventKind.BUTTON, "h", "Help"),  # numbers run across the replies to one message
        (EventKind.COMMAND, "help", "/Help@otwarta now"),
    ]
    assert "Choose:\n[1] Alpha   [2] Beta\n" in out
    assert "pressed b\nSite: https://example.org\n" in out
    assert "Answer with a link: https://gov.pl\n[1] Yes\n" in out  # plain text, no markup
    assert "• more\n[2] Menu\n[3] Help\n" in out
    assert "command help now" in out
    assert "never" not in out


async def test_a_button_number_that_does_not_exist_gets_a_note(tmp_path: Path) -> None:
    bot = ScriptedBot()
    out = await chat(tmp_path, "7\n0\n2\n112\n", bot)
    assert bot.events == [
        (EventKind.COMMAND, "start", "/start"),
        (EventKind.BUTTON, "b", "Beta"),  # "7" and "0" pressed nothing, "2" did
        (EventKind.TEXT, None, "112"),  # a longer number is a question
    ]
    assert out.count("There is no button 7 here: type a number from 1 to 2, or your") == 1
    assert "There is no button 0 here" in out


async def test_a_number_with_no_buttons_on_screen_gets_a_note_in_the_terminal_language(
    tmp_path: Path,
) -> None:
    from bot.i18n import translator_for

    class Silent(ScriptedBot):
        async def __call__(self, ctx: TurnContext) -> None:
            self.events.append((ctx.event.kind, ctx.event.command, ctx.event.text))
            ctx.reply("hi")

    bot = Silent()
    output = io.StringIO()
    await run_console(
        Settings(_env_file=None),  # type: ignore[call-arg]
        input=io.StringIO("3\n"),
        output=output,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'chat.sqlite3'}",
        language_code="uk_UA",
        handler=bot,
        matcher=StubMatcher(),  # type: ignore[arg-type]
        translator_for=translator_for,
    )
    assert [e[0] for e in bot.events] == [EventKind.COMMAND]
    assert "Тут немає кнопок, які можна натиснути" in output.getvalue()


async def test_end_of_input_leaves_and_the_bot_remembers(tmp_path: Path) -> None:
    first = ScriptedBot()
    await chat(tmp_path, "hello\n", first)  # no /quit: the input just ends (Ctrl-D)
    second = ScriptedBot()
    await chat(tmp_path, "again\n", second)
    assert [e[0] for e in first.events] == [EventKind.COMMAND, EventKind.TEXT]
    assert second.events == [(EventKind.TEXT, None, "again")]  # no second /start

    db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'chat.sqlite3'}")
    try:
        async with db.sessions() as session:
            users = list(await session.scalars(select(User)))
    finally:
        await db.dispose()
    assert [(u.platform, u.external_id) for u in users] == [("console", "local")]


async def test_fresh_directory_without_settings_uses_the_embedded_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none",  # never used by chat
    )
    output = io.StringIO()
    await run_console(
        settings,
        input=io.StringIO("/quit\n"),
        output=output,
        handler=ScriptedBot(),
        matcher=StubMatcher(),  # type: ignore[arg-type]
        translator_for=IdentityTranslator,
    )
    assert (tmp_path / "data" / "otwarta.sqlite3").exists()
    assert "Choose:" in output.getvalue()


def test_console_sender_reads_commands_buttons_and_text() -> None:
    sender = ConsoleSender(io.StringIO())
    assert sender.event_for("   ", "k", None) is None
    command = sender.event_for("/Start@otwarta_bot ref 1", "k", "uk")
    assert command is not None
    assert (command.kind, command.command, command.args) == (
        EventKind.COMMAND,
        "start",
        ("ref", "1"),
    )
    assert command.sender.language_code == "uk"
    assert command.address.platform is Platform.CONSOLE
    assert sender.event_for("1", "k", None).kind is EventKind.TEXT  # type: ignore[union-attr]


class Typist(io.StringIO):
    """Input that types each line after reading the screen so far (it presses buttons by
    their label, wherever the handlers put them)."""

    def __init__(self, screen: io.StringIO, steps: list[str]) -> None:
        super().__init__()
        self.screen = screen
        self.steps = list(steps)

    def readline(self, size: int | None = -1) -> str:
        if not self.steps:
            return ""
        step = self.steps.pop(0)
        if step.startswith("press "):
            label = step.removeprefix("press ")
            found = re.findall(r"\[(\d+)\] " + re.escape(label), self.screen.getvalue())
            assert found, f"no button {label!r} on screen"
            return found[-1] + "\n"
        return step + "\n"


@pytest.mark.skipif(not HAS_ROUTER, reason="handlers.router is not written yet")
async def test_real_conversation_start_language_question_feedback(tmp_path: Path) -> None:
    """Through the real handlers, catalogs and matcher: start → Ukrainian → a question →
    👍 on the answer, which lands in the query log."""
    from bot.i18n import translator_for

    url = f"sqlite+aiosqlite:///{tmp_path / 'real.sqlite3'}"
    output = io.StringIO()
    await run_console(
        Settings(_env_file=None),  # type: ignore[call-arg]
        input=Typist(output, ["press Українська", "як отримати песель", "press 👍"]),
        output=output,
        database_url=url,
        language_code=None,  # the bot must ask
    )
    out = output.getvalue()
    assert translator_for("uk").gettext("Please choose your language:") in out
    assert "PESEL" in out
    assert "Traceback" not in out
    assert translator_for("uk").gettext(ERROR_NOTICE) not in out

    db = Database.from_url(url)
    try:
        async with db.sessions() as session:
            user = await session.scalar(select(User))
            logged = list(await session.scalars(select(QueryLog)))
    finally:
        await db.dispose()
    assert user is not None and user.lang == "uk"
    assert [(q.text_scrubbed, q.lang, q.feedback) for q in logged] == [
        ("як отримати песель", "uk", True)
    ]


async def test_replies_render_media_and_buttons(tmp_path: Path) -> None:
    from handlers.model import Address, Media, MediaKind

    out = io.StringIO()
    sender = ConsoleSender(out)
    await sender.send(
        Reply(
            Address(Platform.CONSOLE, "local"),
            "caption",
            media=Media(MediaKind.DOCUMENT, ref="r", file_name="form.pdf"),
        )
    )
    assert out.getvalue() == "[document: form.pdf]\ncaption\n\n"
