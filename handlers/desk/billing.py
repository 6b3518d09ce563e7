"""Replies that the person's messenger would bill: held until the consultant confirms.

Some messengers charge for a message sent long after the person's last one (Viber: more than
24 hours). The messenger's sender says so (:class:`bot.ports.ReplyWindow`); the desk gets that
question as :attr:`handlers.desk.DeskConfig.free_window` and asks it before relaying a
consultant's message — no ``if platform == …`` here.

A held message is not sent; the topic gets a warning saying how long ago the person last wrote.
The consultant confirms by sending it again starting with ``/send`` (a photo or a file: a
caption starting with ``/send``); ``/send`` is taken off before the message goes out.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

from bot.i18n import N_
from handlers.desk.common import desk_t, to_ticket
from handlers.model import EventKind, IncomingEvent

if TYPE_CHECKING:
    from handlers.context import TurnContext
    from handlers.desk.config import DeskConfig
    from handlers.desk.model import DeskStore, Ticket


SEND_COMMAND = "send"
_SEND = re.compile(r"^/send(?:@\w+)?(?=\s|$)", re.IGNORECASE)

HELD = N_(
    "⏸ Not sent: the person last wrote {hours} h ago, and {platform} bills messages sent "
    "this long after the person's last one. To send it anyway, send it again starting with "
    "/send (a photo or a file: a caption starting with /send)."
)
HELD_NEVER = N_(
    "⏸ Not sent: {platform} bills this message (the person has not written yet). To send it "
    "anyway, send it again starting with /send."
)


def confirmation(event: IncomingEvent) -> tuple[bool, IncomingEvent]:
    """``(True, the event without "/send")`` when a consultant confirms a billed message;
    ``(False, event)`` otherwise."""
    if event.kind is EventKind.COMMAND and (event.command or "").lower() == SEND_COMMAND:
        rest = _SEND.sub("", event.text.strip(), count=1).strip()
        plain = dataclasses.replace(event, kind=EventKind.TEXT, text=rest, command=None, args=())
        return True, plain
    media = event.media
    if event.kind is EventKind.MEDIA and media is not None and media.caption:
        caption = media.caption.strip()
        if _SEND.match(caption):
            kept = _SEND.sub("", caption, count=1).strip() or None
            return True, dataclasses.replace(event, media=dataclasses.replace(media, caption=kept))
    return False, event


async def hold(desk: DeskConfig, ctx: TurnContext, store: DeskStore, ticket: Ticket) -> bool:
    """``True`` (and a warning in the ticket's topic) when a message to the person now would be
    billed; ``False`` when it may go."""
    check = desk.free_window
    person = ticket.person
    if check is None or person is None:
        return False
    last = ticket.last_person_at
    if check(person, last, ctx.now):
        return False
    t = desk_t(desk, ctx)
    platform = ticket.platform.capitalize()
    if last is None:
        text = t.gettext(HELD_NEVER).format(platform=platform)
    else:
        hours = int((ctx.now - last).total_seconds() // 3600)
        text = t.gettext(HELD).format(hours=hours, platform=platform)
    await to_ticket(store, ticket.id, text)
    return True
