"""Signed links that let Viber fetch a file a consultant sent in Telegram.

Viber cannot fetch a Telegram ``file_id``: its ``picture`` and ``file`` messages carry a URL.
:class:`MediaLinks` turns a ``file_id`` into ``PUBLIC_URL/media/<token>`` and serves that route
on our HTTP server, fetching the file from the Telegram Bot API (``getFile``, then
``/file/bot<token>/<file_path>``) and streaming it back.

The token is ``<payload>.<signature>``, both urlsafe base64: the payload names the file, whether
it goes out as a picture or a file (their size limits differ) and when the link expires; the
signature is HMAC-SHA256 under a key derived from the Viber auth token, so a link can be neither
forged nor extended. A token is a capability: it is never logged, nor is a URL carrying it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import mimetypes
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from bot.logging import register_secret
from bot.ports import RetryLater
from handlers.model import Media, MediaKind

log = logging.getLogger(__name__)

MEDIA_PATH = "/media/{token}"
#: How long a link works (Viber fetches at once; the person's app may fetch again later).
LINK_LIFETIME = 7 * 24 * 3600
#: Viber's limits: a picture (jpeg/png) up to 1 MB, a file up to 50 MB.
PICTURE_LIMIT = 1024 * 1024
FILE_LIMIT = 50 * 1024 * 1024
_PICTURE, _FILE = "p", "f"
_KEY_CONTEXT = b"otwarta/viber-media-link/v1\x00"
_CHUNK = 64 * 1024


class InvalidToken(Exception):
    """The token is malformed, forged, tampered with or expired."""


@dataclass(frozen=True, slots=True)
class TelegramFile:
    """What ``getFile`` says about a file."""

    path: str
    size: int | None


@dataclass(frozen=True, slots=True)
class MediaLink:
    """A consultant's file as Viber can send it: a ``picture`` or a ``file`` message."""

    url: str
    picture: bool
    size: int
    file_name: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    """Makes and checks the tokens (pure: no I/O)."""

    def __init__(self, secret: str, *, clock: Callable[[], float] = time.time) -> None:
        self._key = hashlib.sha256(_KEY_CONTEXT + secret.encode()).digest()
        self._clock = clock

    def sign(self, file_id: str, *, picture: bool, lifetime: float = LINK_LIFETIME) -> str:
        expires = int(self._clock() + lifetime)
        payload = f"{_PICTURE if picture else _FILE}:{expires}:{file_id}".encode()
        signature = hmac.new(self._key, payload, hashlib.sha256).digest()
        return f"{_b64(payload)}.{_b64(signature)}"

    def verify(self, token: str) -> tuple[str, bool]:
        """``(file_id, picture)`` of a genuine, unexpired token, else :class:`InvalidToken`."""
        encoded, dot, encoded_signature = token.partition(".")
        if not dot:
            raise InvalidToken("malformed")
        try:
            payload, signature = _unb64(encoded), _unb64(encoded_signature)
        except (binascii.Error, ValueError):
            raise InvalidToken("malformed") from None
        expected = hmac.new(self._key, payload, hashlib.sha256).digest()
        if not hmac.compare_digest(signature, expected):
            raise InvalidToken("bad signature")
        try:
            kind, expires, file_id = payload.decode().split(":", 2)
            expires_at = int(expires)
        except ValueError:
            raise InvalidToken("malformed") from None
        if expires_at < self._clock():
            raise InvalidToken("expired")
        return file_id, kind == _PICTURE


class TelegramFiles:
    """The two Bot API calls we need, over aiohttp (``getFile`` and the file download)."""

    def __init__(self, bot_token: str, api_url: str, *, timeout: float = 30.0) -> None:
        register_secret(bot_token)
        self._base = api_url.rstrip("/")
        self._token = bot_token
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def get_file(self, file_id: str) -> TelegramFile | None:
        """The file's path and size; ``None`` when Telegram does not know it (or will not serve
        it: over 20 MB); :class:`~bot.ports.RetryLater` when Telegram is unreachable."""
        url = f"{self._base}/bot{self._token}/getFile"
        try:
            async with self._client().post(url, json={"file_id": file_id}) as response:
                body: dict[str, Any] = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise RetryLater(5.0, f"telegram getFile failed: {type(exc).__name__}") from None
        if status == 429 or status >= 500:
            raise RetryLater(5.0, f"telegram getFile answered {status}")
        result = body.get("result") if body.get("ok") else None
        if not isinstance(result, dict) or not isinstance(result.get("file_path"), str):
            log.info("telegram getFile refused a file: %s", body.get("description"))
            return None
        size = result.get("file_size")
        return TelegramFile(result["file_path"], size if isinstance(size, int) else None)

    def download(self, path: str) -> Any:
        """``async with`` the download response (the caller streams the body)."""
        return self._client().get(f"{self._base}/file/bot{self._token}/{path}")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class MediaLinks:
    """Links for Viber to consultants' Telegram files, and the route serving them."""

    def __init__(self, signer: LinkSigner, files: TelegramFiles, public_url: str) -> None:
        self.signer = signer
        self.files = files
        self.public_url = public_url.rstrip("/")

    async def link(self, media: Media) -> MediaLink | None:
        """How to send ``media`` (a photo or document by Telegram ``file_id``) on Viber, or
        ``None`` (another kind, an unknown file, one over Viber's limits: the caller says so)."""
        if media.ref is None or media.kind not in (MediaKind.PHOTO, MediaKind.DOCUMENT):
            return None
        found = await self.files.get_file(media.ref)
        if found is None or found.size is None or found.size > FILE_LIMIT:
            return None
        name = media.file_name or found.path.rsplit("/", 1)[-1] or "file"
        # A photo over a picture's 1 MB, or not jpeg/png, still goes: as a file.
        picture = (
            media.kind is MediaKind.PHOTO
            and found.size <= PICTURE_LIMIT
            and found.path.lower().endswith((".jpg", ".jpeg", ".png"))
        )
        token = self.signer.sign(media.ref, picture=picture)
        return MediaLink(f"{self.public_url}/media/{token}", picture, found.size, name)

    def route(self) -> web.RouteDef:
        return web.get(MEDIA_PATH, self.serve)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        try:
            file_id, picture = self.signer.verify(request.match_info["token"])
        except InvalidToken as exc:
            log.info("media link refused (%s)", exc)
            raise web.HTTPForbidden() from None
        try:
            found = await self.files.get_file(file_id)
        except RetryLater:
            raise web.HTTPServiceUnavailable() from None
        if found is None:
            raise web.HTTPNotFound()
        limit = PICTURE_LIMIT if picture else FILE_LIMIT
        if found.size is not None and found.size > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=found.size)
        content_type = mimetypes.guess_type(found.path)[0]
        if content_type is None:
            content_type = "image/jpeg" if picture else "application/octet-stream"
        try:
            async with self.files.download(found.path) as upstream:
                if upstream.status == 404:
                    raise web.HTTPNotFound()
                if upstream.status != 200:
                    log.warning("telegram file download answered %d", upstream.status)
                    raise web.HTTPBadGateway()
                length = upstream.content_length
                if length is not None and length > limit:
                    raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=length)
                response = web.StreamResponse(headers={"Content-Type": content_type})
                if length is not None:
                    response.content_length = length
                await response.prepare(request)
                sent = 0
                async for chunk in upstream.content.iter_chunked(_CHUNK):
                    sent += len(chunk)
                    if sent > limit:  # the size was not told, or lied: abort, never truncate
                        log.warning("media link: the file grew over %d bytes; aborted", limit)
                        if request.transport is not None:
                            request.transport.close()
                        return response
                    await response.write(chunk)
                await response.write_eof()
                return response
        except aiohttp.ClientError as exc:
            log.warning("telegram file download failed: %s", type(exc).__name__)
            raise web.HTTPBadGateway() from None

    async def close(self) -> None:
        await self.files.close()


def media_links_for(
    viber_token: str, public_url: str | None, bot_token: str | None, api_url: str
) -> MediaLinks | None:
    """The links when they can work: a public URL Viber can reach and a Telegram bot."""
    if not public_url or not bot_token:
        return None
    return MediaLinks(LinkSigner(viber_token), TelegramFiles(bot_token, api_url), public_url)


__all__ = [
    "FILE_LIMIT",
    "LINK_LIFETIME",
    "PICTURE_LIMIT",
    "InvalidToken",
    "LinkSigner",
    "MediaLink",
    "MediaLinks",
    "TelegramFiles",
    "media_links_for",
]
