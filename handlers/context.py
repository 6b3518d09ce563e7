"""What a handler gets for one turn: the person's state, the knowledge, and where replies go.

The engine (``bot/engine.py``) builds a :class:`TurnContext` inside one database transaction,
runs the handlers, then persists ``ctx.user`` and writes ``ctx.replies`` to the outbox. Handlers
never see SQL, a platform payload, or the outbox directly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bot.i18n import normalize_language
from handlers.model import Address, Button, IncomingEvent, Reply

if TYPE_CHECKING:
    from faq.content import KnowledgeBase
    from faq.matcher import Matcher
    from handlers.handoff_model import HandoffRequest


@dataclass
class UserState:
    """The little we keep about a person (see the privacy notice). Handlers may change the
    mutable fields; the engine saves them after the turn."""

    id: int  # our own surrogate key
    address: Address
    lang: str | None = None  # chosen or detected: "uk" | "ru" | "pl" | "en"
    audience: str | None = None  # "ukr-status" | "residence-card" | "other-tcn" | None (skipped)
    notice_seen: bool = False
    is_new: bool = False  # first event ever from this person
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None
    context_entry: str | None = None
    """The entry last shown (answered or chosen), for follow-ups (``faq.followup``)."""
    context_at: dt.datetime | None = None
    """When it was shown; older than ``TurnContext.context_window``, it no longer counts."""

    def set_context(self, entry_id: str | None, now: dt.datetime | None = None) -> None:
        """Remember the entry shown (``None``: forget it -- /menu, /forget, a new topic)."""
        self.context_entry = entry_id
        self.context_at = now if entry_id is not None else None


class ConversationStore(Protocol):
    """The handler-facing slice of the database layer (implemented in ``bot/db``)."""

    async def log_query(
        self,
        user: UserState,
        text: str,
        decision: str,
        intent: str | None,
        lang: str,
        candidates: list[tuple[str, float]],
    ) -> int:
        """Store a scrubbed copy of the question and the matcher's decision; returns its id."""
        ...

    async def record_feedback(self, user: UserState, query_id: int, helpful: bool) -> bool:
        """Attach 👍/👎 to one of this person's logged queries; ``False`` if not theirs/unknown."""
        ...

    async def forget_user(self, user: UserState) -> None:
        """Delete everything we hold about this person (profile, query log, tickets...)."""
        ...


class Translator(Protocol):
    """UI strings from the babel catalogs, in one language."""

    lang: str

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...

    def format_date(self, value: dt.date) -> str: ...


@dataclass
class TurnContext:
    """Everything one turn needs. ``replies`` are sent in order after the turn commits."""

    event: IncomingEvent
    user: UserState
    kb: KnowledgeBase
    matcher: Matcher
    store: ConversationStore
    translator_for: TranslatorFactory
    now: dt.datetime
    replies: list[Reply] = field(default_factory=list)
    desk: Desk | None = None
    """The consultant desk handoffs go to (:mod:`handlers.handoff`); ``None``: none configured
    (:class:`handlers.handoff.NotConfiguredDesk` answers then)."""
    context_window: dt.timedelta = dt.timedelta(minutes=30)
    """How long the last entry shown stays the context of a follow-up (``CONTEXT_MINUTES``)."""

    @property
    def t(self) -> Translator:
        """Translator in the person's language. Until they have one: the platform's language
        if it is one of ours (not stored: see ``handlers.router``), else English."""
        return self.translator_for(
            self.user.lang or normalize_language(self.event.sender.language_code) or "en"
        )

    def reply(
        self,
        text: str,
        buttons: list[list[Button]] | None = None,
        *,
        address: Address | None = None,
        **meta: str,
    ) -> None:
        """A reply (to the person, unless ``address`` says otherwise), in their language."""
        rows = tuple(tuple(row) for row in (buttons or []) if row)
        to = address or self.event.address
        self.replies.append(
            Reply(
                to,
                text,
                rows,
                meta={k: str(v) for k, v in meta.items()},
                lang=self.t.lang if to == self.event.address else None,
            )
        )


@runtime_checkable
class Desk(Protocol):
    """Where consultants work. Implementations reply to the person themselves (``ctx.reply``)."""

    @property
    def is_configured(self) -> bool:
        """``False`` when there is no consultant desk (no ``CONSULTANT_CHAT_ID``)."""
        ...

    async def open_ticket(self, ctx: TurnContext, request: HandoffRequest) -> None:
        """Open (or reuse) the person's ticket; tell them, in their language, what happens next."""
        ...


class TranslatorFactory(Protocol):
    def __call__(self, lang: str) -> Translator: ...
