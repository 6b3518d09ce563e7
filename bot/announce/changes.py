"""An entry's answer changed and its editor marked the change ``notify: true``: its
subscribers get "this answer changed", with a button to the new answer — once per version.

The content version of an entry is a digest of its answer in every language, stored in
``entry_versions``. At start (:func:`sync_entry_versions`), an entry whose digest differs
from the stored one gets a new version stored; if it says ``notify: true`` an announcement
keyed by the entry and the new digest is queued (the key is unique: several processes
starting at once, or a restart, queue it once). An entry seen for the first time only has its
version stored: nobody subscribed to an answer they could not have read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging

from bot.announce.render import ENTRY_CHANGE
from bot.db import Database
from bot.db.announcements import Audience
from faq.content import LANGS, Entry, KnowledgeBase

log = logging.getLogger(__name__)


def entry_digest(entry: Entry) -> str:
    answer = {lang: entry.answer.get(lang) for lang in LANGS}
    return hashlib.sha256(json.dumps(answer, ensure_ascii=False).encode()).hexdigest()


async def sync_entry_versions(db: Database, kb: KnowledgeBase, now: dt.datetime) -> list[int]:
    """Store every entry's version; queue a notification for each changed ``notify`` entry.
    Returns the ids of the announcements queued."""
    queued: list[int] = []
    async with db.transaction() as uow:
        stored = await uow.announcements.entry_versions()
        for entry in kb.entries.values():
            digest = entry_digest(entry)
            before = stored.get(entry.id)
            if before == digest:
                continue
            if before is not None and entry.notify:
                created = await uow.announcements.create(
                    key=f"entry:{entry.id}:{digest[:16]}",
                    kind=ENTRY_CHANGE,
                    content={
                        "kind": ENTRY_CHANGE,
                        "entry": entry.id,
                        "titles": {lang: entry.title.get(lang) for lang in LANGS},
                        "texts": {lang: "" for lang in LANGS},
                        "fallback": "uk",
                    },
                    who=Audience(entries=(entry.id,)),
                    publish_at=now,
                    now=now,
                    entry_id=entry.id,
                )
                if created is not None:
                    queued.append(created)
                    log.info("entry %s changed (notify: true): announcement %d", entry.id, created)
            await uow.announcements.set_entry_version(entry.id, digest, now)
    return queued
