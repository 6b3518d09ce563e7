"""The analytics tables (issue 15); their one owner is :mod:`bot.analytics.store`. The schema
is made by ``alembic/versions/0004_analytics.py``.

Nothing here names anyone: ``analytics_people`` gives each person a random token (linked to
them only by the foreign key, which ``/forget`` cascades and the retention job rotates), and
``analytics_facts`` keeps one row per question of the days already rolled up, with the token,
the day and the categories the report counts — no text, no platform id, no ticket number.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, BigId


class AnalyticsPerson(Base):
    __tablename__ = "analytics_people"

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[int] = mapped_column(BigInteger, unique=True)
    since: Mapped[dt.datetime]


class AnalyticsFact(Base):
    """One rolled-up question. ``day`` is ``YYYYMMDD`` (UTC): cheap to compare and bucket."""

    __tablename__ = "analytics_facts"
    __table_args__ = (
        Index("ix_analytics_facts_day", "day"),
        # Distinct people of a period (people, returning, per bucket) from the index alone.
        Index("ix_analytics_facts_day_person", "day", "person"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    day: Mapped[int] = mapped_column(Integer)
    person: Mapped[int] = mapped_column(BigInteger)
    lang: Mapped[str] = mapped_column(String(8))
    platform: Mapped[str | None] = mapped_column(String(16))
    audience: Mapped[str | None] = mapped_column(String(32))
    topic: Mapped[str | None] = mapped_column(String(32))
    entry: Mapped[str | None] = mapped_column(String(64))
    near: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(16))
    self_service: Mapped[bool] = mapped_column(Boolean)
    feedback: Mapped[int | None] = mapped_column(SmallInteger)
    none_of_these: Mapped[bool] = mapped_column(Boolean)
    cluster_key: Mapped[str | None] = mapped_column(String(200))
    #: The query log row it came from, while that row exists (examples of unanswered
    #: questions); no foreign key: once the retention job deleted the row it points nowhere.
    query_id: Mapped[int | None] = mapped_column(BigInteger)


class AnalyticsCell(Base):
    """A day's count of one figure's cell (``dim``: ``lang``, ``entry``, ``up``, ...; ``key``:
    its value, ``""`` for a plain total): the questions and the distinct people that day.
    A period's count is the sum over its days; whether it rests on ``k`` people is settled by
    the busiest day when that day alone has ``k``, by :class:`AnalyticsCellPerson` otherwise."""

    __tablename__ = "analytics_cells"

    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    dim: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    people: Mapped[int] = mapped_column(Integer)


class AnalyticsCellPerson(Base):
    """The people (tokens) of a day's *small* cell (fewer than
    :data:`bot.analytics.store.SMALL_CELL` people that day): a period's exact distinct count
    for a cell no single day of which reaches ``k``."""

    __tablename__ = "analytics_cell_people"

    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    dim: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    person: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class AnalyticsRollup(Base):
    """One row (``id`` 1): every day up to ``rolled_through`` (``YYYYMMDD``) is in the facts,
    and up to ``cells_through`` in the daily cells too."""

    __tablename__ = "analytics_rollup"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rolled_through: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime]
    cells_through: Mapped[int | None] = mapped_column(Integer)
