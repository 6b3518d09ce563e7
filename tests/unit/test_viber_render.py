"""Reply → Viber ``send_message`` bodies: keyboards, the bottom keyboard, markup, the 7,000
character and 30 KB limits, media."""

from __future__ import annotations

import json

import pytest

from bot.messengers.viber.protocol import REQUEST_LIMIT, TEXT_LIMIT, parse_action_body
from bot.messengers.viber.render import (
    KEYBOARD_BUDGET,
    NavButton,
    Notes,
    Style,
    build_keyboard,
    downgrade,
    render_reply,
    size,
)
from handlers.model import Address, Button, Media, MediaKind, Platform, Reply

TO = Address(Platform.VIBER, "01234567890A=")
NAV = [
    NavButton("🏠 Меню", "menu"),
    NavButton("💬 Консультант", "consultant"),
    NavButton("🌐 Мова", "language"),
    NavButton("🗑 Забути мене", "forget"),
]


def lines_of(buttons: list[dict[str, object]]) -> list[list[dict[str, object]]]:
    """How Viber lays the buttons out: left to right, a new line when six columns are full."""
    lines: list[list[dict[str, object]]] = [[]]
    used = 0
    for button in buttons:
        columns = int(button["Columns"])  # type: ignore[call-overload]
        if used + columns > 6:
            lines.append([])
            used = 0
        lines[-1].append(button)
        used += columns
    return lines


def test_text_is_plain_with_links_written_out() -> None:
    reply = Reply(TO, "**PESEL** — see [gov.pl](https://www.gov.pl/pesel)\n- one\n- two")
    (message,) = render_reply(reply)
    assert message["type"] == "text"
    assert message["text"] == "PESEL — see gov.pl: https://www.gov.pl/pesel\n• one\n• two"
    assert message["receiver"] == TO.chat_id
    assert message["sender"] == {"name": "Małopolska Otwarta"}
    assert message["min_api_version"] >= 7


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6, 7, 8])
def test_every_row_fills_whole_lines(count: int) -> None:
    row = tuple(Button(f"b{i}", f"t:x{i}") for i in range(count))
    keyboard = build_keyboard((row,), ())
    assert keyboard is not None
    buttons = keyboard["Buttons"]
    assert len(buttons) == count
    for line in lines_of(buttons):
        assert sum(int(b["Columns"]) for b in line) == 6  # no gaps, no overflow


def test_buttons_carry_opaque_ids_silently_and_links_open_urls() -> None:
    reply = Reply(
        TO,
        "Answer",
        (
            (Button("👍", "fb:12:1"), Button("👎", "fb:12:0")),
            (Button("gov.pl", url="https://www.gov.pl"),),
        ),
    )
    (message,) = render_reply(reply, NAV)
    buttons = message["keyboard"]["Buttons"]
    assert message["keyboard"]["Type"] == "keyboard"
    assert message["keyboard"]["DefaultHeight"] is False
    up, down, link = buttons[:3]
    assert (up["ActionType"], parse_action_body(up["ActionBody"])) == (
        "reply",
        ("button", "fb:12:1"),
    )
    assert up["Silent"] is True and up["Columns"] == 3
    assert parse_action_body(down["ActionBody"]) == ("button", "fb:12:0")
    assert (link["ActionType"], link["ActionBody"]) == ("open-url", "https://www.gov.pl")
    assert "Silent" not in link
    nav = buttons[3:]
    assert [b["Text"] for b in nav] == [n.label for n in NAV]
    assert [parse_action_body(b["ActionBody"]) for b in nav] == [
        ("command", n.command) for n in NAV
    ]


def test_every_message_carries_the_bottom_keyboard() -> None:
    (message,) = render_reply(Reply(TO, "Just text"), NAV)
    assert [b["Text"] for b in message["keyboard"]["Buttons"]] == [n.label for n in NAV]


def test_menu_is_not_offered_twice() -> None:
    reply = Reply(TO, "Answer", ((Button("🏠 Menu", "m"),),))
    (message,) = render_reply(reply, NAV)
    bodies = [parse_action_body(b["ActionBody"]) for b in message["keyboard"]["Buttons"]]
    assert ("button", "m") in bodies
    assert ("command", "menu") not in bodies


def test_text_over_7000_characters_is_split_with_the_keyboard_last() -> None:
    paragraph = "Слово " * 150  # ~900 characters
    text = "\n\n".join(paragraph.strip() for _ in range(20))  # ~18,000 characters
    reply = Reply(TO, text, ((Button("OK", "m"),),))
    messages = render_reply(reply, NAV)
    assert len(messages) == 3
    assert all(len(m["text"]) <= TEXT_LIMIT for m in messages)
    assert all("keyboard" not in m for m in messages[:-1])
    assert "keyboard" in messages[-1]
    assert "".join(m["text"] for m in messages).replace("\n", "") == text.replace("\n", "")
    assert all(size(m) <= REQUEST_LIMIT for m in messages)


def test_30_kb_limit_splits_text_that_fits_7000_characters() -> None:
    text = "😀" * 6990  # under 7,000 characters, but 27,960 bytes of UTF-8
    rows = tuple((Button(f"Тема номер {i}", f"t:topic-{i}"),) for i in range(12))
    whole = {**render_reply(Reply(TO, "x", rows), NAV)[0], "text": text}
    assert size(whole) > REQUEST_LIMIT  # one message would be refused
    messages = render_reply(Reply(TO, text, rows), NAV)
    assert len(messages) == 2
    assert all(size(m) <= REQUEST_LIMIT for m in messages)
    assert "".join(m["text"] for m in messages) == text
    assert "keyboard" in messages[-1] and "keyboard" not in messages[0]


def test_cyrillic_is_sent_as_utf8_not_escapes() -> None:
    text = "Ї" * 6900
    (message,) = render_reply(Reply(TO, text))
    # \\u0407 escapes would make this 41 KB; as UTF-8 it is 14 KB.
    assert size(message) < 15_000
    assert "\\u" not in json.dumps(message, ensure_ascii=False)


def test_huge_keyboard_is_trimmed_keeping_the_bottom_keyboard() -> None:
    rows = tuple((Button("Дуже довга назва теми " * 3, f"t:topic-{i}"),) for i in range(300))
    keyboard = build_keyboard(rows, NAV)
    assert keyboard is not None
    assert size(keyboard) <= KEYBOARD_BUDGET
    bodies = [parse_action_body(b["ActionBody"]) for b in keyboard["Buttons"]]
    assert bodies[0] == ("button", "t:topic-0")  # the first ones stay
    assert bodies[-4:] == [("command", n.command) for n in NAV]
    assert len(bodies) - 4 < 300
    messages = render_reply(Reply(TO, "Теми:", rows), NAV)
    assert all(size(m) <= REQUEST_LIMIT for m in messages)


def test_long_labels_are_shortened() -> None:
    keyboard = build_keyboard(((Button("x" * 500, "m"),),), ())
    assert keyboard is not None
    assert len(keyboard["Buttons"][0]["Text"]) <= 120


def test_picture_by_url_with_a_short_caption() -> None:
    media = Media(MediaKind.PHOTO, "https://files.example.org/a.jpg")
    (message,) = render_reply(Reply(TO, "Ось зразок", media=media), NAV)
    assert (message["type"], message["media"], message["text"]) == (
        "picture",
        "https://files.example.org/a.jpg",
        "Ось зразок",
    )
    assert "keyboard" in message


def test_picture_with_a_long_text_goes_first_then_the_text() -> None:
    media = Media(MediaKind.PHOTO, "https://files.example.org/a.jpg")
    first, second = render_reply(Reply(TO, "Текст " * 200, media=media), NAV)
    assert first["type"] == "picture" and first["text"] == ""
    assert second["type"] == "text" and "keyboard" in second


def test_location_contact_and_sticker() -> None:
    (location,) = render_reply(Reply(TO, media=Media(MediaKind.LOCATION, "50.06,19.94")))
    assert location["location"] == {"lat": 50.06, "lon": 19.94}
    (contact,) = render_reply(Reply(TO, media=Media(MediaKind.CONTACT, "+48123456789", "Urząd")))
    assert contact["contact"] == {"name": "Urząd", "phone_number": "+48123456789"}
    (sticker,) = render_reply(Reply(TO, media=Media(MediaKind.STICKER, "46105")))
    assert sticker["sticker_id"] == 46105


def test_a_file_by_url_becomes_a_link() -> None:
    media = Media(
        MediaKind.DOCUMENT, "https://files.example.org/wniosek.pdf", file_name="wniosek.pdf"
    )
    (message,) = render_reply(Reply(TO, "Заповніть", media=media), NAV)
    assert message["type"] == "text"
    assert message["text"].startswith("📎 wniosek.pdf: https://files.example.org/wniosek.pdf")
    assert message["text"].endswith("Заповніть")


def test_a_telegram_file_id_becomes_a_note_with_the_caption() -> None:
    media = Media(MediaKind.PHOTO, "AgACAgIAAxkBAAIB", caption="Скан **паспорта**")
    notes = Notes(file_not_shown="📎 Консультант надіслав файл, який Viber не покаже.")
    (message,) = render_reply(Reply(TO, "", media=media), NAV, notes=notes)
    assert message["type"] == "text"
    assert message["text"] == "📎 Консультант надіслав файл, який Viber не покаже.\nСкан паспорта"


def test_empty_reply_is_an_error() -> None:
    with pytest.raises(ValueError):
        render_reply(Reply(TO, "   "))


def test_downgrade_for_old_clients() -> None:
    (message,) = render_reply(Reply(TO, "x", ((Button("a", "m"),),)), NAV, style=Style())
    old = downgrade(message)
    assert old["min_api_version"] == 1
    assert all("Silent" not in b for b in old["keyboard"]["Buttons"])
    assert message["keyboard"]["Buttons"][0]["Silent"] is True  # the original is untouched
