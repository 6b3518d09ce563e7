"""The light markup renders safely for every platform, and long texts split at boundaries."""

from __future__ import annotations

import html

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.markup import escape_markup, render_plain, render_telegram_html, split_message


def test_telegram_html_renders_bold_links_and_lists() -> None:
    text = "**PESEL UKR** — see [gov.pl](https://www.gov.pl/web/a?b=1&c=2)\n- bring a passport"
    assert render_telegram_html(text) == (
        '<b>PESEL UKR</b> — see <a href="https://www.gov.pl/web/a?b=1&amp;c=2">gov.pl</a>\n'
        "• bring a passport"
    )


def test_telegram_html_escapes_everything_else() -> None:
    assert render_telegram_html("a < b & c > d <script>") == (
        "a &lt; b &amp; c &gt; d &lt;script&gt;"
    )


def test_unbalanced_bold_stays_literal() -> None:
    assert render_telegram_html("**not closed") == "**not closed"
    assert render_plain("**not closed") == "**not closed"


def test_plain_writes_links_out() -> None:
    assert render_plain("**Kraków** [MUW](https://muw.pl)") == "Kraków MUW: https://muw.pl"
    assert render_plain("[https://muw.pl](https://muw.pl)") == "https://muw.pl"


def test_javascript_links_are_not_links() -> None:
    assert "<a" not in render_telegram_html("[x](javascript:alert(1))")


def test_split_prefers_paragraphs_then_sentences() -> None:
    para = "Перше речення. Друге речення."
    text = "\n\n".join([para] * 10)
    parts = split_message(text, 70)
    assert all(len(p) <= 70 for p in parts)
    assert all(p.endswith(".") for p in parts)
    assert " ".join(parts).replace("\n\n", " ") == " ".join([para] * 10)


def test_split_cuts_a_giant_word_hard() -> None:
    parts = split_message("x" * 10_000, 4096)
    assert [len(p) for p in parts] == [4096, 4096, 1808]


def test_split_short_and_empty() -> None:
    assert split_message("  hi  ", 10) == ["hi"]
    assert split_message("   ", 10) == []


@settings(max_examples=200, deadline=None)
@given(st.text(), st.integers(min_value=1, max_value=300))
def test_split_never_exceeds_limit_or_loses_words(text: str, limit: int) -> None:
    parts = split_message(text, limit)
    assert all(0 < len(p) <= limit for p in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_html_never_leaks_a_raw_angle_bracket(text: str) -> None:
    rendered = render_telegram_html(text)
    stripped = rendered
    for tag in ("<b>", "</b>", "</a>"):
        stripped = stripped.replace(tag, "")
    import re

    stripped = re.sub(r'<a href="[^"<>]*">', "", stripped)
    assert "<" not in stripped and ">" not in stripped


def test_escaped_text_renders_as_the_characters_typed() -> None:
    """Issue 18 item 6: what a person wrote never renders as formatting or a disguised link."""
    typed = "**bold** [bank](https://evil.example/login) \\ C:\\dir\n- not a list\n* nor this"
    escaped = escape_markup(typed)
    html_out = render_telegram_html("👤 " + escaped)
    assert "<b>" not in html_out and "<a" not in html_out and "•" not in html_out
    assert html_out == "👤 " + html.escape(typed, quote=False)
    assert render_plain(escaped) == typed


def test_escaping_is_local_to_the_person_text() -> None:
    card = "**Ticket #1**\nQuestion: «" + escape_markup("**x** [y](https://z.example)") + "»"
    assert render_telegram_html(card) == (
        "<b>Ticket #1</b>\nQuestion: «**x** [y](https://z.example)»"
    )


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_escaped_text_comes_back_unchanged(text: str) -> None:
    typed = "".join(ch for ch in text if not "\ue000" <= ch <= "\ue003")
    assert render_plain(escape_markup(typed)) == typed
    assert render_telegram_html(escape_markup(typed)) == html.escape(typed, quote=False)
