"""The consultants' side: messages, commands and card buttons in the desk group.

Only events from the desk group (``CONSULTANT_CHAT_ID``) come here, so only its members act
as consultants; Telegram delivers a group's messages only from its members. In a ticket's
topic a plain message (text, photo, document…) goes to the person, on whatever messenger
they use; a message starting with ``!`` stays an internal note. Commands: ``/take``,
``/transfer``, ``/close`` (``/close noreply``), ``/faq <id>`` in a ticket's topic;
``/langs uk ru``, ``/queue`` and ``/help`` anywhere in the group. Anything else is ignored:
the group is where consultants talk to each other too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from faq.languages import LANGS
from handlers import ids
from handlers.desk import billing
from handlers.desk.card import (
    CLOSE,
    TAKE,
    TRANSFER,
    TRANSFER_TO,
    transfer_buttons,
)
from handlers.desk.common import desk_t, to_general, to_ticket
from handlers.desk.model import BUTTON_PREFIX, CloseReason, Consultant, Ticket
from handlers.desk.person import rating_buttons
from handlers.ids import StaleButton
from handlers.model import EventKind, Reply

if TYPE_CHECKING:
    from handlers.context import Translator, TurnContext
    from handlers.desk import ConsultantDesk
    from handlers.desk.model import DeskStore

NOTE_MARK = "!"
NO_REPLY_WORDS = frozenset({"noreply", "no_reply", "no-reply", "nr"})


async def on_event(desk: ConsultantDesk, ctx: TurnContext) -> None:
    event = ctx.event
    if event.sender.is_bot or event.kind not in (
        EventKind.TEXT,
        EventKind.MEDIA,
        EventKind.COMMAND,
        EventKind.BUTTON,
    ):
        return
    try:
        telegram_id = int(event.sender.user_id)
    except ValueError:
        return
    store = desk.store(ctx)
    me = await store.consultant(telegram_id, event.sender.display_name)
    if event.kind is EventKind.BUTTON:
        await _on_button(desk, ctx, store, me)
        return
    thread = event.address.thread_id
    ticket = await store.ticket_in_thread(thread) if thread is not None else None
    confirmed, ctx.event = billing.confirmation(event)  # "/send …": a billed message, confirmed
    if ctx.event.kind is EventKind.COMMAND:
        await _on_command(desk, ctx, store, me, ticket)
    elif ticket is not None:
        await _on_message(desk, ctx, store, me, ticket, confirmed=confirmed)


# -- commands ------------------------------------------------------------------------------


async def _on_command(
    desk: ConsultantDesk,
    ctx: TurnContext,
    store: DeskStore,
    me: Consultant,
    ticket: Ticket | None,
) -> None:
    t = desk_t(desk, ctx)
    command = (ctx.event.command or "").lower()
    args = [a.strip(",;").lower() for a in ctx.event.args]
    if command == "langs":
        await _langs(ctx, store, me, args, t)
    elif command == "queue":
        await _queue(ctx, store, t)
    elif command in ("help", "start", "desk"):
        ctx.reply(desk_help(t), kind="desk")
    elif command in ("take", "close", "transfer", "faq"):
        if ticket is None:
            ctx.reply(t.gettext("Use this command in a ticket's topic."), kind="desk")
        elif command == "take":
            await take(desk, ctx, store, ticket, me)
        elif command == "close":
            reason: CloseReason = "no_reply" if set(args) & NO_REPLY_WORDS else "resolved"
            await close(desk, ctx, store, ticket, me, reason)
        elif command == "transfer":
            await _transfer_menu(desk, ctx, store, ticket)
        else:
            await _faq(desk, ctx, store, ticket, me, args)


async def _langs(
    ctx: TurnContext, store: DeskStore, me: Consultant, args: list[str], t: Translator
) -> None:
    if args:
        chosen = tuple(dict.fromkeys(a for a in args if a in LANGS))
        if not chosen or len(chosen) != len(set(args)):
            ctx.reply(
                t.gettext("Usage: /langs followed by the languages you speak: uk ru pl en"),
                kind="desk",
            )
            return
        await store.set_languages(me.id, chosen)
        languages = chosen
    else:
        languages = me.languages
    ctx.reply(
        t.gettext("🗣 {name} speaks: {langs}").format(
            name=me.display_name, langs=" ".join(languages).upper() or "—"
        ),
        kind="desk",
    )


async def _queue(ctx: TurnContext, store: DeskStore, t: Translator) -> None:
    waiting = await store.waiting_tickets()
    if not waiting:
        ctx.reply(t.gettext("Nobody is waiting."), kind="desk")
        return
    lines = [t.gettext("Waiting for a consultant:")]
    for ticket in waiting:
        minutes = int((ctx.now - ticket.opened_at).total_seconds() // 60)
        mark = "🚨 " if ticket.urgent else ""
        lines.append(
            f"- {mark}#{ticket.id} · {ticket.lang.upper()} · "
            + t.ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes)
        )
    ctx.reply("\n".join(lines), kind="desk")


def desk_help(t: Translator) -> str:
    return t.gettext(
        "**Consultant desk.** Every request has its own topic; its first message is the card.\n"
        "In a ticket's topic:\n"
        "- a plain message (text, photo, document) goes to the person\n"
        "- a message starting with ! is an internal note\n"
        "- /faq <id>: send a knowledge-base answer in the person's language\n"
        "- /take, /transfer, /close (/close noreply: the person stopped answering)\n"
        "Anywhere in the group:\n"
        "- /langs uk ru: the languages you speak (shown on new cards)\n"
        "- /queue: who is waiting"
    )


async def _faq(
    desk: ConsultantDesk,
    ctx: TurnContext,
    store: DeskStore,
    ticket: Ticket,
    me: Consultant,
    args: list[str],
) -> None:
    t = desk_t(desk, ctx)
    entry = ctx.kb.entries.get(args[0]) if args else None
    if entry is None:
        ctx.replies.append(
            to_ticket(
                desk,
                ticket.id,
                t.gettext("No such entry. Usage: /faq <id>, for example /faq pesel-ukr"),
            )
        )
        return
    if not await _can_send(desk, ctx, ticket, t):
        return
    await _claim_if_waiting(desk, ctx, store, ticket, me)
    assert ticket.person is not None
    label = consultant_label(ctx.translator_for(ticket.lang))
    ctx.replies.append(
        Reply(
            ticket.person,
            f"{label}\n{entry.answer.get(ticket.lang)}",
            meta={"kind": "desk", "desk": "faq"},
            lang=ticket.lang,
        )
    )
    await store.record(ticket.id, "out", "faq", f"/faq {entry.id}", me.id)
    ctx.replies.append(
        to_ticket(
            desk,
            ticket.id,
            t.gettext("📤 {name} sent the answer “{title}”.").format(
                name=me.display_name, title=entry.title.get(t.lang)
            ),
            silent=True,
        )
    )


# -- messages ------------------------------------------------------------------------------


async def _on_message(
    desk: ConsultantDesk,
    ctx: TurnContext,
    store: DeskStore,
    me: Consultant,
    ticket: Ticket,
    *,
    confirmed: bool = False,
) -> None:
    event = ctx.event
    t = desk_t(desk, ctx)
    if event.kind is EventKind.TEXT and event.text.lstrip().startswith(NOTE_MARK):
        await store.record(ticket.id, "note", "text", event.text.lstrip()[1:].strip(), me.id)
        return
    if not await _can_send(desk, ctx, ticket, t):
        return
    if not confirmed and billing.hold(desk, ctx, ticket):  # Viber bills late replies
        return
    await _claim_if_waiting(desk, ctx, store, ticket, me)
    assert ticket.person is not None
    label = consultant_label(ctx.translator_for(ticket.lang))
    media = event.media
    stored: str | None
    if media is None:
        text = f"{label}\n{event.text}"
        kind, stored = "text", event.text
    else:
        text = f"{label} {media.caption}" if media.caption else label
        kind, stored = media.kind.value, media.caption
    ctx.replies.append(
        Reply(ticket.person, text, media=media, meta={"kind": "desk"}, lang=ticket.lang)
    )
    await store.record(ticket.id, "out", kind, stored, me.id)


def consultant_label(t: Translator) -> str:
    """What marks a consultant's message to the person (bold, in the person's language)."""
    return "**" + t.gettext("💬 Consultant:") + "**"


async def _can_send(desk: ConsultantDesk, ctx: TurnContext, ticket: Ticket, t: Translator) -> bool:
    """An open ticket of a person who still exists; otherwise say why nothing was sent."""
    if ticket.person is not None and ticket.is_open:
        return True
    if ticket.person is None:
        text = t.gettext("ℹ️ Ticket #{number}: the person deleted their data; nothing can be sent.")
    else:
        text = t.gettext("ℹ️ Ticket #{number} is closed: your message was not sent to the person.")
    ctx.replies.append(to_general(desk, text.format(number=ticket.id)))
    return False


async def _claim_if_waiting(
    desk: ConsultantDesk, ctx: TurnContext, store: DeskStore, ticket: Ticket, me: Consultant
) -> None:
    """Answering a waiting ticket takes it (the card then says who)."""
    if ticket.state == "waiting":
        await take(desk, ctx, store, ticket, me, quiet=True)


# -- take, close, transfer -----------------------------------------------------------------


async def take(
    desk: ConsultantDesk,
    ctx: TurnContext,
    store: DeskStore,
    ticket: Ticket,
    me: Consultant,
    *,
    quiet: bool = False,
) -> bool:
    """Claim the ticket: exactly one of several consultants pressing at once wins."""
    t = desk_t(desk, ctx)
    if await store.take(ticket.id, me.id):
        ctx.replies.append(
            to_ticket(
                desk,
                ticket.id,
                t.gettext("✋ {name} took the ticket.").format(name=me.display_name),
                op="card",
                silent=True,
            )
        )
        if ticket.person is not None:
            pt = ctx.translator_for(ticket.lang)
            ctx.replies.append(
                Reply(
                    ticket.person,
                    pt.gettext("👤 A consultant has taken your question and will answer here."),
                    meta={"kind": "desk", "desk": "taken"},
                    lang=ticket.lang,
                )
            )
        return True
    if quiet:
        return False
    fresh = await store.ticket(ticket.id)
    if fresh is None or fresh.consultant_id == me.id:
        return False
    if fresh.is_open:
        text = t.gettext("{name}: ticket #{number} is already taken by {owner}.").format(
            name=me.display_name, number=fresh.id, owner=fresh.consultant_name or "?"
        )
    else:
        text = t.gettext("Ticket #{number} is already closed.").format(number=fresh.id)
    ctx.replies.append(to_ticket(desk, fresh.id, text, silent=True))
    return False


def _say_already_closed(
    desk: ConsultantDesk, ctx: TurnContext, ticket: Ticket, t: Translator
) -> None:
    """A button or command on a ticket that closed meanwhile: say so in the General topic."""
    ctx.replies.append(
        to_general(desk, t.gettext("Ticket #{number} is already closed.").format(number=ticket.id))
    )


async def close(
    desk: ConsultantDesk,
    ctx: TurnContext,
    store: DeskStore,
    ticket: Ticket,
    me: Consultant,
    reason: CloseReason = "resolved",
) -> None:
    t = desk_t(desk, ctx)
    if not await store.close(ticket.id, reason):
        _say_already_closed(desk, ctx, ticket, t)
        return
    ctx.replies.append(
        to_ticket(
            desk,
            ticket.id,
            t.gettext("✅ {name} closed the ticket.").format(name=me.display_name),
            op="close",
            silent=True,
        )
    )
    if ticket.person is None:
        return
    pt = ctx.translator_for(ticket.lang)
    ctx.replies.append(
        Reply(
            ticket.person,
            pt.gettext(
                "✅ The consultant has closed this conversation. How would you rate the help "
                "you got? (1 = poor, 5 = excellent)"
            ),
            tuple(tuple(row) for row in rating_buttons(ticket.id)),
            meta={"kind": "desk", "desk": "closed"},
            lang=ticket.lang,
        )
    )


async def _transfer_menu(
    desk: ConsultantDesk, ctx: TurnContext, store: DeskStore, ticket: Ticket
) -> None:
    t = desk_t(desk, ctx)
    if not ticket.is_open:
        _say_already_closed(desk, ctx, ticket, t)
        return
    ctx.replies.append(
        to_ticket(
            desk,
            ticket.id,
            t.gettext("🔀 Hand ticket #{number} to:").format(number=ticket.id),
            buttons=transfer_buttons(ticket, await store.consultants(), t),
            silent=True,
        )
    )


async def _transfer(
    desk: ConsultantDesk,
    ctx: TurnContext,
    store: DeskStore,
    ticket: Ticket,
    me: Consultant,
    target_id: int,
) -> None:
    t = desk_t(desk, ctx)
    target = await store.consultant_by_id(target_id) if target_id else None
    if target_id and target is None:
        raise StaleButton(str(target_id))
    if not await store.assign(ticket.id, target.id if target is not None else None):
        _say_already_closed(desk, ctx, ticket, t)
        return
    if target is None:
        text = t.gettext("↩️ {name} put the ticket back in the queue.").format(name=me.display_name)
    else:
        text = t.gettext("🔀 {name} handed the ticket to {target}.").format(
            name=me.display_name, target=target.display_name
        )
    ctx.replies.append(to_ticket(desk, ticket.id, text, op="card"))


async def _on_button(
    desk: ConsultantDesk, ctx: TurnContext, store: DeskStore, me: Consultant
) -> None:
    prefix, args = ids.parse(ctx.event.payload)
    if prefix != BUTTON_PREFIX or len(args) < 2:
        return
    try:
        verb, ticket_id = args[0], ids.number(args[1])
        ticket = await store.ticket(ticket_id)
        if ticket is None:
            return
        if verb == TAKE and len(args) == 2:
            if ticket.is_open:
                await take(desk, ctx, store, ticket, me)
        elif verb == CLOSE and len(args) == 2:
            await close(desk, ctx, store, ticket, me)
        elif verb == TRANSFER and len(args) == 2:
            await _transfer_menu(desk, ctx, store, ticket)
        elif verb == TRANSFER_TO and len(args) == 3:
            await _transfer(desk, ctx, store, ticket, me, ids.number(args[2]))
    except StaleButton:
        return  # an old or forged button in the desk: nothing to do
