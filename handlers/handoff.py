"""Handing the conversation to a human consultant: the ONE seam the consultant desk plugs into.

Every path that ends with "talk to a person" comes here: the "Talk to a consultant" buttons
(after "I don't know", after 👎, on answers marked ``escalate``), ``/consultant``, the matcher's
``human`` intent, and urgent messages. They build a :class:`HandoffRequest` and call
:func:`start_handoff`, which asks ``ctx.desk`` (a :class:`~handlers.context.Desk`) to open a
ticket.

The desk owns what happens next and what the person is told. Until a desk is configured
(the next issue: a Telegram forum group with one topic per ticket), :class:`NotConfiguredDesk`
says so honestly and lists the region's contact points from ``content/contacts.yaml``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import ids
from handlers.handoff_model import HandoffReason, HandoffRequest
from handlers.ids import StaleButton
from handlers.model import Button
from handlers.ui import entry_button, lang_of, menu_button

if TYPE_CHECKING:
    from faq.content import ContactPoint
    from handlers.context import TurnContext

EMERGENCY_ENTRY = "emergency-numbers"
"""The knowledge-base entry with the emergency and crisis numbers (``shared/CONTENT.md``)."""


# One letter per reason in button ids (``h:<code>[:<ref>]``); URGENT never comes from a button.
_CODES: dict[HandoffReason, str] = {
    HandoffReason.REQUESTED: "r",
    HandoffReason.NO_ANSWER: "n",
    HandoffReason.ESCALATE: "e",
    HandoffReason.NOT_HELPFUL: "d",
}
_REASONS = {code: reason for reason, code in _CODES.items()}


class NotConfiguredDesk:
    """The default desk: no consultants are connected; say so and give the contact points."""

    @property
    def is_configured(self) -> bool:
        return False

    async def open_ticket(self, ctx: TurnContext, request: HandoffRequest) -> None:
        _ = ctx.t.gettext
        contacts = format_contacts(ctx)
        if contacts:
            text = (
                _(
                    "I can't pass your question to a consultant here yet: "
                    "the consultant desk is not set up."
                )
                + "\n"
                + _("You can contact these places directly:")
                + "\n\n"
                + contacts
            )
        else:
            text = _(
                "I can't pass your question to a consultant here yet: "
                "the consultant desk is not set up. "
                "Please try again later, or look for an answer in the menu."
            )
        ctx.reply(
            text, [[menu_button(ctx)]], kind="handoff", desk="none", reason=request.reason.value
        )


def format_contacts(ctx: TurnContext) -> str:
    """The region's contact points (``ctx.kb.contacts``) in the person's language; "" if none."""
    return "\n\n".join(_format_contact(ctx, point) for point in ctx.kb.contacts.contacts)


def _format_contact(ctx: TurnContext, point: ContactPoint) -> str:
    lang = lang_of(ctx)
    lines = [f"**{point.name.get(lang)}**"]
    if point.note is not None:
        lines.append(point.note.get(lang))
    if point.address:
        lines.append(f"📍 {point.address}")
    if point.hours is not None:
        lines.append(f"🕘 {point.hours.get(lang)}")
    if point.phone:
        lines.append(f"☎️ {point.phone}")
    if point.url:
        lines.append(f"🔗 {point.url}")
    return "\n".join(lines)


async def start_handoff(ctx: TurnContext, request: HandoffRequest) -> None:
    """Hand the conversation to the consultant desk (the only way handlers do it)."""
    desk = ctx.desk if ctx.desk is not None else NotConfiguredDesk()
    await desk.open_ticket(ctx, request)


def consultant_button(
    ctx: TurnContext, reason: HandoffReason, ref: str | int | None = None
) -> Button:
    """ "Talk to a consultant": opens a ticket with ``reason`` when tapped."""
    return Button(ctx.t.gettext("💬 Talk to a consultant"), ids.handoff(_CODES[reason], ref))


def offer_consultant(
    ctx: TurnContext,
    text: str,
    reason: HandoffReason,
    ref: str | int | None = None,
    *,
    kind: str,
) -> None:
    """``text``, then "Talk to a consultant" and "Menu" (nothing is opened until they tap)."""
    ctx.reply(text, [[consultant_button(ctx, reason, ref)], [menu_button(ctx)]], kind=kind)


async def on_button(ctx: TurnContext, args: list[str]) -> None:
    """``h:<code>[:<ref>]``: the person tapped "Talk to a consultant"."""
    if not args or args[0] not in _REASONS or len(args) > 2:
        raise StaleButton(":".join(args))
    reason = _REASONS[args[0]]
    ref = args[1] if len(args) == 2 else None
    query_id: int | None = None
    entry_id: str | None = None
    if ref is not None:
        if reason is HandoffReason.ESCALATE:
            entry_id = ids.slug(ref)
            if entry_id not in ctx.kb.entries:
                entry_id = None  # the entry is gone; the person still wants a consultant
        else:
            query_id = ids.number(ref)
    await start_handoff(ctx, HandoffRequest(reason, query_id=query_id, entry_id=entry_id))


async def on_command(ctx: TurnContext) -> None:
    """``/consultant``."""
    await start_handoff(ctx, HandoffRequest(HandoffReason.REQUESTED))


SHELTER_CONTACT = "night-shelter"
"""The contact point (``content/contacts.yaml``) whose phone leads the "nowhere to sleep
tonight" reply."""
SHELTER_ENTRIES = ("collective-accommodation", "social-assistance")


def _urgent_lead(ctx: TurnContext, kind: str | None) -> tuple[str, list[list[Button]]] | None:
    """The first lines of an urgent reply for its kind, with the number that fits first."""
    _ = ctx.t.gettext
    if kind == "shelter":
        point = next((c for c in ctx.kb.contacts.contacts if c.id == SHELTER_CONTACT), None)
        if point is None or not point.phone:
            return None
        lang = lang_of(ctx)
        text = _("🏠 Nowhere to sleep tonight? Call **{phone}** ({name}).").format(
            phone=point.phone, name=point.name.get(lang)
        )
        if point.note is not None:
            text += "\n" + point.note.get(lang)
        text += "\n\n" + _("If anyone is in danger or out in the cold with children, call **112**.")
        rows = [
            [entry_button(ctx, ctx.kb.entries[e])] for e in SHELTER_ENTRIES if e in ctx.kb.entries
        ]
        return text, rows
    if kind == "medical":
        return (
            _(
                "🚑 Call **112** now, or **999** for an ambulance. Say first where you are, "
                "then what happened, and don't hang up first."
            ),
            [],
        )
    return None


async def urgent(
    ctx: TurnContext,
    query_id: int | None,
    question: str | None = None,
    candidates: tuple[tuple[str, float], ...] = (),
    kind: str | None = None,
) -> None:
    """An emergency: the right number first, at once, then an urgent handoff.

    ``kind`` is the matcher's ``urgent_kind``: a medical emergency leads with 112 and 999,
    nowhere to sleep tonight with the shelter line of ``content/contacts.yaml``, every other
    kind with 112. The only numbers in UI text are 112 and 999 (the EU-wide and the Polish
    ambulance ones); every other number comes from the knowledge base, which editors verify.
    """
    _ = ctx.t.gettext
    lang = lang_of(ctx)
    lead = _urgent_lead(ctx, kind)
    if lead is not None and kind == "shelter":
        text, rows = lead
    else:
        text = (
            lead[0]
            if lead is not None
            else _(
                "🚨 If someone's life or health is in danger, call **112** now. "
                "It's free and works from any phone."
            )
        )
        rows = []
        emergency = ctx.kb.entries.get(EMERGENCY_ENTRY)
        if emergency is not None:
            text += "\n\n" + emergency.answer.get(lang)
            rows = [
                [entry_button(ctx, ctx.kb.entries[related])]
                for related in emergency.related
                if related in ctx.kb.entries
            ]
    ctx.reply(text, rows, kind="urgent", urgent=kind or "other")
    await start_handoff(
        ctx,
        HandoffRequest(
            HandoffReason.URGENT,
            urgent=True,
            query_id=query_id,
            question=question,
            candidates=candidates,
        ),
    )
