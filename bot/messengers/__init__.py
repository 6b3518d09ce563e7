"""The messengers: one package per platform, each behind the interfaces in :mod:`bot.ports`.

- :mod:`bot.messengers.telegram` — Telegram through python-telegram-bot (polling or webhook),
  and the forum topics the consultant desk lives in;
- :mod:`bot.messengers.viber` — Viber (aiohttp webhook in, REST API out);
- :mod:`bot.messengers.console` — ``otwarta chat``, the conversation in the terminal.

Each has a sender (:class:`bot.ports.MessageSender`, built first: the outbox needs it) and an
adapter that takes updates in and hands them to the engine (:class:`bot.ports.EventSink`,
given at construction) — the composition root (:mod:`bot.app`) builds them in that order.
"""
