"""A terminal chat on the same core and outbox: numbered choices instead of buttons, for local use and demos."""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import logging
import math
import struct
import sys
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO

from handlers.core import Core
from handlers.events import MEDIA_PREFIX, Inbound, Kind, Photo
from scheduler.photo_keeper import PhotoKeeper
from scheduler.sender import Limits, PermanentFailure, Sender
from storage.db import Database
from storage.media import MEDIA_FOLDER, MediaStore

CHANNEL = "terminal"
HINT = (
    "（输入数字选择按钮；/photo [文件] 发送照片，/location 纬度 经度 发送位置，/contact 手机号 发送手机号，/quit 退出）"
)
# A button number is short; longer digit strings are text for the step (and int() refuses 4,300+ digits).
MAX_BUTTON_DIGITS = 4
POLL_SECONDS = 1.0  # how soon a message another user caused shows up while this one is idle
MAX_SHOWN_NAME = 80  # a file name echoed back in a message, cut after this many characters
LOCATION_USAGE = "位置没有发送：请输入 /location 纬度 经度，例如 /location 28.15 120.69。"
NO_SUCH_FILE = "照片没有发送：找不到文件“{name}”。只输入 /photo 可以发送一张模拟照片。"
NOT_A_FILE = "照片没有发送：“{name}”不是一个文件。只输入 /photo 可以发送一张模拟照片。"
FAILED = "抱歉，处理这条输入时出错了，请重试（详情已写入日志）。"
SIMULATED_PHOTO = "terminal-photo"  # /photo without a file name

log = logging.getLogger(__name__)


class NotSent(Exception):
    """A line the terminal cannot turn into a message (a missing photo file, a malformed location); the
    message says why, in Chinese, and nothing reaches the bot."""


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
            lines.append(f"[附件] {_shown(payload.get('photo') or payload.get('document') or '')}")
        if kind == "album":
            lines.append(f"[相册] {len(payload['album'])}张照片")
            lines.extend(f"  {_shown(reference)}" for reference in payload["album"])
        flat = [(b["label"], b["data"]) for row in payload.get("buttons", []) for b in row]
        # Numbers choose among the latest message's buttons only: after a prompt without buttons (a text step),
        # a typed "2" is the answer "2", not the second button of some earlier message (say 放弃).
        self.buttons[chat_id] = flat
        if flat:
            lines.extend(f"  [{number}] {label}" for number, (label, _) in enumerate(flat, start=1))
        if payload.get("request") == "location":
            lines.append("  （请输入 /location 纬度 经度）")
        elif payload.get("request") == "contact":
            lines.append("  （请输入 /contact 手机号）")
        self.last_message[chat_id] = (message_id, text)
        print("\n".join(lines), file=self.out, flush=True)
        return message_id


def _shown(reference: str) -> str:
    """A kept photo as its path under the data folder (media/ab/cd/….jpg), anything else as it is."""
    return MEDIA_FOLDER + "/" + reference[len(MEDIA_PREFIX) :] if reference.startswith(MEDIA_PREFIX) else reference


def simulated_photo() -> bytes:
    """What the simulated camera of `/photo` takes: a small grey PNG, so a demo report's photo is kept like any."""
    width, height = 64, 48
    raw = (b"\x00" + b"\xa0\xa0\xa0" * width) * height

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


class TerminalPhotoSource:
    """The terminal's photos are files on this machine (or the simulated camera's picture)."""

    async def fetch(self, reference: str) -> bytes:
        if reference == SIMULATED_PHOTO:
            return simulated_photo()
        try:
            return await asyncio.to_thread(Path(reference).read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as error:
            raise PermanentFailure(f"the file is gone: {error.strerror}") from error


def parse_line(line: str, user_id: int, transport: TerminalTransport) -> Inbound | None:
    """What the user typed, as the core's Inbound; None for an empty line. Raises NotSent for a line that
    names a photo file that is not there or a location that is not two numbers."""
    text = line.strip()
    if not text:
        return None
    base: dict[str, Any] = {"user_id": user_id, "chat_id": user_id, "channel": CHANNEL, "display_name": None}
    choices = transport.buttons.get(user_id, [])
    # isdecimal, not isdigit: ² and ① are digits that int() refuses; full-width １ is decimal and welcome.
    if text.isdecimal() and len(text) <= MAX_BUTTON_DIGITS and 1 <= int(text) <= len(choices):
        label, data = choices[int(text) - 1]
        message_id, message_text = transport.last_message.get(user_id, (None, None))
        return Inbound(
            kind=Kind.PRESS, data=data, pressed_label=label, message_id=message_id, message_text=message_text, **base
        )
    if text.startswith("/"):
        head, _, rest = text[1:].partition(" ")
        name, rest = head.lower(), rest.strip()
        if name == "photo":
            return Inbound(kind=Kind.PHOTO, photo=_photo(rest), **base)
        if name == "location":
            return Inbound(kind=Kind.LOCATION, location=_location(rest), **base)
        if name == "contact":
            return Inbound(kind=Kind.CONTACT, phone=rest, **base)
        return Inbound(kind=Kind.COMMAND, command=name, text=rest, **base)
    return Inbound(kind=Kind.TEXT, text=text, **base)


def _photo(name: str) -> Photo:
    """A simulated photo without a file name; with one, that file, which must exist (a typo would otherwise be
    saved as a photo nobody can open)."""
    if not name:
        return Photo(file_id=SIMULATED_PHOTO)
    path = Path(name).expanduser()
    shown = name if len(name) <= MAX_SHOWN_NAME else name[:MAX_SHOWN_NAME] + "…"
    try:
        if not path.exists():
            raise NotSent(NO_SUCH_FILE.format(name=shown))
        if not path.is_file():
            raise NotSent(NOT_A_FILE.format(name=shown))
        size = path.stat().st_size
    except (OSError, ValueError):  # a name too long for the file system, or with a NUL in it
        raise NotSent(NO_SUCH_FILE.format(name=shown)) from None
    return Photo(file_id=str(path.resolve()), size=size)


def _location(text: str) -> tuple[float, float]:
    """Two finite numbers: nan and inf parse as floats but are no place (the bot checks the ranges)."""
    try:
        lat, lon = (float(part) for part in text.replace(",", " ").split())
    except ValueError:
        raise NotSent(LOCATION_USAGE) from None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise NotSent(LOCATION_USAGE)
    return lat, lon


def _tolerant_stdin() -> None:
    """Bytes that are not UTF-8 (a paste from another encoding) become U+FFFD instead of ending the chat with
    a UnicodeDecodeError; in a UTF-8 locale Python's stdin is strict."""
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")


async def chat(
    core: Core,
    db: Database,
    user_id: int,
    *,
    out: TextIO = sys.stdout,
    read_line: Callable[[], str] | None = None,
    media: MediaStore | None = None,
) -> None:
    transport = TerminalTransport(out)
    # Report photos sent here are kept in the media store like the Telegram runtimes' (after the report's commit).
    keeper = PhotoKeeper(db, TerminalPhotoSource(), media, core.clock, CHANNEL) if media is not None else None
    # Several people may chat at once, each in a terminal of their own on the same database: each session
    # delivers its own user's messages only, and picks up what others sent to them while it waits for a line.
    sender = Sender(db, transport, CHANNEL, Limits(global_per_second=1000, per_chat_interval=0), only_chat=user_id)
    delivering = asyncio.Lock()

    async def deliver_pending() -> None:
        async with delivering:
            await sender.drain()
            if keeper is not None:
                await keeper.round()

    async def keep_delivering() -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                await deliver_pending()
            except Exception:
                log.exception("terminal chat: delivering pending messages failed")

    if read_line is None:
        _tolerant_stdin()
    reader = read_line or (lambda: input("您："))
    print(f"十小通本地对话（用户 {user_id}）{HINT}", file=out, flush=True)
    await deliver_pending()  # anything a previous session left undelivered
    poller = asyncio.create_task(keep_delivering())
    try:
        await _converse(core, user_id, transport, reader, deliver_pending, out)
    finally:
        # Wait for the poller to stop: a delivery cut off mid-transaction must roll back and give its
        # connection back before the database is closed (a connection left in a transaction holds locks).
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
    print("再见！", file=out, flush=True)


async def _converse(
    core: Core,
    user_id: int,
    transport: TerminalTransport,
    reader: Callable[[], str],
    deliver_pending: Callable[[], Awaitable[None]],
    out: TextIO,
) -> None:
    first = True
    while True:
        if first:
            line, first = "/start", False  # greet at once, as Telegram does when a chat opens
        else:
            try:
                line = await asyncio.to_thread(reader)
            except (EOFError, KeyboardInterrupt):
                return
        if line.strip().lower() in ("/quit", "/exit"):
            return
        try:
            inbound = parse_line(line, user_id, transport)
            if inbound is None:
                continue
            outcome = await core.handle(inbound)
            if outcome.toast:  # what Telegram shows over the chat for a moment (a double tap)
                print(f"十小通（提示）：{outcome.toast}", file=out, flush=True)
            await deliver_pending()
        except NotSent as not_sent:
            print(f"十小通（终端）：{not_sent}", file=out, flush=True)
        except Exception:
            # The core answers its own failures; this is for anything outside it (the terminal itself, the
            # outbox). One bad line must not end the session and lose what the person was doing.
            log.exception("terminal chat: line not handled")
            print(f"十小通（终端）：{FAILED}", file=out, flush=True)
