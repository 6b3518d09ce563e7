"""Announcements (issue 16): telling subscribers when the rules change.

- :mod:`faq.announcements`: the files in ``content/announcements/`` and whom they are for;
- :mod:`bot.announce.queue`: ``otwarta announce FILE`` — reach, then queue;
- :mod:`bot.announce.changes`: entries whose answer changed with ``notify: true``;
- :mod:`bot.announce.render`: one person's message, in one language, ending with unsubscribe;
- :mod:`bot.announce.worker`: feeds the outbox's announcement lane in small batches;
- :mod:`bot.announce.cli`: the ``otwarta announce`` commands.

The tables are the database layer's (:mod:`bot.db.subscriptions`, :mod:`bot.db.announcements`).
"""
