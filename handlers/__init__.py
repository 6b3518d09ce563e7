"""The conversation, platform-neutral: events in, replies out (see :mod:`handlers.model`)."""
