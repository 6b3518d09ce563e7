"""The announcements' tables' one owner: ``announcements``, ``announcement_recipients`` and
``entry_versions``.

An announcement is created ``scheduled``; when its publish time comes the worker
(:mod:`bot.announce.worker`) *materializes* it: one ``pending`` recipient row per person it is
for, in one statement (``INSERT … SELECT`` over the subscriptions), and the announcement turns
``sending``. Then, batch after batch, the worker claims pending rows (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL), writes their messages to the outbox (lane 1) and marks them ``queued``
with their outbox row's id, all in one transaction: a crash before the commit leaves them
pending, after it they are in the outbox, so nobody is skipped and nobody is queued twice.
:meth:`Announcements.reconcile` copies each outbox row's outcome (``sent``/``failed``) back.
This module reads the outbox (and the people and subscriptions) but never writes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    Table,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.announce_models import Announcement, AnnouncementRecipient, EntryVersion
from bot.db.models import OutboxMessage, User
from bot.db.sql import TIME, per_backend, rowcount
from bot.db.subscriptions import ENTRY, SITUATION, SUBSCRIPTIONS, TOPIC

ANNOUNCEMENTS = cast(Table, Announcement.__table__)
RECIPIENTS = cast(Table, AnnouncementRecipient.__table__)
VERSIONS = cast(Table, EntryVersion.__table__)
USERS = cast(Table, User.__table__)
OUTBOX = cast(Table, OutboxMessage.__table__)

_CREATE = per_backend(
    lambda insert_: (
        insert_(ANNOUNCEMENTS)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(ANNOUNCEMENTS.c.id)
    )
)
_UPSERT_VERSION = per_backend(lambda insert_: insert_(VERSIONS))


@dataclass(frozen=True, slots=True)
class Audience:
    """Whom an announcement is for, among the subscribers: those of ``entries``, of
    ``topics``, and (when ``situation``) those who asked for "important changes for my
    situation" whose audience is one of ``audiences`` (``None``: whatever their situation)."""

    entries: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    situation: bool = False
    audiences: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "entries": list(self.entries),
            "topics": list(self.topics),
            "situation": self.situation,
            "audiences": None if self.audiences is None else list(self.audiences),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Audience:
        audiences = data.get("audiences")
        return cls(
            tuple(data.get("entries") or ()),
            tuple(data.get("topics") or ()),
            bool(data.get("situation")),
            None if audiences is None else tuple(audiences),
        )


@dataclass(frozen=True, slots=True)
class AnnouncementRow:
    id: int
    key: str
    kind: str
    content: dict[str, Any]
    audience: str | None
    entry_id: str | None
    topic: str | None
    publish_at: dt.datetime
    created_at: dt.datetime
    status: str
    total: int | None
    finished_at: dt.datetime | None

    @property
    def who(self) -> Audience:
        return Audience.from_json(self.content.get("who") or {})


@dataclass(frozen=True, slots=True)
class Claimed:
    """A pending recipient claimed for queueing."""

    user_id: int
    platform: str
    external_id: str
    lang: str | None


def _row(row: Mapping[Any, Any]) -> AnnouncementRow:
    return AnnouncementRow(**{name: row[name] for name in AnnouncementRow.__slots__})


def _wanted(who: Audience, user: Any) -> Any:
    """The condition on a ``users`` row (``user``): subscribed to something ``who`` covers."""
    s = SUBSCRIPTIONS.alias("s")
    kinds = []
    if who.entries:
        kinds.append(and_(s.c.kind == ENTRY, s.c.target.in_(list(who.entries))))
    if who.topics:
        kinds.append(and_(s.c.kind == TOPIC, s.c.target.in_(list(who.topics))))
    if who.situation:
        situation = s.c.kind == SITUATION
        if who.audiences is not None:
            situation = and_(situation, user.c.audience.in_(list(who.audiences)))
        kinds.append(situation)
    if not kinds:
        return false()
    return exists().where(s.c.user_id == user.c.id, or_(*kinds))


def _target_conditions(who: Audience, platforms: Sequence[str]) -> tuple[Any, ...]:
    return (
        USERS.c.active == true(),
        USERS.c.platform.in_(list(platforms)),
        _wanted(who, USERS),
    )


def _targets(who: Audience, platforms: Sequence[str]) -> Any:
    return select(USERS.c.id, USERS.c.platform, USERS.c.lang).where(
        *_target_conditions(who, platforms)
    )


class Announcements:
    """Announcements, inside a transaction it does not own (:class:`bot.db.unit.UnitOfWork`)."""

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self.session = session
        self.dialect = dialect

    # -- announcements ---------------------------------------------------------------------

    async def create(
        self,
        *,
        key: str,
        kind: str,
        content: dict[str, Any],
        who: Audience,
        publish_at: dt.datetime,
        now: dt.datetime,
        audience: str | None = None,
        entry_id: str | None = None,
        topic: str | None = None,
    ) -> int | None:
        """A new scheduled announcement; ``None`` when one with ``key`` exists already (an
        announcement is queued once, however often the command runs)."""
        row = (
            await self.session.execute(
                _CREATE[self.dialect],
                {
                    "key": key,
                    "kind": kind,
                    "content": {**content, "who": who.to_json()},
                    "audience": audience,
                    "entry_id": entry_id,
                    "topic": topic,
                    "publish_at": publish_at,
                    "created_at": now,
                    "status": "scheduled",
                },
            )
        ).first()
        return None if row is None else int(row[0])

    async def get(self, announcement_id: int) -> AnnouncementRow | None:
        row = (
            await self.session.execute(
                select(ANNOUNCEMENTS).where(ANNOUNCEMENTS.c.id == announcement_id)
            )
        ).first()
        return None if row is None else _row(row._mapping)

    async def by_key(self, key: str) -> AnnouncementRow | None:
        row = (
            await self.session.execute(select(ANNOUNCEMENTS).where(ANNOUNCEMENTS.c.key == key))
        ).first()
        return None if row is None else _row(row._mapping)

    async def recent(self, limit: int = 10) -> list[AnnouncementRow]:
        rows = await self.session.execute(
            select(ANNOUNCEMENTS).order_by(ANNOUNCEMENTS.c.id.desc()).limit(limit)
        )
        return [_row(row._mapping) for row in rows.all()]

    async def sending(self) -> list[AnnouncementRow]:
        rows = await self.session.execute(
            select(ANNOUNCEMENTS)
            .where(ANNOUNCEMENTS.c.status == "sending")
            .order_by(ANNOUNCEMENTS.c.id)
        )
        return [_row(row._mapping) for row in rows.all()]

    async def due_to_start(self, now: dt.datetime) -> list[AnnouncementRow]:
        query = (
            select(ANNOUNCEMENTS)
            .where(ANNOUNCEMENTS.c.status == "scheduled", ANNOUNCEMENTS.c.publish_at <= now)
            .order_by(ANNOUNCEMENTS.c.id)
        )
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = await self.session.execute(query)
        return [_row(row._mapping) for row in rows.all()]

    # -- recipients -------------------------------------------------------------------------

    async def reach(self, who: Audience, platforms: Sequence[str]) -> dict[tuple[str, str], int]:
        """How many people ``who`` reaches now, by (platform, language; ``"?"`` if none)."""
        targets = _targets(who, platforms).subquery()
        rows = await self.session.execute(
            select(targets.c.platform, targets.c.lang, func.count()).group_by(
                targets.c.platform, targets.c.lang
            )
        )
        return {(platform, lang or "?"): int(count) for platform, lang, count in rows.all()}

    async def materialize(
        self, announcement: AnnouncementRow, platforms: Sequence[str], now: dt.datetime
    ) -> int:
        """One pending recipient per person the announcement is for, now; it turns
        ``sending``. Returns how many."""
        chosen = select(
            literal(announcement.id).label("announcement_id"),
            USERS.c.id,
            literal("pending").label("status"),
            USERS.c.lang,
            USERS.c.platform,
            literal(now, type_=TIME).label("updated_at"),
        ).where(*_target_conditions(announcement.who, platforms))
        inserted = await self.session.execute(
            RECIPIENTS.insert().from_select(
                ["announcement_id", "user_id", "status", "lang", "platform", "updated_at"], chosen
            )
        )
        total = rowcount(inserted)
        await self.session.execute(
            update(ANNOUNCEMENTS)
            .where(ANNOUNCEMENTS.c.id == announcement.id)
            .values(status="sending", total=total)
        )
        return total

    async def claim_pending(
        self, announcement: AnnouncementRow, limit: int, now: dt.datetime
    ) -> list[Claimed]:
        """Up to ``limit`` pending recipients still wanting it (active, still subscribed to
        something it covers); the others are marked ``skipped`` on the way. The caller queues
        the messages and :meth:`mark_queued` in the same transaction."""
        if limit <= 0:
            return []
        query = (
            select(
                RECIPIENTS.c.user_id,
                USERS.c.platform,
                USERS.c.external_id,
                RECIPIENTS.c.lang,
                and_(USERS.c.active == true(), _wanted(announcement.who, USERS)).label("wants"),
            )
            .join(USERS, USERS.c.id == RECIPIENTS.c.user_id)
            .where(
                RECIPIENTS.c.announcement_id == announcement.id,
                RECIPIENTS.c.status == literal_status("pending"),
            )
            .order_by(RECIPIENTS.c.user_id)
            .limit(limit)
        )
        if self.dialect == "postgresql":
            query = query.with_for_update(of=RECIPIENTS, skip_locked=True)
        rows = (await self.session.execute(query)).all()
        skipped = [row.user_id for row in rows if not row.wants]
        if skipped:
            await self.session.execute(
                update(RECIPIENTS)
                .where(
                    RECIPIENTS.c.announcement_id == announcement.id,
                    RECIPIENTS.c.user_id.in_(skipped),
                )
                .values(status="skipped", updated_at=now)
            )
        return [
            Claimed(row.user_id, row.platform, row.external_id, row.lang)
            for row in rows
            if row.wants
        ]

    async def mark_queued(
        self, announcement_id: int, queued: Sequence[tuple[int, int]], now: dt.datetime
    ) -> None:
        """(user id, outbox id) pairs: their messages are in the outbox."""
        if not queued:
            return
        connection = await self.session.connection()
        await connection.execute(
            update(RECIPIENTS)
            .where(
                RECIPIENTS.c.announcement_id == announcement_id,
                RECIPIENTS.c.user_id == _bind("p_user_id"),
            )
            .values(status="queued", outbox_id=_bind("p_outbox_id"), updated_at=now),
            [{"p_user_id": user_id, "p_outbox_id": outbox_id} for user_id, outbox_id in queued],
        )

    async def reconcile(self, now: dt.datetime) -> int:
        """Copy the outcome of delivered or failed outbox rows to their recipients."""
        outcome = (
            select(OUTBOX.c.status).where(OUTBOX.c.id == RECIPIENTS.c.outbox_id).scalar_subquery()
        )
        done = exists().where(
            OUTBOX.c.id == RECIPIENTS.c.outbox_id, OUTBOX.c.status.in_(("sent", "failed"))
        )
        result = await self.session.execute(
            update(RECIPIENTS)
            .where(RECIPIENTS.c.status == literal_status("queued"), done)
            .values(status=outcome, updated_at=now)
        )
        # An outbox row that is gone (the person was forgotten: the recipient went with it)
        # cannot be left behind; rows pruned long after sending were reconciled before.
        return rowcount(result)

    async def finish(self, announcement_id: int, now: dt.datetime) -> bool:
        """Mark the announcement done once no recipient is pending or queued."""
        open_ = exists().where(
            RECIPIENTS.c.announcement_id == announcement_id,
            RECIPIENTS.c.status.in_(("pending", "queued")),
        )
        result = await self.session.execute(
            update(ANNOUNCEMENTS)
            .where(
                ANNOUNCEMENTS.c.id == announcement_id,
                ANNOUNCEMENTS.c.status == "sending",
                ~open_,
            )
            .values(status="done", finished_at=now)
        )
        return rowcount(result) > 0

    async def progress(self, announcement_id: int) -> dict[str, int]:
        """Recipients by status."""
        rows = await self.session.execute(
            select(RECIPIENTS.c.status, func.count())
            .where(RECIPIENTS.c.announcement_id == announcement_id)
            .group_by(RECIPIENTS.c.status)
        )
        return {status: int(count) for status, count in rows.all()}

    async def progress_all(self) -> dict[str, int]:
        """Recipients of announcements still sending, by status (for metrics)."""
        rows = await self.session.execute(
            select(RECIPIENTS.c.status, func.count())
            .join(ANNOUNCEMENTS, ANNOUNCEMENTS.c.id == RECIPIENTS.c.announcement_id)
            .where(ANNOUNCEMENTS.c.status == "sending")
            .group_by(RECIPIENTS.c.status)
        )
        return {status: int(count) for status, count in rows.all()}

    # -- entry versions ---------------------------------------------------------------------

    async def entry_versions(self) -> dict[str, str]:
        rows = await self.session.execute(select(VERSIONS.c.entry_id, VERSIONS.c.digest))
        return {entry_id: digest for entry_id, digest in rows.all()}

    async def set_entry_version(self, entry_id: str, digest: str, now: dt.datetime) -> None:
        statement = _UPSERT_VERSION[self.dialect].values(
            entry_id=entry_id, digest=digest, updated_at=now
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["entry_id"], set_={"digest": digest, "updated_at": now}
            )
        )


def literal_status(status: str) -> Any:
    """A status as a SQL literal (the partial indexes match a literal, not a parameter)."""
    return literal_column(f"'{status}'")


def _bind(name: str) -> Any:
    return bindparam(name)
