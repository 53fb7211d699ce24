"""Fake group-robot webhooks (a DingTalk custom robot and a WeCom group robot) on a local aiohttp server, for tests.

Each robot checks what the real one checks: its token or key, DingTalk's signature (timestamp within an hour,
HMAC-SHA256 of "timestamp\\nsecret", base64, URL-encoded: a mismatch is errcode 310000), WeCom's image md5, and a
rate limit per robot (20 a minute, or what a test sets) answered as the real ones answer it. Tests can queue
failures (an HTTP status, an errcode) and make a request hang (never answered, as if the connection broke before
the robot took it). Every accepted message is recorded with the robot it reached.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from aiohttp import web

SIGN_VALID_MS = 3600 * 1000


@dataclass
class FakeRobot:
    kind: str  # dingtalk | wecom
    token: str
    secret: str | None = None
    per_window: int = 20
    window: float = 60.0
    accepted: list[dict[str, Any]] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)  # errcodes answered
    sent_at: deque[float] = field(default_factory=deque)
    failures: deque[int] = field(default_factory=deque)  # queued: an HTTP status >= 400, or an errcode
    hang_after: int | None = None  # requests after this many accepted hang, unanswered

    def texts(self) -> list[str]:
        out = []
        for body in self.accepted:
            if body.get("msgtype") == "markdown":
                out.append(body["markdown"].get("text") or body["markdown"].get("content", ""))
        return out


def dingtalk_signature_ok(secret: str, timestamp: str, sign: str, now_ms: int) -> bool:
    """The robot's check, written independently of the product's signing code."""
    if not timestamp.isdigit() or abs(now_ms - int(timestamp)) > SIGN_VALID_MS:
        return False
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    return hmac.compare_digest(expected, unquote_plus(sign)) or hmac.compare_digest(expected, sign)


class FakeRobots:
    def __init__(self) -> None:
        self.robots: dict[tuple[str, str], FakeRobot] = {}
        self.requests = 0
        self.hanging = 0
        self._runner: web.AppRunner | None = None
        self.base = ""

    def add(self, kind: str, token: str, secret: str | None = None, **limits: Any) -> FakeRobot:
        robot = FakeRobot(kind, token, secret, **limits)
        self.robots[(kind, token)] = robot
        return robot

    def webhook(self, robot: FakeRobot) -> str:
        if robot.kind == "dingtalk":
            return f"{self.base}/robot/send?access_token={robot.token}"
        return f"{self.base}/cgi-bin/webhook/send?key={robot.token}"

    async def __aenter__(self) -> FakeRobots:
        app = web.Application()
        app.router.add_post("/robot/send", self._dingtalk)
        app.router.add_post("/cgi-bin/webhook/send", self._wecom)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _common(self, robot: FakeRobot | None, too_fast: int) -> web.Response | None:
        self.requests += 1
        if robot is None:
            return None
        if robot.hang_after is not None and len(robot.accepted) >= robot.hang_after:
            self.hanging += 1
            await asyncio.sleep(3600)  # the client gives up or dies; nothing is taken
        if robot.failures:
            failure = robot.failures.popleft()
            if failure >= 400 and failure < 600:
                return web.Response(status=failure, text="server error")
            robot.refused.append(failure)
            return web.json_response({"errcode": failure, "errmsg": "injected"})
        now = time.monotonic()
        while robot.sent_at and now - robot.sent_at[0] >= robot.window:
            robot.sent_at.popleft()
        if len(robot.sent_at) >= robot.per_window:
            robot.refused.append(too_fast)
            return web.json_response({"errcode": too_fast, "errmsg": "send too fast"})
        return None

    async def _dingtalk(self, request: web.Request) -> web.Response:
        robot = self.robots.get(("dingtalk", request.query.get("access_token", "")))
        answer = await self._common(robot, 410100)
        if robot is None:
            return web.json_response({"errcode": 300001, "errmsg": "token is not exist"})
        if answer is not None:
            return answer
        if robot.secret is not None and not dingtalk_signature_ok(
            robot.secret, request.query.get("timestamp", ""), request.query.get("sign", ""), int(time.time() * 1000)
        ):
            robot.refused.append(310000)
            return web.json_response({"errcode": 310000, "errmsg": "sign not match"})
        body = json.loads(await request.text())
        if body.get("msgtype") != "markdown" or not body["markdown"].get("title") or not body["markdown"].get("text"):
            return web.json_response({"errcode": 40035, "errmsg": "缺少参数 json"})
        robot.sent_at.append(time.monotonic())
        robot.accepted.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _wecom(self, request: web.Request) -> web.Response:
        robot = self.robots.get(("wecom", request.query.get("key", "")))
        answer = await self._common(robot, 45009)
        if robot is None:
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url"})
        if answer is not None:
            return answer
        body = json.loads(await request.text())
        if body.get("msgtype") == "image":
            data = base64.b64decode(body["image"]["base64"])
            if hashlib.md5(data).hexdigest() != body["image"]["md5"]:
                return web.json_response({"errcode": 301019, "errmsg": "media md5 not match"})
        elif body.get("msgtype") != "markdown" or len(body["markdown"].get("content", "").encode()) > 4096:
            return web.json_response({"errcode": 40058, "errmsg": "content exceed max length"})
        robot.sent_at.append(time.monotonic())
        robot.accepted.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})
