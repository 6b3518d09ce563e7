"""Small helpers the aggregates' modules share for building statements once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from bot.db.base import UTCDateTime

#: The type of time parameters (aware UTC on both backends).
TIME = UTCDateTime()


def per_backend(build: Callable[[Callable[[Table], Any]], Any]) -> dict[str, Any]:
    """A statement built once per backend, given that backend's INSERT (it has
    ``on_conflict_do_nothing``)."""
    return {"postgresql": build(postgresql.insert), "sqlite": build(sqlite.insert)}


def rowcount(result: Any) -> int:
    """How many rows an UPDATE or DELETE matched."""
    return int(result.rowcount)
