"""Every table, on one ``MetaData``: what Alembic compares against and what tests wipe.

The tables are declared in :mod:`bot.db.models`, :mod:`bot.db.desk_models`,
:mod:`bot.db.analytics_models`, :mod:`bot.db.announce_models` and :mod:`bot.db.console_models`,
which import only
:mod:`bot.db.base`; importing this module loads them all.
"""

from __future__ import annotations

from bot.db import analytics_models as _analytics_models  # noqa: F401 - the analytics tables
from bot.db import announce_models as _announce_models  # noqa: F401 - subscriptions, announcements
from bot.db import console_models as _console_models  # noqa: F401 - the web console's
from bot.db import desk_models as _desk_models  # noqa: F401 - registers the desk's tables
from bot.db import models as _models  # noqa: F401 - registers the bot's tables
from bot.db.base import Base

metadata = Base.metadata

__all__ = ["metadata"]
