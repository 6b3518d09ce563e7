"""Pieces every handler uses: the menu, the common buttons, the "stale button" answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from faq.languages import LANGS, LANGUAGE_NAMES
from handlers import ids
from handlers.model import Button

if TYPE_CHECKING:
    from faq.content import Entry
    from handlers.context import TurnContext

Rows = list[list[Button]]


def lang_of(ctx: TurnContext) -> str:
    """The language replies are in: the person's, English until they have one."""
    return ctx.t.lang


def menu_button(ctx: TurnContext) -> Button:
    return Button(ctx.t.gettext("🏠 Menu"), ids.menu())


def entry_button(ctx: TurnContext, entry: Entry, query_id: int | None = None) -> Button:
    return Button(entry.title.get(lang_of(ctx)), ids.entry(entry.id, query_id))


def topic_rows(ctx: TurnContext, per_row: int = 2) -> Rows:
    """The main menu's topic buttons (emoji + title), ``per_row`` to a row."""
    lang = lang_of(ctx)
    buttons = [
        Button(f"{topic.emoji} {topic.title.get(lang)}".strip(), ids.topic(topic.id))
        for topic in ctx.kb.menu.topics
    ]
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def language_rows() -> Rows:
    """The four languages, each named in itself, two to a row."""
    buttons = [Button(LANGUAGE_NAMES[code], ids.language(code)) for code in LANGS]
    return [buttons[:2], buttons[2:]]


def show_main_menu(ctx: TurnContext, text: str | None = None, *, kind: str = "menu") -> None:
    """The main menu, under ``text`` (or the default invitation)."""
    _ = ctx.t.gettext
    ctx.reply(
        text
        or _("What would you like to know? Pick a topic or type your question in your own words."),
        topic_rows(ctx),
        kind=kind,
    )


def reply_stale_button(ctx: TurnContext) -> None:
    """A button we cannot act on (old message, changed content, forged id): say so, show menu."""
    _ = ctx.t.gettext
    show_main_menu(ctx, _("This button is no longer active. Here is the menu:"), kind="stale")
