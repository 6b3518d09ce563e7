"""Announcement files (``content/announcements/``): validated like content (``otwarta content
check`` covers the folder), and the ``otwarta announce`` commands: the reach by language and
platform, a dry run that queues nothing, queueing once, the status with its progress bar."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.cli import main
from faq.announcements import read_announcement
from faq.check import check_content
from faq.content import DEFAULT_CONTENT_DIR, load_knowledge_base

GOOD = {
    "publish_at": "2026-12-07T09:00:00",
    "audience": "ukr-status",
    "entry": "cukr-card",
    "text": {"uk": "**CUKR**: до 4 березня 2027.", "ru": "**CUKR**: до 4 марта 2027."},
}


@pytest.fixture
def content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, root)
    (root / "announcements").mkdir(exist_ok=True)
    return root


def write(root: Path, name: str, data: object) -> Path:
    path = root / "announcements" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return path


def test_a_good_file_reads_with_its_target_and_publish_time(content: Path) -> None:
    kb = load_knowledge_base(content)
    announcement, problems = read_announcement(write(content, "cukr", GOOD), kb)
    assert announcement is not None
    assert {p.where.rsplit(".", 1)[-1] for p in problems} == {"pl", "en"}  # warnings only
    assert all(p.severity == "warning" for p in problems)
    assert announcement.publish_at == dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)  # Warsaw
    assert announcement.target.entries == ("cukr-card",)
    assert announcement.target.topics == ("stay",)  # the entry's topic
    assert announcement.target.audiences == ("ukr-status",)
    assert announcement.lang_for("pl") == "uk" == announcement.fallback
    assert announcement.lang_for("ru") == "ru"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"entry": "no-such-entry"}, "unknown entry"),
        ({"topic": "nowhere"}, "topic"),
        ({"text": {"uk": "тільки українською"}}, "ru"),
        ({"colour": "red"}, "Extra inputs"),
        ({"text": {"uk": "<b>так</b>", "ru": "да"}}, "HTML"),
        ({"text": {"uk": "я" * 3_600, "ru": "да"}}, "3500"),
        ({"fallback": "pl"}, "fallback"),
    ],
)
def test_content_check_covers_the_announcements(content: Path, change: dict, message: str) -> None:
    write(content, "bad", {**GOOD, **change})
    report = check_content(content)
    errors = [str(p) for p in report.errors]
    assert any("bad.yaml" in e and message in e for e in errors), errors
    assert check_content(DEFAULT_CONTENT_DIR).errors == []


def test_announce_dry_run_then_queue_once_then_status(
    content: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from bot.db import Database

    async def subscribe() -> None:
        db = Database.from_url(sqlite_url)
        now = dt.datetime.now(dt.UTC)
        try:
            async with db.transaction() as uow:
                for external_id, platform, lang, audience in (
                    ("1", "telegram", "uk", "ukr-status"),
                    ("2", "telegram", "pl", "ukr-status"),
                    ("v3", "viber", "ru", "other-tcn"),  # the entry's follower: any situation
                    ("4", "telegram", "en", "other-tcn"),  # not this situation, not the entry
                ):
                    user = await uow.people.touch(platform, external_id, now)
                    user.lang, user.audience = lang, audience
                    await uow.people.save(user)
                    kind, target = (
                        ("entry", "cukr-card") if platform == "viber" else ("situation", "")
                    )
                    await uow.subscriptions.add(user.id, kind, target, now)
        finally:
            await db.dispose()

    asyncio.run(subscribe())
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    from bot.settings import get_settings

    get_settings.cache_clear()
    monkeypatch.setattr("bot.settings.get_settings", get_settings)  # cleared again after
    path = write(content, "cukr", {**GOOD, "publish_at": None})
    runner = CliRunner()
    dry = runner.invoke(main, ["announce", str(path), "--dry-run", "--dir", str(content)])
    assert dry.exit_code == 0, dry.output
    assert "reaches 3 people" in dry.output
    assert "telegram   2" in dry.output and "viber      1" in dry.output
    assert "in uk      2" in dry.output and "in ru      1" in dry.output  # pl → uk, wholly
    assert "nothing queued" in dry.output

    status = runner.invoke(main, ["announce", "status"])
    assert status.output.strip() == "no announcements"
    queued = runner.invoke(main, ["announce", str(path), "--dir", str(content)])
    assert queued.exit_code == 0 and "queued as #1" in queued.output, queued.output
    again = runner.invoke(main, ["announce", str(path), "--dir", str(content)])
    assert "already queued as #1" in again.output
    status = runner.invoke(main, ["announce", "status"])
    assert status.exit_code == 0
    assert "#1 file:cukr [scheduled]" in status.output
    assert "[------------------------------] 0/0" in status.output

    bad = write(content, "bad", {**GOOD, "entry": "nope"})
    refused = runner.invoke(main, ["announce", str(bad), "--dir", str(content)])
    assert refused.exit_code != 0 and "unknown entry" in refused.output
