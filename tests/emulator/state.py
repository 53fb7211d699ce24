"""Mutable emulator state: the update queue, stored files and a change signal for waiters."""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


class Signal:
    """Wakes every waiter whenever emulator state changes.

    A plain future set is used instead of asyncio.Condition so that synchronous code (e.g. the
    request handlers' bookkeeping) can notify without acquiring a lock.
    """

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)
        self._waiters.clear()

    async def wait_for(self, predicate: Callable[[], T], timeout: float) -> T:  # noqa: ASYNC109
        """Return predicate()'s first truthy value, or its last falsy one after timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            remaining = deadline - loop.time()
            if result or remaining <= 0:
                return result
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.add(fut)
            try:
                await asyncio.wait({fut}, timeout=remaining)
            finally:
                self._waiters.discard(fut)
                if not fut.done():
                    fut.cancel()


@dataclass
class _Entry:
    update_id: int
    payload: dict[str, Any]
    redelivery: bool = False
    delivered: bool = False


class UpdateQueue:
    """Pending updates with Telegram's getUpdates offset semantics."""

    def __init__(self, first_update_id: int = 1) -> None:
        self.log: dict[int, dict[str, Any]] = {}  # every update ever created, for redelivery
        self.delivered: list[int] = []  # ids in the order getUpdates returned them
        self._pending: list[_Entry] = []
        self._next_id = first_update_id

    def push(self, update: dict[str, Any]) -> int:
        """Queue an update; assigns update_id unless the dict already has one."""
        update = dict(update)
        if "update_id" not in update:
            update = {"update_id": self._next_id, **update}
        update_id = int(update["update_id"])
        self._next_id = max(self._next_id, update_id + 1)
        self.log[update_id] = update
        self._pending.append(_Entry(update_id, update))
        return update_id

    def redeliver(self, update_id: int) -> None:
        """Deliver an already-seen update again with the same id, as Telegram does after a
        bot failed to confirm it. It is protected from offset confirmation until delivered."""
        if update_id not in self.log:
            raise KeyError(f"unknown update_id {update_id}")
        pos = sum(1 for e in self._pending if e.redelivery and not e.delivered)
        self._pending.insert(pos, _Entry(update_id, self.log[update_id], redelivery=True))

    def confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [e for e in self._pending if e.update_id >= offset or (e.redelivery and not e.delivered)]
        elif offset < 0:
            # Negative offset: keep only the last -offset updates, forget the rest.
            self._pending = self._pending[offset:]

    def available(self) -> bool:
        return bool(self._pending)

    def take(self, limit: int) -> list[dict[str, Any]]:
        # Unconfirmed updates are returned again on every call, exactly like Telegram.
        entries = self._pending[:limit]
        for e in entries:
            e.delivered = True
            self.delivered.append(e.update_id)
        return [e.payload for e in entries]

    def undelivered_count(self) -> int:
        return sum(1 for e in self._pending if not e.delivered)

    def pending_count(self) -> int:
        return len(self._pending)

    def clear(self) -> None:
        self._pending.clear()


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # photo, document, sticker, ...
    data: bytes | None
    file_size: int
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    file_path: str | None = None

    def as_photo_size(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width or 1,
            "height": self.height or 1,
            "file_size": self.file_size,
        }

    def as_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
        }
        if self.file_name:
            doc["file_name"] = self.file_name
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        return doc


_FILE_ID_PREFIX = {"photo": "AgACAgUAAxkB", "document": "BQACAgUAAxkB", "sticker": "CAACAgIAAxkB"}
_PATH_DIR = {"photo": ("photos", "jpg"), "document": ("documents", None), "sticker": ("stickers", "webp")}


class FileStore:
    """Files known to the emulator, addressable by file_id and (after getFile) by file_path."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = 0

    def add(
        self,
        kind: str,
        data: bytes | None,
        *,
        file_size: int | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> StoredFile:
        self._counter += 1
        n = self._counter
        stored = StoredFile(
            file_id=f"{_FILE_ID_PREFIX.get(kind, 'BAACAgUAAxkB')}EmU{n:07d}",
            file_unique_id=f"AQADEmU{n:07d}",
            kind=kind,
            data=data,
            file_size=file_size if file_size is not None else len(data or b""),
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self._by_id[stored.file_id] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_path(self, path: str) -> StoredFile | None:
        return self._by_path.get(path)

    def assign_path(self, stored: StoredFile) -> str:
        if stored.file_path is None:
            folder, ext = _PATH_DIR.get(stored.kind, ("files", None))
            if ext is None and stored.file_name and "." in stored.file_name:
                ext = stored.file_name.rsplit(".", 1)[1]
            stored.file_path = f"{folder}/file_{self._counter_of(stored)}" + (f".{ext}" if ext else "")
            self._by_path[stored.file_path] = stored
        return stored.file_path

    @staticmethod
    def _counter_of(stored: StoredFile) -> int:
        return int(stored.file_unique_id[-7:])


def image_size(data: bytes | None) -> tuple[int, int] | None:
    """(width, height) of a PNG or JPEG, so photo sizes look plausible; None if unknown."""
    if not data:
        return None
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            seg_len = struct.unpack(">H", data[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(w), int(h)
            i += 2 + seg_len
    return None


def make_png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A small valid PNG, used as the default photo a simulated user sends."""
    row = b"\x00" + bytes(rgb) * width
    raw = row * height

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
