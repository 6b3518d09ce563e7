"""The outgoing side of Viber (:class:`bot.ports.MessageSender`).

Renders each reply (:mod:`.render`) in the person's language (their bottom keyboard and
notes: ``Reply.lang``, which the turn stamps), sends the parts in order, and maps Viber's
answers onto what the outbox understands:

====================================================  =========================================
network error, timeout, HTTP 429 / 5xx                :class:`~bot.ports.RetryLater`
status 12 tooManyRequests                             :class:`~bot.ports.RetryLater`
status 5 receiverNotRegistered, 6 notSubscribed       :class:`~bot.ports.RecipientGone`
status 13 apiVersionNotSupported                      sent again at API level 1, once
anything else (bad data, invalid token, suspended…)   :class:`~bot.ports.PermanentFailure`
====================================================  =========================================

No retrying here: the outbox retries (with backoff) and keeps a chat's messages in order.
A reply split into several messages resumes after the parts already delivered when the outbox
retries it, so a retry never repeats a part (in this process; a crash mid-reply may repeat one).

A consultant's Telegram photo or document goes out as a Viber ``picture`` or ``file`` through
a signed link to our server (:mod:`.media`, when ``PUBLIC_URL`` is set); without one,
as a note saying a file could not be shown.

Viber bills a message sent more than 24 hours after the person's last message;
:meth:`ViberSender.free_window` tells the consultant desk whether a reply is still free.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable

from bot.i18n import N_
from bot.i18n import translator_for as catalogs
from bot.messengers.viber.client import ViberClient, ViberStatusError, ViberUnavailable
from bot.messengers.viber.media import MediaLinks
from bot.messengers.viber.protocol import (
    API_VERSION_NOT_SUPPORTED,
    BASIC_API_VERSION,
    RECIPIENT_GONE,
    TOO_MANY_REQUESTS,
    status_name,
)
from bot.messengers.viber.render import NavButton, Notes, Payload, downgrade, render_reply
from bot.ports import (
    Delivered,
    PermanentFailure,
    RateLimit,
    RecipientGone,
    RetryLater,
    Unavailable,
)
from handlers.context import Translator, TranslatorFactory
from handlers.model import Address, Platform, Reply

log = logging.getLogger(__name__)

PLATFORM = Platform.VIBER

#: Replies within this long after the person's last message are free; later ones are billed.
FREE_WINDOW = dt.timedelta(hours=24)

#: Viber publishes no rates; it answers ``tooManyRequests`` (status 12) when pushed.
#: Conservative per person (like Telegram's ≈1/s, a burst of 3), generous overall
#: (``VIBER_MESSAGES_PER_SECOND``, 100 by default).
DEFAULT_MESSAGES_PER_SECOND = 100
CHAT_RATE_COUNT, CHAT_RATE_PERIOD = 3, 3.0

#: Account-level problems: every message will fail until an operator acts.
_ACCOUNT_STATUSES = frozenset({2, 7, 8, 9, 10, 15})

LanguageLookup = Callable[[Address], Awaitable[str | None]]

# UI strings (msgids of the babel catalogs; "🏠 Menu" is shared with handlers.ui).
NAV_MENU = N_("🏠 Menu")
NAV_LANGUAGE = N_("🌐 Language")
NAV_CONSULTANT = N_("💬 Consultant")
NAV_FORGET = N_("🗑 Forget me")
FILE_NOT_SHOWN = N_(
    "📎 The consultant sent a file that can't be shown in Viber. "
    "If you need it, ask them to describe it in a message."
)


def nav_buttons(t: Translator) -> list[NavButton]:
    """The bottom keyboard every message carries, in the person's language."""
    return [
        NavButton(t.gettext(NAV_MENU), "menu"),
        NavButton(t.gettext(NAV_CONSULTANT), "consultant"),
        NavButton(t.gettext(NAV_LANGUAGE), "language"),
        NavButton(t.gettext(NAV_FORGET), "forget"),
    ]


class ViberSender:
    """Implements :class:`bot.ports.MessageSender` for Viber."""

    platform = PLATFORM
    free_window_length = FREE_WINDOW

    def __init__(
        self,
        client: ViberClient,
        *,
        translator_for: TranslatorFactory = catalogs,
        language_of: LanguageLookup | None = None,
        rate_limited_after: float = 1.0,
        messages_per_second: int = DEFAULT_MESSAGES_PER_SECOND,
        media_links: MediaLinks | None = None,
    ) -> None:
        self.client = client
        self.media_links = media_links
        self.messages_per_second = messages_per_second
        self.rate_limited_after = rate_limited_after  # status 12 gives no Retry-After
        self._translator_for = translator_for
        self.language_of = language_of
        # Parts of split replies already delivered (key → (count, when)), so a retried reply
        # resumes instead of repeating them.
        self._progress: dict[tuple[str, int], tuple[int, float]] = {}

    # -- MessageSender ------------------------------------------------------------------------

    def limits_for(self, address: Address) -> tuple[RateLimit, ...]:
        return (
            RateLimit("viber:global", self.messages_per_second, 1.0),
            RateLimit(f"viber:chat:{address.chat_id}", CHAT_RATE_COUNT, CHAT_RATE_PERIOD),
        )

    async def send(self, reply: Reply) -> Delivered:
        payloads = await self.render(reply)
        key = (str(reply.address), hash((reply.text, reply.media, reply.buttons)))
        done, _when = self._progress.get(key, (0, 0.0))
        token = ""
        for index in range(done, len(payloads)):
            token = await self._send_one(payloads[index])
            if index < len(payloads) - 1:
                self._progress[key] = (index + 1, time.monotonic())
        self._progress.pop(key, None)
        self._forget_stale_progress()
        return Delivered(message_id=token or None)

    # -- the consultant desk's question -------------------------------------------------------

    def free_window(
        self, address: Address, last_seen: dt.datetime | None, now: dt.datetime
    ) -> bool:
        """``True`` while a message to ``address`` is free: within 24 hours of the person's
        last message (``last_seen``; ``None``: we never heard from them, so it is billed)."""
        return last_seen is not None and now - last_seen <= self.free_window_length

    # -- rendering ----------------------------------------------------------------------------

    async def render(self, reply: Reply) -> list[Payload]:
        """The request bodies for ``reply`` (in the person's language)."""
        t = self._translator_for(reply.lang or await self._language(reply.address))
        link = None
        media = reply.media
        if self.media_links is not None and media is not None and not _is_url(media.ref):
            link = await self.media_links.link(media)  # RetryLater when Telegram is away
        try:
            return render_reply(
                reply,
                nav_buttons(t),
                notes=Notes(file_not_shown=t.gettext(FILE_NOT_SHOWN)),
                link=link,
            )
        except ValueError as exc:
            raise PermanentFailure(str(exc)) from exc

    async def _language(self, address: Address) -> str:
        """The person's language for a reply that does not carry it (queued before replies
        did): ``language_of``, else English."""
        if self.language_of is not None:
            try:
                lang = await self.language_of(address)
            except Exception:  # the keyboard in English is better than no message
                log.warning("viber: could not look up the person's language", exc_info=True)
                lang = None
            if lang:
                return lang
        return "en"

    # -- one request --------------------------------------------------------------------------

    async def _send_one(self, payload: Payload) -> str:
        try:
            return await self.client.send_message(payload)
        except ViberStatusError as exc:
            if (
                exc.status == API_VERSION_NOT_SUPPORTED
                and payload.get("min_api_version", BASIC_API_VERSION) > BASIC_API_VERSION
            ):
                log.info("viber: the person's app is old; sending at API level 1")
                return await self._send_one(downgrade(payload))
            raise _delivery_error(exc, self.rate_limited_after) from exc
        except ViberUnavailable as exc:  # the API is away: never given up for it
            raise Unavailable(exc.after, str(exc)) from exc

    def _forget_stale_progress(self) -> None:
        if len(self._progress) < 256:
            return
        horizon = time.monotonic() - 3600
        for key, (_count, at) in list(self._progress.items()):
            if at < horizon:
                del self._progress[key]


def _is_url(ref: str | None) -> bool:
    return ref is not None and ref.startswith(("https://", "http://"))


def _delivery_error(exc: ViberStatusError, rate_limited_after: float) -> Exception:
    name = status_name(exc.status)
    if exc.status in RECIPIENT_GONE:
        return RecipientGone(f"viber {name}")
    if exc.status == TOO_MANY_REQUESTS:
        return RetryLater(rate_limited_after, f"viber {name}")
    if exc.status in _ACCOUNT_STATUSES:
        log.error(
            "viber refused the bot account (status %d %s: %s): check VIBER_AUTH_TOKEN and the "
            "account",
            exc.status,
            name,
            exc.status_message,
        )
    return PermanentFailure(str(exc))


__all__ = ["FREE_WINDOW", "ViberSender", "nav_buttons"]
