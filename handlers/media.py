"""Stickers, photos, voice, video, documents, locations, contacts: we read only text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.handoff import offer_consultant
from handlers.handoff_model import HandoffReason

if TYPE_CHECKING:
    from handlers.context import TurnContext


async def on_media(ctx: TurnContext) -> None:
    _ = ctx.t.gettext
    offer_consultant(
        ctx,
        _(
            "I can only understand text messages and buttons. "
            "Please type your question in words, or talk to a consultant."
        ),
        HandoffReason.REQUESTED,
        kind="media",
    )
