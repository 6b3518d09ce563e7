"""Small pieces both sides of the desk use: effects for the desk group, times in words."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

from babel import Locale
from babel.dates import format_skeleton, format_time

from handlers.desk.effects import DeskEffect, EffectKind
from handlers.model import Button, Media

if TYPE_CHECKING:
    from handlers.context import Translator, TurnContext
    from handlers.desk.config import DeskConfig
    from handlers.desk.model import DeskStore


async def to_ticket(
    store: DeskStore,
    ticket_id: int,
    text: str = "",
    *,
    op: EffectKind | str = EffectKind.POST,
    media: Media | None = None,
    buttons: tuple[tuple[Button, ...], ...] = (),
    silent: bool = False,
) -> None:
    """Show the group something about a ticket: in its topic (the worker finds or makes it)."""
    await store.queue(DeskEffect(EffectKind(op), ticket_id, text, media, buttons, silent))


async def to_general(
    store: DeskStore, text: str, *, silent: bool = False, thread_id: int | None = None
) -> None:
    """A message in the desk group's General topic (or ``thread_id``'s, not a ticket's)."""
    await store.queue(DeskEffect(EffectKind.GENERAL, text=text, silent=silent, thread_id=thread_id))


def desk_t(desk: DeskConfig, ctx: TurnContext) -> Translator:
    """The desk group's language."""
    return ctx.translator_for(desk.desk_lang)


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
