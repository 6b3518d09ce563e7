"""Viber: the same conversation for people who use Viber (webhook in, REST API out).

- :mod:`.protocol` — limits, status codes, the callback signature, ActionBody ids,
  the words people type instead of commands;
- :mod:`.client` — the REST API client (aiohttp);
- :mod:`.inbound` — callbacks → :class:`~handlers.model.IncomingEvent`;
- :mod:`.render` — :class:`~handlers.model.Reply` → ``send_message`` requests;
- :mod:`.sender` — :class:`ViberSender`, the :class:`~bot.ports.MessageSender`;
- :mod:`.webhook` — ``POST /viber/webhook``;
- :mod:`.adapter` — :class:`ViberAdapter`, what the composition root runs.

Running it: set ``VIBER_AUTH_TOKEN`` (the bot's app key) and ``PUBLIC_URL`` (an https root with
a certificate from a public CA, proxied to ``HTTP_HOST:HTTP_PORT``): ``otwarta serve`` then
registers ``PUBLIC_URL/viber/webhook`` with Viber. ``GET /viber/health`` asks Viber's
``get_account_info`` (cached for 30 s). People need nothing but the bot's chat: commands are
the bottom keyboard (menu, consultant, language, forget me) and words ("меню", "мова",
"забудь мене", "/forget"…).
"""

from bot.messengers.viber.adapter import ViberAdapter, ViberOutlet
from bot.messengers.viber.client import ViberClient, ViberError, ViberStatusError, ViberUnavailable
from bot.messengers.viber.sender import ViberSender

__all__ = [
    "ViberAdapter",
    "ViberClient",
    "ViberError",
    "ViberOutlet",
    "ViberSender",
    "ViberStatusError",
    "ViberUnavailable",
]
