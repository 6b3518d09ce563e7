"""``scrub`` masks personal data people type, and leaves the rest of a question alone."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.privacy import scrub, sensitive_kinds


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


# -- property tests over the shapes people write identifiers in ------------------------------

SEPARATORS = st.sampled_from(["", "", " ", "-"])


@st.composite
def grouped(draw: st.DrawFn, digits: str) -> str:
    """``digits`` split into groups of 1-5, joined by nothing, a space or a dash."""
    out, i = [], 0
    while i < len(digits):
        size = draw(st.integers(min_value=1, max_value=5))
        if out:
            out.append(draw(SEPARATORS))
        out.append(digits[i : i + size])
        i += size
    return "".join(out)


def digit_string(size: int, first: str = "0123456789") -> st.SearchStrategy[str]:
    return st.tuples(
        st.sampled_from(first), st.text(alphabet="0123456789", min_size=size - 1, max_size=size - 1)
    ).map("".join)


def in_a_sentence(value: str) -> str:
    return f"Добрий день, мій номер {value}, дякую"


def masked_as(text: str) -> str:
    """The placeholder ``value`` became in :func:`in_a_sentence` (and nothing else changed)."""
    scrubbed = scrub(in_a_sentence(text))
    head, tail = "Добрий день, мій номер ", ", дякую"
    assert scrubbed.startswith(head) and scrubbed.endswith(tail), scrubbed
    return scrubbed[len(head) : len(scrubbed) - len(tail)]


@given(st.data())
def test_a_pesel_however_grouped_is_masked(data: st.DataObject) -> None:
    pesel = data.draw(digit_string(11))
    written = data.draw(grouped(pesel))
    assert masked_as(written) in {"[pesel]", "[phone]"}


@pytest.mark.parametrize(
    "text", ["85 01 01 12345", "850101 12345", "850-101-123-45", "8501 0112 345", "85010 112345"]
)
def test_a_pesel_with_spaces_is_a_pesel(text: str) -> None:
    assert masked_as(text) == "[pesel]"


PL_PREFIXES = st.sampled_from(["", "", "+48", "+48 ", "+48-", "0048", "0048 ", "48 "])


@given(st.data())
def test_a_polish_phone_number_however_written_is_masked(data: st.DataObject) -> None:
    national = data.draw(digit_string(9, first="123456789"))
    parens = data.draw(st.sampled_from([0, 0, 2, 3]))
    if parens:
        rest = national[parens:]
        written = f"({national[:parens]})" + data.draw(SEPARATORS) + data.draw(grouped(rest))
    else:
        written = data.draw(grouped(national))
    assert masked_as(data.draw(PL_PREFIXES) + written) == "[phone]"


UA_PREFIXES = st.sampled_from(["", "", "+38", "+38 ", "38 ", "0038 ", "+3"])


@given(st.data())
def test_a_ukrainian_phone_number_however_written_is_masked(data: st.DataObject) -> None:
    national = "0" + data.draw(digit_string(9, first="3456789"))
    prefix = data.draw(UA_PREFIXES)
    if prefix == "+3":  # +380 67 123 45 67, +380 (67) 1234567
        operator, rest = national[1:3], national[3:]
        parens = data.draw(st.booleans())
        operator = f"({operator})" if parens else operator
        written = "+380" + data.draw(SEPARATORS) + operator + data.draw(SEPARATORS)
        written += data.draw(grouped(rest))
    elif data.draw(st.booleans()):  # (067) 123 45 67
        written = prefix + f"({national[:3]})" + data.draw(SEPARATORS)
        written += data.draw(grouped(national[3:]))
    else:
        written = prefix + data.draw(grouped(national))
    assert masked_as(written) == "[phone]"


@pytest.mark.parametrize(
    "text", ["+48(512)345678", "+48 (512) 345-678", "+48(12)3456789", "+380(67)1234567"]
)
def test_phone_numbers_with_the_area_code_in_brackets(text: str) -> None:
    assert masked_as(text) == "[phone]"


@given(st.data())
def test_an_iban_or_account_number_is_masked(data: st.DataObject) -> None:
    country, size = data.draw(st.sampled_from([("PL", 26), ("UA", 27), ("", 26)]))
    digits = data.draw(digit_string(size))
    if data.draw(st.booleans()):  # in groups of four, as banks print them
        compact = country + digits
        written = " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
        if not country:
            written = digits[:2] + " " + " ".join(digits[i : i + 4] for i in range(2, size, 4))
    else:
        written = country + digits
    assert masked_as(written) == "[account]"


LATIN_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CYRILLIC_UPPER = "АБВГДЕЄЖЗИІЇКЛМНОПРСТУФХЦЧШЩЮЯ"


@given(
    st.text(alphabet=st.sampled_from(LATIN_UPPER + CYRILLIC_UPPER), min_size=2, max_size=2),
    st.sampled_from([6, 7]),
    st.sampled_from(["", " "]),
    st.data(),
)
def test_a_passport_number_is_masked(
    letters: str, size: int, gap: str, data: st.DataObject
) -> None:
    number = data.draw(digit_string(size))
    assert masked_as(f"{letters}{gap}{number}") == "[document]"


@given(st.emails())
def test_an_email_address_is_masked(address: str) -> None:
    assert masked_as(address) == "[email]"


def test_sensitive_kinds_names_what_would_be_masked() -> None:
    assert sensitive_kinds("мій песель 85 01 01 12345 і паспорт FA123456") == {"pesel", "document"}
    assert sensitive_kinds("як отримати песель?") == set()
    assert sensitive_kinds("[pesel] as a word") == set()


def test_keep_bare_numbers_leaves_ids_and_masks_the_rest() -> None:
    line = "update 600123456 from chat 85010112345: +48 600 123 456, a@b.pl, 850101 12345"
    assert scrub(line, keep_bare_numbers=True) == (
        "update 600123456 from chat 85010112345: [phone], [email], [pesel]"
    )
