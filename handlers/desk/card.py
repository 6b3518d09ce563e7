"""What the desk shows for a ticket: the topic's name and its card (the topic's first message).

Pure functions of the ticket's current state, rendered in the desk's language: the desk
worker (:mod:`bot.desk.sync`) draws them when it creates a topic and redraws them after each
change (taken, transferred, closed), so a card is never stale and a recreated topic gets a
fresh one.

The person appears only as a pseudonym ("Person #A7F3", from a keyed hash of their account)
unless ``DESK_SHOW_NAMES`` is on: consultants need continuity, not identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.markup import escape_markup
from handlers import ids
from handlers.desk.model import BUTTON_PREFIX, Consultant, Ticket
from handlers.model import Button

if TYPE_CHECKING:
    from faq.content import KnowledgeBase
    from handlers.context import Translator

#: Telegram allows 128 characters in a topic name.
TOPIC_NAME_LIMIT = 128
#: Candidates shown on a card.
CARD_CANDIDATES = 3

TAKE = "take"
CLOSE = "close"
TRANSFER = "xfer"
TRANSFER_TO = "to"


def button_id(verb: str, ticket_id: int, *args: str | int) -> str:
    return ids.make(BUTTON_PREFIX, verb, ticket_id, *args)


def topic_name(ticket: Ticket, kb: KnowledgeBase, t: Translator) -> str:
    """``🚨 #12 · UK · Legal stay`` (✅ once closed)."""
    topic = kb.topic(ticket.topic) if ticket.topic else None
    subject = topic.title.get(t.lang) if topic is not None else t.gettext("General question")
    marks = ("✅ " if not ticket.is_open else "") + ("🚨 " if ticket.urgent else "")
    name = f"{marks}#{ticket.id} · {ticket.lang.upper()} · {subject}"
    return name[:TOPIC_NAME_LIMIT]


def audience_label(audience: str | None, t: Translator) -> str:
    _ = t.gettext
    labels = {
        "ukr-status": _("UKR status (temporary protection)"),
        "residence-card": _("residence card"),
        "other-tcn": _("other foreigner"),
    }
    return labels.get(audience or "", _("not given"))


def origin_label(origin: str, t: Translator) -> str:
    _ = t.gettext
    labels = {
        "request": _("asked for a consultant"),
        "unknown": _("the bot did not know the answer"),
        "feedback": _("the answer did not help"),
        "escalate": _("follow-up after an answer that needs a consultant"),
        "urgent": _("urgent: danger words"),
    }
    return labels.get(origin, origin)


def state_label(ticket: Ticket, t: Translator) -> str:
    _ = t.gettext
    if ticket.state == "waiting":
        return _("⏳ waiting for a consultant")
    if ticket.state == "assigned":
        return _("👤 taken by {name}").format(name=escape_markup(ticket.consultant_name or "?"))
    reasons = {
        "resolved": _("✅ closed: resolved"),
        "no_reply": _("✅ closed: no reply"),
        "cancelled": _("❌ closed: cancelled by the person"),
        "erased": _("🗑 closed: the person deleted their data"),
    }
    return reasons.get(ticket.close_reason or "", _("✅ closed"))


def render_card(
    ticket: Ticket,
    *,
    person: str,
    speakers: Sequence[Consultant],
    kb: KnowledgeBase,
    t: Translator,
    timezone: ZoneInfo,
) -> tuple[str, tuple[tuple[Button, ...], ...]]:
    """The card's text (content markup) and buttons for ``ticket``'s current state."""
    _ = t.gettext
    lines: list[str] = []
    if ticket.urgent:
        lines.append(_("🚨 **URGENT**: the person wrote words that signal danger."))
    opened = ticket.opened_at.astimezone(timezone)
    lines.append(
        _("**Ticket #{number}** · opened {when}").format(
            number=ticket.id, when=opened.strftime("%d.%m %H:%M")
        )
    )
    lines.append(f"👤 {person}")
    lines.append(
        _("Language: {lang} · Situation: {audience} · Platform: {platform}").format(
            lang=ticket.lang.upper(),
            audience=audience_label(ticket.audience, t),
            platform=ticket.platform.capitalize(),
        )
    )
    lines.append(_("Why: {origin}").format(origin=origin_label(ticket.origin, t)))
    if ticket.question:
        lines.append("")
        lines.append(
            _("Question: «{question}»").format(question=escape_markup(_clip(ticket.question, 600)))
        )
    best = [(entry, score) for entry, score in ticket.candidates if entry in kb.entries]
    if best:
        lines.append("")
        lines.append(_("The bot's best guesses:"))
        for entry_id, score in best[:CARD_CANDIDATES]:
            title = kb.entries[entry_id].title.get(t.lang)
            lines.append(f"- {title} ({entry_id}, {round(score * 100)}%)")
    lines.append("")
    if speakers:
        names = ", ".join(escape_markup(c.display_name) for c in speakers)
        lines.append(_("Speak {lang}: {names}").format(lang=ticket.lang.upper(), names=names))
    else:
        lines.append(
            _("Nobody has said they speak {lang} yet (/langs).").format(lang=ticket.lang.upper())
        )
    if ticket.reopen_count:
        lines.append(
            t.ngettext("Reopened once.", "Reopened {count} times.", ticket.reopen_count).format(
                count=ticket.reopen_count
            )
        )
    lines.append(_("Status: {state}").format(state=state_label(ticket, t)))
    return "\n".join(lines), card_buttons(ticket, t)


def card_buttons(ticket: Ticket, t: Translator) -> tuple[tuple[Button, ...], ...]:
    _ = t.gettext
    if not ticket.is_open:
        return ()
    close = Button(_("✅ Close"), button_id(CLOSE, ticket.id))
    transfer = Button(_("🔀 Transfer"), button_id(TRANSFER, ticket.id))
    if ticket.state == "waiting":
        return ((Button(_("✋ Take"), button_id(TAKE, ticket.id)), close, transfer),)
    return ((close, transfer),)


def transfer_buttons(
    ticket: Ticket, consultants: Sequence[Consultant], t: Translator, limit: int = 8
) -> tuple[tuple[Button, ...], ...]:
    """One button per consultant (those who speak the ticket's language first), then "back
    to the queue"."""
    ranked = sorted(
        (c for c in consultants if c.id != ticket.consultant_id),
        key=lambda c: (ticket.lang not in c.languages, c.display_name.lower()),
    )[:limit]
    rows = [
        (Button(_label(c, ticket.lang), button_id(TRANSFER_TO, ticket.id, c.id)),) for c in ranked
    ]
    rows.append((Button(t.gettext("↩️ Back to the queue"), button_id(TRANSFER_TO, ticket.id, 0)),))
    return tuple(rows)


def _label(consultant: Consultant, lang: str) -> str:
    mark = " ✓" if lang in consultant.languages else ""
    return f"{consultant.display_name}{mark}"[:60]


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
