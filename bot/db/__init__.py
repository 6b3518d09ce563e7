"""The database layer: engines and transactions, the tables, migrations, and one module per
aggregate (events, people, query log, outbox), reached through the unit of work that
:meth:`Database.transaction` yields."""

from bot.db.engine import Database, create_engine, is_sqlite, sqlite_file
from bot.db.outbox import OutboxItem
from bot.db.store import SqlConversationStore
from bot.db.unit import UnitOfWork

__all__ = [
    "Database",
    "OutboxItem",
    "SqlConversationStore",
    "UnitOfWork",
    "create_engine",
    "is_sqlite",
    "sqlite_file",
]
