"""A :class:`~handlers.model.Reply` to and from the JSON stored in ``outbox.payload``.

The address lives in the outbox's own columns (platform, chat_id, thread_id); the payload
holds the rest. Readers tolerate missing keys so old rows survive new optional fields.
"""

from __future__ import annotations

from typing import Any

from handlers.model import Address, Button, Media, MediaKind, Reply

PAYLOAD_VERSION = 1


def reply_to_payload(reply: Reply) -> dict[str, Any]:
    payload: dict[str, Any] = {"v": PAYLOAD_VERSION, "text": reply.text}
    if reply.buttons:
        payload["buttons"] = [[_button_to_json(button) for button in row] for row in reply.buttons]
    if reply.media is not None:
        media = reply.media
        payload["media"] = {
            "kind": media.kind.value,
            "ref": media.ref,
            "caption": media.caption,
            "file_name": media.file_name,
            "mime_type": media.mime_type,
        }
    if reply.silent:
        payload["silent"] = True
    if reply.meta:
        payload["meta"] = dict(reply.meta)
    if reply.lang is not None:
        payload["lang"] = reply.lang
    return payload


def _button_to_json(button: Button) -> dict[str, str]:
    data = {"label": button.label}
    if button.id:
        data["id"] = button.id
    if button.url is not None:
        data["url"] = button.url
    return data


def reply_from_payload(address: Address, payload: dict[str, Any]) -> Reply:
    buttons = tuple(
        tuple(Button(label=b["label"], id=b.get("id", ""), url=b.get("url")) for b in row)
        for row in payload.get("buttons", ())
    )
    media = None
    if (raw := payload.get("media")) is not None:
        media = Media(
            kind=MediaKind(raw["kind"]),
            ref=raw.get("ref"),
            caption=raw.get("caption"),
            file_name=raw.get("file_name"),
            mime_type=raw.get("mime_type"),
        )
    return Reply(
        address=address,
        text=payload.get("text", ""),
        buttons=buttons,
        media=media,
        silent=bool(payload.get("silent", False)),
        meta={str(k): str(v) for k, v in payload.get("meta", {}).items()},
        lang=payload.get("lang"),
    )
