"""The menu: topics (``content/topics.yaml``) -> a topic's entries -> an answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import ids
from handlers.answers import send_answer
from handlers.ids import StaleButton
from handlers.ui import entry_button, lang_of, menu_button, show_main_menu

if TYPE_CHECKING:
    from handlers.context import TurnContext


async def on_menu(ctx: TurnContext, args: list[str] | None = None) -> None:
    """``/menu`` and the "Menu" button (a fresh start: no follow-up context)."""
    ctx.user.set_context(None)
    show_main_menu(ctx)


async def on_topic_button(ctx: TurnContext, args: list[str]) -> None:
    """``t:<topic>``: the topic's entries, one button each, in the menu's order."""
    if len(args) != 1:
        raise StaleButton(":".join(args))
    topic = ctx.kb.topic(ids.slug(args[0]))
    if topic is None:
        raise StaleButton(args[0])
    entries = [ctx.kb.entries[e] for e in topic.entries if e in ctx.kb.entries]
    t = ctx.t
    header = f"{topic.emoji} **{topic.title.get(lang_of(ctx))}**".strip()
    if not entries:
        show_main_menu(ctx, header + "\n" + t.gettext("There is nothing in this topic yet."))
        return
    count = len(entries)
    text = (
        header
        + "\n"
        + t.ngettext(
            "{count} answer here. Pick one:", "{count} answers here. Pick one:", count
        ).format(count=count)
    )
    rows = [[entry_button(ctx, entry)] for entry in entries]
    rows.append([menu_button(ctx)])
    ctx.reply(text, rows, kind="topic", topic=topic.id)


async def on_entry_button(ctx: TurnContext, args: list[str]) -> None:
    """``e:<entry>[:<query id>]``: the answer (the query id comes from "Maybe one of these?")."""
    if not 1 <= len(args) <= 2:
        raise StaleButton(":".join(args))
    entry = ctx.kb.entries.get(ids.slug(args[0]))
    if entry is None:
        raise StaleButton(args[0])
    query_id = ids.number(args[1]) if len(args) == 2 else None
    send_answer(ctx, entry, query_id)
