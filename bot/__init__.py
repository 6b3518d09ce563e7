"""Małopolska Otwarta: the bot's runtime (settings, adapters, database, outbox, HTTP, CLI)."""
