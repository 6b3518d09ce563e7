"""`otwarta content check`: every kind of problem is found and named, good content passes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from bot.cli import main as cli
from faq.check import REQUIRED_ENTRY_IDS, check_content, format_report, past_deadlines
from faq.content import ContentError, load_knowledge_base

TODAY = dt.date(2026, 11, 24)


def make_entry(entry_id: str, topic: str = "stay", **overrides: Any) -> dict[str, Any]:
    """A valid entry whose questions are unique to it (so no competing-question warnings)."""
    word = entry_id.replace("-", " ")
    entry: dict[str, Any] = {
        "id": entry_id,
        "topic": topic,
        "audience": "all",
        "title": {lang: f"{word} {lang}" for lang in ("uk", "ru", "pl", "en")},
        "questions": {
            "uk": [f"{word} питання номер {i} {lang}" for i, lang in enumerate(["uk"] * 8)],
            "ru": [f"{word} вопрос номер {i}" for i in range(8)],
            "pl": [f"{word} pytanie {i}" for i in range(3)],
            "en": [f"{word} question {i}" for i in range(3)],
        },
        "aliases": [f"{entry_id}-alias"],
        "answer": {
            lang: f"**{word}**: see [gov.pl](https://www.gov.pl)"
            for lang in ("uk", "ru", "pl", "en")
        },
        "sources": ["https://www.gov.pl/web/udsc"],
        "valid_as_of": "2026-03-05",
        "last_verified": "2026-11-01",
        "review_by": "2027-04-01",
        "escalate": False,
        "related": [],
    }
    entry.update(overrides)
    return entry


def write_kb(
    root: Path, entries: list[dict[str, Any]], menu: dict[str, list[str]] | None = None
) -> Path:
    for entry in entries:
        path = root / "entries" / entry["topic"] / f"{entry['id']}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(entry, allow_unicode=True), encoding="utf-8")
    if menu is None:
        menu = {}
        for entry in entries:
            menu.setdefault(entry["topic"], []).append(entry["id"])
    topics = [
        {"id": topic, "title": {lang: topic for lang in ("uk", "ru", "pl", "en")}, "entries": ids}
        for topic, ids in menu.items()
    ]
    (root / "topics.yaml").write_text(yaml.safe_dump({"topics": topics}), encoding="utf-8")
    return root


def full_kb(root: Path) -> Path:
    return write_kb(root, [make_entry(i) for i in REQUIRED_ENTRY_IDS])


def messages(report: Any) -> str:
    return format_report(report)


def test_complete_valid_base_passes(tmp_path: Path) -> None:
    report = check_content(full_kb(tmp_path), today=TODAY)
    assert report.errors == [], messages(report)
    assert report.warnings == [], messages(report)
    assert report.entries == len(REQUIRED_ENTRY_IDS)
    assert messages(report).endswith("OK: 50 entries: 0 error(s), 0 warning(s)")


def test_missing_required_entries_are_listed(tmp_path: Path) -> None:
    report = check_content(write_kb(tmp_path, [make_entry("pesel-ukr")]), today=TODAY)
    assert len([p for p in report.errors if "is missing" in p.message]) == 49
    assert "'ukr-status' is missing" in messages(report)


def test_schema_errors_name_file_and_field(tmp_path: Path) -> None:
    bad = make_entry("pesel-ukr")
    del bad["answer"]["ru"]
    bad["topic"] = "nonsense"
    write_kb(tmp_path, [make_entry("cukr-card"), bad], menu={"stay": ["cukr-card"]})
    text = messages(check_content(tmp_path, today=TODAY))
    assert "pesel-ukr.yaml: answer.ru: Field required" in text
    assert "pesel-ukr.yaml: topic:" in text
    with pytest.raises(ContentError):
        load_knowledge_base(tmp_path)


def test_broken_yaml_is_reported_not_raised(tmp_path: Path) -> None:
    full_kb(tmp_path)
    (tmp_path / "entries" / "stay" / "pesel-ukr.yaml").write_text(
        "id: [unclosed\n", encoding="utf-8"
    )
    text = messages(check_content(tmp_path, today=TODAY))
    assert "pesel-ukr.yaml: cannot read" in text
    assert "'pesel-ukr' is missing" in text


def test_editorial_rules(tmp_path: Path) -> None:
    entries = [make_entry(i) for i in REQUIRED_ENTRY_IDS]
    by_id = {e["id"]: e for e in entries}
    by_id["pesel-ukr"]["questions"]["uk"] = by_id["pesel-ukr"]["questions"]["uk"][:5]
    by_id["pesel-ukr"]["answer"]["pl"] = "x" * 3_501
    by_id["pesel-ukr"]["related"] = ["no-such-entry", "pesel-ukr"]
    by_id["cukr-card"]["sources"] = ["http://insecure.example"]
    by_id["cukr-card"]["answer"]["en"] = "see <b>this</b> and [here](http://x.pl) **open"
    by_id["cukr-card"]["title"]["uk"] = "т" * 41
    by_id["diia-card"]["last_verified"] = "2025-01-01"
    by_id["taxes"]["last_verified"] = "2027-01-01"
    write_kb(tmp_path, entries)
    report = check_content(tmp_path, today=TODAY)
    text = messages(report)
    assert "questions.uk: 5 ways of asking; at least 8 are needed" in text
    assert "answer.pl: 3501 characters" in text
    assert "unknown entry 'no-such-entry'" in text
    assert "entry relates to itself" in text
    assert "'http://insecure.example' is not an https link" in text
    assert "HTML tags are not allowed" in text
    assert "link 'http://x.pl' is not https" in text
    assert "unbalanced ** (bold)" in text
    assert "title.uk: 41 characters" in text
    assert "taxes.yaml: last_verified: 2027-01-01 is in the future" in text
    stale = [p for p in report.warnings if "diia-card" in p.where]
    assert stale and "days ago" in stale[0].message


def test_staleness_age_is_configurable(tmp_path: Path) -> None:
    full_kb(tmp_path)
    assert check_content(tmp_path, today=TODAY, max_age_days=30).warnings == []
    aged = check_content(tmp_path, today=TODAY, max_age_days=10).warnings
    assert len(aged) == len(REQUIRED_ENTRY_IDS)


def test_menu_must_reach_every_entry_and_only_known_ones(tmp_path: Path) -> None:
    entries = [make_entry(i) for i in REQUIRED_ENTRY_IDS]
    menu: dict[str, list[str]] = {"stay": [i for i in REQUIRED_ENTRY_IDS if i != "scams"]}
    menu["stay"].append("ghost")
    write_kb(tmp_path, entries, menu=menu)
    text = messages(check_content(tmp_path, today=TODAY))
    assert "lists unknown entry 'ghost'" in text
    assert "scams.yaml: entry is not reachable from the menu" in text


def test_competing_questions_across_entries(tmp_path: Path) -> None:
    entries = [make_entry(i) for i in REQUIRED_ENTRY_IDS]
    by_id = {e["id"]: e for e in entries}
    by_id["pesel-ukr"]["questions"]["ru"].append("Как продлить карту побыту?")
    by_id["residence-card"]["questions"]["ru"].append("как продлить карту побыту")
    by_id["pesel-ukr"]["questions"]["uk"].append("де отримати песель для дитини швидко")
    by_id["residence-card"]["questions"]["uk"].append("де отримати песель для дитини швидко?!")
    by_id["taxes"]["questions"]["en"].append("how do I file my PIT tax return online")
    by_id["work-permit"]["questions"]["en"].append("how do I file my PIT tax return on line")
    by_id["cukr-card"]["aliases"] = ["CUKR"]
    by_id["temporary-residence"]["aliases"] = ["cukr"]
    write_kb(tmp_path, entries)
    report = check_content(tmp_path, today=TODAY)
    exact = [p for p in report.errors if "the two entries compete" in p.message]
    assert len(exact) == 2
    near = [p for p in report.warnings if "nearly repeats" in p.message]
    assert len(near) == 1
    assert "work-permit.yaml" in near[0].where and "of 'taxes'" in near[0].message
    assert any("alias 'cukr' points to several entries" in p.message for p in report.warnings)


def test_cli_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    good = full_kb(tmp_path / "good")
    result = runner.invoke(cli, ["content", "check", "--dir", str(good)])
    assert result.exit_code == 0, result.output
    assert "OK: 50 entries" in result.output
    bad = write_kb(tmp_path / "bad", [make_entry("pesel-ukr")])
    result = runner.invoke(cli, ["content", "check", "--dir", str(bad)])
    assert result.exit_code == 1
    assert "FAILED" in result.output
    result = runner.invoke(cli, ["content", "check", "--dir", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "content directory does not exist" in result.output


def test_strict_turns_warnings_into_failure(tmp_path: Path) -> None:
    entries = [make_entry(i) for i in REQUIRED_ENTRY_IDS]
    entries[0]["last_verified"] = "2020-01-01"
    entries[0]["valid_as_of"] = "2020-01-01"
    entries[0]["review_by"] = "2020-06-01"
    write_kb(tmp_path, entries)
    runner = CliRunner()
    assert runner.invoke(cli, ["content", "check", "--dir", str(tmp_path)]).exit_code == 0
    assert (
        runner.invoke(cli, ["content", "check", "--dir", str(tmp_path), "--strict"]).exit_code == 1
    )


# -- review dates -------------------------------------------------------------------------


def test_review_by_is_required_and_at_most_a_year_after_last_verified(tmp_path: Path) -> None:
    entries = [make_entry(i) for i in REQUIRED_ENTRY_IDS]
    by_id = {e["id"]: e for e in entries}
    del by_id["pesel-ukr"]["review_by"]
    by_id["cukr-card"]["review_by"] = "2027-11-03"  # last_verified 2026-11-01 + 367 days
    by_id["taxes"]["review_by"] = "2026-10-01"
    by_id["diia-card"]["review_by"] = "2027-11-02"  # 366 days: still allowed
    write_kb(tmp_path, entries)
    report = check_content(tmp_path, today=TODAY)
    errors = {p.where.split("/")[-1]: p.message for p in report.errors}
    assert errors.keys() == {
        "pesel-ukr.yaml: review_by",
        "cukr-card.yaml: review_by",
        "taxes.yaml: review_by",
    }, messages(report)
    assert errors["pesel-ukr.yaml: review_by"].startswith("missing")
    assert "more than a year after last_verified" in errors["cukr-card.yaml: review_by"]
    assert "before last_verified" in errors["taxes.yaml: review_by"]


def test_passed_review_by_warns_and_fails_strict(tmp_path: Path) -> None:
    entries = [make_entry(i) for i in REQUIRED_ENTRY_IDS]
    entries[0]["review_by"] = "2026-11-20"
    write_kb(tmp_path, entries)
    report = check_content(tmp_path, today=TODAY)
    assert report.errors == []
    (warning,) = report.warnings
    assert warning.where.endswith(f"{entries[0]['id']}.yaml: review_by")
    assert "review_by 2026-11-20 has passed" in warning.message
    # On the day itself the entry is still current.
    assert check_content(tmp_path, today=dt.date(2026, 11, 20)).warnings == []
    runner = CliRunner()
    args = ["content", "check", "--dir", str(tmp_path)]
    assert runner.invoke(cli, [*args, "--today", "2026-11-24"]).exit_code == 0
    strict = runner.invoke(cli, [*args, "--strict", "--today", "2026-11-24"])
    assert strict.exit_code == 1 and "has passed" in strict.output
    assert runner.invoke(cli, [*args, "--strict", "--today", "2026-11-20"]).exit_code == 0


def test_today_looks_ahead(tmp_path: Path) -> None:
    """`--today` in the future shows what goes stale by then (here every entry, 2027-04-01)."""
    full_kb(tmp_path)
    result = CliRunner().invoke(
        cli, ["content", "check", "--dir", str(tmp_path), "--today", "2027-04-02"]
    )
    assert result.exit_code == 0
    assert result.output.count("has passed") == len(REQUIRED_ENTRY_IDS)
    bad = CliRunner().invoke(
        cli, ["content", "check", "--dir", str(tmp_path), "--today", "2027-13-01"]
    )
    assert bad.exit_code != 0


# -- past deadlines -----------------------------------------------------------------------

PAST_DEADLINES = {
    "uk": "Підтвердіть особу в ґміні **до 31 серпня 2026 р.**",
    "ru": "Подтвердите личность в гмине до 31 августа 2026 г.",
    "pl": "Potwierdź tożsamość w gminie najpóźniej 31 sierpnia 2026 r.",
    "en": "Verify your identity at the municipal office by 31 August 2026.",
}


def test_past_deadlines_are_found_in_every_language(tmp_path: Path) -> None:
    entries = [make_entry(i) for i in REQUIRED_ENTRY_IDS]
    by_id = {e["id"]: e for e in entries}
    by_id["pesel-ukr"]["answer"] = dict(PAST_DEADLINES)
    write_kb(tmp_path, entries)
    report = check_content(tmp_path, today=dt.date(2026, 12, 6))
    past = {p.where.split(": ")[-1]: p.message for p in report.warnings}
    assert set(past) == {"answer.uk", "answer.ru", "answer.pl", "answer.en"}, messages(report)
    assert all(m.startswith("past deadline") and "(2026-08-31)" in m for m in past.values())
    assert "'до 31 серпня 2026'" in past["answer.uk"]
    assert "'by 31 August 2026'" in past["answer.en"]
    # Before the date, the same text is fine.
    assert check_content(tmp_path, today=dt.date(2026, 8, 31)).warnings == []


@pytest.mark.parametrize(
    ("lang", "text", "found"),
    [
        ("uk", "продовжено до 4 березня 2027 р.", None),  # a future date
        ("uk", "з 5 березня 2026 р. діє новий закон", None),  # a past date, but no deadline
        ("uk", "термін минув 31 серпня 2026 р.", None),  # said as past: no deadline word before
        ("uk", "подати не пізніше 30 квітня 2026", "2026-04-30"),
        ("ru", "до 1 января 2026 года", "2026-01-01"),
        ("ru", "срок 15.03.2026", "2026-03-15"),  # numeric dates too
        ("pl", "złóż wniosek do 30 kwietnia 2026 r.", "2026-04-30"),
        ("pl", "termin 31 sie 2026", "2026-08-31"),  # babel's abbreviated month
        ("en", "apply before 1 Feb 2026", "2026-02-01"),
        ("en", "until 4 March 2027", None),
        ("en", "by 31 February 2026", None),  # not a date
    ],
)
def test_past_deadline_reading(lang: str, text: str, found: str | None) -> None:
    result = past_deadlines(text, lang, dt.date(2026, 12, 6))
    assert [d.isoformat() for _, d in result] == ([found] if found else [])
