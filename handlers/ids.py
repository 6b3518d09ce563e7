"""Button ids: short, opaque, ASCII, at most 64 bytes (Telegram's ``callback_data`` limit).

An id is a prefix naming the handler, then ``:``-separated arguments. Ids never carry FAQ
text, only entry/topic ids (kebab-case, at most 40 characters) and numbers. Every id that comes
back is untrusted (old messages, forged requests): :func:`parse` never raises, and handlers
raise :class:`StaleButton` for anything they cannot act on.

=============================  ==================================================
``lang:<uk|ru|pl|en>``         choose the language
``aud:<audience|skip>``        the optional "your situation" question
``m``                          the main menu
``t:<topic>``                  a topic's entries
``e:<entry>[:<query id>]``     an entry's answer (with the question it answers, if any)
``fb:<query id>:<1|0>``        👍 / 👎 on an answer
``n:<query id>``               "none of these" after a clarification
``h:<reason>[:<ref>]``         talk to a consultant (see :mod:`handlers.handoff`)
``priv``                       the full privacy notice
``fg:<yes|no>``                /forget confirmation
``sb[:e:<entry>|:t:<topic>|:me]``  subscribe (bare: the subscriptions menu)
``us:<all|e:<entry>|t:<topic>|me>``  unsubscribe (``all``: the announcements' one tap)
=============================  ==================================================
"""

from __future__ import annotations

import re

MAX_BYTES = 64

LANG = "lang"
AUDIENCE = "aud"
MENU = "m"
TOPIC = "t"
ENTRY = "e"
FEEDBACK = "fb"
NONE_OF_THESE = "n"
HANDOFF = "h"
PRIVACY = "priv"
FORGET = "fg"
SUBSCRIBE = "sb"
UNSUBSCRIBE = "us"

#: Subscription kinds in button ids (and in :mod:`bot.db.subscriptions`).
SUB_ENTRY = "e"
SUB_TOPIC = "t"
SUB_SITUATION = "me"
ALL = "all"

SKIP = "skip"
YES = "yes"
NO = "no"

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_NUMBER = re.compile(r"^[0-9]{1,18}$")


class StaleButton(Exception):
    """A button id that is unknown, malformed or no longer valid (answered politely)."""


def make(prefix: str, *args: str | int) -> str:
    """Build an id; a programming error (not user input) if it breaks the 64-byte rule."""
    button_id = ":".join([prefix, *(str(a) for a in args)])
    if len(button_id.encode("utf-8")) > MAX_BYTES or not button_id.isascii():
        raise ValueError(f"button id too long or not ASCII: {button_id!r}")
    return button_id


def parse(payload: str | None) -> tuple[str, list[str]]:
    """``"e:pesel-ukr:12"`` -> ``("e", ["pesel-ukr", "12"])``; garbage -> ``("", [])``."""
    if not payload or len(payload.encode("utf-8", "replace")) > MAX_BYTES:
        return "", []
    prefix, *args = payload.split(":")
    return prefix, args


def slug(value: str) -> str:
    """An entry/topic/audience id argument, or :class:`StaleButton`."""
    if not _SLUG.match(value):
        raise StaleButton(value)
    return value


def number(value: str) -> int:
    """A query id argument, or :class:`StaleButton`."""
    if not _NUMBER.match(value):
        raise StaleButton(value)
    return int(value)


def language(code: str) -> str:
    return make(LANG, code)


def audience(value: str) -> str:
    return make(AUDIENCE, value)


def menu() -> str:
    return MENU


def topic(topic_id: str) -> str:
    return make(TOPIC, topic_id)


def entry(entry_id: str, query_id: int | None = None) -> str:
    return make(ENTRY, entry_id) if query_id is None else make(ENTRY, entry_id, query_id)


def feedback(query_id: int, helpful: bool) -> str:
    return make(FEEDBACK, query_id, 1 if helpful else 0)


def none_of_these(query_id: int) -> str:
    return make(NONE_OF_THESE, query_id)


def handoff(reason_code: str, ref: str | int | None = None) -> str:
    return make(HANDOFF, reason_code) if ref is None else make(HANDOFF, reason_code, ref)


def privacy() -> str:
    return PRIVACY


def forget(confirm: bool) -> str:
    return make(FORGET, YES if confirm else NO)


def subscribe(kind: str | None = None, target: str | None = None) -> str:
    """``sb`` (the menu), ``sb:me``, ``sb:e:<entry>``, ``sb:t:<topic>``."""
    if kind is None:
        return SUBSCRIBE
    return make(SUBSCRIBE, kind) if target is None else make(SUBSCRIBE, kind, target)


def unsubscribe(kind: str = ALL, target: str | None = None) -> str:
    """``us:all`` (every subscription, one tap), ``us:me``, ``us:e:<entry>``, ``us:t:<topic>``."""
    return make(UNSUBSCRIBE, kind) if target is None else make(UNSUBSCRIBE, kind, target)
