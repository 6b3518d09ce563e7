"""Small pieces both sides of the desk use: replies to the desk, times in words."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

from babel import Locale
from babel.dates import format_skeleton, format_time

from handlers.desk.model import META_OP, META_TICKET, DeskOp
from handlers.model import Button, Media, Reply

if TYPE_CHECKING:
    from handlers.context import Translator, TurnContext
    from handlers.desk import ConsultantDesk


def to_ticket(
    desk: ConsultantDesk,
    ticket_id: int,
    text: str = "",
    *,
    op: DeskOp = "post",
    media: Media | None = None,
    buttons: tuple[tuple[Button, ...], ...] = (),
    silent: bool = False,
) -> Reply:
    """A message into a ticket's topic (the desk sender finds or makes the topic)."""
    return Reply(
        desk.config.address,
        text,
        buttons,
        media,
        silent,
        meta={META_TICKET: str(ticket_id), META_OP: op, "kind": "desk"},
    )


def to_general(desk: ConsultantDesk, text: str, *, silent: bool = False) -> Reply:
    """A message in the desk group's General topic (reminders, ratings, erasures)."""
    return Reply(desk.config.address, text, silent=silent, meta={"kind": "desk"})


def desk_t(desk: ConsultantDesk, ctx: TurnContext) -> Translator:
    """The desk group's language."""
    return ctx.translator_for(desk.config.desk_lang)


def wait_in_words(t: Translator, wait: dt.timedelta) -> str:
    """ "about 15 minutes" / "about 2 hours", rounded up to 5 minutes / to the hour."""
    minutes = max(5, math.ceil(wait.total_seconds() / 60 / 5) * 5)
    if minutes < 90:
        return t.ngettext("about {n} minute", "about {n} minutes", minutes).format(n=minutes)
    hours = math.ceil(minutes / 60)
    return t.ngettext("about {n} hour", "about {n} hours", hours).format(n=hours)


def _locale(t: Translator) -> Locale:
    locale = getattr(t, "locale", None)
    if isinstance(locale, Locale):
        return locale
    return Locale.parse("en_GB" if t.lang == "en" else t.lang)


def when_in_words(t: Translator, moment: dt.datetime) -> tuple[str, str]:
    """The day ("Mon, 4 May") and the time ("09:00") of a local moment, in ``t``'s language."""
    locale = _locale(t)
    return format_skeleton("MMMMEEEEd", moment, locale=locale), format_time(
        moment, "HH:mm", locale=locale
    )
