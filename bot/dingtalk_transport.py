"""DingTalk's side of the outbox and the photo keeper: one-to-one robot messages and message files, through the
enterprise app's OpenAPI (`dingtalk-stream` SDK: its access token, its DINGTALK_OPENAPI_ENDPOINT).

A message with 1 to 5 choices is sent as one of the robot API's built-in ActionCard messages, which need no card
template (msgKey `sampleActionCard`: one button, `singleTitle`/`singleURL`; `sampleActionCard2`..`5`: 2 to 5 buttons
one under the other, `actionTitleN`/`actionURLN`; `sampleActionCard6` is a two-button row, not six). Each button is a
`dtmd://dingtalkclient/sendMessage?content=N` link: pressing it makes the person's DingTalk send "N", the choice's
number, to the robot as their own message, so a pressed button and a typed number are the same message to the
runtime. More choices, a label longer than a button title may be (20 characters), or the setting
SHIXIAO_DINGTALK_CARDS=false: the choices are numbered in the text, as in the terminal chat. Either way the person
can answer with the number (or the label); the runtime reads the numbers from the last message delivered to them
(storage/outbox.latest_sent), so every instance knows them and a restart forgets nothing.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

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
NUMBERED_HINT = "（回复数字选择，也可以直接输入选项文字）"
BUTTONS_HINT = "（点击下方按钮选择，也可以直接输入选项文字）"
MAX_CARD_BUTTONS = 5  # sampleActionCard .. sampleActionCard5
MAX_BUTTON_TITLE = 20  # DingTalk: a button's title is at most 20 characters
SEND_BACK = "dtmd://dingtalkclient/sendMessage?content="  # the client sends `content` as the person's message


def numbered(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """A message's choices as (label, data), in the order they are numbered."""
    return [(button["label"], button["data"]) for row in payload.get("buttons") or [] for button in row]


def as_buttons(payload: dict[str, Any], cards: bool) -> bool:
    """Whether a message's choices are shown as a card's buttons (else numbered in its text)."""
    choices = numbered(payload)
    return (
        cards
        and 1 <= len(choices) <= MAX_CARD_BUTTONS
        and all(0 < len(label) <= MAX_BUTTON_TITLE for label, _ in choices)
    )


def as_text(payload: dict[str, Any], photos: int = 0, *, buttons: bool = False) -> str:
    """A message as DingTalk shows it: its text, then its choices numbered (1. 符合) unless they are a card's
    buttons, and what cannot be shown."""
    lines = [payload.get("text", "")]
    if photos:
        lines.append(PHOTO_NOTE.format(n=photos))
    choices = numbered(payload)
    if choices and buttons:
        lines.append(BUTTONS_HINT)
    elif choices:
        lines.append("\n".join(f"{number}. {label}" for number, (label, _) in enumerate(choices, start=1)))
        lines.append(NUMBERED_HINT)
    if payload.get("request") == "location":
        lines.append(LOCATION_NOTE)
    elif payload.get("request") == "contact":
        lines.append(CONTACT_NOTE)
    return "\n\n".join(line for line in lines if line)


def send_back(content: str) -> str:
    """A link that makes the person's DingTalk send `content` to the robot as their message."""
    return SEND_BACK + quote(content, safe="")


def as_message(
    payload: dict[str, Any], photos: int = 0, *, cards: bool = True, image_url: str | None = None
) -> tuple[str, dict[str, str]]:
    """A message as a one-to-one robot message: its msgKey and msgParam (markdown, or an ActionCard whose
    buttons send back the choices' numbers)."""
    buttons = as_buttons(payload, cards)
    text = as_text(payload, photos, buttons=buttons)
    if image_url:
        text = f"{text}\n\n![]({image_url})"
    param = {"title": markdown_title(text), "text": text}
    if not buttons:
        return "sampleMarkdown", param
    choices = numbered(payload)
    if len(choices) == 1:
        return "sampleActionCard", {**param, "singleTitle": choices[0][0], "singleURL": send_back("1")}
    for number, (label, _) in enumerate(choices, start=1):
        param[f"actionTitle{number}"] = label
        param[f"actionURL{number}"] = send_back(str(number))
    return f"sampleActionCard{len(choices)}", param


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

    async def send(self, staff_id: str, msg_key: str, param: dict[str, str]) -> None:
        answer = await self.call(
            "/v1.0/robot/oToMessages/batchSend",
            {
                "robotCode": self.robot_code,
                "userIds": [staff_id],
                "msgKey": msg_key,
                "msgParam": json.dumps(param, ensure_ascii=False),
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

    def __init__(self, api: DingTalkApi, db: Database, publish: Publish | None = None, *, cards: bool = True) -> None:
        self.api = api
        self.db = db
        self.publish = publish
        self.cards = cards

    async def deliver(self, chat_id: int, kind: str, payload: dict[str, Any]) -> int | None:
        if kind == "edit":
            return payload.get("message_id")  # a robot's message cannot be rewritten; the choice was made
        async with self.db.transaction() as session:
            staff_id = await channel_accounts.account_of(session, CHANNEL, chat_id)
        if staff_id is None:
            raise PermanentFailure(f"chat {chat_id} is no DingTalk account")
        photos = len(payload.get("album") or []) or (1 if kind == "photo" else 0)
        url = None
        chart = payload.get("photo") if kind == "photo" else None
        if chart and self.publish is not None and await asyncio.to_thread(Path(chart).is_file):  # a digest chart
            url = await self.publish(await asyncio.to_thread(Path(chart).read_bytes))
        msg_key, param = as_message(payload, 0 if url else photos, cards=self.cards, image_url=url)
        await self.api.send(staff_id, msg_key, param)
        return None


class DingTalkPhotoSource:
    """A photo a person sent the robot, by its download code (the photo keeper fetches it after the commit)."""

    def __init__(self, api: DingTalkApi) -> None:
        self.api = api

    async def fetch(self, reference: str) -> bytes:
        return await self.api.download(reference)
