"""Subscriptions (issue 16): "Tell me when this changes", ``/subscribe``, ``/unsubscribe``.

Opt-in only: nothing is subscribed unless the person presses a button for it. A person can
follow an entry (the button after an answer on a legal or deadline topic), a topic, or the
important changes for their situation (their ``audience``). Every announcement ends with the
one-tap ``us:all``; ``/unsubscribe`` lists what they follow, one button each; ``/forget``
deletes subscriptions with everything else. (Viber: the same buttons, and the plain words
its adapter maps to these commands.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import ids
from handlers.ids import StaleButton
from handlers.model import Button
from handlers.ui import lang_of, menu_button

if TYPE_CHECKING:
    from handlers.context import TurnContext

#: Button-id kinds → the store's kinds (:mod:`bot.db.subscriptions`).
KINDS = {ids.SUB_ENTRY: "entry", ids.SUB_TOPIC: "topic", ids.SUB_SITUATION: "situation"}
_ID_KINDS = {kind: code for code, kind in KINDS.items()}


def subscribe_button(ctx: TurnContext, entry_id: str) -> Button:
    """The button under an answer: follow this entry."""
    return Button(
        ctx.t.gettext("🔔 Tell me when this changes"), ids.subscribe(ids.SUB_ENTRY, entry_id)
    )


def updates_button(ctx: TurnContext) -> Button:
    """The main menu's way in."""
    return Button(ctx.t.gettext("🔔 Updates on rule changes"), ids.subscribe())


def describe(ctx: TurnContext, kind: str, target: str) -> str | None:
    """What a subscription is about, in the person's language (``None``: no longer exists)."""
    lang = lang_of(ctx)
    if kind == "entry":
        entry = ctx.kb.entries.get(target)
        return None if entry is None else f"«{entry.title.get(lang)}»"
    if kind == "topic":
        topic = ctx.kb.topic(target)
        return None if topic is None else f"{topic.emoji} {topic.title.get(lang)}".strip()
    if kind == "situation":
        return ctx.t.gettext("important changes for my situation")
    return None


async def on_subscribe_command(ctx: TurnContext) -> None:
    """``/subscribe`` and the menu's "Updates" button (``sb``): what one can follow."""
    await _show_options(ctx)


async def _show_options(ctx: TurnContext, intro: str | None = None) -> None:
    _ = ctx.t.gettext
    current = await ctx.store.subscriptions(ctx.user)
    parts = [
        intro
        or _(
            "🔔 I can tell you when the rules change — only about what you choose, and only "
            "if you want. What should I tell you about?"
        )
    ]
    names = [name for kind, target in current if (name := describe(ctx, kind, target))]
    if names:
        parts.append(_("You follow now:") + "\n" + "\n".join(f"- {name}" for name in names))
    rows: list[list[Button]] = []
    if ("situation", "") not in current:
        rows.append(
            [Button(_("⭐ Important changes for my situation"), ids.subscribe(ids.SUB_SITUATION))]
        )
    lang = lang_of(ctx)
    topics = [
        Button(f"🔔 {t.emoji} {t.title.get(lang)}".strip(), ids.subscribe(ids.SUB_TOPIC, t.id))
        for t in ctx.kb.menu.topics
        if ("topic", t.id) not in current
    ]
    rows.extend(topics[i : i + 2] for i in range(0, len(topics), 2))
    if current:
        rows.append([Button(_("🔕 Stop all updates"), ids.unsubscribe())])
    rows.append([menu_button(ctx)])
    ctx.reply("\n\n".join(parts), rows, kind="subscriptions")


async def on_subscribe_button(ctx: TurnContext, args: list[str]) -> None:
    """``sb`` (the options), ``sb:me``, ``sb:e:<entry>``, ``sb:t:<topic>``."""
    if not args:
        await _show_options(ctx)
        return
    kind, target = _parse(ctx, args)
    name = describe(ctx, kind, target)
    if name is None:
        raise StaleButton(":".join(args))
    _ = ctx.t.gettext
    added = await ctx.store.subscribe(ctx.user, kind, target)
    if added:
        text = _("✅ Done: I'll tell you when there is news about {what}.").format(what=name)
    else:
        text = _("You already follow {what}.").format(what=name)
    lines = [text]
    if kind == "situation" and ctx.user.audience is None:
        lines.append(
            _(
                "You haven't told me your situation, so you'll get the changes that matter "
                "to everyone."
            )
        )
    lines.append(_("To stop: /unsubscribe, or the button under any update."))
    ctx.reply(
        "\n\n".join(lines),
        [[Button(_("🔔 More updates"), ids.subscribe())], [menu_button(ctx)]],
        kind="subscribed",
    )


async def on_unsubscribe_command(ctx: TurnContext) -> None:
    """``/unsubscribe``: what they follow, a button each, and "stop all"."""
    _ = ctx.t.gettext
    current = await ctx.store.subscriptions(ctx.user)
    if not current:
        ctx.reply(
            _("You don't follow any updates."),
            [[Button(_("🔔 Updates on rule changes"), ids.subscribe())], [menu_button(ctx)]],
            kind="unsubscribed",
        )
        return
    rows: list[list[Button]] = []
    for kind, target in current:
        name = describe(ctx, kind, target)
        if name is not None:
            rows.append([Button(f"🔕 {name}", ids.unsubscribe(_ID_KINDS[kind], target or None))])
    rows.append([Button(_("🔕 Stop all updates"), ids.unsubscribe())])
    rows.append([menu_button(ctx)])
    ctx.reply(_("Which updates should I stop?"), rows, kind="unsubscribe")


async def on_unsubscribe_button(ctx: TurnContext, args: list[str]) -> None:
    """``us:all`` (one tap, under every announcement), ``us:me``, ``us:e:…``, ``us:t:…``."""
    _ = ctx.t.gettext
    if args == [ids.ALL]:
        await ctx.store.unsubscribe_all(ctx.user)
        ctx.reply(
            _("Done: I won't send you any more updates. /subscribe starts them again."),
            [[menu_button(ctx)]],
            kind="unsubscribed",
        )
        return
    kind, target = _parse(ctx, args)
    await ctx.store.unsubscribe(ctx.user, kind, target)
    name = describe(ctx, kind, target) or target
    ctx.reply(
        _("Done: no more updates about {what}.").format(what=name),
        [[menu_button(ctx)]],
        kind="unsubscribed",
    )


def _parse(ctx: TurnContext, args: list[str]) -> tuple[str, str]:
    code = args[0]
    if code == ids.SUB_SITUATION and len(args) == 1:
        return "situation", ""
    if code in (ids.SUB_ENTRY, ids.SUB_TOPIC) and len(args) == 2:
        return KINDS[code], ids.slug(args[1])
    raise StaleButton(":".join(args))
