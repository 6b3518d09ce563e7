"""The conversation, end to end through the router: real matcher, real i18n, fake store only.

Every turn goes through :func:`handlers.router.handle` with a real :class:`TurnContext`, the
real matcher on a small synthetic knowledge base (so the tests do not depend on the wording of
the real content, which editors change), the real babel catalogs, and an in-memory
:class:`ConversationStore`. Every turn also checks the invariants every reply must keep:
at least one reply, button ids of at most 64 bytes, nothing in English for a person who chose
another language.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.i18n import read_catalog, translator_for
from bot.privacy import scrub
from faq import build_matcher
from faq.content import KnowledgeBase, load_knowledge_base
from faq.languages import LANGS
from faq.matcher import Matcher
from handlers import ids
from handlers.context import Desk, TurnContext, UserState
from handlers.handoff import NotConfiguredDesk
from handlers.handoff_model import HandoffReason, HandoffRequest
from handlers.model import (
    Address,
    Button,
    EventKind,
    IncomingEvent,
    Media,
    MediaKind,
    Platform,
    Reply,
    Sender,
)
from handlers.router import handle

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)

# ------------------------------------------------------------------------------------------
# A small knowledge base, written the way the real one is (shared/CONTENT.md), in tmp.

ANSWER_PHRASE = {
    "uk": "ось що треба зробити",
    "ru": "вот что нужно сделать",
    "pl": "oto co trzeba zrobić",
    "en": "here is what to do",
}


def _entry(
    entry_id: str,
    topic: str,
    audience: list[str],
    title: dict[str, str],
    questions: dict[str, list[str]],
    *,
    escalate: bool = False,
    related: tuple[str, ...] = (),
    aliases: tuple[str, ...] = (),
    answer: dict[str, str] | None = None,
    sections: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    extra = {"sections": sections} if sections else {}
    return {
        **extra,
        "id": entry_id,
        "topic": topic,
        "audience": audience,
        "title": title,
        "questions": questions,
        "aliases": list(aliases),
        "answer": answer or {lang: f"{title[lang]}: {ANSWER_PHRASE[lang]}." for lang in LANGS},
        "sources": ["https://www.gov.pl/web/udsc", "Urząd Wojewódzki w Krakowie"],
        "valid_as_of": "2026-03-05",
        "last_verified": "2026-11-02",
        "escalate": escalate,
        "related": list(related),
    }


ENTRIES = [
    _entry(
        "pesel-ukr",
        "stay",
        ["ukr-status"],
        {
            "uk": "Як отримати PESEL UKR",
            "ru": "Как получить PESEL UKR",
            "pl": "Jak uzyskać PESEL UKR",
            "en": "Getting PESEL UKR",
        },
        {
            "uk": [
                "як отримати песель укр",
                "де оформити pesel ukr",
                "песель для дитини",
                "номер песель для новоприбулих",
            ],
            "ru": ["как получить песель укр", "где оформить pesel ukr", "песель для ребенка"],
            "pl": ["jak uzyskać PESEL UKR", "gdzie złożyć wniosek o PESEL UKR"],
            "en": ["how to get PESEL UKR", "where to apply for PESEL UKR"],
        },
        related=("ukr-status", "not-written-yet"),
        aliases=("PESEL UKR", "песель"),
        sections={
            "children": {
                "uk": "Дітям: заяву подає батько або мати.",
                "ru": "Детям: заявление подает отец или мать.",
                "pl": "Dzieci: wniosek składa rodzic.",
                "en": "Children: a parent applies.",
            }
        },
    ),
    _entry(
        "ukr-status",
        "stay",
        ["ukr-status"],
        {"uk": "Статус UKR", "ru": "Статус UKR", "pl": "Status UKR", "en": "UKR status"},
        {
            "uk": [
                "до якого числа діє тимчасовий захист",
                "чи продовжили статус укр",
                "тимчасовий захист українців",
            ],
            "ru": ["до какого числа действует временная защита", "продлили ли статус укр"],
            "pl": ["do kiedy obowiązuje ochrona czasowa", "status UKR przedłużony"],
            "en": ["how long does temporary protection last", "is UKR status extended"],
        },
        escalate=True,
    ),
    _entry(
        "residence-card",
        "stay",
        ["residence-card"],
        {
            "uk": "Отримання карти побиту",
            "ru": "Получение карты побыту",
            "pl": "Odbiór karty pobytu",
            "en": "Collecting the residence card",
        },
        {
            "uk": ["як забрати карту побиту", "загубив карту побиту що робити", "карта побиту"],
            "ru": ["как забрать карту побыту", "потерял карту побыту что делать"],
            "pl": ["odbiór karty pobytu", "zgubiłem kartę pobytu"],
            "en": ["collect my residence card", "lost my residence card"],
        },
    ),
    _entry(
        "temporary-residence",
        "stay",
        ["residence-card", "other-tcn"],
        {
            "uk": "Дозвіл на тимчасове перебування",
            "ru": "Разрешение на временное пребывание",
            "pl": "Zezwolenie na pobyt czasowy",
            "en": "Temporary residence permit",
        },
        {
            "uk": ["як подати на карту побиту", "дозвіл на тимчасове перебування", "карта побиту"],
            "ru": ["как подать на карту побыту", "разрешение на временное пребывание"],
            "pl": ["wniosek o kartę pobytu", "zezwolenie na pobyt czasowy"],
            "en": ["apply for a residence card", "temporary residence permit"],
        },
    ),
    _entry(
        "work-permit",
        "work",
        ["other-tcn"],
        {
            "uk": "Дозвіл на роботу",
            "ru": "Разрешение на работу",
            "pl": "Zezwolenie na pracę",
            "en": "Work permit",
        },
        {
            "uk": ["дозвіл на роботу для іноземця", "як отримати дозвіл на працю"],
            "ru": ["разрешение на работу для иностранца", "как получить разрешение на работу"],
            "pl": ["zezwolenie na pracę dla cudzoziemca"],
            "en": ["work permit for a foreigner"],
        },
    ),
    _entry(
        "doctor-visit",
        "health",
        ["all"],
        {
            "uk": "Сімейний лікар",
            "ru": "Семейный врач",
            "pl": "Lekarz rodzinny",
            "en": "Family doctor",
        },
        {
            "uk": ["як записатися до сімейного лікаря", "де знайти лікаря"],
            "ru": ["как записаться к семейному врачу", "где найти врача"],
            "pl": ["jak zapisać się do lekarza rodzinnego"],
            "en": ["how to register with a family doctor"],
        },
    ),
    _entry(
        "emergency-numbers",
        "contacts",
        ["all"],
        {
            "uk": "Екстрені номери",
            "ru": "Экстренные номера",
            "pl": "Numery alarmowe",
            "en": "Emergency numbers",
        },
        {
            "uk": ["номер швидкої допомоги", "куди дзвонити при пожежі"],
            "ru": ["номер скорой помощи", "куда звонить при пожаре"],
            "pl": ["numer alarmowy", "numer na pogotowie"],
            "en": ["emergency number", "ambulance number"],
        },
        related=("doctor-visit",),
        answer={
            "uk": "**112** — екстрений номер. Кризова лінія: **116 123**.",
            "ru": "**112** — экстренный номер. Кризисная линия: **116 123**.",
            "pl": "**112** — numer alarmowy. Telefon kryzysowy: **116 123**.",
            "en": "**112** is the emergency number. Crisis line: **116 123**.",
        },
    ),
]

TOPICS = [
    (
        "stay",
        "🛂",
        ["pesel-ukr", "ukr-status", "residence-card", "temporary-residence", "not-written-yet"],
    ),
    ("work", "💼", ["work-permit"]),
    ("health", "🏥", ["doctor-visit"]),
    ("education", "🎓", ["not-written-either"]),
    ("contacts", "📞", ["emergency-numbers"]),
]
TOPIC_TITLES = {
    "stay": {"uk": "Перебування", "ru": "Пребывание", "pl": "Pobyt", "en": "Stay"},
    "work": {"uk": "Робота", "ru": "Работа", "pl": "Praca", "en": "Work"},
    "health": {"uk": "Здоров'я", "ru": "Здоровье", "pl": "Zdrowie", "en": "Health"},
    "education": {"uk": "Освіта", "ru": "Образование", "pl": "Edukacja", "en": "Education"},
    "contacts": {"uk": "Контакти", "ru": "Контакты", "pl": "Kontakty", "en": "Contacts"},
}

CONTACTS = [
    {
        "id": "info-point",
        "name": {
            "uk": "Пункт інформації",
            "ru": "Пункт информации",
            "pl": "Punkt Informacyjny",
            "en": "Information Point",
        },
        "address": "ul. Zabłocie 20, Kraków",
        "url": "https://otwarty.krakow.pl",
        "note": {
            "uk": "Безкоштовні консультації.",
            "ru": "Бесплатные консультации.",
            "pl": "Bezpłatne porady.",
            "en": "Free advice.",
        },
    },
    {
        "id": "infoopt",
        "name": {
            "uk": "Інфолінія INFO.OPT",
            "ru": "Инфолиния INFO.OPT",
            "pl": "Infolinia INFO.OPT",
            "en": "INFO.OPT line",
        },
        "phone": "+48 12 210 20 20",
    },
    {
        "id": "night-shelter",
        "name": {
            "uk": "Нічліг сьогодні",
            "ru": "Ночлег сегодня",
            "pl": "Nocleg na dziś",
            "en": "A bed tonight",
        },
        "phone": "986",
        "note": {
            "uk": "Допоможуть дістатися до нічліжки.",
            "ru": "Помогут добраться до ночлежки.",
            "pl": "Pomogą dotrzeć do noclegowni.",
            "en": "They help you reach a night shelter.",
        },
    },
]


def write_kb(root: Path, *, contacts: bool = True) -> Path:
    for entry in ENTRIES:
        path = root / "entries" / entry["topic"] / f"{entry['id']}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(entry, allow_unicode=True), encoding="utf-8")
    topics = [
        {"id": tid, "emoji": emoji, "title": TOPIC_TITLES[tid], "entries": entries}
        for tid, emoji, entries in TOPICS
    ]
    (root / "topics.yaml").write_text(
        yaml.safe_dump({"topics": topics}, allow_unicode=True), encoding="utf-8"
    )
    if contacts:
        (root / "contacts.yaml").write_text(
            yaml.safe_dump({"contacts": CONTACTS}, allow_unicode=True), encoding="utf-8"
        )
    return root


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return load_knowledge_base(write_kb(tmp_path_factory.mktemp("content")))


@pytest.fixture(scope="module")
def matcher(kb: KnowledgeBase) -> Matcher:
    return build_matcher(kb)


# ------------------------------------------------------------------------------------------
# The store and the desk, in memory.


@dataclass
class LoggedQuery:
    user_id: int
    text: str
    decision: str
    intent: str | None
    lang: str
    candidates: list[tuple[str, float]]
    feedback: bool | None = None
    chosen_entry: str | None = None
    none_of_these: bool = False


@dataclass
class MemoryStore:
    """:class:`handlers.context.ConversationStore` in memory, scrubbing as the real one does."""

    queries: dict[int, LoggedQuery] = field(default_factory=dict)
    forgotten: list[int] = field(default_factory=list)
    subscribed: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def log_query(
        self,
        user: UserState,
        text: str,
        decision: str,
        intent: str | None,
        lang: str,
        candidates: list[tuple[str, float]],
    ) -> int:
        query_id = next(self._ids)
        self.queries[query_id] = LoggedQuery(
            user.id, scrub(text), decision, intent, lang, list(candidates)
        )
        return query_id

    async def record_feedback(self, user: UserState, query_id: int, helpful: bool) -> bool:
        query = self.queries.get(query_id)
        if query is None or query.user_id != user.id:
            return False
        query.feedback = helpful
        return True

    async def record_choice(self, user: UserState, query_id: int, entry_id: str | None) -> bool:
        query = self.queries.get(query_id)
        if query is None or query.user_id != user.id:
            return False
        if entry_id is None:
            query.none_of_these = True
        else:
            query.chosen_entry = entry_id
        return True

    async def forget_user(self, user: UserState) -> None:
        self.forgotten.append(user.id)
        for query_id in [q for q, query in self.queries.items() if query.user_id == user.id]:
            del self.queries[query_id]
        self.subscribed.pop(user.id, None)

    async def subscriptions(self, user: UserState) -> list[tuple[str, str]]:
        return list(self.subscribed.get(user.id, []))

    async def subscribe(self, user: UserState, kind: str, target: str) -> bool:
        mine = self.subscribed.setdefault(user.id, [])
        if (kind, target) in mine:
            return False
        mine.append((kind, target))
        return True

    async def unsubscribe(self, user: UserState, kind: str, target: str) -> bool:
        mine = self.subscribed.get(user.id, [])
        if (kind, target) not in mine:
            return False
        mine.remove((kind, target))
        return True

    async def unsubscribe_all(self, user: UserState) -> int:
        return len(self.subscribed.pop(user.id, []))


@dataclass
class RecordingDesk:
    """A configured desk that records tickets and says one line (the real desk comes later)."""

    tickets: list[HandoffRequest] = field(default_factory=list)

    @property
    def is_configured(self) -> bool:
        return True

    async def open_ticket(self, ctx: TurnContext, request: HandoffRequest) -> None:
        self.tickets.append(request)
        ctx.reply(f"ticket {len(self.tickets)}", kind="handoff")


# ------------------------------------------------------------------------------------------
# A person talking to the bot.


def _strings(lang: str) -> dict[str, str]:
    return {
        m.id: m.string
        for m in read_catalog(lang)
        if isinstance(m.id, str) and m.id and isinstance(m.string, str)
    }


_CATALOGS = {lang: _strings(lang) for lang in LANGS}


def english_leaks(text: str, lang: str) -> list[str]:
    """English UI strings (their first clause) found in ``text`` meant for ``lang``.

    Compared with the catalog as written, not as looked up, so a message missing from the
    ``lang`` catalog (shown in English by the fallback) counts as a leak.
    """
    if lang == "en":
        return []
    own = _CATALOGS[lang]
    leaks = []
    for msgid, english in _CATALOGS["en"].items():
        if own.get(msgid) == english:
            continue  # the same in both languages ("🏠 Menu" in Polish)
        probe = english.split(". ")[0].split(":")[0].strip()
        if len(probe) >= 6 and probe in text:
            leaks.append(probe)
    return leaks


class Person:
    """One person on one platform; every turn checks the reply invariants."""

    def __init__(
        self,
        kb: KnowledgeBase,
        matcher: Matcher,
        *,
        language_code: str | None = "uk",
        store: MemoryStore | None = None,
        desk: Desk | None = None,
        user_id: int = 1,
        platform: Platform = Platform.TELEGRAM,
    ) -> None:
        self.kb = kb
        self.matcher = matcher
        self.store = store if store is not None else MemoryStore()
        self.desk = desk
        self.language_code = language_code
        self.address = Address(platform, str(1000 + user_id))
        self.user = UserState(id=user_id, address=self.address, is_new=True)
        self._keys = itertools.count(1)
        self.now = NOW

    async def send(self, kind: EventKind, **fields: Any) -> list[Reply]:
        event = IncomingEvent(
            address=self.address,
            kind=kind,
            dedupe_key=str(next(self._keys)),
            sender=Sender(self.address.chat_id, language_code=self.language_code),
            **fields,
        )
        ctx = TurnContext(
            event=event,
            user=self.user,
            kb=self.kb,
            matcher=self.matcher,
            store=self.store,
            translator_for=translator_for,
            now=self.now,
        )
        if self.desk is not None:
            ctx.desk = self.desk
        await handle(ctx)
        self.user = ctx.user
        self.check(kind, ctx.replies)
        return ctx.replies

    def check(self, kind: EventKind, replies: list[Reply]) -> None:
        if kind is not EventKind.UNSUBSCRIBED:
            assert replies, "every event gets a reply"
        for reply in replies:
            assert reply.text.strip()
            assert reply.address == self.address
            for button in buttons(reply):
                assert button.label.strip()
                assert button.id and len(button.id.encode("utf-8")) <= ids.MAX_BYTES, button
                assert button.id.isascii()
            if self.user.lang and reply.meta.get("kind") != "language":  # that one is in all four
                for text in [reply.text, *(b.label for b in buttons(reply))]:
                    assert not english_leaks(text, self.user.lang), (text, self.user.lang)

    async def start(self) -> list[Reply]:
        return await self.send(EventKind.COMMAND, command="start", text="/start")

    async def command(self, name: str) -> list[Reply]:
        return await self.send(EventKind.COMMAND, command=name, text=f"/{name}")

    async def says(self, text: str) -> list[Reply]:
        return await self.send(EventKind.TEXT, text=text)

    async def press(self, button_id: str) -> list[Reply]:
        return await self.send(EventKind.BUTTON, payload=button_id)

    async def sends_media(self, kind: MediaKind) -> list[Reply]:
        return await self.send(EventKind.MEDIA, media=Media(kind, ref="file-1"))


def buttons(reply: Reply) -> list[Button]:
    return [button for row in reply.buttons for button in row]


def button_ids(reply: Reply) -> list[str]:
    return [button.id for button in buttons(reply)]


def with_prefix(reply: Reply, prefix: str) -> list[str]:
    return [i for i in button_ids(reply) if ids.parse(i)[0] == prefix]


def tr(lang: str, msgid: str) -> str:
    return translator_for(lang).gettext(msgid)


def kinds(replies: list[Reply]) -> list[str]:
    return [reply.meta.get("kind", "") for reply in replies]


async def onboarded(kb: KnowledgeBase, matcher: Matcher, lang: str, **kw: Any) -> Person:
    """A person who pressed /start in ``lang`` and skipped the situation question."""
    person = Person(kb, matcher, language_code=lang, **kw)
    await person.start()
    await person.press(ids.audience(ids.SKIP))
    return person


# ------------------------------------------------------------------------------------------
# /start, language, privacy notice, situation


@pytest.mark.parametrize(
    ("code", "lang"), [("uk", "uk"), ("ru-RU", "ru"), ("pl", "pl"), ("en-GB", "en"), ("UK", "uk")]
)
async def test_start_greets_in_the_platform_language(
    kb: KnowledgeBase, matcher: Matcher, code: str, lang: str
) -> None:
    person = Person(kb, matcher, language_code=code)
    welcome, audience = await person.start()

    assert person.user.lang == lang
    assert person.user.notice_seen
    assert welcome.text.startswith(
        tr(
            lang,
            "Hello! 👋 I'm the Małopolska Otwarta bot. I answer questions about life in "
            "Małopolska: legal stay, PESEL, work, health, school, benefits and documents.",
        )
    )
    # The two-line privacy notice, with the full notice behind a button.
    assert (
        tr(
            lang,
            "I never ask for PESEL, passport numbers or logins, so please don't send "
            "them. /forget deletes everything.",
        )
        in welcome.text
    )
    assert button_ids(welcome) == [ids.privacy()]
    # Then the optional situation question: three situations and "Skip".
    assert audience.text == tr(
        lang, "One optional question, so I can tailor my answers: what is your situation?"
    )
    assert button_ids(audience) == [
        "aud:ukr-status",
        "aud:residence-card",
        "aud:other-tcn",
        "aud:skip",
    ]
    assert [b.label for b in buttons(audience)][-1] == tr(lang, "Skip")


@pytest.mark.parametrize("code", [None, "", "be", "kk-KZ", "de", "uz"])
async def test_start_with_another_language_offers_the_four(
    kb: KnowledgeBase, matcher: Matcher, code: str | None
) -> None:
    person = Person(kb, matcher, language_code=code)
    (choice,) = await person.start()

    assert person.user.lang is None  # never a guess (above all, never Russian for a Ukrainian)
    assert button_ids(choice) == ["lang:uk", "lang:ru", "lang:pl", "lang:en"]
    assert [b.label for b in buttons(choice)] == ["Українська", "Русский", "Polski", "English"]
    for lang in LANGS:  # the question itself in all four
        assert tr(lang, "Please choose your language:") in choice.text

    welcome, audience = await person.press("lang:uk")
    assert person.user.lang == "uk"
    assert kinds([welcome, audience]) == ["welcome", "audience"]
    assert tr("uk", "Skip") in [b.label for b in buttons(audience)]


async def test_viber_conversation_started_is_a_start(kb: KnowledgeBase, matcher: Matcher) -> None:
    person = Person(kb, matcher, language_code="ru", platform=Platform.VIBER)
    replies = await person.send(EventKind.STARTED)
    assert kinds(replies) == ["welcome", "audience"]
    assert person.user.lang == "ru"


async def test_returning_person_keeps_their_language_and_situation(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    person = Person(kb, matcher, language_code="ru")
    person.user.lang = "uk"  # chosen earlier; the phone says Russian
    person.user.audience = "ukr-status"
    welcome, menu = await person.start()
    assert person.user.lang == "uk"
    assert kinds([welcome, menu]) == ["welcome", "menu"]  # no second situation question


@pytest.mark.parametrize("audience", ["ukr-status", "residence-card", "other-tcn"])
async def test_situation_is_stored_then_the_menu(
    kb: KnowledgeBase, matcher: Matcher, audience: str
) -> None:
    person = Person(kb, matcher, language_code="pl")
    await person.start()
    (menu,) = await person.press(ids.audience(audience))
    assert person.user.audience == audience
    assert menu.text.startswith(tr("pl", "Thank you! I'll keep that in mind."))
    assert with_prefix(menu, "t") == [f"t:{tid}" for tid, _e, _i in TOPICS]


async def test_situation_can_be_skipped(kb: KnowledgeBase, matcher: Matcher) -> None:
    person = Person(kb, matcher, language_code="uk")
    person.user.audience = "other-tcn"
    await person.command("start")
    (menu,) = await person.press("aud:skip")
    assert person.user.audience is None
    assert menu.text.startswith(tr("uk", "No problem."))
    assert len(with_prefix(menu, "t")) == len(TOPICS)


async def test_language_can_be_changed_at_any_time(kb: KnowledgeBase, matcher: Matcher) -> None:
    person = await onboarded(kb, matcher, "uk")
    (choice,) = await person.command("language")
    assert button_ids(choice) == ["lang:uk", "lang:ru", "lang:pl", "lang:en"]
    (menu,) = await person.press("lang:pl")
    assert person.user.lang == "pl"
    assert (
        menu.text
        == "Gotowe! Od teraz mówię po polsku."
        == tr("pl", "Done! I'll speak English from now on.")
    )
    assert buttons(menu)[0].label == "🛂 Pobyt"


# ------------------------------------------------------------------------------------------
# Menu -> topic -> entry


async def test_menu_topic_entry(kb: KnowledgeBase, matcher: Matcher) -> None:
    person = await onboarded(kb, matcher, "uk")
    (menu,) = await person.command("menu")
    labels = [b.label for b in buttons(menu)]
    assert labels == [
        "🛂 Перебування",
        "💼 Робота",
        "🏥 Здоров'я",
        "🎓 Освіта",
        "📞 Контакти",
        "🔔 Оновлення про зміни правил",
    ]
    assert [len(row) for row in menu.buttons] == [2, 2, 1, 1]  # the last: subscriptions

    (topic,) = await person.press("t:stay")
    # Entries in the menu's order; one the editors have not written yet is left out.
    assert with_prefix(topic, "e") == [
        "e:pesel-ukr",
        "e:ukr-status",
        "e:residence-card",
        "e:temporary-residence",
    ]
    assert "**Перебування**" in topic.text
    assert "Тут 4 відповіді. Оберіть:" in topic.text  # Ukrainian plural for 2-4
    assert button_ids(topic)[-1] == "m"

    (answer,) = await person.press("e:pesel-ukr")
    assert answer.meta == {"kind": "answer", "entry": "pesel-ukr"}
    assert kb.entry("pesel-ukr").answer.uk in answer.text
    uk = translator_for("uk")
    assert uk.format_date(dt.date(2026, 3, 5)) == "5 березня 2026\u202fр."  # CLDR: narrow nbsp
    assert (
        f"🗓 Актуально на {uk.format_date(dt.date(2026, 3, 5))} · "
        f"перевірено {uk.format_date(dt.date(2026, 11, 2))}"
    ) in answer.text
    assert "Джерела: [gov.pl](https://www.gov.pl/web/udsc) · Urząd Wojewódzki w Krakowie" in (
        answer.text
    )
    # From the menu there is no question to rate: no 👍/👎; related entries and the menu.
    assert not with_prefix(answer, "fb")
    assert button_ids(answer) == ["e:ukr-status", "m"]
    assert [b.label for b in buttons(answer)] == ["Статус UKR", "🏠 Меню"]


async def test_topic_with_nothing_written_yet(kb: KnowledgeBase, matcher: Matcher) -> None:
    person = await onboarded(kb, matcher, "en")
    (reply,) = await person.press("t:education")
    assert "There is nothing in this topic yet." in reply.text
    assert len(with_prefix(reply, "t")) == len(TOPICS)


async def test_topic_count_uses_plural_rules(kb: KnowledgeBase, matcher: Matcher) -> None:
    person = await onboarded(kb, matcher, "ru")
    (work,) = await person.press("t:work")
    assert "Здесь 1 ответ. Выберите:" in work.text
    (stay,) = await person.press("t:stay")
    assert "Здесь 4 ответа. Выберите:" in stay.text


async def test_related_entry_buttons_open_answers(kb: KnowledgeBase, matcher: Matcher) -> None:
    person = await onboarded(kb, matcher, "en")
    (answer,) = await person.press("e:emergency-numbers")
    assert button_ids(answer) == ["e:doctor-visit", "m"]
    (related,) = await person.press("e:doctor-visit")
    assert kb.entry("doctor-visit").answer.en in related.text


# ------------------------------------------------------------------------------------------
# Free text


async def test_question_gets_answer_footer_and_feedback(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    person = await onboarded(kb, matcher, "uk")
    person.user.audience = "ukr-status"
    (answer,) = await person.says("як отримати песель укр")

    ((query_id, logged),) = person.store.queries.items()
    assert (logged.decision, logged.intent, logged.lang) == ("answer", None, "uk")
    assert logged.candidates[0][0] == "pesel-ukr"
    assert answer.meta["entry"] == "pesel-ukr"
    assert answer.text.startswith(kb.entry("pesel-ukr").answer.uk)  # no audience note: theirs
    assert "Актуально на 5 березня 2026\u202fр." in answer.text
    assert "[gov.pl](https://www.gov.pl/web/udsc)" in answer.text
    assert answer.text.endswith(tr("uk", "Did this help?"))
    assert answer.buttons[0] == (
        Button("👍", f"fb:{query_id}:1"),
        Button("👎", f"fb:{query_id}:0"),
    )
    assert button_ids(answer)[2:] == ["e:ukr-status", "m"]


@pytest.mark.parametrize(
    ("lang", "question"),
    [
        ("uk", "як отримати песель укр"),
        ("ru", "как получить песель укр"),
        ("pl", "jak uzyskać PESEL UKR"),
        ("en", "how to get PESEL UKR"),
    ],
)
async def test_answer_in_the_chosen_language(
    kb: KnowledgeBase, matcher: Matcher, lang: str, question: str
) -> None:
    person = await onboarded(kb, matcher, lang)
    (answer,) = await person.says(question)
    assert kb.entry("pesel-ukr").answer.get(lang) in answer.text
    assert tr(lang, "Did this help?") in answer.text
    assert translator_for(lang).format_date(dt.date(2026, 3, 5)) in answer.text


async def test_first_words_set_the_language_and_show_the_notice_once(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    person = Person(kb, matcher, language_code="ru")  # a Russian phone, a Ukrainian person
    answer, notice = await person.says("як отримати песель укр")
    assert person.user.lang == "uk"
    assert kb.entry("pesel-ukr").answer.uk in answer.text
    assert notice.meta["kind"] == "notice"
    assert button_ids(notice) == ["priv"]
    assert (
        tr(
            "uk",
            "I never ask for PESEL, passport numbers or logins, so please don't send them. "
            "/forget deletes everything.",
        )
        in notice.text
    )
    assert person.user.notice_seen

    again = await person.says("песель для дитини")
    assert kinds(again) == ["answer"]


async def test_audience_note_when_the_answer_is_for_others(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    person = await onboarded(kb, matcher, "uk")
    person.user.audience = "residence-card"
    (answer,) = await person.press("e:pesel-ukr")
    first_line = answer.text.splitlines()[0]
    assert first_line == (
        "ℹ️ Ця відповідь — для людей зі статусом UKR (PESEL UKR). Ваша ситуація може відрізнятися."
    )

    person.user.audience = "ukr-status"  # theirs, or for everyone: no note
    (answer,) = await person.press("e:temporary-residence")
    assert answer.text.splitlines()[0] == (
        "ℹ️ Ця відповідь — для власників карти побиту (karta pobytu) або інших іноземців "
        "з-поза ЄС. Ваша ситуація може відрізнятися."
    )
    (answer,) = await person.press("e:doctor-visit")
    assert not answer.text.startswith("ℹ️")


async def test_unsure_situation_still_gets_the_note(kb: KnowledgeBase, matcher: Matcher) -> None:
    person = await onboarded(kb, matcher, "pl")
    assert person.user.audience is None
    (answer,) = await person.press("e:work-permit")
    assert answer.text.startswith(
        "ℹ️ Ta odpowiedź dotyczy innych cudzoziemców spoza UE. Twoja sytuacja może być inna."
    )


async def test_escalating_answer_offers_a_consultant(kb: KnowledgeBase, matcher: Matcher) -> None:
    desk = RecordingDesk()
    person = await onboarded(kb, matcher, "en", desk=desk)
    (answer,) = await person.says("how long does temporary protection last")
    assert answer.meta["entry"] == "ukr-status"
    assert "h:e:ukr-status" in button_ids(answer)
    label = next(b.label for b in buttons(answer) if b.id == "h:e:ukr-status")
    assert label == "💬 Talk to a consultant"

    await person.press("h:e:ukr-status")
    assert desk.tickets == [HandoffRequest(HandoffReason.ESCALATE, entry_id="ukr-status")]


async def test_clarify_offers_entries_and_none_of_these(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    question = "карта побиту"
    assert matcher.match(question, "uk").decision == "clarify"  # the premise of this test
    person = await onboarded(kb, matcher, "uk")
    (clarify,) = await person.says(question)
    (query_id,) = person.store.queries
    assert clarify.text == tr("uk", "Maybe one of these?") == "Можливо, одне з цього?"
    offered = with_prefix(clarify, "e")
    assert 2 <= len(offered) <= 3
    assert {f"e:residence-card:{query_id}", f"e:temporary-residence:{query_id}"} <= set(offered)
    # After the offers: "None of these", the consultant, the menu.
    assert button_ids(clarify)[-3:] == [f"n:{query_id}", f"h:n:{query_id}", "m"]
    assert buttons(clarify)[-3].label == "Нічого з цього"

    # Picking one answers it, and 👍/👎 still attach to the original question.
    (answer,) = await person.press(f"e:residence-card:{query_id}")
    assert answer.buttons[0][0].id == f"fb:{query_id}:1"
    assert person.store.queries[query_id].chosen_entry == "residence-card"  # for analytics

    # "None of these" is the honest "I don't know", with a consultant.
    (dont_know,) = await person.press(f"n:{query_id}")
    assert dont_know.meta["kind"] == "handoff"
    assert person.store.queries[query_id].none_of_these
    assert button_ids(dont_know) == [f"h:n:{query_id}", "m"]


async def test_unknown_question_says_so_and_offers_a_consultant(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    person = await onboarded(kb, matcher, "ru")
    question = "какого цвета крыша у костела на рынке"
    assert matcher.match(question, "ru").decision == "handoff"
    (reply,) = await person.says(question)
    ((query_id, logged),) = person.store.queries.items()
    assert logged.decision == "handoff"
    assert reply.text == tr(
        "ru",
        "Sorry, I don't know this one: it may be outside what I know. "
        "A consultant can help, or you can look in the menu.",
    )
    assert button_ids(reply) == [f"h:n:{query_id}", "m"]

    # Without a configured desk: said honestly, with the contact points from content.
    (desk_reply,) = await person.press(f"h:n:{query_id}")
    assert desk_reply.meta["desk"] == "none"
    assert desk_reply.meta["reason"] == "unknown"
    assert "служба консультантов ещё не подключена" in desk_reply.text
    assert "**Пункт информации**" in desk_reply.text
    assert "📍 ul. Zabłocie 20, Kraków" in desk_reply.text
    assert "☎️ +48 12 210 20 20" in desk_reply.text
    assert "Бесплатные консультации." in desk_reply.text


async def test_desk_without_contacts_still_answers(matcher: Matcher, tmp_path: Path) -> None:
    bare = load_knowledge_base(write_kb(tmp_path, contacts=False))
    person = await onboarded(bare, matcher, "pl")
    assert isinstance(person.user, UserState)
    (reply,) = await person.command("consultant")
    assert reply.text == tr(
        "pl",
        "I can't pass your question to a consultant here yet: the consultant desk is not set "
        "up. Please try again later, or look for an answer in the menu.",
    )
    assert button_ids(reply) == ["m"]


async def test_not_configured_desk_is_the_default() -> None:
    desk = NotConfiguredDesk()
    assert isinstance(desk, Desk)
    assert not desk.is_configured


# ------------------------------------------------------------------------------------------
# Intents


@pytest.mark.parametrize(
    ("lang", "text"), [("uk", "привіт"), ("en", "hello"), ("pl", "dzień dobry")]
)
async def test_greeting(kb: KnowledgeBase, matcher: Matcher, lang: str, text: str) -> None:
    person = await onboarded(kb, matcher, lang)
    (reply,) = await person.says(text)
    assert reply.meta["kind"] == "greeting"
    assert reply.text == tr(
        lang, "Hello! 👋 Ask me anything about life in Małopolska, or pick a topic:"
    )
    assert len(with_prefix(reply, "t")) == len(TOPICS)
    assert person.store.queries[1].intent == "greeting"


@pytest.mark.parametrize(("lang", "text"), [("uk", "дякую"), ("ru", "спасибо большое")])
async def test_thanks(kb: KnowledgeBase, matcher: Matcher, lang: str, text: str) -> None:
    person = await onboarded(kb, matcher, lang)
    (reply,) = await person.says(text)
    assert reply.meta["kind"] == "thanks"
    assert reply.text == tr(lang, "You're welcome! 😊 Ask me if anything else comes up.")
    assert len(with_prefix(reply, "t")) == len(TOPICS)


async def test_asking_for_a_person_starts_the_handoff(kb: KnowledgeBase, matcher: Matcher) -> None:
    desk = RecordingDesk()
    person = await onboarded(kb, matcher, "uk", desk=desk)
    text = "хочу поговорити з консультантом"
    (reply,) = await person.says(text)
    assert reply.text == "ticket 1"
    (request,) = desk.tickets
    assert request.reason is HandoffReason.REQUESTED
    assert not request.urgent
    assert request.query_id == 1 and request.question == text
    assert person.store.queries[1].intent == "human"


async def test_urgent_gives_the_numbers_at_once_then_an_urgent_handoff(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    desk = RecordingDesk()
    person = await onboarded(kb, matcher, "uk", desk=desk)
    text = "чоловік б'є мене"
    assert matcher.match(text, "uk").intent == "urgent"
    emergency, ticket = await person.says(text)
    assert emergency.meta["kind"] == "urgent"
    assert emergency.text.startswith(
        "🚨 Якщо є загроза життю чи здоров'ю, негайно телефонуйте на **112**."
    )
    assert kb.entry("emergency-numbers").answer.uk in emergency.text  # 116 123 from content
    assert button_ids(emergency) == ["e:doctor-visit"]
    assert ticket.text == "ticket 1"
    (request,) = desk.tickets
    assert request.reason is HandoffReason.URGENT and request.urgent
    assert request.query_id == 1


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("uk", "дитина впала і не дихає"),
        ("ru", "у мужа сердечный приступ"),
        ("pl", "dziecko nie oddycha"),
        ("en", "my husband is having a heart attack"),
    ],
)
async def test_a_medical_emergency_leads_with_112_and_999(
    kb: KnowledgeBase, matcher: Matcher, lang: str, text: str
) -> None:
    desk = RecordingDesk()
    person = await onboarded(kb, matcher, lang, desk=desk)
    assert matcher.match(text, lang).urgent_kind == "medical"
    emergency, ticket = await person.says(text)
    assert emergency.meta == {"kind": "urgent", "urgent": "medical"}
    first_line = emergency.text.splitlines()[0]
    assert first_line.startswith("🚑") and "**112**" in first_line and "**999**" in first_line
    assert first_line == tr(
        lang,
        "🚑 Call **112** now, or **999** for an ambulance. Say first where you are, "
        "then what happened, and don't hang up first.",
    )
    assert kb.entry("emergency-numbers").answer.get(lang) in emergency.text
    assert ticket.text == "ticket 1"
    (request,) = desk.tickets
    assert request.reason is HandoffReason.URGENT and request.urgent


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("uk", "нема де ночувати сьогодні з дітьми"),
        ("ru", "негде ночевать сегодня с ребенком"),
        ("pl", "nie mamy gdzie spać dzisiaj"),
        ("en", "we have nowhere to sleep tonight"),
    ],
)
async def test_nowhere_to_sleep_tonight_leads_with_the_shelter_line(
    kb: KnowledgeBase, matcher: Matcher, lang: str, text: str
) -> None:
    desk = RecordingDesk()
    person = await onboarded(kb, matcher, lang, desk=desk)
    emergency, ticket = await person.says(text)
    assert emergency.meta == {"kind": "urgent", "urgent": "shelter"}
    shelter = next(c for c in kb.contacts.contacts if c.id == "night-shelter")
    first_line = emergency.text.splitlines()[0]
    assert first_line.startswith("🏠") and f"**{shelter.phone}**" in first_line
    assert shelter.name.get(lang) in first_line
    assert emergency.text.index(shelter.phone) < emergency.text.index("**112**")
    assert ticket.text == "ticket 1"
    (request,) = desk.tickets
    assert request.urgent


async def test_without_a_shelter_contact_nowhere_to_sleep_still_gets_112(
    matcher: Matcher, tmp_path: Path
) -> None:
    bare = load_knowledge_base(write_kb(tmp_path, contacts=False))
    person = await onboarded(bare, build_matcher(bare), "uk")
    emergency, _ = await person.says("нема де ночувати сьогодні з дітьми")
    assert emergency.text.startswith("🚨") and "**112**" in emergency.text.splitlines()[0]


async def test_urgent_without_a_desk_still_lists_contacts(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    person = await onboarded(kb, matcher, "en")
    emergency, desk_reply = await person.says("my husband beats me")
    assert "**112**" in emergency.text
    assert desk_reply.meta == {"kind": "handoff", "desk": "none", "reason": "urgent"}
    assert "INFO.OPT line" in desk_reply.text


# ------------------------------------------------------------------------------------------
# Feedback


async def test_thumbs_up(kb: KnowledgeBase, matcher: Matcher) -> None:
    person = await onboarded(kb, matcher, "pl")
    (answer,) = await person.says("jak uzyskać PESEL UKR")
    up = answer.buttons[0][0].id
    (reply,) = await person.press(up)
    assert person.store.queries[1].feedback is True
    assert reply.text == "Dziękuję! Cieszę się, że pomogło. 🙂"
    assert button_ids(reply) == ["m"]


async def test_thumbs_down_apologises_and_offers_a_consultant(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    desk = RecordingDesk()
    person = await onboarded(kb, matcher, "ru", desk=desk)
    (answer,) = await person.says("как получить песель укр")
    (reply,) = await person.press(answer.buttons[0][1].id)
    assert person.store.queries[1].feedback is False
    assert reply.text.startswith("Жаль, что не помогло.")
    assert button_ids(reply) == ["h:d:1", "m"]
    await person.press("h:d:1")
    assert desk.tickets == [HandoffRequest(HandoffReason.NOT_HELPFUL, query_id=1)]


async def test_feedback_on_someone_elses_question_is_refused(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    store = MemoryStore()
    alice = await onboarded(kb, matcher, "uk", store=store, user_id=1)
    bob = await onboarded(kb, matcher, "uk", store=store, user_id=2)
    await alice.says("як отримати песель укр")
    (reply,) = await bob.press("fb:1:0")
    assert reply.meta["kind"] == "stale"
    assert store.queries[1].feedback is None


# ------------------------------------------------------------------------------------------
# Stale and forged buttons


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "",
        "zz",
        ":",
        "t:",
        "t:nope",
        "t:stay:extra",
        "e:",
        "e:NOPE",
        "e:../etc",
        "e:gone-entry",
        "e:pesel-ukr:abc",
        "e:pesel-ukr:1:2",
        "fb:999:1",
        "fb:abc:1",
        "fb:1:2",
        "fb:1",
        "lang:xx",
        "lang:",
        "aud:boss",
        "aud:",
        "h:",
        "h:z",
        "h:n:abc",
        "h:e:BAD!",
        "fg:maybe",
        "fg:",
        "n:",
        "n:x",
        "priv:x",
        "e:песель",
        "x" * 200,
        "e:" + "a" * 70,
        "t:stay\n",
        "e:pesel-ukr:-1",
        "fb:99999999999999999999999:1",
    ],
)
async def test_stale_or_forged_buttons_get_the_menu(
    kb: KnowledgeBase, matcher: Matcher, payload: str | None
) -> None:
    person = await onboarded(kb, matcher, "uk")
    before = (person.user.lang, person.user.audience, person.user.notice_seen)
    (reply,) = await person.press(payload)  # type: ignore[arg-type]
    assert reply.meta["kind"] == "stale"
    assert reply.text.startswith("Ця кнопка вже не діє.")
    assert len(with_prefix(reply, "t")) == len(TOPICS)
    assert (person.user.lang, person.user.audience, person.user.notice_seen) == before
    assert not person.store.forgotten


async def test_consultant_button_for_an_entry_that_is_gone_still_works(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    desk = RecordingDesk()
    person = await onboarded(kb, matcher, "en", desk=desk)
    await person.press("h:e:removed-entry")
    assert desk.tickets == [HandoffRequest(HandoffReason.ESCALATE)]


# ------------------------------------------------------------------------------------------
# Media, help, privacy, forget, odd events


@pytest.mark.parametrize("kind", list(MediaKind))
async def test_media_gets_a_short_reply(
    kb: KnowledgeBase, matcher: Matcher, kind: MediaKind
) -> None:
    person = await onboarded(kb, matcher, "ru")
    (reply,) = await person.sends_media(kind)
    assert reply.text.startswith("Я понимаю только текстовые сообщения и кнопки.")
    assert button_ids(reply) == ["h:r", "m"]


async def test_media_before_any_choice_uses_the_platform_language(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    person = Person(kb, matcher, language_code="pl")
    (reply,) = await person.sends_media(MediaKind.STICKER)
    assert reply.text.startswith("Rozumiem tylko wiadomości tekstowe i przyciski.")
    assert person.user.lang is None  # a guess, not stored


async def test_help_lists_the_commands(kb: KnowledgeBase, matcher: Matcher) -> None:
    person = await onboarded(kb, matcher, "uk")
    (reply,) = await person.command("help")
    for command in ("/menu", "/language", "/privacy", "/forget", "/consultant"):
        assert command in reply.text
    assert "/language — Змінити мову" in reply.text

    (unknown,) = await person.command("frobnicate")
    assert unknown.text.startswith("Я не знаю такої команди.")


async def test_privacy_notice(kb: KnowledgeBase, matcher: Matcher) -> None:
    person = await onboarded(kb, matcher, "en")
    (by_command,) = await person.command("privacy")
    (by_button,) = await person.press("priv")
    assert by_command.text == by_button.text
    assert by_command.text.startswith("🔒 **Privacy notice**")
    assert "/forget" in by_command.text and "PESEL" in by_command.text


async def test_forget_asks_then_deletes(kb: KnowledgeBase, matcher: Matcher) -> None:
    person = await onboarded(kb, matcher, "uk")
    person.user.audience = "ukr-status"
    await person.says("як отримати песель укр")

    (confirm,) = await person.command("forget")
    assert button_ids(confirm) == ["fg:yes", "fg:no"]
    (kept,) = await person.press("fg:no")
    assert kept.text.startswith("Гаразд, нічого не видалено.")
    assert not person.store.forgotten and person.store.queries

    (done,) = await person.press("fg:yes")
    assert person.store.forgotten == [person.user.id]
    assert not person.store.queries
    assert done.text.startswith("Готово: усі ваші дані видалено.")  # still in their language
    assert (person.user.lang, person.user.audience, person.user.notice_seen) == (None, None, False)


async def test_unsubscribed_gets_no_reply(kb: KnowledgeBase, matcher: Matcher) -> None:
    person = await onboarded(kb, matcher, "uk")
    assert await person.send(EventKind.UNSUBSCRIBED) == []


async def test_empty_text_gets_the_menu(kb: KnowledgeBase, matcher: Matcher) -> None:
    person = await onboarded(kb, matcher, "en")
    (reply,) = await person.says("   ")
    assert len(with_prefix(reply, "t")) == len(TOPICS)
    assert not person.store.queries


# ------------------------------------------------------------------------------------------
# A whole conversation in each language: every reply in that language.


@pytest.mark.parametrize("lang", LANGS)
async def test_a_whole_conversation_stays_in_one_language(
    kb: KnowledgeBase, matcher: Matcher, lang: str
) -> None:
    questions = {
        "uk": ("як отримати песель укр", "котик любить молоко"),
        "ru": ("как получить песель укр", "котик любит молоко"),
        "pl": ("jak uzyskać PESEL UKR", "kotek lubi mleko"),
        "en": ("how to get PESEL UKR", "the kitten likes milk"),
    }[lang]
    person = Person(kb, matcher, language_code=lang)
    seen: list[Reply] = []
    seen += await person.start()
    seen += await person.press("priv")
    seen += await person.press("aud:residence-card")
    seen += await person.press("t:stay")
    seen += await person.press("e:pesel-ukr")
    answer = (await person.says(questions[0]))[0]
    seen += [answer]
    seen += await person.press(answer.buttons[0][1].id)  # 👎
    seen += await person.says(questions[1])
    seen += await person.press(seen[-1].buttons[0][0].id)  # consultant (not configured)
    seen += await person.sends_media(MediaKind.VOICE)
    seen += await person.command("help")
    seen += await person.press("fb:424242:1")  # stale
    seen += await person.command("forget")
    seen += await person.press("fg:no")

    assert person.user.lang == lang
    for reply in seen:  # (Person.check already looked for English; here: the catalog's own)
        for label in (b.label for b in buttons(reply)):
            assert label  # every label rendered
    if lang != "en":
        everything = "\n".join(r.text for r in seen)
        assert tr(lang, "Did this help?") in everything
        assert tr(lang, "This button is no longer active. Here is the menu:") in everything
        for reply in seen:
            assert not english_leaks(reply.text, lang)


async def test_longest_ids_fit_in_64_bytes() -> None:
    longest_entry = "a" * 40  # the schema's maximum entry id
    big = 10**17
    for button_id in (
        ids.entry(longest_entry, big),
        ids.feedback(big, True),
        ids.handoff("e", longest_entry),
        ids.none_of_these(big),
        ids.topic("education"),
        ids.audience("residence-card"),
    ):
        assert len(button_id.encode("utf-8")) <= ids.MAX_BYTES
    with pytest.raises(ValueError):
        ids.entry("a" * 70)


# ------------------------------------------------------------------------------------------
# Follow-ups in context, questions about the bot


async def test_a_follow_up_is_read_in_the_context_of_the_last_answer(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    person = await onboarded(kb, matcher, "uk")
    (answer,) = await person.says("як отримати песель укр")
    assert answer.meta["entry"] == "pesel-ukr"
    assert person.user.context_entry == "pesel-ukr" and person.user.context_at == NOW

    (follow_up,) = await person.says("а для дітей?")
    assert follow_up.meta["entry"] == "pesel-ukr"
    # The entry's children section leads, then the whole answer.
    text = follow_up.text
    section, whole = text.find("Дітям: заяву подає батько"), text.find(ANSWER_PHRASE["uk"])
    assert 0 <= section < text.find(tr("uk", "The whole answer:")) < whole


async def test_without_context_the_same_words_are_not_that_answer(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    person = await onboarded(kb, matcher, "uk")
    replies = await person.says("а для дітей?")
    assert all(r.meta.get("entry") != "pesel-ukr" for r in replies)


async def test_context_expires_and_menu_clears_it(kb: KnowledgeBase, matcher: Matcher) -> None:
    person = await onboarded(kb, matcher, "uk")
    await person.says("як отримати песель укр")
    person.now = NOW + dt.timedelta(minutes=31)  # past CONTEXT_MINUTES (30)
    replies = await person.says("а для дітей?")
    assert all(r.meta.get("entry") != "pesel-ukr" for r in replies)
    assert person.user.context_entry is None

    person.now = NOW
    await person.says("як отримати песель укр")
    await person.command("menu")
    assert person.user.context_entry is None and person.user.context_at is None


@pytest.mark.parametrize("text", ["хто ти?", "ти бот чи людина?", "who are you", "kto ty"])
async def test_questions_about_the_bot_reach_about_project(text: str) -> None:
    real = load_knowledge_base()
    person = await onboarded(real, build_matcher(real), "uk")
    (answer,) = await person.says(text)
    assert answer.meta["entry"] == "about-project"
