"""DingTalk's side of the outbox and the photo keeper: one-to-one robot messages and message files, through the
enterprise app's OpenAPI (`dingtalk-stream` SDK: its access token, its DINGTALK_OPENAPI_ENDPOINT).

Choices are numbered in the text, as in the terminal chat: interactive cards need a card template made on
DingTalk's card platform for each app (a template id), while numbered text works for every app and needs nothing.
The person answers with the number (or the label); the runtime reads the numbers from the last message delivered
to them (storage/outbox.latest_sent), so every instance knows them and a restart forgets nothing.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
from dingtalk_stream import DingTalkStreamClient
from dingtalk_stream.utils import DINGTALK_OPENAPI_ENDPOINT

from bot.robots import Publish, markdown_title
from scheduler.sender import PermanentFailure, RetryAfter, TemporaryFailure
from storage import channel_accounts
from storage.db import Database

CHANNEL = "dingtalk"
TIMEOUT = aiohttp.ClientTimeout(total=30)
FLOW_CONTROL_PAUSE = 5.0
PHOTO_NOTE = "（附照片{n}张：钉钉中不显示检查照片，请用 shixiao export inspections 或在 Telegram 中查看。）"
LOCATION_NOTE = "（钉钉中无法发送位置，请回复“跳过”。）"
CONTACT_NOTE = "（请直接输入手机号。）"


def numbered(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """A message's choices as (label, data), in the order they are numbered."""
    return [(button["label"], button["data"]) for row in payload.get("buttons") or [] for button in row]


def as_text(payload: dict[str, Any], photos: int = 0) -> str:
    """A message as DingTalk shows it: its text, then its choices numbered (1. 符合), and what cannot be shown."""
    lines = [payload.get("text", "")]
    if photos:
        lines.append(PHOTO_NOTE.format(n=photos))
    choices = numbered(payload)
    if choices:
        lines.append("\n".join(f"{number}. {label}" for number, (label, _) in enumerate(choices, start=1)))
        lines.append("（回复数字选择，也可以直接输入选项文字）")
    if payload.get("request") == "location":
        lines.append(LOCATION_NOTE)
    elif payload.get("request") == "contact":
        lines.append(CONTACT_NOTE)
    return "\n\n".join(line for line in lines if line)


class DingTalkApi:
    """The few OpenAPI calls the runtime makes, with the SDK's access token (fetched in a thread: it is blocking)."""

    def __init__(self, client: DingTalkStreamClient, robot_code: str) -> None:
        self.client = client
        self.robot_code = robot_code
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _token(self) -> str:
        token = await asyncio.to_thread(self.client.get_access_token)
        if not token:
            raise TemporaryFailure("no DingTalk access token")
        return token

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        headers = {"x-acs-dingtalk-access-token": await self._token()}
        try:
            async with self._session.post(
                DINGTALK_OPENAPI_ENDPOINT + path, json=body, headers=headers, allow_redirects=False
            ) as response:
                status = response.status
                answer = await response.json(content_type=None) if status < 500 else {}
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise TemporaryFailure(f"{type(error).__name__}: {error}") from None
        if status == 429:
            raise RetryAfter(FLOW_CONTROL_PAUSE)
        if status == 401:
            self.client.reset_access_token()
            raise TemporaryFailure("access token refused")
        if status >= 500:
            raise TemporaryFailure(f"DingTalk HTTP {status}")
        if status != 200:
            code = answer.get("code", "") if isinstance(answer, dict) else ""
            raise PermanentFailure(f"DingTalk HTTP {status} {str(code)[:80]}")
        return answer if isinstance(answer, dict) else {}

    async def send_markdown(self, staff_id: str, text: str) -> None:
        answer = await self.call(
            "/v1.0/robot/oToMessages/batchSend",
            {
                "robotCode": self.robot_code,
                "userIds": [staff_id],
                "msgKey": "sampleMarkdown",
                "msgParam": json.dumps({"title": markdown_title(text), "text": text}, ensure_ascii=False),
            },
        )
        if staff_id in (answer.get("invalidStaffIdList") or []):
            raise PermanentFailure("not a staff member of this organisation")
        if staff_id in (answer.get("flowControlledStaffIdList") or []):
            raise RetryAfter(FLOW_CONTROL_PAUSE, chat_only=True)

    async def download(self, download_code: str) -> bytes:
        answer = await self.call(
            "/v1.0/robot/messageFiles/download", {"robotCode": self.robot_code, "downloadCode": download_code}
        )
        url = answer.get("downloadUrl")
        if not url:
            raise PermanentFailure("no download URL for this file")
        assert self._session is not None
        try:
            async with self._session.get(url, allow_redirects=True) as response:
                if response.status >= 400:
                    raise (TemporaryFailure if response.status >= 500 else PermanentFailure)(
                        f"file HTTP {response.status}"
                    )
                return await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise TemporaryFailure(f"{type(error).__name__}: {error}") from None


class DingTalkTransport:
    """The outbox sender's transport for channel "dingtalk": chat ids are numbered staff ids."""

    def __init__(self, api: DingTalkApi, db: Database, publish: Publish | None = None) -> None:
        self.api = api
        self.db = db
        self.publish = publish

    async def deliver(self, chat_id: int, kind: str, payload: dict[str, Any]) -> int | None:
        if kind == "edit":
            return payload.get("message_id")  # a robot's message cannot be rewritten; the choice was made
        async with self.db.transaction() as session:
            staff_id = await channel_accounts.account_of(session, CHANNEL, chat_id)
        if staff_id is None:
            raise PermanentFailure(f"chat {chat_id} is no DingTalk account")
        text = as_text(payload, len(payload.get("album") or []) or (1 if kind == "photo" else 0))
        chart = payload.get("photo") if kind == "photo" else None
        if chart and self.publish is not None and await asyncio.to_thread(Path(chart).is_file):  # a digest chart
            url = await self.publish(await asyncio.to_thread(Path(chart).read_bytes))
            if url:
                text = f"{as_text(payload)}\n\n![]({url})"
        await self.api.send_markdown(staff_id, text)
        return None


class DingTalkPhotoSource:
    """A photo a person sent the robot, by its download code (the photo keeper fetches it after the commit)."""

    def __init__(self, api: DingTalkApi) -> None:
        self.api = api

    async def fetch(self, reference: str) -> bytes:
        return await self.api.download(reference)
