"""The person's side of a ticket: opening it, talking through it, cancelling, rating, erasing.

While a ticket is open, everything the person sends (text, photos, documents, voice…) goes to
the ticket's topic and nothing to the matcher; commands other than ``/cancel`` still work
(``/menu``, ``/language`` …), so nobody is trapped. After a closing, the person may rate the
conversation (1-5, then an optional comment); a message within the reopen window (other than
a plain "thank you") reopens the ticket with the same consultant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import ids
from handlers.desk.common import desk_t, to_general, to_ticket, wait_in_words, when_in_words
from handlers.desk.model import BUTTON_PREFIX, NewTicket, Origin, Ticket
from handlers.handoff_model import HandoffReason, HandoffRequest
from handlers.ids import StaleButton
from handlers.model import CAPTIONED_MEDIA, Button, EventKind, MediaKind
from handlers.ui import reply_stale_button, show_main_menu

if TYPE_CHECKING:
    from handlers.context import TurnContext
    from handlers.desk import ConsultantDesk
    from handlers.desk.model import DeskStore


RATE = "rate"
SKIP = "skip"
CANCEL = "cancel"

_ORIGINS: dict[HandoffReason, Origin] = {
    HandoffReason.REQUESTED: "request",
    HandoffReason.NO_ANSWER: "unknown",
    HandoffReason.ESCALATE: "escalate",
    HandoffReason.NOT_HELPFUL: "feedback",
    HandoffReason.URGENT: "urgent",
}


# -- opening -----------------------------------------------------------------------------


async def open_ticket(desk: ConsultantDesk, ctx: TurnContext, request: HandoffRequest) -> None:
    """Open the person's ticket (or point to the one already open) and tell them what next."""
    store = desk.store(ctx)
    _ = ctx.t.gettext
    existing = await store.open_ticket_of(ctx.user.id)
    if existing is not None:
        if request.urgent and await store.mark_urgent(existing.id):
            dt_ = desk_t(desk, ctx)
            ctx.replies.append(
                to_ticket(
                    desk,
                    existing.id,
                    dt_.gettext(
                        "🚨 The person wrote words that signal danger: ticket marked urgent."
                    ),
                    op="card",
                )
            )
            ctx.reply(
                _("🚨 I've told the consultants it's urgent. Write here: it reaches them at once."),
                kind="desk",
            )
            return
        ctx.reply(
            _(
                "You're already talking to the consultants (request #{number}). Just write here: "
                "everything you send goes to them. /cancel stops waiting."
            ).format(number=existing.id),
            kind="desk",
        )
        return

    question, candidates = request.question, request.candidates
    if request.query_id is not None and (question is None or not candidates):
        logged = await store.logged_query(ctx.user.id, request.query_id)
        if logged is not None:
            question = question or logged[0]
            candidates = candidates or logged[1]
    if request.entry_id is not None and request.entry_id in ctx.kb.entries:
        candidates = ((request.entry_id, 1.0), *(c for c in candidates if c[0] != request.entry_id))
    topic = next(
        (ctx.kb.entries[entry].topic for entry, _score in candidates if entry in ctx.kb.entries),
        None,
    )
    ticket = await store.open_ticket(
        ctx.user.id,
        NewTicket(
            origin=_ORIGINS.get(request.reason, "other"),
            lang=ctx.t.lang,
            question=question,
            candidates=tuple(candidates),
            topic=topic,
            audience=ctx.user.audience,
            urgent=request.urgent,
            person_name=ctx.event.sender.display_name if desk.config.show_names else None,
        ),
    )
    ctx.replies.append(to_ticket(desk, ticket.id, op="open"))
    await _acknowledge(desk, ctx, store, ticket)


async def _acknowledge(
    desk: ConsultantDesk, ctx: TurnContext, store: DeskStore, ticket: Ticket
) -> None:
    _ = ctx.t.gettext
    first = (
        _("🚨 I've passed your request to the consultants as urgent (request #{number}).")
        if ticket.urgent
        else _("✅ I've passed your question to a consultant (request #{number}).")
    )
    lines = [first.format(number=ticket.id)]
    hours = desk.config.hours
    if hours is not None and not hours.is_open(ctx.now):
        back = hours.next_opening(ctx.now)
        if back is not None:
            day, time = when_in_words(ctx.t, back.astimezone(desk.config.timezone))
            lines.append(
                _(
                    "The consultants are not working right now. They will be back on {day} "
                    "at {time} (Polish time); your question waits in line until then."
                ).format(day=day, time=time)
            )
        else:
            lines.append(
                _("The consultants are not working right now; your question waits in line.")
            )
    else:
        position = await store.queue_position(ticket.id)
        wait = wait_in_words(ctx.t, await store.expected_wait())
        lines.append(
            _("You are number {position} in line; the usual wait is {wait}.").format(
                position=position, wait=wait
            )
        )
    lines.append(
        _(
            "Everything you write here now goes to the consultant: you can add details or "
            "photos. Please don't send passwords or login codes."
        )
    )
    ctx.reply(
        "\n\n".join(lines),
        [[Button(_("✖️ Cancel the request"), ids.make(BUTTON_PREFIX, CANCEL, ticket.id))]],
        kind="desk",
        desk="ack",
    )


# -- every event of a person ---------------------------------------------------------------


async def intercept(desk: ConsultantDesk, ctx: TurnContext) -> bool:
    """Handle the event here (``True``) or leave it to the router (``False``)."""
    event = ctx.event
    store = desk.store(ctx)
    if event.kind is EventKind.BUTTON:
        prefix, args = ids.parse(event.payload)
        if prefix == BUTTON_PREFIX:
            await _on_button(desk, ctx, store, args)
            return True
        if prefix == ids.FORGET and args == [ids.YES]:
            await erase(desk, ctx, store)
        return False
    if event.kind is EventKind.COMMAND:
        if (event.command or "") == "cancel":
            await cancel(desk, ctx, store)
            return True
        return False
    if event.kind not in (EventKind.TEXT, EventKind.MEDIA):
        return False

    ticket = await store.open_ticket_of(ctx.user.id)
    if ticket is not None:
        await relay(desk, ctx, store, ticket)
        return True
    if event.kind is EventKind.TEXT:
        pending = await store.pending_comment(ctx.user.id, ctx.now - desk.config.comment_window)
        if pending is not None and event.text.strip():
            await store.save_comment(pending, event.text.strip())
            ctx.replies.append(
                to_general(
                    desk,
                    desk_t(desk, ctx)
                    .gettext("💬 Comment on ticket #{number}: «{comment}»")
                    .format(number=pending.ticket_id, comment=event.text.strip()[:1000]),
                    silent=True,
                )
            )
            show_main_menu(ctx, ctx.t.gettext("Thank you, your comment is saved."), kind="desk")
            return True
    last = await store.last_closed_ticket_of(ctx.user.id)
    if last is None or last.close_reason not in ("resolved", "no_reply"):
        return False
    if event.kind is EventKind.TEXT and _just_thanks(ctx):
        return False  # the router says "you're welcome"; no need to call anyone back
    if not await store.reopen(last.id, desk.config.reopen_window):
        return False
    reopened = await store.ticket(last.id)
    assert reopened is not None
    ctx.replies.append(
        to_ticket(
            desk,
            reopened.id,
            desk_t(desk, ctx).gettext("🔁 The person wrote again: the ticket is reopened."),
            op="reopen",
        )
    )
    ctx.reply(
        ctx.t.gettext(
            "🔁 I've reopened your conversation with the consultant (request #{number}) and "
            "passed your message on."
        ).format(number=reopened.id),
        kind="desk",
    )
    await relay(desk, ctx, store, reopened, check_urgent=False)
    return True


def _just_thanks(ctx: TurnContext) -> bool:
    return ctx.matcher.match(ctx.event.text, lang=ctx.user.lang).intent == "thanks"


async def relay(
    desk: ConsultantDesk,
    ctx: TurnContext,
    store: DeskStore,
    ticket: Ticket,
    *,
    check_urgent: bool = True,
) -> None:
    """Pass what the person sent to the ticket's topic, and keep a scrubbed copy."""
    event = ctx.event
    media = event.media
    if media is None:
        await store.record(ticket.id, "in", "text", event.text)
        ctx.replies.append(to_ticket(desk, ticket.id, f"👤 {event.text}"))
        kind = _urgent_kind(ctx) if check_urgent and not ticket.urgent else None
        if kind is not None:
            from handlers.handoff import urgent

            await urgent(ctx, None, event.text, kind=kind or None)
        return
    caption = media.caption if media.kind is not MediaKind.CONTACT else None
    await store.record(ticket.id, "in", media.kind.value, caption)
    text = ""
    if media.kind in CAPTIONED_MEDIA:
        text = f"👤 {caption}" if caption else "👤"
    ctx.replies.append(to_ticket(desk, ticket.id, text, media=media))


def _urgent_kind(ctx: TurnContext) -> str | None:
    """The kind of emergency the message reads as ("" for an unnamed one), else ``None``."""
    result = ctx.matcher.match(ctx.event.text, lang=ctx.user.lang)
    return (result.urgent_kind or "") if result.intent == "urgent" else None


# -- cancel, rating ----------------------------------------------------------------------


async def cancel(desk: ConsultantDesk, ctx: TurnContext, store: DeskStore) -> None:
    _ = ctx.t.gettext
    ticket = await store.open_ticket_of(ctx.user.id)
    if ticket is None or not await store.close(ticket.id, "cancelled"):
        show_main_menu(ctx, _("You have no open request to the consultants."), kind="desk")
        return
    ctx.replies.append(
        to_ticket(
            desk,
            ticket.id,
            desk_t(desk, ctx).gettext("❌ The person cancelled the request."),
            op="close",
        )
    )
    show_main_menu(ctx, _("OK, I've cancelled your request to the consultants."), kind="desk")


def rating_buttons(ticket_id: int) -> list[list[Button]]:
    return [
        [
            Button(f"{score} ⭐", ids.make(BUTTON_PREFIX, RATE, ticket_id, score))
            for score in range(1, 6)
        ]
    ]


async def _on_button(
    desk: ConsultantDesk, ctx: TurnContext, store: DeskStore, args: list[str]
) -> None:
    _ = ctx.t.gettext
    try:
        if not args:
            raise StaleButton("")
        verb, ticket_id = args[0], ids.number(args[1]) if len(args) > 1 else 0
        if verb == CANCEL and len(args) == 2:
            await cancel(desk, ctx, store)
            return
        if verb == RATE and len(args) == 3:
            score = ids.number(args[2])
            pending = await store.rate(ticket_id, ctx.user.id, score)
            if pending is None:
                raise StaleButton(":".join(args))
            ctx.replies.append(
                to_general(
                    desk,
                    desk_t(desk, ctx)
                    .gettext("⭐ Ticket #{number} was rated {score}/5.")
                    .format(number=ticket_id, score=score),
                    silent=True,
                )
            )
            ctx.reply(
                _("Thank you! If you like, write a comment in one message, or tap “Skip”."),
                [[Button(_("Skip"), ids.make(BUTTON_PREFIX, SKIP, ticket_id))]],
                kind="desk",
                desk="rated",
            )
            return
        if verb == SKIP and len(args) == 2:
            pending = await store.pending_comment(ctx.user.id, ctx.now - desk.config.comment_window)
            if pending is not None and pending.ticket_id == ticket_id:
                await store.save_comment(pending, None)
            show_main_menu(ctx, _("Thank you!"), kind="desk")
            return
        raise StaleButton(":".join(args))
    except StaleButton:
        del ctx.replies[:]
        reply_stale_button(ctx)


# -- /forget -------------------------------------------------------------------------------


async def erase(desk: ConsultantDesk, ctx: TurnContext, store: DeskStore) -> None:
    """Before the router deletes the person: erase their tickets' contents and tell the desk
    (the sender deletes each topic, or closes it where deleting is not allowed)."""
    dt_ = desk_t(desk, ctx)
    for ticket in await store.erase_person(ctx.user.id):
        ctx.replies.append(
            to_ticket(
                desk,
                ticket.id,
                dt_.gettext(
                    "🗑 Ticket #{number}: the person deleted their data; the conversation is erased."
                ).format(number=ticket.id),
                op="erase",
            )
        )
