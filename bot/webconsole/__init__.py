"""The supervisors' web console (issue 19): the analytics in a browser, under ``/console/``.

Served by ``otwarta serve``'s HTTP server and by ``otwarta console serve`` alone (no
messenger). Not to be confused with :mod:`bot.console`, the terminal chat (``make chat``).

- :mod:`bot.webconsole.web`: the routes and the rules every route obeys (session, roles,
  CSRF, security headers);
- :mod:`bot.webconsole.pages`: the pages (Jinja2 templates in ``templates/``, one style sheet
  and one small script in ``static/``); every number from :mod:`bot.analytics`;
- :mod:`bot.webconsole.auth`: argon2id passwords, tokens, TOTP, login throttling;
- :mod:`bot.webconsole.store`: the console's tables (``alembic/versions/0005_console.py``);
- :mod:`bot.webconsole.patch`: the editors' suggestions as a patch for ``content/``;
- :mod:`bot.webconsole.accounts`: ``otwarta console add-user`` and the other commands.
"""
