"""The conversation's entry point: one incoming event -> the handler that owns it.

The engine calls :func:`handle` once per event inside the turn's database transaction, then
saves ``ctx.user`` and sends ``ctx.replies``. Routing is by event kind, then by command name
or by the button id's prefix (:mod:`handlers.ids`). Every event gets at least one reply;
UNSUBSCRIBED gets none (the engine marks the person inactive before we are called).

Language: replies use ``ctx.t`` -- the person's language, or until they have one, the
platform's language when it is one of ours (a guess that is *not* stored: only /start, the
language buttons and the person's own words set ``user.lang``, so a Ukrainian whose phone is
in Russian is answered in Ukrainian as soon as they write in it).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from handlers import (
    feedback,
    handoff,
    help,
    ids,
    media,
    menu,
    privacy,
    questions,
    start,
    subscriptions,
)
from handlers.context import TurnContext
from handlers.ids import StaleButton
from handlers.model import EventKind
from handlers.ui import reply_stale_button

log = logging.getLogger(__name__)

Handler = Callable[[TurnContext], Awaitable[None]]
ButtonHandler = Callable[[TurnContext, list[str]], Awaitable[None]]

COMMANDS: dict[str, Handler] = {
    "start": start.on_start,
    "menu": menu.on_menu,
    "help": help.on_help,
    "language": start.on_language_command,
    "privacy": privacy.on_privacy,
    "forget": privacy.on_forget_command,
    "consultant": handoff.on_command,
    "subscribe": subscriptions.on_subscribe_command,
    "unsubscribe": subscriptions.on_unsubscribe_command,
}

BUTTONS: dict[str, ButtonHandler] = {
    ids.LANG: start.on_language_button,
    ids.AUDIENCE: start.on_audience_button,
    ids.MENU: menu.on_menu,
    ids.TOPIC: menu.on_topic_button,
    ids.ENTRY: menu.on_entry_button,
    ids.FEEDBACK: feedback.on_feedback_button,
    ids.NONE_OF_THESE: questions.on_none_of_these,
    ids.HANDOFF: handoff.on_button,
    ids.PRIVACY: privacy.on_privacy,
    ids.FORGET: privacy.on_forget_button,
    ids.SUBSCRIBE: subscriptions.on_subscribe_button,
    ids.UNSUBSCRIBE: subscriptions.on_unsubscribe_button,
}


async def handle(ctx: TurnContext) -> None:
    """Run the handler for ``ctx.event``."""
    event = ctx.event
    match event.kind:
        case EventKind.UNSUBSCRIBED:
            return
        case EventKind.STARTED:
            await start.on_start(ctx)
        case EventKind.TEXT:
            await questions.on_text(ctx)
        case EventKind.COMMAND:
            command = COMMANDS.get((event.command or "").lower(), help.on_unknown_command)
            await command(ctx)
        case EventKind.BUTTON:
            await _on_button(ctx)
        case EventKind.MEDIA:
            await media.on_media(ctx)
        case _:  # a kind added to the model but not here yet: still answer
            log.warning("no handler for %s events", event.kind)
            await media.on_media(ctx)


async def _on_button(ctx: TurnContext) -> None:
    prefix, args = ids.parse(ctx.event.payload)
    handler = BUTTONS.get(prefix)
    try:
        if handler is None:
            raise StaleButton(prefix)
        await handler(ctx, args)
    except StaleButton:
        del ctx.replies[:]  # a handler that gave up part-way must not leave half an answer
        reply_stale_button(ctx)
