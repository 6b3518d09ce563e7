"""The content's light markup, rendered per platform, and splitting long messages.

Content and UI texts use one small markup so editors never write HTML:
``**bold**``, ``[label](https://link)``, and list lines starting with ``- `` or ``1. ``.
Telegram gets HTML (its most robust parse mode: only ``<``, ``>`` and ``&`` need escaping);
Viber and the terminal get plain text with links written out.

Text nobody on the team wrote (a person's message, their name, a rating comment) is put into
a markup text through :func:`escape_markup`: a backslash before ``\\``, ``*``, ``[`` and a
line-opening ``-`` keeps the character literal, so ``**bold**`` and ``[label](https://…)``
from a person reach the consultants as the characters they typed, never as formatting or a
disguised link (issue 18, item 6).
"""

from __future__ import annotations

import html
import re

_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s)]+)\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", re.DOTALL)
_BULLET = re.compile(r"^(\s*)[-*] (?=\S)", re.MULTILINE)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")

# An escaped character is held as a private-use code point while the markup is read, and put
# back, literally, once the output is made (html.escape leaves these code points alone).
_HELD = {"\\": "\ue000", "*": "\ue001", "[": "\ue002", "-": "\ue003"}
_PUT_BACK = str.maketrans({held: char for char, held in _HELD.items()})
_ESCAPED = re.compile(r"\\([\\*\[-])")
_PRIVATE = re.compile("[\ue000-\ue003]")


def escape_markup(text: str) -> str:
    """``text`` as a literal inside markup: nothing in it renders as bold, a link or a list."""
    text = _PRIVATE.sub("", text)
    out = re.sub(r"[\\*\[]", lambda m: "\\" + m.group(0), text)
    return re.sub(r"^(\s*)-", r"\1\\-", out, flags=re.MULTILINE)


def _hold(text: str) -> str:
    return _ESCAPED.sub(lambda m: _HELD[m.group(1)], text)


def _put_back(text: str) -> str:
    # str.translate walks the whole text a code point at a time (~0.3 ms for a long answer, on
    # every reply); most answers hold nothing, which a regular-expression search finds at C speed.
    return text.translate(_PUT_BACK) if _PRIVATE.search(text) else text


def render_telegram_html(text: str) -> str:
    """Light markup → Telegram HTML; everything else is escaped."""
    text = _hold(text)
    out: list[str] = []
    pos = 0
    for link in _LINK.finditer(text):
        out.append(_html_inline(text[pos : link.start()]))
        label, url = link.group(1), link.group(2)
        out.append(f'<a href="{html.escape(url, quote=True)}">{_html_inline(label)}</a>')
        pos = link.end()
    out.append(_html_inline(text[pos:]))
    return _put_back(_BULLET.sub(r"\1• ", "".join(out)))


def _html_inline(text: str) -> str:
    escaped = html.escape(text, quote=False)
    return _BOLD.sub(r"<b>\1</b>", escaped)


def render_plain(text: str) -> str:
    """Light markup → plain text: bold markers dropped, links as ``label: url``."""

    def link(match: re.Match[str]) -> str:
        label, url = match.group(1), match.group(2)
        return url if label.strip() == url else f"{label}: {url}"

    return _put_back(_BULLET.sub(r"\1• ", _BOLD.sub(r"\1", _LINK.sub(link, _hold(text)))))


def split_message(text: str, limit: int) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` characters.

    Prefers paragraph breaks, then line breaks, then sentence ends, then spaces; only a single
    word longer than ``limit`` is cut hard. Parts are stripped; no part is empty.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    parts: list[str] = []
    while len(text) > limit:
        window = text[: limit + 1]
        cut = _best_cut(window, limit)
        head, text = text[:cut].rstrip(), text[cut:].lstrip()
        if head:
            parts.append(head)
    if text:
        parts.append(text)
    return parts


def _best_cut(window: str, limit: int) -> int:
    """Where to end the next part: the latest good boundary in the second half, if any."""
    floor = limit // 2
    for separator in ("\n\n", "\n"):
        at = window.rfind(separator, floor, limit + 1)
        if at > 0:
            return at
    sentence_ends = [m.start() for m in _SENTENCE_END.finditer(window, floor) if m.start() <= limit]
    if sentence_ends:
        return sentence_ends[-1]
    at = window.rfind(" ", floor, limit + 1)
    if at > 0:
        return at
    return limit
