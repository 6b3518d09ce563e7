"""Free text: ask the matcher, log the question, and answer, offer, or say "I don't know".

Three zones (``faq.calibrate``): a confident answer; the unsure middle -- "Maybe one of
these?" with the one to three likeliest entries, the consultant and the menu; "I don't know"
with the consultant and the menu. A short follow-up is read in the context of the entry the
person saw last (kept with their state for ``CONTEXT_MINUTES``; ``faq.followup``).

Every question is logged (``ctx.store.log_query`` scrubs personal data) and its id travels in
the buttons that follow (👍/👎, "Maybe one of these?", "None of these", the consultant), so feedback
and handoffs attach to the question they are about.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from faq.followup import MatchContext
from faq.languages import LANGS
from handlers import ids
from handlers.answers import send_answer
from handlers.handoff import consultant_button, offer_consultant, start_handoff, urgent
from handlers.handoff_model import HandoffReason, HandoffRequest
from handlers.model import Button
from handlers.privacy import warn_if_identifiers
from handlers.start import privacy_button, privacy_notice_short
from handlers.ui import entry_button, lang_of, menu_button, show_main_menu

if TYPE_CHECKING:
    from faq.content import Entry
    from handlers.context import TurnContext

MAX_CLARIFY = 3


async def on_text(ctx: TurnContext) -> None:
    text = ctx.event.text.strip()
    if not text:
        show_main_menu(ctx)
        return
    result = ctx.matcher.match(text, lang=ctx.user.lang, context=conversation_context(ctx))
    if ctx.user.lang is None and result.lang in LANGS:
        ctx.user.lang = result.lang  # their first words tell us their language
    candidates = [(c.entry_id, c.score) for c in result.candidates]
    query_id = await ctx.store.log_query(
        ctx.user, text, result.decision, result.intent, result.lang, candidates
    )
    offered = [ctx.kb.entries[e] for e in result.offered if e in ctx.kb.entries]
    _ = ctx.t.gettext

    if result.intent == "urgent":
        await urgent(ctx, query_id, text, tuple(candidates), result.urgent_kind)
    elif result.intent == "human":
        await start_handoff(
            ctx,
            HandoffRequest(
                HandoffReason.REQUESTED,
                query_id=query_id,
                question=text,
                candidates=tuple(candidates),
            ),
        )
    elif result.decision == "answer" and offered:
        send_answer(ctx, offered[0], query_id, section=result.section)
    elif result.decision == "clarify" and offered:
        ctx.user.set_context(None)  # until they pick one
        clarify(ctx, offered, query_id)
    elif result.intent == "greeting":
        show_main_menu(
            ctx,
            _("Hello! 👋 Ask me anything about life in Małopolska, or pick a topic:"),
            kind="greeting",
        )
    elif result.intent == "thanks":
        show_main_menu(
            ctx, _("You're welcome! 😊 Ask me if anything else comes up."), kind="thanks"
        )
    else:
        ctx.user.set_context(None)
        dont_know(ctx, query_id)

    if result.intent != "urgent":  # nothing may come between an emergency and its numbers
        warn_if_identifiers(ctx, text)
    if not ctx.user.notice_seen:
        # Someone who never pressed /start still learns what we keep, once.
        ctx.reply(privacy_notice_short(ctx), [[privacy_button(ctx)]], kind="notice")
        ctx.user.notice_seen = True


def clarify(ctx: TurnContext, offered: list[Entry], query_id: int) -> None:
    """Several near answers: "Maybe one of these?" with each; one: "Is this what you mean?"."""
    _ = ctx.t.gettext
    if len(offered) == 1:
        (entry,) = offered
        ctx.reply(
            _("Is this what you mean: **{title}**?").format(title=entry.title.get(lang_of(ctx))),
            [
                [
                    Button(_("Yes"), ids.entry(entry.id, query_id)),
                    Button(_("No, something else"), ids.none_of_these(query_id)),
                ]
            ],
            kind="clarify",
        )
        return
    rows = [[entry_button(ctx, entry, query_id)] for entry in offered[:MAX_CLARIFY]]
    rows.append([Button(_("None of these"), ids.none_of_these(query_id))])
    rows.append([consultant_button(ctx, HandoffReason.NO_ANSWER, query_id)])
    rows.append([menu_button(ctx)])
    ctx.reply(_("Maybe one of these?"), rows, kind="clarify")


def conversation_context(ctx: TurnContext) -> MatchContext | None:
    """The entry the person saw last, if recent enough to read a follow-up against."""
    user = ctx.user
    if user.context_entry is None or user.context_at is None:
        return None
    if ctx.now - user.context_at > ctx.context_window:
        user.set_context(None)
        return None
    return MatchContext(user.context_entry, user.context_at)


def dont_know(ctx: TurnContext, query_id: int | None) -> None:
    """The honest "I don't know", with a consultant and the menu."""
    _ = ctx.t.gettext
    offer_consultant(
        ctx,
        _(
            "Sorry, I don't know this one: it may be outside what I know. "
            "A consultant can help, or you can look in the menu."
        ),
        HandoffReason.NO_ANSWER,
        query_id,
        kind="handoff",
    )


async def on_none_of_these(ctx: TurnContext, args: list[str]) -> None:
    """``n:<query id>``: none of the suggestions fit."""
    if len(args) != 1:
        raise ids.StaleButton(":".join(args))
    dont_know(ctx, ids.number(args[0]))
