"""Every table, on one ``MetaData``: what Alembic compares against and what tests wipe.

The tables are declared in :mod:`bot.db.models` and :mod:`bot.db.desk_models`, which import
only :mod:`bot.db.base`; importing this module loads both.
"""

from __future__ import annotations

from bot.db import desk_models as _desk_models  # noqa: F401 - registers the desk's tables
from bot.db import models as _models  # noqa: F401 - registers the bot's tables
from bot.db.base import Base

metadata = Base.metadata

__all__ = ["metadata"]
