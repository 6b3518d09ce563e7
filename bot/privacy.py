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

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)

# IBAN: country letters, check digits, then 11-30 letters/digits, optionally in groups of 4.
_IBAN = re.compile(r"(?<![\w])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]{1,4}){3,8}(?![\w])")

# Polish account number (NRB) without the "PL": 26 digits, usually 2 + 6 x 4.
_NRB = re.compile(_NB + r"\d{2}(?:[ ]?\d{4}){6}" + _NA)

# Payment cards: 13-19 digits, usually in groups of four.
_CARD = re.compile(_NB + r"\d{4}(?:[ \-]?\d{4}){2}[ \-]?\d{1,7}" + _NA)


def _digits(*sizes: int) -> str:
    """Digit groups of the given sizes, each optionally after one space or dash."""
    return _SEP.join(rf"\d{{{size}}}" for size in sizes)


_PL = r"(?:(?:(?:\+|00)\s?)?48[ \-]?)?"  # +48, 0048, 48 (optional)
_UA = r"(?:(?:\+|00)\s?)?38[ \-]?"  # +38, 0038, 38
_PHONE_PATTERNS = (
    # Ukraine with the country code: +380 67 123 45 67, +38 (067) 123-45-67, 380671234567
    _UA + r"\(?0\d{2}\)?" + _SEP + _digits(3, 2, 2),
    _UA + r"0?[ \-]?\(?\d{2}\)?" + _SEP + _digits(3, 2, 2),
    # Ukraine, national: 067 123 45 67, (067) 123-45-67, 0671234567
    r"\(?0\d{2}\)?" + _SEP + _digits(3, 2, 2),
    # Poland, mobile and landline in 3-3-3: +48 600 123 456, 0048600123456, 600-123-456
    _PL + _digits(3, 3, 3),
    # Poland, landline in 2-3-2-2: (12) 345 67 89, +48 12 345-67-89
    _PL + r"\(?\d{2}\)?" + _SEP + _digits(3, 2, 2),
)
_PHONE = re.compile(r"(?<![\w+])(?:" + "|".join(f"(?:{p})" for p in _PHONE_PATTERNS) + ")" + _NA)

# PESEL (and any other 11-digit identifier).
_PESEL = re.compile(_NB + r"\d{11}" + _NA)

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


def scrub(text: str) -> str:
    """``text`` with e-mails, phone numbers, PESEL, document and account numbers masked."""
    text = _EMAIL.sub("[email]", text)
    text = _IBAN.sub(_mask_iban, text)
    text = _NRB.sub("[account]", text)
    text = _CARD.sub("[card]", text)
    text = _PESEL.sub("[pesel]", text)
    text = _PHONE.sub("[phone]", text)
    text = _DOCUMENT.sub("[document]", text)
    return _LONG_NUMBER.sub("[number]", text)
