"""PostgreSQL's hot statements straight on the asyncpg connection.

A turn on PostgreSQL is a few small statements, and SQLAlchemy's execution machinery (the ORM
session, the statement's cache key, the execution context, a greenlet per call) cost the bot
more CPU than asyncpg and the server together: about 200 µs of a 500 µs turn. So on PostgreSQL
:meth:`bot.db.engine.Database.transaction` runs the transaction on the driver (the pool's
connections are in SQLAlchemy's ``AUTOCOMMIT`` mode, which leaves ``BEGIN`` and ``COMMIT`` to
us), and the repository runs its hottest statements through :class:`DriverStatement`: the
same SQLAlchemy Core statement, compiled once for asyncpg, its parameters converted by the
columns' own types. Everything else goes through the session, on the same connection and in
the same transaction.

Errors are raised as SQLAlchemy's (``IntegrityError``, ``OperationalError``, ...), as the
session would, so callers see one kind of error whichever way a statement went.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError

#: ``session.info`` key of the asyncpg connection a transaction runs on (PostgreSQL only).
DRIVER_CONNECTION = "otwarta_driver_connection"

_DIALECT = PGDialect_asyncpg()
_Params = Mapping[str, Any]


class DriverStatement:
    """A Core statement compiled once for asyncpg (per set of inserted columns)."""

    _known: dict[Any, DriverStatement] = {}  # noqa: RUF012 - the module's statements, once each

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, ...] | None, _Compiled] = {}

    @classmethod
    def of(cls, statement: Any) -> DriverStatement:
        """The driver's form of ``statement``, a statement built once (a module constant)."""
        known = cls._known.get(statement)
        if known is None:
            known = cls._known[statement] = cls(statement)
        return known

    def _for(self, params: _Params) -> _Compiled:
        # An INSERT without .values() takes its columns from the parameters given.
        key = tuple(params) if self.statement.is_insert else None
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(self.statement, key)
        return compiled

    async def fetch(self, driver: asyncpg.Connection, params: _Params) -> list[asyncpg.Record]:
        compiled = self._for(params)
        try:
            return await driver.fetch(compiled.sql, *compiled.args(params))
        except Exception as error:
            raise translated(error, compiled.sql) from error

    async def executemany(self, driver: asyncpg.Connection, rows: Sequence[_Params]) -> None:
        compiled = self._for(rows[0])
        try:
            await driver.executemany(compiled.sql, [compiled.args(row) for row in rows])
        except Exception as error:
            raise translated(error, compiled.sql) from error


class _Compiled:
    def __init__(self, statement: Any, column_keys: tuple[str, ...] | None) -> None:
        compiled = statement.compile(
            dialect=_DIALECT, column_keys=None if column_keys is None else list(column_keys)
        )
        self.sql = str(compiled)
        # What SQLAlchemy's execution would supply when the caller gives no value: a value
        # the statement holds (``active=True``), or an inserted column's scalar default.
        supplied: dict[str, Any] = {}
        for column in getattr(compiled, "insert_prefetch", ()):
            if column.default is not None and column.default.is_scalar:
                supplied[column.key] = column.default.arg
            elif column.default is not None:  # a callable or SQL default: not ours to run
                raise ValueError(f"the driver cannot bind the default of {column.key!r}")
        if getattr(compiled, "update_prefetch", ()):
            raise ValueError("the driver cannot bind onupdate values")
        #: Per positional parameter: its name, its type's conversion, its supplied value.
        self._binds: list[tuple[str, Callable[[Any], Any] | None, Any]] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            if name not in supplied and not bind.required:
                supplied[name] = bind.effective_value
            convert = bind.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
            self._binds.append((name, convert, supplied.get(name, _REQUIRED)))

    def args(self, params: _Params) -> list[Any]:
        out: list[Any] = []
        for name, convert, supplied in self._binds:
            value = params.get(name, supplied)
            if value is _REQUIRED:
                raise KeyError(f"no value for the parameter {name!r} of: {self.sql}")
            out.append(value if convert is None else convert(value))
        return out


_REQUIRED = object()


def translated(error: Exception, sql: str | None = None) -> Exception:
    """``error`` from asyncpg as the SQLAlchemy error the session would have raised."""
    if isinstance(error, asyncpg.IntegrityConstraintViolationError):
        return IntegrityError(sql, None, error)
    if isinstance(
        error,
        asyncpg.PostgresConnectionError
        | asyncpg.OperatorInterventionError
        | asyncpg.InterfaceError
        | OSError,
    ):
        return OperationalError(sql, None, error)
    if isinstance(error, asyncpg.PostgresError):
        return DatabaseError(sql, None, error)
    return error
