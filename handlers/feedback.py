"""👍 / 👎 under an answer (``fb:<query id>:<1|0>``), attached to the logged question."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers import ids
from handlers.handoff import offer_consultant
from handlers.handoff_model import HandoffReason
from handlers.ids import StaleButton
from handlers.ui import menu_button

if TYPE_CHECKING:
    from handlers.context import TurnContext


async def on_feedback_button(ctx: TurnContext, args: list[str]) -> None:
    if len(args) != 2 or args[1] not in ("0", "1"):
        raise StaleButton(":".join(args))
    query_id = ids.number(args[0])
    helpful = args[1] == "1"
    if not await ctx.store.record_feedback(ctx.user, query_id, helpful):
        raise StaleButton(args[0])  # not their question, or it was forgotten
    _ = ctx.t.gettext
    if helpful:
        ctx.reply(_("Thank you! I'm glad it helped. 🙂"), [[menu_button(ctx)]], kind="feedback")
    else:
        offer_consultant(
            ctx,
            _("Sorry it didn't help. A consultant can look at your case, or you can try the menu."),
            HandoffReason.NOT_HELPFUL,
            query_id,
            kind="feedback",
        )
