"""A small knowledge base for the matcher's tests, written to a temporary directory.

Independent of the real ``content/`` wording, so content edits never break these tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ENTRIES: dict[str, dict[str, Any]] = {
    "pesel-ukr": {
        "topic": "stay",
        "title": ("Номер PESEL UKR", "Номер PESEL UKR", "Numer PESEL UKR", "PESEL UKR number"),
        "questions": {
            "uk": [
                "як отримати песель укр",
                "де оформити номер песель",
                "песель для дитини",
                "які документи на песель",
                "скільки днів є щоб зробити песель",
            ],
            "ru": [
                "как получить песель укр",
                "где оформить номер песель",
                "песель для ребенка",
                "какие документы нужны на песель",
                "сколько дней чтобы сделать песель",
            ],
            "pl": ["jak dostać numer PESEL UKR", "gdzie złożyć wniosek o PESEL"],
            "en": ["how to get a pesel number", "where do i apply for pesel"],
        },
        "aliases": ["PESEL", "PESEL UKR", "песель"],
    },
    "residence-registration": {
        "topic": "life",
        "title": ("Мельдунек", "Мельдунек", "Zameldowanie", "Registering an address"),
        "questions": {
            "uk": [
                "як зробити мельдунек",
                "де прописатися в польщі",
                "мельдунек без власника",
                "реєстрація місця проживання",
            ],
            "ru": [
                "как сделать мельдунек",
                "где прописаться в польше",
                "мельдунек без хозяина",
                "регистрация места жительства",
            ],
            "pl": ["jak się zameldować", "zameldowanie na pobyt czasowy"],
            "en": ["how do i register my address", "registration of residence in poland"],
        },
        "aliases": ["meldunek", "zameldowanie", "мельдунек", "прописка"],
    },
    "benefit-800plus": {
        "topic": "social",
        "title": ("Виплата 800+", "Выплата 800+", "Świadczenie 800+", "The 800+ benefit"),
        "questions": {
            "uk": [
                "як подати на 800+",
                "хто має право на вісімсот плюс",
                "виплата на дитину",
                "чому зупинили 800+",
            ],
            "ru": [
                "как подать на 800+",
                "кто имеет право на восемьсот плюс",
                "выплата на ребенка",
                "почему остановили 800+",
            ],
            "pl": ["jak złożyć wniosek o 800 plus", "świadczenie wychowawcze"],
            "en": ["how to apply for 800 plus", "child benefit in poland"],
        },
        "aliases": ["800+", "800 plus", "ZUS"],
    },
    "doctor-visit": {
        "topic": "health",
        "title": ("Сімейний лікар", "Семейный врач", "Lekarz rodzinny", "Family doctor"),
        "questions": {
            "uk": [
                "як записатися до сімейного лікаря",
                "де взяти направлення до спеціаліста",
                "електронний рецепт на ліки",
            ],
            "ru": [
                "как записаться к семейному врачу",
                "где взять направление к специалисту",
                "электронный рецепт на лекарства",
            ],
            "pl": ["jak zapisać się do lekarza rodzinnego", "skierowanie do specjalisty"],
            "en": ["how do i register with a family doctor", "referral to a specialist"],
        },
        "aliases": ["POZ", "e-recepta"],
    },
    "bank-account": {
        "topic": "life",
        "title": ("Банківський рахунок", "Банковский счет", "Konto w banku", "Bank account"),
        "questions": {
            "uk": [
                "як відкрити рахунок у банку",
                "які документи для банківського рахунку",
                "банк відмовив відкрити рахунок",
            ],
            "ru": [
                "как открыть счет в банке",
                "какие документы для банковского счета",
                "банк отказал открыть счет",
            ],
            "pl": ["jak otworzyć konto w banku", "konto bankowe dla cudzoziemca"],
            "en": ["how to open a bank account", "documents for a bank account"],
        },
        "aliases": ["konto", "рахунок", "счет"],
    },
    "driving-licence": {
        "topic": "life",
        "title": ("Водійські права", "Водительские права", "Prawo jazdy", "Driving licence"),
        "questions": {
            "uk": [
                "чи можна їздити з українськими правами",
                "як обміняти водійські права",
                "обмін прав на польські",
            ],
            "ru": [
                "можно ли ездить с украинскими правами",
                "как обменять водительские права",
                "обмен прав на польские",
            ],
            "pl": ["wymiana prawa jazdy", "czy mogę jeździć na ukraińskim prawie jazdy"],
            "en": ["exchange a driving licence", "can i drive with a ukrainian licence"],
        },
        "aliases": ["prawo jazdy", "права"],
    },
}

TOPIC_TITLES = {
    "stay": ("Перебування", "Пребывание", "Pobyt", "Stay"),
    "life": ("Побут", "Быт", "Codzienność", "Daily life"),
    "social": ("Виплати", "Выплаты", "Świadczenia", "Benefits"),
    "health": ("Здоров'я", "Здоровье", "Zdrowie", "Health"),
}


def _per_lang(values: tuple[str, str, str, str]) -> dict[str, str]:
    return dict(zip(("uk", "ru", "pl", "en"), values, strict=True))


def write_kb(root: Path) -> Path:
    """Write the synthetic knowledge base under ``root`` and return ``root``."""
    for entry_id, spec in ENTRIES.items():
        folder = root / "entries" / spec["topic"]
        folder.mkdir(parents=True, exist_ok=True)
        title = _per_lang(spec["title"])
        data = {
            "id": entry_id,
            "topic": spec["topic"],
            "audience": ["all"],
            "title": title,
            "questions": spec["questions"],
            "aliases": spec["aliases"],
            "answer": {lang: f"{text}: відповідь / answer." for lang, text in title.items()},
            "sources": ["https://www.gov.pl"],
            "valid_as_of": "2026-03-05",
            "last_verified": "2026-03-05",
        }
        (folder / f"{entry_id}.yaml").write_text(
            yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    topics = []
    for topic, titles in TOPIC_TITLES.items():
        ids = [i for i, spec in ENTRIES.items() if spec["topic"] == topic]
        topics.append({"id": topic, "title": _per_lang(titles), "entries": ids})
    (root / "topics.yaml").write_text(
        yaml.safe_dump({"topics": topics}, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return root
