"""Work-group robots: DingTalk custom robots and WeCom group robots, as outbox transports.

A push is an outbox row of channel "dingtalk-robot" or "wecom-robot" whose chat id is the work group's id, so the
sender paces each robot on its own (both allow 20 messages a minute), retries failures with backoff and records
each delivery right after it, like every Telegram message. The transport reads the group's webhook and secret
for each push (a removed group is an unknown robot: the push is given up), signs DingTalk requests, and keeps
count of each robot's failures in a row: the county office is told in the chat when a robot keeps failing.

DingTalk: POST the webhook with `timestamp` (ms) and `sign` = base64(HMAC-SHA256(secret, "timestamp\\nsecret")),
URL-encoded, when the robot is set to sign; a markdown message. Its robots cannot upload an image, so a chart is
linked: put into the published store and named by its URL under SHIXIAO_PUBLIC_MEDIA_URL.
WeCom: POST the webhook (its key in the URL); markdown, and an image as base64 with its md5.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import aiohttp

from handlers.events import MEDIA_PREFIX
from handlers.texts import Texts
from handlers.work_groups import failure_notices
from scheduler.sender import DeliveryError, Limits, PermanentFailure, RetryAfter, TemporaryFailure
from storage import outbox, work_groups
from storage.clock import Clock
from storage.db import Database
from storage.media import MediaError, MediaStore, keep
from storage.redaction import hide, redact

log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=15)
WECOM_IMAGE_MAX = 2 * 1024 * 1024  # WeCom refuses larger images
RATE_LIMIT_PAUSE = 60.0  # a robot over its limit is told to wait; a minute clears a per-minute window
# DingTalk custom robot answers: security settings not met (a wrong signature, a missing keyword, an address not
# allowed), the robot or its token gone, sending too fast.
DINGTALK_REFUSED = {310000: "security", 300001: "token", 400101: "token", 400102: "stopped", 400106: "token"}
DINGTALK_TOO_FAST = {130101, 410100, 90030}
WECOM_REFUSED = {93000: "token", 93004: "stopped", 40008: "message", 40058: "message", 44004: "message"}
WECOM_TOO_FAST = {45009, 45033}


class RobotRefused(PermanentFailure):
    """The robot answered that this can never be sent (wrong secret, token gone); `reason` names why."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The `sign` query value of a signed DingTalk robot request (already URL-encoded)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def signed_url(webhook: str, secret: str | None, timestamp_ms: int) -> str:
    if not secret:
        return webhook
    return f"{webhook}&timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


def markdown_title(text: str) -> str:
    """The first line, as the notification's title (what a phone shows)."""
    first = text.strip().splitlines()[0] if text.strip() else "十小通"
    return first.strip("【】 ")[:30] or "十小通"


def dingtalk_markdown(text: str) -> str:
    """Plain text as DingTalk markdown: every line break kept (markdown joins single lines)."""
    return "  \n".join(text.splitlines())


def robot_limits(per_minute: float) -> Limits:
    """One robot's pace: `per_minute` messages in any minute (the sender's 5 % margin keeps it under), one at a time;
    the robots of one kind together at most one a second per robot of headroom (they are independent)."""
    return Limits(
        global_per_second=20.0,
        per_chat_interval=60.0 / per_minute,
        per_chat_burst=1,
        max_attempts=8,
        max_backoff=600.0,
        concurrency=4,
    )


Publish = Callable[[bytes], Awaitable[str | None]]


def published_links(store: MediaStore | None, base_url: str) -> Publish:
    """Put a file where the web server publishes it and return its URL (None: nothing is published)."""

    async def publish(data: bytes) -> str | None:
        if store is None or not base_url:
            return None
        try:
            stored = await keep(store, data)
        except MediaError as error:
            raise TemporaryFailure(f"published store: {error}") from error
        return f"{base_url.rstrip('/')}/{stored.key}"

    return publish


class RobotTransport:
    """Delivers one kind's pushes (the Sender's transport for channel "<kind>-robot")."""

    def __init__(
        self,
        db: Database,
        kind: str,
        clock: Clock,
        texts: Texts,
        *,
        media: MediaStore | None = None,
        publish: Publish | None = None,
        report_after: int = 3,
        rate_limit_pause: float = RATE_LIMIT_PAUSE,
    ) -> None:
        self.db = db
        self.kind = kind
        self.clock = clock
        self.texts = texts
        self.media = media
        self.publish = publish
        self.report_after = report_after
        self.rate_limit_pause = rate_limit_pause
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def deliver(self, chat_id: int, kind: str, payload: dict[str, Any]) -> int | None:
        async with self.db.transaction() as session:
            group = await work_groups.get_group(session, chat_id)
            webhook, secret = (group.webhook, group.secret) if group else (None, None)
        if webhook is None:
            raise PermanentFailure(f"unknown robot: work group {chat_id} was removed")
        hide(webhook, secret)
        try:
            await self._post(webhook, secret, kind, payload)
        except RetryAfter:
            raise  # the robot's own limit: paced, not failing
        except DeliveryError as error:
            await self._failed(chat_id, error)
            raise
        async with self.db.transaction() as session:
            await work_groups.record_delivery(session, chat_id)
        log.info("pushed outbox message to work group %s (%s)", chat_id, self.kind)
        return None

    async def _post(self, webhook: str, secret: str | None, kind: str, payload: dict[str, Any]) -> None:
        if self.kind == "dingtalk":
            body = await self._dingtalk_body(kind, payload)
            url = signed_url(webhook, secret, int(time.time() * 1000))
        else:
            body = await self._wecom_body(kind, payload)
            url = webhook
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        try:
            async with self._session.post(url, json=body, allow_redirects=False) as response:
                status, answer = response.status, await _json(response)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise TemporaryFailure(redact(f"{type(error).__name__}: {error}")) from None
        self._check(status, answer)

    def _check(self, status: int, answer: dict[str, Any]) -> None:
        if status == 429:
            raise RetryAfter(self.rate_limit_pause, chat_only=True)
        if status >= 500:
            raise TemporaryFailure(f"robot HTTP {status}")
        if status != 200:
            raise RobotRefused(f"robot HTTP {status}", "http")
        code = answer.get("errcode")
        if code == 0:
            return
        message = f"robot errcode {code}: {str(answer.get('errmsg', ''))[:200]}"
        refused = DINGTALK_REFUSED if self.kind == "dingtalk" else WECOM_REFUSED
        too_fast = DINGTALK_TOO_FAST if self.kind == "dingtalk" else WECOM_TOO_FAST
        if code in too_fast:
            raise RetryAfter(self.rate_limit_pause, chat_only=True)
        if code in refused:
            raise RobotRefused(message, refused[code])
        raise TemporaryFailure(message)

    async def _dingtalk_body(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        text = payload.get("text", "")
        if kind == "photo":
            url = await self.publish(await self._file(payload["photo"])) if self.publish else None
            text = f"{text}\n\n![]({url})" if url else f"{text}\n\n{self.texts('wg_chart_not_published')}"
        return {"msgtype": "markdown", "markdown": {"title": markdown_title(text), "text": dingtalk_markdown(text)}}

    async def _wecom_body(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        if kind == "photo":
            data = await self._file(payload["photo"])
            if len(data) > WECOM_IMAGE_MAX:
                raise RobotRefused(f"image of {len(data)} bytes is over WeCom's 2 MB", "message")
            return {
                "msgtype": "image",
                "image": {"base64": base64.b64encode(data).decode(), "md5": hashlib.md5(data).hexdigest()},
            }
        return {"msgtype": "markdown", "markdown": {"content": payload.get("text", "")}}

    async def _file(self, reference: str) -> bytes:
        if reference.startswith(MEDIA_PREFIX):
            if self.media is None:
                raise PermanentFailure("no media store")
            try:
                return await self.media.get(reference[len(MEDIA_PREFIX) :])
            except MediaError as error:
                raise TemporaryFailure(f"media store: {error}") from error
        try:
            return await asyncio.to_thread(Path(reference).read_bytes)
        except FileNotFoundError:
            raise PermanentFailure(f"file gone: {Path(reference).name}") from None
        except OSError as error:
            raise TemporaryFailure(f"file: {error.strerror}") from None

    async def _failed(self, group_id: int, error: DeliveryError) -> None:
        """Count the failure; the county office hears of a robot refused outright or failing `report_after` times."""
        reason = error.reason if isinstance(error, RobotRefused) else "network"
        report_after = 1 if isinstance(error, PermanentFailure) else self.report_after
        now = self.clock.now()
        async with self.db.transaction() as session:
            group = await work_groups.record_failure(session, group_id, now, report_after)
            if group is None:
                return
            notices = await failure_notices(session, self.texts, group, reason)
            await outbox.enqueue_notices(session, notices, now)
        log.warning("work group %s keeps failing (%s); the county office is told", group_id, reason)


async def _json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        answer = await response.json(content_type=None)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
