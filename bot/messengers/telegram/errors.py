"""Error mapping: a Bot API request's errors → the :mod:`bot.ports` delivery errors the outbox
understands (429 → ``RetryLater``, 403 → ``RecipientGone``, "thread not found" →
``ThreadGone`` …)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.ports import PermanentFailure, RecipientGone, RetryLater, ThreadGone, Unavailable

_T = TypeVar("_T")


async def call_api(step: Callable[[], Awaitable[_T]]) -> _T:
    """Run one Bot API request, mapping errors to what the outbox understands."""
    try:
        return await step()
    except RetryAfter as exc:
        raise RetryLater(seconds(exc.retry_after), "telegram flood control (429)") from exc
    except Forbidden as exc:
        raise RecipientGone(exc.message) from exc
    except ChatMigrated as exc:
        raise PermanentFailure(f"group migrated to supergroup {exc.new_chat_id}") from exc
    except BadRequest as exc:
        text = exc.message.lower()
        if "thread not found" in text or "topic_deleted" in text:
            raise ThreadGone(exc.message) from exc
        raise PermanentFailure(exc.message) from exc
    except InvalidToken as exc:
        # A configuration problem, not the message's: keep it and try again later.
        raise RetryLater(60.0, "telegram rejected the bot token") from exc
    except TimedOut as exc:  # the Bot API is away: never given up for it (bot.outbox)
        raise Unavailable(1.0, "telegram request timed out") from exc
    except NetworkError as exc:  # connection errors and 5xx
        raise Unavailable(1.0, f"telegram unavailable: {exc.message}") from exc
    except TelegramError as exc:
        raise PermanentFailure(exc.message) from exc


def seconds(value: float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
