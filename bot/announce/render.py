"""One recipient's announcement message: the whole of it in one language (theirs, or the
announcement's fallback), ending with the one-tap unsubscribe button."""

from __future__ import annotations

from typing import Any

from bot.i18n import N_
from handlers import ids
from handlers.context import Translator, TranslatorFactory
from handlers.model import Address, Button, Platform, Reply

# UI strings (msgids of the babel catalogs).
FOOTER = N_(
    "You get this because you asked to be told when the rules change. "
    "To stop: the button below or /unsubscribe."
)
OPEN_ANSWER = N_("📖 Open the answer")
UNSUBSCRIBE = N_("🔕 Unsubscribe")
ENTRY_CHANGED = N_("🔔 The answer «{title}» has changed. The button below opens what it says now.")

#: ``content["kind"]`` of an announcement written in a file, and of an entry's change.
FILE = "file"
ENTRY_CHANGE = "entry-change"


def message_lang(content: dict[str, Any], lang: str | None) -> str:
    """The one language of the message for a person whose language is ``lang``."""
    texts = content.get("texts") or {}
    if lang is not None and lang in texts:
        return lang
    return str(content.get("fallback") or "uk")


def render(
    announcement_id: int,
    content: dict[str, Any],
    platform: str,
    chat_id: str,
    lang: str | None,
    translator_for: TranslatorFactory,
) -> Reply:
    chosen = message_lang(content, lang)
    t: Translator = translator_for(chosen)
    _ = t.gettext
    rows: list[tuple[Button, ...]] = []
    entry_id = content.get("entry")
    if content.get("kind") == ENTRY_CHANGE:
        titles = content.get("titles") or {}
        title = titles.get(chosen) or next(iter(titles.values()), entry_id or "")
        body = _(ENTRY_CHANGED).format(title=title)
    else:
        body = str(content["texts"][chosen])
    if entry_id:
        rows.append((Button(_(OPEN_ANSWER), ids.entry(str(entry_id))),))
    rows.append((Button(_(UNSUBSCRIBE), ids.unsubscribe()),))
    return Reply(
        Address(Platform(platform), chat_id),
        f"{body}\n\n{_(FOOTER)}",
        tuple(rows),
        meta={"kind": "announcement", "announcement": str(announcement_id), "lang": chosen},
    )
