"""``otwarta chat``: the conversation in the terminal, exactly as a messenger user has it.

No token and no network: the console is one more platform (:attr:`Platform.CONSOLE`). What
the person types becomes an :class:`~handlers.model.IncomingEvent` for the real
:class:`~bot.engine.Engine`; replies go through the real outbox to a :class:`ConsoleSender`,
which prints them as plain text with the buttons numbered. Typing a number presses that
button; ``/command`` sends a command; Ctrl-D, Ctrl-C or ``/quit`` leaves.

It runs on the embedded SQLite database (migrated first), so it works on a fresh clone with
no ``.env``, and the bot remembers you between runs, as it would on Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import locale
import os
import queue
import signal
import sys
import threading
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, TextIO

from bot.db.engine import is_sqlite
from bot.i18n import translator_for as catalogs
from bot.markup import render_plain
from bot.ports import Delivered, RateLimit
from bot.settings import DATA_DIR
from handlers.model import Address, Button, EventKind, IncomingEvent, Platform, Reply, Sender

if TYPE_CHECKING:
    from bot.engine import Core, Handler
    from bot.settings import Settings
    from faq.matcher import Matcher
    from handlers.context import Translator, TranslatorFactory

#: Where ``otwarta chat`` keeps its conversation when ``DATABASE_URL`` is not a SQLite file.
CONSOLE_DATABASE_URL = f"sqlite+aiosqlite:///{DATA_DIR / 'otwarta.sqlite3'}"
CHAT_ID = "local"
QUIT_COMMANDS = frozenset({"/quit", "/exit", "/q"})
#: How long to wait for the bot's replies to one message before prompting again.
REPLY_TIMEOUT = 30.0
#: A number this short typed alone presses a button (or is told there is no such button).
MAX_BUTTON_DIGITS = 2

BANNER = (
    "Małopolska Otwarta — terminal chat. Type a question, a number to press a button, "
    "or a /command (/menu, /help, /language, /forget). Ctrl-D or /quit to leave."
)


class ConsoleSender:
    """The console's :class:`~bot.ports.MessageSender`: prints each reply as plain text.

    Buttons are numbered from 1 across all the replies to one message, so every number on
    screen means one thing; the person presses one by typing its number.
    """

    platform = Platform.CONSOLE

    def __init__(self, output: TextIO) -> None:
        self.output = output
        self.buttons: list[Button] = []
        self._fresh = True
        self._sent = 0

    def limits_for(self, address: Address) -> tuple[RateLimit, ...]:
        return ()

    def new_turn(self) -> None:
        """The person typed something: the next buttons printed are numbered from 1 again."""
        self._fresh = True

    async def send(self, reply: Reply) -> Delivered:
        lines: list[str] = []
        if reply.media is not None:
            lines.append(f"[{reply.media.kind.value}: {reply.media.file_name or reply.media.ref}]")
        if reply.text:
            lines.append(render_plain(reply.text))
        pressable = [b for row in reply.buttons for b in row if b.url is None and b.id]
        if pressable and self._fresh:
            self.buttons = []
            self._fresh = False
        for row in reply.buttons:
            cells = []
            for button in row:
                if button.url is not None:
                    cells.append(f"{button.label}: {button.url}")
                elif button.id:
                    self.buttons.append(button)
                    cells.append(f"[{len(self.buttons)}] {button.label}")
            if cells:
                lines.append("   ".join(cells))
        self.output.write("\n".join(lines) + "\n\n")
        self.output.flush()
        self._sent += 1
        return Delivered(message_id=str(self._sent))

    def note_for(self, line: str, t: Translator) -> str | None:
        """A note instead of an event: a one- or two-digit number names a button, and there is
        no such button on screen (longer numbers, "112" or "800", are questions)."""
        text = line.strip()
        if not (text.isdigit() and len(text) <= MAX_BUTTON_DIGITS):
            return None
        count = len(self.buttons)
        if 1 <= int(text) <= count:
            return None
        if not count:
            return t.gettext("There are no buttons to press here: type your question in words.")
        return t.gettext(
            "There is no button {number} here: type a number from 1 to {count}, "
            "or your question in words."
        ).format(number=text, count=count)

    def event_for(self, line: str, key: str, language_code: str | None) -> IncomingEvent | None:
        """What the typed ``line`` means: a button press, a command, or text (``None``:
        nothing to send)."""
        text = line.strip()
        if not text:
            return None
        address = Address(Platform.CONSOLE, CHAT_ID)
        sender = Sender(user_id=CHAT_ID, language_code=language_code, display_name="console")
        if text.isdigit() and 1 <= int(text) <= len(self.buttons):
            button = self.buttons[int(text) - 1]
            return IncomingEvent(
                address, EventKind.BUTTON, key, sender, text=button.label, payload=button.id
            )
        if text.startswith("/") and len(text) > 1:
            name, *args = text[1:].split()
            return IncomingEvent(
                address,
                EventKind.COMMAND,
                key,
                sender,
                text=text,
                command=name.split("@", 1)[0].lower(),
                args=tuple(args),
            )
        return IncomingEvent(address, EventKind.TEXT, key, sender, text=text)


def terminal_language() -> str | None:
    """The terminal's language ("uk_UA.UTF-8" → "uk"), like a phone's for Telegram."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            return value.split(".", 1)[0] or None
    with contextlib.suppress(ValueError):
        return locale.getlocale()[0]
    return None


async def run_console(
    settings: Settings,
    *,
    input: TextIO | None = None,
    output: TextIO | None = None,
    database_url: str | None = None,
    language_code: str | None = None,
    handler: Handler | None = None,
    matcher: Matcher | None = None,
    translator_for: TranslatorFactory = catalogs,
) -> None:
    """Chat in the terminal until end of input, Ctrl-C or ``/quit``.

    ``input``/``output`` default to the terminal; tests pass streams. ``language_code``
    defaults to the terminal's (``None`` there means the bot asks).
    """
    from bot.engine import open_core
    from bot.i18n import normalize_language

    out = output if output is not None else sys.stdout
    url = database_url or (
        settings.database_url if is_sqlite(settings.database_url) else CONSOLE_DATABASE_URL
    )
    if input is None and language_code is None:
        language_code = terminal_language()
    sender = ConsoleSender(out)
    # The console's own notes speak the terminal's language (the bot's replies, the person's).
    t = translator_for(normalize_language(language_code) or "en")
    run_id = uuid.uuid4().hex[:12]
    async with (
        open_core(
            url,
            [sender],
            handler=handler,
            matcher=matcher,
            translator_for=translator_for,
            content_dir=settings.content_dir,
            migrate=True,
            context_minutes=settings.context_minutes,
        ) as core,
        _lines(input) as lines,
    ):
        out.write(BANNER + "\n\n")
        out.flush()
        counter = 0

        async def say(line: str) -> None:
            nonlocal counter
            counter += 1
            note = sender.note_for(line, t)
            if note is not None:
                out.write(note + "\n\n")
                out.flush()
                return
            event = sender.event_for(line, f"{run_id}:{counter}", language_code)
            if event is None:
                return
            sender.new_turn()
            await core.engine.process(event)
            await core.outbox.drain(timeout=REPLY_TIMEOUT)

        if not await _known(core):
            await say("/start")
        while True:
            line = await lines.next()
            if line is None or line.strip().lower() in QUIT_COMMANDS:
                break
            await say(line)
        out.write("\n")
        out.flush()


async def _known(core: Core) -> bool:
    async with core.db.read() as uow:
        found = await uow.people.find(Platform.CONSOLE.value, CHAT_ID)
    return found is not None


class _LineReader:
    """Lines typed, read by a daemon thread one at a time on request (so the prompt comes
    after the bot's replies), with line editing on a terminal. A blocked terminal read never
    keeps the process from exiting. ``None`` means the input ended (Ctrl-D, or Ctrl-C)."""

    def __init__(self, stream: TextIO | None, prompt: str) -> None:
        self.stream = stream
        self.prompt = prompt
        self._requests: queue.Queue[bool] = queue.Queue()
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._ended = False

    def start(self) -> None:
        threading.Thread(target=self._read, name="console-input", daemon=True).start()

    async def next(self) -> str | None:
        if self._ended:
            return None
        self._requests.put(True)
        line = await self._lines.get()
        if line is None:
            self._ended = True
        return line

    def end(self) -> None:
        """Ctrl-C: behave as if the input ended."""
        self._lines.put_nowait(None)

    def stop(self) -> None:
        """Let the reading thread finish (unless it is blocked in a terminal read)."""
        self._requests.put(False)

    def _put(self, line: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            self._loop.call_soon_threadsafe(self._lines.put_nowait, line)

    def _read(self) -> None:
        try:
            while self._requests.get():
                line = self._read_line()
                if line is None:
                    break
                self._put(line)
        finally:
            self._put(None)

    def _read_line(self) -> str | None:
        if self.stream is not None:
            line = self.stream.readline()
            return line.rstrip("\r\n") if line else None
        try:
            return input(self.prompt)
        except (EOFError, OSError, ValueError):
            return None


@contextlib.asynccontextmanager
async def _lines(stream: TextIO | None) -> AsyncIterator[_LineReader]:
    reader = _LineReader(stream, prompt="> ")
    reader.start()
    handles_sigint = False
    if stream is None and threading.current_thread() is threading.main_thread():
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401 - gives input() line editing and history
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, reader.end)
            handles_sigint = True
    try:
        yield reader
    finally:
        reader.stop()
        if handles_sigint:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)
