"""``scrub`` masks personal data people type, and leaves the rest of a question alone."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.privacy import scrub


@pytest.mark.parametrize(
    "text",
    [
        # Polish mobile and landline numbers
        "+48 600 123 456",
        "+48600123456",
        "+48 600-123-456",
        "0048 600 123 456",
        "48 600 123 456",
        "600 123 456",
        "600-123-456",
        "600123456",
        "(12) 345-67-89",
        "12 345 67 89",
        "+48 12 345 67 89",
        # Ukrainian numbers
        "+380 67 123 45 67",
        "+380671234567",
        "380671234567",
        "+38 (067) 123-45-67",
        "+38 067 123 45 67",
        "067 123 45 67",
        "(067) 123-45-67",
        "067-123-45-67",
        "0671234567",
    ],
)
def test_phone_numbers_are_masked(text: str) -> None:
    assert scrub(f"мій номер {text}, подзвоніть") == "мій номер [phone], подзвоніть"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pesel 85010112345", "pesel [pesel]"),
        ("PESEL:02270803628.", "PESEL:[pesel]."),
        ("ivan.petrenko+pl@gmail.com", "[email]"),
        ("пишіть на olena_k@ukr.net!", "пишіть на [email]!"),
        ("паспорт FA123456", "паспорт [document]"),
        ("паспорт КМ 123456", "паспорт [document]"),
        ("паспорт км123456", "паспорт [document]"),
        ("dowód ABC123456", "dowód [document]"),
        ("dowód ABC 123456", "dowód [document]"),
        ("paszport EA1234567", "paszport [document]"),
        ("karta pobytu RP1234567", "karta pobytu [document]"),
        ("ID-картка 001234567", "ID-картка [phone]"),
        ("РНОКПП 3123456789", "РНОКПП [number]"),
        ("konto PL61 1090 1014 0000 0712 1981 2874", "konto [account]"),
        ("konto PL61109010140000071219812874", "konto [account]"),
        ("konto 61 1090 1014 0000 0712 1981 2874", "konto [account]"),
        ("IBAN UA213223130000026007233566001", "IBAN [account]"),
        ("IBAN UA21 3223 1300 0002 6007 2335 6600 1", "IBAN [account]"),
        ("картка 4111 1111 1111 1111", "картка [card]"),
        ("картка 4111-1111-1111-1111", "картка [card]"),
        ("картка 5375414112345678", "картка [card]"),
    ],
)
def test_identifiers_are_masked(text: str, expected: str) -> None:
    assert scrub(text) == expected


def test_a_whole_message_keeps_its_meaning() -> None:
    text = (
        "Добрий день, мій PESEL 85010112345, телефон +48 600 123 456, "
        "пошта anna@example.com. Чи можу я отримати 800+ до 30 вересня 2026?"
    )
    assert scrub(text) == (
        "Добрий день, мій PESEL [pesel], телефон [phone], "
        "пошта [email]. Чи можу я отримати 800+ до 30 вересня 2026?"
    )


@pytest.mark.parametrize(
    "text",
    [
        "800+",
        "чи отримаю 800+ на дитину",
        "у 2024 році",
        "2024-2026",
        "між 2022 і 2023",
        "2022 2023 2024",
        "30 days",
        "30 днів у поїздці",
        "340 zł + 100 zł",
        "1 500 zł",
        "15 000 zł на рік",
        "1 000 000 zł",
        "4 March 2027",
        "12.05.2024",
        "05.03.2026 - 04.03.2027",
        "31-153 Kraków",
        "ul. Zabłocie 20",
        "ul. Przy Rondzie 6",
        "10:00-15:00",
        "B2B, MP3, COVID19, PIT37, PIT-37, A1",
        "CUKR, ZUS, NFZ, UDSC, MOS",
        "365 днів",
        "стаття 42",
        "дитина 6 років",
        "12 годин",
        "пункт 3.2.1",
        "€50, $100, 200 грн",
        "#42",
        "Windows 11",
        "e-mail",
        "@otwarta",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert scrub(text) == text


@given(st.text(alphabet=st.characters(blacklist_categories=("Nd",)), max_size=200))
def test_text_without_digits_or_at_is_unchanged(text: str) -> None:
    if "@" not in text:
        assert scrub(text) == text


@given(st.integers(min_value=0, max_value=99_999_999))
def test_numbers_of_up_to_eight_digits_are_unchanged(number: int) -> None:
    assert scrub(f"сума {number} zł") == f"сума {number} zł"


def test_scrub_is_idempotent() -> None:
    text = "PESEL 85010112345, +48 600 123 456, a@b.pl, FA123456"
    once = scrub(text)
    assert scrub(once) == once
