"""A terminal chat on the same core and outbox: numbered choices instead of buttons, for local use and demos."""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import Callable
from typing import Any, TextIO

from handlers.core import Core
from handlers.events import Inbound, Kind, Photo
from scheduler.sender import Limits, Sender
from storage.db import Database

CHANNEL = "terminal"
HINT = ("（输入数字选择按钮；/photo [文件] 发送照片，/location 纬度 经度 发送位置，/contact 手机号 发送手机号，"
        "/quit 退出）")


class TerminalTransport:
    """Prints messages; remembers each chat's latest buttons so a typed number becomes a press."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.buttons: dict[int, list[tuple[str, str]]] = {}
        self.last_message: dict[int, tuple[int, str]] = {}
        self._ids = itertools.count(1)

    async def deliver(self, chat_id: int, kind: str, payload: dict[str, Any]) -> int | None:
        if kind == "edit":
            return payload.get("message_id")  # a terminal cannot rewrite what it printed
        message_id = next(self._ids)
        text = payload.get("text", "")
        lines = [f"十小通：{text}"]
        if kind in ("photo", "document"):
            lines.append(f"[附件] {payload.get('photo') or payload.get('document')}")
        flat = [(b["label"], b["data"]) for row in payload.get("buttons", []) for b in row]
        if flat:
            self.buttons[chat_id] = flat
            lines.extend(f"  [{number}] {label}" for number, (label, _) in enumerate(flat, start=1))
        if payload.get("request") == "location":
            lines.append("  （请输入 /location 纬度 经度）")
        elif payload.get("request") == "contact":
            lines.append("  （请输入 /contact 手机号）")
        self.last_message[chat_id] = (message_id, text)
        print("\n".join(lines), file=self.out, flush=True)
        return message_id


def parse_line(line: str, user_id: int, transport: TerminalTransport) -> Inbound | None:
    """What the user typed, as the core's Inbound; None for an empty line."""
    text = line.strip()
    if not text:
        return None
    base: dict[str, Any] = {"user_id": user_id, "chat_id": user_id, "channel": CHANNEL, "display_name": None}
    choices = transport.buttons.get(user_id, [])
    if text.isdigit() and 1 <= int(text) <= len(choices):
        label, data = choices[int(text) - 1]
        message_id, message_text = transport.last_message.get(user_id, (None, None))
        return Inbound(kind=Kind.PRESS, data=data, pressed_label=label, message_id=message_id,
                       message_text=message_text, **base)
    if text.startswith("/"):
        head, _, rest = text[1:].partition(" ")
        name, rest = head.lower(), rest.strip()
        if name == "photo":
            return Inbound(kind=Kind.PHOTO, photo=Photo(file_id=rest or "terminal-photo"), **base)
        if name == "location":
            try:
                lat, lon = (float(part) for part in rest.replace(",", " ").split())
            except ValueError:
                return Inbound(kind=Kind.OTHER, **base)
            return Inbound(kind=Kind.LOCATION, location=(lat, lon), **base)
        if name == "contact":
            return Inbound(kind=Kind.CONTACT, phone=rest, **base)
        return Inbound(kind=Kind.COMMAND, command=name, text=rest, **base)
    return Inbound(kind=Kind.TEXT, text=text, **base)


async def chat(
    core: Core, db: Database, user_id: int, *, out: TextIO = sys.stdout,
    read_line: Callable[[], str] | None = None,
) -> None:
    transport = TerminalTransport(out)
    sender = Sender(db, transport, CHANNEL, Limits(global_per_second=1000, per_chat_interval=0))
    reader = read_line or (lambda: input("您："))
    print(f"十小通本地对话（用户 {user_id}）{HINT}", file=out, flush=True)
    await sender.drain()  # anything a previous session left undelivered
    first = True
    while True:
        if first:
            line, first = "/start", False  # greet at once, as Telegram does when a chat opens
        else:
            try:
                line = await asyncio.to_thread(reader)
            except (EOFError, KeyboardInterrupt):
                break
        if line.strip().lower() in ("/quit", "/exit"):
            break
        inbound = parse_line(line, user_id, transport)
        if inbound is None:
            continue
        await core.handle(inbound)
        await sender.drain()
    print("再见！", file=out, flush=True)
