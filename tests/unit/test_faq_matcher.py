"""The matcher on a small synthetic knowledge base: reading, language, intents, decisions."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from faq import Matcher, MatchResult, load_matcher
from faq.languages import LANGS
from faq.reading import read
from tests.doubles.faq_synthetic_kb import write_kb


@pytest.fixture(scope="module")
def matcher(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    return load_matcher(write_kb(tmp_path_factory.mktemp("kb")))


def best(matcher: Matcher, text: str, lang: str | None = None) -> str | None:
    result = matcher.match(text, lang)
    return result.candidates[0].entry_id if result.candidates else None


# --- finding the right entry ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("Як отримати ПЕСЕЛЬ укр?", "pesel-ukr"),  # case and punctuation
        ("kak poluchit pesel", "pesel-ukr"),  # Russian transliterated
        ("yak otrymaty pesel", "pesel-ukr"),  # Ukrainian transliterated
        ("rfr gjkexbnm gtctkm", "pesel-ukr"),  # Russian on the US layout
        ("zr jnhbvfnb gtctkm", "pesel-ukr"),  # Ukrainian on the US layout
        ("як атримати песел", "pesel-ukr"),  # typos
        ("мельдунек", "residence-registration"),  # one word, Polish term in Cyrillic
        ("meldunek", "residence-registration"),
        ("800+", "benefit-800plus"),
        ("ZUS", "benefit-800plus"),
        ("як записатись до сімейного лікря", "doctor-visit"),
        ("як відкрити рахунок в банку 🙂🏦", "bank-account"),
        ("jak zapisać się do lekarza", "doctor-visit"),
        ("how do i open a bank account", "bank-account"),
        ("можна їздить по польщі з українськими правами чи нада міняти", "driving-licence"),
        (
            "Добрий день. Ми приїхали в Краків місяць тому з двома дітьми, чоловік "
            "лишився вдома. Підкажіть будь ласка, як оформити песель на дитину?",
            "pesel-ukr",
        ),
    ],
)
def test_finds_the_entry(matcher: Matcher, text: str, entry: str) -> None:
    assert best(matcher, text) == entry


@pytest.mark.parametrize(
    ("bare", "framed"),
    [
        (
            "як записатись до сімейного лікаря",
            "Як записатись до сімейного лікаря: що важливо врахувати?",
        ),
        ("jak zapisać się do lekarza", "Jak zapisać się do lekarza – jak wygląda procedura?"),
        (
            "how do i open a bank account",
            "How do I open a bank account: an overview of the procedure",
        ),
    ],
)
def test_a_guides_framing_does_not_dilute_the_question(
    matcher: Matcher, bare: str, framed: str
) -> None:
    """Guide headings wrap the need in a frame ("що важливо врахувати", "jak wygląda
    procedura"): the frame words are function words, so the framed question scores as the
    bare one does instead of sinking under words no entry is about."""
    plain, wrapped = matcher.match(bare), matcher.match(framed)
    assert wrapped.candidates[0].entry_id == plain.candidates[0].entry_id
    assert wrapped.candidates[0].score >= plain.candidates[0].score - 0.05


def test_framing_words_leave_the_needs_alone(matcher: Matcher) -> None:
    """Words that look like framing but name a need stay content words: the cost ("сколько
    стоит"), knowing a language ("не знає польської"), an account, learning."""
    resolve = matcher.index.resolve
    for word in ("стоит", "знає", "know", "account", "learn", "коштує"):
        assert not resolve(word).stop, word
    for word in ("важливо", "procedura", "procedure", "нюансы"):
        assert resolve(word).stop, word


def test_a_clear_question_is_answered(matcher: Matcher) -> None:
    result = matcher.match("як зробити мельдунек")
    assert result.decision == "answer"
    assert result.offered == ("residence-registration",)


def test_out_of_scope_is_handed_off(matcher: Matcher) -> None:
    for text in ("who won the football match", "погода завтра в закопаному"):
        result = matcher.match(text)
        assert result.decision == "handoff", (text, result.candidates[:2])
        assert result.offered == ()


def test_one_shared_word_is_not_enough_to_answer(matcher: Matcher) -> None:
    # "рецепт" is a doctor-visit word, the rest is about cooking.
    assert matcher.match("рецепт борщу з пампушками і часником").decision != "answer"


def test_candidates_are_ranked_scores_in_unit_interval(matcher: Matcher) -> None:
    result = matcher.match("документи для банку і песель")
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert len({c.entry_id for c in result.candidates}) == len(result.candidates)


def test_clarify_offers_the_close_entries(matcher: Matcher) -> None:
    # Both the PESEL and the 800+ entries are about a child: a close call.
    result = matcher.match("дитина")
    assert result.decision in ("clarify", "handoff")
    if result.decision == "clarify":
        assert 1 <= len(result.offered) <= 3
        assert set(result.offered) <= {c.entry_id for c in result.candidates}


# --- reading: layout repair ----------------------------------------------------------------


def test_layout_repair_is_validated_not_blind(matcher: Matcher) -> None:
    lexicon = matcher.index.lexicon
    assert read("ult cltkfnm gtctkm", lexicon).layout == "ru"
    assert read("zr jnhbvfnb gtctkm", lexicon).layout == "uk"
    # Real English and transliteration stay as typed.
    assert read("how to open a bank account", lexicon).layout is None
    assert read("kak poluchit pesel", lexicon).layout is None


# --- reply language ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("як отримати песель", "uk"),
        ("їжа", "uk"),  # distinctive letters
        ("как получить песель", "ru"),
        ("счёт в банке", "ru"),
        ("Gdzie złożyć wniosek?", "pl"),
        ("jak otworzyć konto w banku", "pl"),
        ("how to open a bank account", "en"),
        ("yak otrymaty pesel", "uk"),  # transliteration: the language meant
        ("kak poluchit pesel", "ru"),
        ("rfr gjkexbnm gtctkm", "ru"),  # wrong layout: the language meant
        ("zr jnhbvfnb gtctkm", "uk"),
        ("rehcb gjkmcmrj] vjdb", "uk"),
    ],
)
def test_detects_the_language(matcher: Matcher, text: str, lang: str) -> None:
    assert matcher.match(text).lang == lang


def test_chosen_language_wins(matcher: Matcher) -> None:
    assert matcher.match("як отримати песель", lang="en").lang == "en"
    assert matcher.match("привіт", lang="pl").lang == "pl"


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂", "800", "?!"])
def test_language_has_a_default_for_texts_without_words(matcher: Matcher, text: str) -> None:
    # Nothing to read the language from: Ukrainian, the first of the bot's audiences
    # (faq.languages.LANGS[0]); the person's own choice still wins.
    assert matcher.match(text).lang == LANGS[0] == "uk"
    assert matcher.match(text, lang="ru").lang == "ru"


# --- intents -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("хочу поговорити з консультантом", "human"),
        ("оператор", "human"),
        ("живой человек", "human"),
        ("can I talk to someone", "human"),
        ("chcę rozmawiać z konsultantem", "human"),
        ("привіт", "greeting"),
        ("добрый день", "greeting"),
        ("hi", "greeting"),
        ("dzień dobry", "greeting"),
        ("ghbdtn", "greeting"),  # привет on the US layout
        ("дякую", "thanks"),
        ("спасибо большое!", "thanks"),
        ("dzięki", "thanks"),
        ("thx", "thanks"),
    ],
)
def test_social_intents_hand_off_without_candidates(
    matcher: Matcher, text: str, intent: str
) -> None:
    result = matcher.match(text)
    assert result.intent == intent
    assert result.decision == "handoff"
    assert result.candidates == ()


@pytest.mark.parametrize(
    "text",
    [
        "чоловік мене б'є, що робити",
        "муж бьет меня",
        "роботодавець забрав мій паспорт",
        "pracodawca zabrał mi paszport",
        "my employer took my passport",
        "я не хочу жити",
        "думаю про самогубство",
        "меня задержала полиция",
        "straż graniczna zatrzymała mojego męża",
        "дитина зникла",
        "przemoc domowa",
        "domestic violence",
    ],
)
def test_danger_is_urgent_and_still_matched(matcher: Matcher, text: str) -> None:
    result = matcher.match(text)
    assert result.intent == "urgent"
    assert result.decision in ("answer", "clarify", "handoff")


@pytest.mark.parametrize(
    "text",
    [
        "де забрати паспорт",  # collect a passport
        "затримали зарплату",  # a late salary is not an arrest
        "привіт, як отримати песель",  # a greeting before a question
        "дякую, а як зробити мельдунек?",
        "чи потрібен песель для рахунку",
    ],
)
def test_questions_are_not_intents(matcher: Matcher, text: str) -> None:
    assert matcher.match(text).intent is None


# --- the result object ---------------------------------------------------------------------


def test_result_is_immutable_and_serialisable(matcher: Matcher) -> None:
    result = matcher.match("як отримати песель")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.decision = "handoff"  # type: ignore[misc]
    data = json.loads(json.dumps(result.to_dict(3)))
    assert data["decision"] == result.decision
    assert data["lang"] == "uk"
    assert data["intent"] is None
    assert data["candidates"][0]["id"] == "pesel-ukr"
    assert len(data["candidates"]) <= 3


def test_match_is_deterministic(matcher: Matcher) -> None:
    texts = ["як отримати песель", "rfr gjkexbnm gtctkm", "bank", "дитина", "привіт"]
    first = [matcher.match(t) for t in texts]
    again = [matcher.match(t) for t in reversed(texts)][::-1]
    assert first == again


def test_same_results_from_a_fresh_matcher(matcher: Matcher, tmp_path: Path) -> None:
    other = load_matcher(write_kb(tmp_path))
    for text in ("як отримати песель", "zr jnhbvfnb gtctkm", "ZUS", "дитина"):
        a, b = matcher.match(text), other.match(text)
        assert (a.decision, a.candidates, a.lang, a.intent) == (
            b.decision,
            b.candidates,
            b.lang,
            b.intent,
        )


def test_exposes_the_knowledge_base(matcher: Matcher) -> None:
    assert "pesel-ukr" in matcher.kb.entries
    assert isinstance(matcher.match("x"), MatchResult)
