"""What the desk group must be shown: typed effects, not strings on a reply.

A turn that changes a ticket says what the group must see as a :class:`DeskEffect`, queued in
the turn's own transaction (:meth:`handlers.desk.model.DeskStore.queue`, the desk's table
``desk_effects``). The topic-sync worker (:mod:`bot.desk.sync`) carries them out after the
commit, outside any transaction: it finds or makes the ticket's forum topic and card, posts,
redraws, renames, closes, reopens or deletes — fairly across tickets (urgent first, then one
ticket after the other; a person's burst joined into one message).

The outbox never carries desk messages: it knows nothing of tickets or topics.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from handlers.model import Button, Media


class EffectKind(enum.StrEnum):
    """What the worker does for a ticket, besides posting ``text``/``media`` into its topic."""

    POST = "post"  # into the ticket's topic (made, with its card, if missing)
    OPEN = "open"  # make sure the topic and its card exist; post the text after them, if any
    CARD = "card"  # redraw the card from the ticket's current state, then post the text
    CLOSE = "close"  # post the text, then redraw, rename and close the topic
    REOPEN = "reopen"  # reopen and rename the topic, redraw the card, then post the text
    ERASE = "erase"  # post the text in General, then delete the topic (or close and blank it)
    GENERAL = "general"  # no ticket: into the General topic (or ``thread_id``'s topic)


@dataclass(frozen=True, slots=True)
class DeskEffect:
    kind: EffectKind
    ticket_id: int | None = None  # None only for GENERAL
    text: str = ""  # content markup (person-written parts escaped: bot.markup.escape_markup)
    media: Media | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()
    silent: bool = False
    thread_id: int | None = None  # GENERAL only: a topic that is not a ticket's
    urgent: bool = False  # served before everything else (set by the store from the ticket)

    def __post_init__(self) -> None:
        if (self.ticket_id is None) != (self.kind is EffectKind.GENERAL):
            raise ValueError("a ticket effect needs its ticket; a GENERAL one has none")

    @property
    def joinable(self) -> bool:
        """Plain text posted into a topic: consecutive ones of a ticket go out as one message."""
        return (
            self.kind is EffectKind.POST
            and self.media is None
            and not self.buttons
            and bool(self.text.strip())
        )
