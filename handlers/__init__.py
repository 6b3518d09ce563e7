"""The conversation, platform-neutral: events in, replies out (see :mod:`handlers.model`).

One obvious place for each part:

- :mod:`handlers.router` -- the entry point (``handle(ctx)``): routes by event kind, command,
  button-id prefix;
- :mod:`handlers.start` -- /start, the language choice, the short privacy notice, "your
  situation";
- :mod:`handlers.menu` -- topics -> entries -> answers; :mod:`handlers.answers` renders one
  answer (audience note, freshness footer, sources, buttons);
- :mod:`handlers.questions` -- free text through the matcher; :mod:`handlers.feedback` -- 👍/👎;
- :mod:`handlers.handoff` -- the one seam to the consultant desk (``ctx.desk``, a
  :class:`~handlers.context.Desk`); what a handoff is (reason, request) in
  :mod:`handlers.handoff_model`;
- :mod:`handlers.media`, :mod:`handlers.help`, :mod:`handlers.privacy` (/privacy, /forget);
- :mod:`handlers.ids` -- the button-id scheme; :mod:`handlers.ui` -- shared buttons and menus.
"""
