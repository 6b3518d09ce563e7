"""One FAQ answer as a message: the answer, how fresh it is, its sources, and what next.

Used by the menu (``e:`` buttons) and by free-text questions alike, so an answer looks the
same however the person reached it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.lists import format_list

from bot import metrics
from bot.i18n import N_
from faq.content import is_url
from handlers import ids
from handlers.handoff import consultant_button
from handlers.handoff_model import HandoffReason
from handlers.model import Button
from handlers.ui import entry_button, lang_of, menu_button

if TYPE_CHECKING:
    from faq.content import Entry
    from handlers.context import TurnContext

# Whom an answer is for, as the object of "This answer is for ..." (translators: the form
# that fits after "for", e.g. the genitive after "для").
AUDIENCE_PHRASES: dict[str, str] = {
    "ukr-status": N_("people with UKR status (PESEL UKR)"),
    "residence-card": N_("holders of a residence card (karta pobytu)"),
    "other-tcn": N_("other foreigners from outside the EU"),
}

MAX_RELATED = 4

CONTENT_TIMEZONE = ZoneInfo("Europe/Warsaw")
"""Review dates are Polish calendar dates (the law they follow is Polish)."""


def audience_note(ctx: TurnContext, entry: Entry) -> str | None:
    """A one-line caveat when the entry is not for the person's situation (or they skipped it)."""
    audiences = [a for a in entry.audience if a in AUDIENCE_PHRASES]
    if "all" in entry.audience or not audiences or ctx.user.audience in entry.audience:
        return None
    _ = ctx.t.gettext
    phrases = [_(AUDIENCE_PHRASES[a]) for a in audiences]
    who = format_list(phrases, style="or", locale=lang_of(ctx))
    return _("ℹ️ This answer is for {audience}. Your situation may be different.").format(
        audience=who
    )


def freshness_footer(ctx: TurnContext, entry: Entry) -> str:
    """Valid-as-of and last-checked dates, then the sources as links."""
    t = ctx.t
    lines = [
        t.gettext("🗓 Valid as of {valid_as_of} · checked {last_verified}").format(
            valid_as_of=t.format_date(entry.valid_as_of),
            last_verified=t.format_date(entry.last_verified),
        )
    ]
    sources = [_source_link(source) for source in entry.sources]
    if sources:
        lines.append(t.gettext("Sources: {sources}").format(sources=" · ".join(sources)))
    return "\n".join(lines)


def _source_link(source: str) -> str:
    """A source URL as a short link labelled with its site ("gov.pl"); other text as is."""
    if not is_url(source):
        return source
    host = urlsplit(source).hostname or source
    return f"[{host.removeprefix('www.')}]({source})"


def send_answer(
    ctx: TurnContext, entry: Entry, query_id: int | None = None, section: str | None = None
) -> None:
    """Reply with ``entry``: ``query_id`` (the logged question it answers) adds 👍/👎.

    ``section`` (a follow-up's aspect: ``children``, ``cost``...): the entry's short section
    on it leads, when the entry has one. The entry becomes the person's context.
    """
    _ = ctx.t.gettext
    lang = lang_of(ctx)
    parts = []
    note = audience_note(ctx, entry)
    if note:
        parts.append(note)
    stale = entry.is_stale(ctx.now.astimezone(CONTENT_TIMEZONE).date())
    if stale:
        metrics.STALE_ANSWERS.labels(entry=entry.id).inc()
        parts.append(
            _(
                "⚠️ This answer may be out of date: its review date has passed. "
                "A consultant can check it for you."
            )
        )
    lead = entry.sections.get(section) if entry.sections and section else None
    if lead is not None:
        parts.append(lead.get(lang))
        parts.append(_("The whole answer:"))
    parts.append(entry.answer.get(lang))
    parts.append(freshness_footer(ctx, entry))
    if query_id is not None:
        parts.append(_("Did this help?"))

    rows: list[list[Button]] = []
    if query_id is not None:
        rows.append(
            [
                Button("👍", ids.feedback(query_id, True)),
                Button("👎", ids.feedback(query_id, False)),
            ]
        )
    if entry.escalate or stale:
        rows.append([consultant_button(ctx, HandoffReason.ESCALATE, entry.id)])
    related = [r for r in entry.related if r in ctx.kb.entries and r != entry.id][:MAX_RELATED]
    rows.extend([entry_button(ctx, ctx.kb.entries[r])] for r in related)
    rows.append([menu_button(ctx)])
    ctx.user.set_context(entry.id, ctx.now)
    ctx.reply("\n\n".join(parts), rows, kind="answer", entry=entry.id)
