"""Command menus: the ``/`` list Telegram shows, published per language with setMyCommands
(English is also the default list for everyone else)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from telegram import Bot, BotCommand, BotCommandScopeDefault
from telegram.error import TelegramError

from faq.languages import LANGS

log = logging.getLogger(__name__)

#: The languages of the command menu; the default list is English.
COMMAND_LANGUAGES = LANGS
DEFAULT_COMMAND_LANGUAGE = "en"

#: ``lang`` → (command, description) pairs, as :func:`bot.i18n.command_descriptions` gives.
CommandDescriptions = Callable[[str], Sequence[tuple[str, str]]]


def bot_commands(described: Sequence[tuple[str, str]]) -> list[BotCommand]:
    """(command, description) pairs as the Bot API's commands (a leading ``/`` dropped)."""
    return [BotCommand(command.lstrip("/"), description) for command, description in described]


async def set_commands(bot: Bot, describe: CommandDescriptions) -> None:
    """Publish the menu in every language; a refusal is logged, never fatal."""
    try:
        for lang in COMMAND_LANGUAGES:
            await bot.set_my_commands(
                bot_commands(describe(lang)), scope=BotCommandScopeDefault(), language_code=lang
            )
        default = bot_commands(describe(DEFAULT_COMMAND_LANGUAGE))
        await bot.set_my_commands(default, scope=BotCommandScopeDefault())
    except TelegramError as exc:
        log.warning("could not set the command menu: %s", exc)
