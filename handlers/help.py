"""``/help`` and unknown commands: what the bot does and the commands it knows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.i18n import command_descriptions
from handlers.ui import lang_of, menu_button

if TYPE_CHECKING:
    from handlers.context import TurnContext


def help_text(ctx: TurnContext) -> str:
    _ = ctx.t.gettext
    commands = "\n".join(
        f"/{command} — {description}" for command, description in command_descriptions(lang_of(ctx))
    )
    return "\n\n".join(
        (
            _(
                "I answer questions about living in Małopolska: legal stay, PESEL, work, "
                "health care, school, benefits, housing and documents."
            ),
            _(
                "Type your question in your own words, in Ukrainian, Russian, Polish or English, "
                "or pick a topic from the menu. My answers are information, not legal advice."
            ),
            commands,
        )
    )


async def on_help(ctx: TurnContext) -> None:
    ctx.reply(help_text(ctx), [[menu_button(ctx)]], kind="help")


async def on_unknown_command(ctx: TurnContext) -> None:
    _ = ctx.t.gettext
    ctx.reply(
        _("I don't know this command.") + "\n\n" + help_text(ctx), [[menu_button(ctx)]], kind="help"
    )
