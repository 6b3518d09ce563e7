"""The desk sender: Telegram's sender, plus "find or make the ticket's forum topic".

Handlers address desk messages to a *ticket* (``Reply.meta[META_TICKET]``), never to a topic:
creating a topic is network I/O and does not belong in the turn's database transaction. This
wrapper around the Telegram :class:`~bot.ports.MessageSender` resolves the topic when the
outbox sends, from the ticket's current row:

- no topic yet → ``createForumTopic`` ("#12 · UK · Legal stay"), then the card, each saved
  as soon as it exists, so a retry after a 429 in between continues where it stopped;
- the topic was deleted (Telegram: "message thread not found" → :class:`ThreadGone`) → the
  ticket forgets it and the same send creates a new one with a fresh card: a topic deleted
  by a consultant comes back on the next message;
- ``op`` ``card`` redraws the card, ``close``/``reopen`` rename and close/reopen the topic,
  ``erase`` deletes it (or closes it, where deleting is not allowed);
- messages for a closed ticket go to the General topic with the ticket's number; messages for
  an erased ticket are dropped.

The whole desk group is one chat to the outbox, so its messages go out one at a time, in
order, within Telegram's 20-a-minute group limit (``limits_for`` is the Telegram sender's):
they queue, they are never dropped, and two topic creations never race.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from bot.desk.store import SqlDeskStore
from bot.outbox import utcnow
from bot.ports import (
    Delivered,
    DeliveryError,
    ForumTopics,
    MessageEditor,
    MessageSender,
    PermanentFailure,
    RateLimit,
    RetryLater,
    ThreadGone,
)
from handlers.desk.card import render_card, topic_name
from handlers.desk.model import META_OP, META_TICKET, Ticket
from handlers.model import Address, Button, Platform, Reply

if TYPE_CHECKING:
    from bot.db import Database
    from faq.content import KnowledgeBase
    from handlers.context import Translator, TranslatorFactory

log = logging.getLogger(__name__)

#: Longest wait for Telegram's "retry later" on a cosmetic step after the content went out.
AFTER_CONTENT_WAIT = 5.0


class DeskTopics(ForumTopics, MessageEditor, Protocol):
    """What the desk needs from the messenger besides sending."""


def pseudonym_code(key: bytes, address: Address) -> str:
    """Four hex digits from a keyed hash of the person's account: stable for one person,
    meaningless to anyone without the key (a plain hash of a Telegram id is reversible by
    trying every id)."""
    digest = hmac.new(key, f"{address.platform.value}:{address.chat_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:4].upper()


class DeskSender:
    """A :class:`~bot.ports.MessageSender` for Telegram that understands desk replies."""

    platform = Platform.TELEGRAM

    def __init__(
        self,
        inner: MessageSender,
        topics: DeskTopics,
        *,
        chat_id: str,
        translator_for: TranslatorFactory,
        desk_lang: str,
        pseudonym_key: bytes,
        show_names: bool = False,
        timezone: ZoneInfo | None = None,
        kb: KnowledgeBase | None = None,
        db: Database | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.inner = inner
        self.topics = topics
        self.chat_id = chat_id
        self.translator_for = translator_for
        self.desk_lang = desk_lang
        self.pseudonym_key = pseudonym_key
        self.show_names = show_names
        self.timezone = timezone or ZoneInfo("Europe/Warsaw")
        self.kb = kb
        self.db = db
        self.clock = clock

    def bind(self, db: Database, kb: KnowledgeBase) -> None:
        """Attach the database and the knowledge base (known once the core is open)."""
        self.db, self.kb = db, kb

    def limits_for(self, address: Address) -> tuple[RateLimit, ...]:
        return self.inner.limits_for(address)

    @property
    def t(self) -> Translator:
        return self.translator_for(self.desk_lang)

    @property
    def general(self) -> Address:
        return Address(Platform.TELEGRAM, self.chat_id)

    def _in(self, thread_id: int) -> Address:
        return Address(Platform.TELEGRAM, self.chat_id, thread_id)

    # -- sending -------------------------------------------------------------------------

    async def send(self, reply: Reply) -> Delivered:
        if reply.address.chat_id != self.chat_id or META_TICKET not in reply.meta:
            return await self.inner.send(reply)
        if self.db is None or self.kb is None:
            raise RetryLater(1.0, "the desk sender is not bound to the database yet")
        try:
            ticket_id = int(reply.meta[META_TICKET])
        except ValueError:
            raise PermanentFailure(f"bad ticket id {reply.meta[META_TICKET]!r}") from None
        op = reply.meta.get(META_OP, "post")
        ticket = await self._load(ticket_id)
        if ticket is None:
            return Delivered()
        if op == "erase":
            return await self._erase(ticket, reply)
        if ticket.close_reason == "erased" or ticket.user_id is None:
            return Delivered()  # the person erased it: nothing more reaches the desk
        has_content = bool(reply.text.strip()) or reply.media is not None
        if not ticket.is_open and (op == "post" or ticket.thread_id is None):
            # A closed ticket's topic is closed (or never existed: cancelled before the desk
            # saw it): say it in General, with the ticket's number.
            if not has_content:
                return Delivered()
            text = f"#{ticket.id} · {reply.text}" if reply.text.strip() else f"#{ticket.id}"
            return await self.inner.send(
                dataclasses.replace(reply, address=self.general, text=text)
            )
        thread, card_id, fresh = await self._ensure_topic(ticket)
        # Steps before the content may raise RetryLater: the outbox retries the whole reply
        # and, the content not being out yet, nothing is doubled.
        if op == "reopen":
            await self._quietly(lambda: self.topics.reopen_topic(self.chat_id, thread))
            await self._rename(ticket, thread)
        if op in ("card", "reopen") and not fresh:
            thread = await self._redraw_card(ticket, thread, card_id)
            if ticket.urgent:
                await self._rename(ticket, thread)
        delivered = Delivered(card_id) if op == "open" else Delivered()
        if has_content:
            delivered = await self._post(ticket, thread, reply)
        if op == "close":
            await self._quietly(
                lambda: self._close_topic(ticket, thread, card_id, redraw=not fresh),
                after_content=has_content,
            )
        return delivered

    async def _rename(self, ticket: Ticket, thread: int) -> None:
        await self._quietly(
            lambda: self.topics.edit_topic(self.chat_id, thread, self._name(ticket))
        )

    async def _close_topic(
        self, ticket: Ticket, thread: int, card_id: str | None, *, redraw: bool
    ) -> None:
        if redraw:
            thread = await self._redraw_card(ticket, thread, card_id)
        await self._rename(ticket, thread)
        await self._quietly(lambda: self.topics.close_topic(self.chat_id, thread))

    async def _post(self, ticket: Ticket, thread: int, reply: Reply) -> Delivered:
        """Send into the topic; recreate the topic once if Telegram says it is gone."""
        try:
            return await self.inner.send(reply.with_address(self._in(thread)))
        except ThreadGone:
            log.info("desk: topic of ticket %d is gone; recreating it", ticket.id)
            await self._save_topic(ticket.id, None, None)
            fresh = dataclasses.replace(ticket, thread_id=None)
            thread, _card, _ = await self._ensure_topic(fresh)
            return await self.inner.send(reply.with_address(self._in(thread)))

    async def _ensure_topic(self, ticket: Ticket) -> tuple[int, str | None, bool]:
        """The ticket's topic (thread id, card message id), created with its card if missing;
        ``True`` when created now."""
        assert self.db is not None
        async with self.db.transaction() as uow:
            thread, card_id = await SqlDeskStore(uow, self.clock).topic_of(ticket.id)
        created = False
        if thread is None:
            thread = await self.topics.create_topic(self.chat_id, self._name(ticket))
            await self._save_topic(ticket.id, thread, None)
            card_id, created = None, True
        if card_id is None:
            try:
                card_id = await self._post_card(ticket, thread)
            except ThreadGone:
                if created:
                    raise
                await self._save_topic(ticket.id, None, None)
                return await self._ensure_topic(dataclasses.replace(ticket, thread_id=None))
            await self._save_card(ticket.id, card_id)
            created = True
        return thread, card_id, created

    async def _post_card(self, ticket: Ticket, thread: int) -> str | None:
        text, buttons = await self._card(ticket)
        delivered = await self.inner.send(Reply(self._in(thread), text, buttons))
        return delivered.message_id

    async def _redraw_card(self, ticket: Ticket, thread: int, card_id: str | None) -> int:
        """Edit the card to the ticket's state; post a new one if the old is gone."""
        if card_id is None:
            return thread
        text, buttons = await self._card(ticket)
        try:
            await self.topics.edit_message(Reply(self._in(thread), text, buttons), card_id)
            return thread
        except ThreadGone:
            pass
        except PermanentFailure as exc:
            if "not modified" in str(exc).lower():
                return thread
            log.info(
                "desk: card of ticket %d cannot be edited (%s); posting a new one", ticket.id, exc
            )
        await self._save_card(ticket.id, None)
        try:
            new_card = await self._post_card(ticket, thread)
        except ThreadGone:
            await self._save_topic(ticket.id, None, None)
            thread, _card, _ = await self._ensure_topic(dataclasses.replace(ticket, thread_id=None))
            return thread
        await self._save_card(ticket.id, new_card)
        return thread

    async def _erase(self, ticket: Ticket, reply: Reply) -> Delivered:
        """Tell the General topic, then delete the ticket's topic (or close it and blank its
        card where deleting is not allowed)."""
        thread = ticket.thread_id
        if thread is None:
            return Delivered()  # the desk never saw this ticket
        delivered = Delivered()
        if reply.text.strip():
            delivered = await self.inner.send(
                dataclasses.replace(reply, address=self.general, buttons=())
            )
        await self._quietly(
            lambda: self._delete_topic(ticket, thread), after_content=bool(reply.text.strip())
        )
        return delivered

    async def _delete_topic(self, ticket: Ticket, thread: int) -> None:
        try:
            await self.topics.delete_topic(self.chat_id, thread)
        except ThreadGone:
            pass
        except PermanentFailure as exc:
            log.info("desk: cannot delete the topic of ticket %d (%s); closing it", ticket.id, exc)
            card_id = await self._card_id(ticket.id)
            await self._quietly(lambda: self._redraw_card(ticket, thread, card_id))
            name = f"🗑 #{ticket.id}"
            await self._quietly(lambda: self.topics.edit_topic(self.chat_id, thread, name))
            await self._quietly(lambda: self.topics.close_topic(self.chat_id, thread))

    async def _quietly(
        self, action: Callable[[], Awaitable[object]], *, after_content: bool = False
    ) -> None:
        """A cosmetic step (rename, close, reopen, redraw the card): skipped when Telegram
        says "no" (already closed, not modified, gone). "Later" (429, 5xx) propagates before
        the reply's content went out — the outbox retries the whole reply. After it, a retry
        would post the content twice, so "later" is waited out here, once, briefly."""
        try:
            await action()
        except PermanentFailure as exc:
            log.debug("desk: cosmetic topic step skipped: %s", exc)
        except RetryLater as exc:
            if not after_content:
                raise
            await asyncio.sleep(min(exc.after, AFTER_CONTENT_WAIT))
            try:
                await action()
            except DeliveryError as again:
                log.info("desk: cosmetic topic step skipped after a retry: %s", again)

    # -- the ticket and its card ---------------------------------------------------------

    def _name(self, ticket: Ticket) -> str:
        assert self.kb is not None
        return topic_name(ticket, self.kb, self.t)

    async def _card(self, ticket: Ticket) -> tuple[str, tuple[tuple[Button, ...], ...]]:
        assert self.db is not None and self.kb is not None
        async with self.db.transaction() as uow:
            store = SqlDeskStore(uow, self.clock)
            fresh = await store.ticket(ticket.id) or ticket
            speakers = [c for c in await store.consultants() if fresh.lang in c.languages]
        t = self.t
        return render_card(
            fresh,
            person=self._person(fresh, t),
            speakers=speakers,
            kb=self.kb,
            t=t,
            timezone=self.timezone,
        )

    def _person(self, ticket: Ticket, t: Translator) -> str:
        if ticket.person is None:
            return t.gettext("(erased)")
        label = t.gettext("Person #{code}").format(
            code=pseudonym_code(self.pseudonym_key, ticket.person)
        )
        if self.show_names and ticket.person_name:
            return f"{ticket.person_name} ({label})"
        return label

    async def _load(self, ticket_id: int) -> Ticket | None:
        assert self.db is not None
        async with self.db.transaction() as uow:
            return await SqlDeskStore(uow, self.clock).ticket(ticket_id)

    async def _card_id(self, ticket_id: int) -> str | None:
        assert self.db is not None
        async with self.db.transaction() as uow:
            return (await SqlDeskStore(uow, self.clock).topic_of(ticket_id))[1]

    async def _save_topic(self, ticket_id: int, thread: int | None, card_id: str | None) -> None:
        assert self.db is not None
        async with self.db.transaction() as uow:
            await SqlDeskStore(uow, self.clock).set_topic(ticket_id, thread, card_id)

    async def _save_card(self, ticket_id: int, card_id: str | None) -> None:
        assert self.db is not None
        async with self.db.transaction() as uow:
            await SqlDeskStore(uow, self.clock).set_card(ticket_id, card_id)
