"""Masking personal data in what people type before any of it is stored.

People paste their phone number, PESEL, passport or account number into questions ("мій
песель 85010112345, чому..."). The query log keeps only :func:`scrub`'s output, where each
such token becomes a placeholder saying what it was (``[phone]``, ``[pesel]``...), so the
question is still useful for improving the matcher and holds nothing that identifies anyone.

The patterns are tuned to the numbers of Poland and Ukraine and to leave alone what questions
are made of: years and dates, amounts ("340 zł", "1 500 zł"), "800+", "30 днів", postal codes,
street numbers, short codes.
"""

from __future__ import annotations

import re

# A digit run must not continue a longer number or a word on either side.
_NB = r"(?<![\w+])"  # not after a word character or "+"
_NA = r"(?![\w])"  # not before a word character
_SEP = r"[ \-]?"  # one optional space or dash between digit groups
# A grouped number ("850 101 123 45") is read whole: a match may not start right after a digit
# and a separator, nor end right before them, so no pattern takes a piece of a longer number.
_NB_GROUP = _NB + r"(?<!\d[ \-])"
_NA_GROUP = _NA + r"(?![ \-]\d)"

# Local parts may hold any of RFC 5322's "atext" characters (o'brien+pl@…, a!b@…).
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)

# IBAN: country letters, check digits, then 11-30 letters/digits, optionally in groups of 4.
_IBAN = re.compile(r"(?<![\w])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]{1,4}){3,8}(?![\w])")

# Polish account number (NRB) without the "PL": 26 digits, usually 2 + 6 x 4.
_NRB = re.compile(_NB + r"\d{2}(?:[ ]?\d{4}){6}" + _NA)

# Payment cards: 13-19 digits, usually in groups of four; the first is 2-6 (Mastercard, Amex,
# Visa, Maestro...), so "0048600123456" stays a phone number.
_CARD = re.compile(_NB + r"[2-6]\d{3}(?:[ \-]?\d{4}){2}[ \-]?\d{1,7}" + _NA)


def _run(count: int) -> str:
    """``count`` digits, grouped however the writer liked (one space or dash between any)."""
    return rf"\d(?:{_SEP}\d){{{count - 1}}}"


_PL = r"(?:(?:(?:\+|00)\s?)?48[ \-]?)?"  # +48, 0048, 48 (optional)
_UA = r"(?:(?:\+|00)\s?)?38[ \-]?"  # +38, 0038, 38
_PHONE_PATTERNS = (
    # Any international number: +48(512)345678, +380 (67) 123 45 67, 0044 20 7946 0958
    r"(?:\+|00)\s?\d{1,3}[ \-]?(?:\(\d{1,4}\)[ \-]?)?" + _run(6) + rf"(?:{_SEP}\d){{0,7}}",
    # Ukraine with the country code: +380 67 123 45 67, +38 (067) 123-45-67, 380671234567
    _UA + r"\(0\d{2}\)" + _SEP + _run(7),
    _UA + r"0" + rf"(?:{_SEP}\d){{9}}",
    _UA + r"0?[ \-]?\(?\d{2}\)?" + _SEP + _run(7),
    # Ukraine, national: 067 123 45 67, (067) 123-45-67, 0671234567, 067 1234567
    r"\(0\d{2}\)" + _SEP + _run(7),
    r"0" + rf"(?:{_SEP}\d){{9}}",
    # Poland, mobile and landline (9 digits, grouped any way): +48 600 123 456, 600-123-456,
    # 512 34 56 78, (12) 345-67-89, +48 (512) 345 678
    _PL + r"\(\d{2,3}\)" + _SEP + r"\d(?:[ \-]?\d){5,6}",
    _PL + _run(9),
)
_PHONE = re.compile(
    _NB_GROUP + "(?:" + "|".join(f"(?:{p})" for p in _PHONE_PATTERNS) + ")" + _NA_GROUP
)

# PESEL (and any other 11-digit identifier), also written in groups: "850101 12345",
# "85 01 01 12345", "850-101-123-45". Grouped ones are looked for after the phones, so
# "48 600 123 456" stays a phone number.
_PESEL = re.compile(_NB_GROUP + r"\d{11}" + _NA_GROUP)
_PESEL_GROUPED = re.compile(_NB_GROUP + _run(11) + _NA_GROUP)


# Documents: Ukrainian passports "FA123456" / "КМ 123456" (2 letters + 6 digits), Polish
# passports and residence cards "EA1234567" (2 + 7), Polish ID cards "ABC123456" (3 + 6).
# Upper-case letters may be followed by a space; lower-case ones must touch the digits.
_LETTERS_UP = r"[A-ZА-ЯІЇЄҐ]"
_LETTERS_ANY = r"[A-Za-zА-ЯІЇЄҐа-яіїєґ]"
_DOCUMENT = re.compile(
    r"(?<![\w])(?:"
    rf"{_LETTERS_UP}{{2}} ?\d{{6,7}}|{_LETTERS_UP}{{3}} ?\d{{6}}"
    rf"|{_LETTERS_ANY}{{2}}\d{{6,7}}|{_LETTERS_ANY}{{3}}\d{{6}}"
    r")(?![\w])"
)

# Whatever long digit run is left: Ukrainian tax number (10 digits), ID card numbers (9)...
_LONG_NUMBER = re.compile(_NB + r"\d{9,}" + _NA)


def _mask_iban(match: re.Match[str]) -> str:
    token = match.group(0)
    digits = sum(ch.isdigit() for ch in token)
    compact = token.replace(" ", "")
    # An IBAN is 15-34 characters and mostly digits; ordinary words never are.
    if 15 <= len(compact) <= 34 and digits >= 10:
        return "[account]"
    return token


def scrub(text: str, *, keep_bare_numbers: bool = False) -> str:
    """``text`` with e-mails, phone numbers, PESEL, document and account numbers masked.

    ``keep_bare_numbers`` leaves digit runs without any separator alone (for log lines,
    where such runs are chat, update and message ids; what people type is masked whole by
    :mod:`bot.logging` anyway).
    """
    if keep_bare_numbers:

        def sub(pattern: re.Pattern[str], placeholder: str, text: str) -> str:
            return pattern.sub(lambda m: m.group(0) if m.group(0).isdigit() else placeholder, text)
    else:

        def sub(pattern: re.Pattern[str], placeholder: str, text: str) -> str:
            return pattern.sub(placeholder, text)

    text = _EMAIL.sub("[email]", text)
    text = _IBAN.sub(_mask_iban, text)
    text = sub(_NRB, "[account]", text)
    text = sub(_CARD, "[card]", text)
    text = sub(_PESEL, "[pesel]", text)
    text = sub(_PHONE, "[phone]", text)
    text = sub(_PESEL_GROUPED, "[pesel]", text)
    text = _DOCUMENT.sub("[document]", text)
    return sub(_LONG_NUMBER, "[number]", text)


_PLACEHOLDER = re.compile(r"\[(email|account|card|pesel|phone|document|number)\]")


def sensitive_kinds(text: str) -> frozenset[str]:
    """What :func:`scrub` would mask in ``text``: e.g. ``{"pesel", "phone"}`` (empty: nothing)."""
    return frozenset(_PLACEHOLDER.findall(scrub(text))) - frozenset(_PLACEHOLDER.findall(text))
