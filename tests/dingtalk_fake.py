"""A fake DingTalk for tests: the Stream gateway (connections/open, then a websocket that pushes robot messages as
CALLBACK frames and takes acknowledgements) and the OpenAPI the runtime calls (access token, one-to-one robot
messages, message files). The `dingtalk-stream` SDK is pointed at it by its documented DINGTALK_OPENAPI_ENDPOINT.

An unacknowledged frame is delivered again when the client connects next, as DingTalk does. One-to-one robot
messages are limited as DingTalk limits them: per app, at most `per_window` sends in any `window` seconds (beyond
that the API answers HTTP 429, nothing sent), and per staff member at most `per_staff` in `staff_window` (beyond that the
call succeeds but names the person in `flowControlledStaffIdList`, nothing sent to them). Tests can queue failures
(`failures`: HTTP statuses answered before anything is sent). Each message is recorded with its msgKey and msgParam;
the built-in ActionCards are checked as DingTalk documents them (sampleActionCard: title, text, singleTitle,
singleURL; sampleActionCard2..5: title, text, actionTitleN/actionURLN for N buttons; sampleActionCard6: two; button
titles at most 20 characters, URLs at most 500), any other msgKey but sampleMarkdown is refused. `DingTalkPerson` is
a staff member chatting with the robot, with the interface of tests/chat_driver.Person (text, command, press by
label, photo, last), so the same scripted flows run through it; pressing a card's button does what DingTalk's client
does with a `dtmd://dingtalkclient/sendMessage?content=...` link: it sends the content as the person's message.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import socket
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import WSMsgType, web

CLIENT_ID, CLIENT_SECRET = "dingfaketestapp", "fake-dingtalk-app-secret-0123456789"
MESSAGES_TOPIC = "/v1.0/im/bot/messages/get"
CARD_TOPIC = "/v1.0/card/instances/callback"
PNG = b"\x89PNG\r\n\x1a\n" + b"fake photo from dingtalk" * 10
SEND_MESSAGE = "dtmd://dingtalkclient/sendMessage?content="
CARD_BUTTONS = {"sampleActionCard2": 2, "sampleActionCard3": 3, "sampleActionCard4": 4, "sampleActionCard5": 5}
CARD_BUTTONS["sampleActionCard6"] = 2  # two buttons side by side


@dataclass
class Sent:
    staff_id: str
    text: str
    msg_key: str = "sampleMarkdown"
    param: dict[str, str] = field(default_factory=dict)

    def buttons(self) -> list[tuple[str, str]]:
        """A card's buttons as (title, URL); none for a markdown message."""
        if self.msg_key == "sampleActionCard":
            return [(self.param["singleTitle"], self.param["singleURL"])]
        count = CARD_BUTTONS.get(self.msg_key, 0)
        return [(self.param[f"actionTitle{n}"], self.param[f"actionURL{n}"]) for n in range(1, count + 1)]


def card_problem(msg_key: str, param: dict[str, Any]) -> str | None:
    """What is wrong with a message's msgParam for its msgKey, as DingTalk documents them; None if nothing."""
    if msg_key == "sampleMarkdown":
        fields = ["title", "text"]
    elif msg_key == "sampleActionCard":
        fields = ["title", "text", "singleTitle", "singleURL"]
    elif msg_key in CARD_BUTTONS:
        count = CARD_BUTTONS[msg_key]
        fields = ["title", "text"] + [f"action{part}{n}" for n in range(1, count + 1) for part in ("Title", "URL")]
    else:
        return f"unknown msgKey {msg_key}"
    missing = [name for name in fields if not isinstance(param.get(name), str) or not param[name]]
    if missing:
        return f"missing {missing}"
    extra = sorted(set(param) - set(fields))
    if extra:
        return f"not a field of {msg_key}: {extra}"
    if any(len(param[name]) > 20 for name in fields if "Title" in name):
        return "a button title longer than 20 characters"
    if any(len(param[name]) > 500 for name in fields if "URL" in name):
        return "a button URL longer than 500 characters"
    return None


@dataclass
class FakeDingTalk:
    staff: set[str] = field(default_factory=set)  # staff ids of the organisation
    sent: list[Sent] = field(default_factory=list)
    acks: dict[str, int] = field(default_factory=dict)  # frame id -> ack code
    files: dict[str, bytes] = field(default_factory=dict)
    downloads: int = 0
    base: str = ""
    per_window: int | None = None  # one-to-one sends the app may make in any `window` seconds (None: no limit)
    per_staff: int | None = None  # messages one person may get in any `staff_window` seconds (None: no limit)
    window: float = 1.0
    staff_window: float = 1.0
    failures: deque[int] = field(default_factory=deque)  # queued HTTP statuses (5xx) answered to the next sends
    limited: int = 0  # sends answered 429
    flow_controlled: int = 0  # staff ids answered in flowControlledStaffIdList
    failed: int = 0  # sends answered with an injected failure
    refused: list[str] = field(default_factory=list)  # why sends were answered 400 (a msgParam not as documented)

    def __post_init__(self) -> None:
        self._frames: dict[str, dict[str, Any]] = {}  # sent, not yet acknowledged
        self._sockets: list[web.WebSocketResponse] = []
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.connections = 0
        self._app_sends: deque[float] = deque()
        self._staff_sends: dict[str, deque[float]] = {}

    async def __aenter__(self) -> FakeDingTalk:
        app = web.Application()
        app.router.add_post("/v1.0/gateway/connections/open", self._open)
        app.router.add_get("/connect", self._connect)
        app.router.add_post("/v1.0/oauth2/accessToken", self._token)
        app.router.add_post("/v1.0/robot/oToMessages/batchSend", self._send)
        app.router.add_post("/v1.0/robot/messageFiles/download", self._download_url)
        app.router.add_get("/files/{code}", self._file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- the gateway ---------------------------------------------------------------------------------------------
    async def _open(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("clientId") != CLIENT_ID or body.get("clientSecret") != CLIENT_SECRET:
            return web.json_response({"code": "InvalidClient"}, status=401)
        return web.json_response({"endpoint": f"ws{self.base[4:]}/connect", "ticket": "ticket-1"})

    async def _connect(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        self.connections += 1
        for frame in list(self._frames.values()):  # unacknowledged: delivered again
            await ws.send_str(json.dumps(frame))
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                ack = json.loads(message.data)
                frame_id = ack.get("headers", {}).get("messageId", "")
                self.acks[frame_id] = ack.get("code")
                if ack.get("code") == 200:
                    self._frames.pop(frame_id, None)
        self._sockets.remove(ws)
        return ws

    async def push(self, topic: str, data: dict[str, Any]) -> str:
        frame_id = f"frame-{next(self._ids)}"
        frame = {
            "specVersion": "1.0",
            "type": "CALLBACK",
            "headers": {
                "appId": CLIENT_ID,
                "connectionId": "conn-1",
                "contentType": "application/json",
                "messageId": frame_id,
                "time": str(int(time.time() * 1000)),
                "topic": topic,
            },
            "data": json.dumps(data, ensure_ascii=False),
        }
        self._frames[frame_id] = frame
        for _ in range(100):
            if self._sockets:
                break
            await asyncio.sleep(0.1)
        for ws in self._sockets:
            await ws.send_str(json.dumps(frame))
        return frame_id

    def robot_message(
        self, staff_id: str | None, nick: str, msgtype: str, content: dict[str, Any], conversation_type: str = "1"
    ) -> dict[str, Any]:
        message = {
            "conversationId": f"cid-{staff_id}",
            "chatbotCorpId": "corp",
            "chatbotUserId": "bot",
            "msgId": f"msg-{next(self._ids)}",
            "senderNick": nick,
            "isAdmin": False,
            "sessionWebhookExpiredTime": int(time.time() * 1000) + 3_600_000,
            "createAt": int(time.time() * 1000),
            "senderCorpId": "corp",
            "conversationType": conversation_type,
            "senderId": f"$:{staff_id}",
            "robotCode": CLIENT_ID,
            "sessionWebhook": f"{self.base}/session",
            "msgtype": msgtype,
            **content,
        }
        if staff_id is not None:
            message["senderStaffId"] = staff_id
        return message

    # -- the OpenAPI ---------------------------------------------------------------------------------------------
    async def _token(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("appKey") != CLIENT_ID or body.get("appSecret") != CLIENT_SECRET:
            return web.json_response({"code": "invalidClientSecret"}, status=400)
        return web.json_response({"accessToken": "fake-access-token", "expireIn": 7200})

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("x-acs-dingtalk-access-token") == "fake-access-token"

    async def _send(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"code": "InvalidAuthentication"}, status=401)
        body = await request.json()
        assert body["robotCode"] == CLIENT_ID
        params = json.loads(body["msgParam"])
        problem = card_problem(body["msgKey"], params)
        if problem is not None:
            self.refused.append(problem)
            return web.json_response({"code": "invalidParameter", "message": problem}, status=400)
        if self.failures:
            self.failed += 1
            return web.Response(status=self.failures.popleft(), text="injected failure")
        now = time.monotonic()
        if self.per_window is not None:
            _forget(self._app_sends, now - self.window)
            if len(self._app_sends) >= self.per_window:
                self.limited += 1
                return web.json_response(
                    {"code": "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "message": "调用太频繁"}, status=429
                )
            self._app_sends.append(now)
        invalid = [staff for staff in body["userIds"] if staff not in self.staff]
        controlled = []
        for staff in body["userIds"]:
            if staff not in self.staff:
                continue
            recent = self._staff_sends.setdefault(staff, deque())
            _forget(recent, now - self.staff_window)
            if self.per_staff is not None and len(recent) >= self.per_staff:
                controlled.append(staff)
                continue
            recent.append(now)
            self.sent.append(Sent(staff, params["text"], body["msgKey"], params))
        self.flow_controlled += len(controlled)
        return web.json_response(
            {
                "processQueryKey": f"q{next(self._ids)}",
                "invalidStaffIdList": invalid,
                "flowControlledStaffIdList": controlled,
            }
        )

    async def _download_url(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"code": "InvalidAuthentication"}, status=401)
        code = (await request.json()).get("downloadCode", "")
        if code not in self.files:
            return web.json_response({"code": "invalidDownloadCode"}, status=400)
        return web.json_response({"downloadUrl": f"{self.base}/files/{code}"})

    async def _file(self, request: web.Request) -> web.Response:
        self.downloads += 1
        return web.Response(body=self.files[request.match_info["code"]], content_type="image/png")

    def to(self, staff_id: str) -> list[str]:
        return [sent.text for sent in self.sent if sent.staff_id == staff_id]

    def messages_to(self, staff_id: str) -> list[Sent]:
        return [sent for sent in self.sent if sent.staff_id == staff_id]


def _forget(stamps: deque[float], before: float) -> None:
    while stamps and stamps[0] <= before:
        stamps.popleft()


@dataclass
class Shown:
    text: str


class DingTalkPerson:
    """A staff member in a one-to-one chat with the robot; each action waits for the robot's answer."""

    def __init__(self, fake: FakeDingTalk, staff_id: str, nick: str) -> None:
        self.fake, self.staff_id, self.nick = fake, staff_id, nick
        fake.staff.add(staff_id)
        self.seen = 0

    @property
    def last(self) -> Shown:
        return Shown(self.fake.to(self.staff_id)[-1])

    async def _say(self, msgtype: str, content: dict[str, Any]) -> str:
        before = len(self.fake.to(self.staff_id))
        await self.fake.push(MESSAGES_TOPIC, self.fake.robot_message(self.staff_id, self.nick, msgtype, content))
        return await self.answer(before)

    async def answer(self, before: int, within: float = 20.0) -> str:
        deadline = time.monotonic() + within
        while len(self.fake.to(self.staff_id)) <= before:
            assert time.monotonic() < deadline, f"no answer for {self.staff_id}"
            await asyncio.sleep(0.05)
        while True:  # the answer is complete when nothing more arrives for a moment
            count = len(self.fake.to(self.staff_id))
            await asyncio.sleep(0.3)
            if len(self.fake.to(self.staff_id)) == count:
                return self.last.text

    async def text(self, text: str) -> str:
        return await self._say("text", {"text": {"content": text}})

    async def command(self, name: str, argument: str = "") -> str:
        return await self.text(f"/{name} {argument}".strip())

    async def photo(self, data: bytes = PNG) -> str:
        code = f"download-code-{len(self.fake.files) + 1}"
        self.fake.files[code] = data
        return await self._say("picture", {"content": {"downloadCode": code}})

    @property
    def last_message(self) -> Sent:
        return self.fake.messages_to(self.staff_id)[-1]

    def choices(self) -> list[tuple[str, str]]:
        """The numbered choices of the last message's text, as (number, label)."""
        return re.findall(r"^(\d+)\. (.+)$", self.last.text, re.MULTILINE)

    async def press(self, label: str) -> str:
        """The choice `label` of the last message: its card button if it is a card, else its number typed."""
        buttons = self.last_message.buttons()
        if buttons:
            for title, url in buttons:
                if title == label:
                    return await self.follow(url)
            raise AssertionError(f"no button {label!r} on the card: {buttons}")
        for number, shown in self.choices():
            if shown == label:
                return await self.text(number)
        raise AssertionError(f"no choice {label!r} in: {self.last.text}")

    async def follow(self, url: str) -> str:
        """What DingTalk's client does when a dtmd sendMessage link is pressed: the content, sent as this person."""
        assert url.startswith(SEND_MESSAGE), f"not a link that sends a message: {url}"
        return await self.text(unquote(url[len(SEND_MESSAGE) :]))
