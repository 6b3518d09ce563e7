"""The database layer: engines and transactions, the ORM models, migrations, and the one
repository everything else goes through."""

from bot.db.engine import Database, create_engine, is_sqlite, sqlite_file
from bot.db.repository import OutboxItem, Repository
from bot.db.store import SqlConversationStore

__all__ = [
    "Database",
    "OutboxItem",
    "Repository",
    "SqlConversationStore",
    "create_engine",
    "is_sqlite",
    "sqlite_file",
]
