"""The media store: photos kept by the product, content-addressed by sha256.

A stored file's key is `ab/cd/<sha256>.<ext>` (the first two pairs of hex digits as folders, so no folder holds
more than a few hundred files); exports and backups name it `media/<key>`, a path that never changes. Two
implementations: a folder (the default, `./data/media`) and S3-compatible object storage (storage/media_s3.py)
for several instances. Writing the same content twice is harmless: the key is the content.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

MEDIA_FOLDER = "media"  # what exports and backups put before a key
KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/([0-9a-f]{64})\.([a-z0-9]{1,8})$")
# Magic numbers of the image formats a photo can come in; anything else is kept as .bin.
SIGNATURES = (
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF8", "gif"),
    (b"RIFF", "webp"),
    (b"BM", "bmp"),
)


class MediaError(Exception):
    """The store could not be read or written (a full disk, an unreachable bucket): worth retrying later."""


class MediaMissing(MediaError):
    """No file under that key."""


@dataclass(frozen=True)
class Stored:
    sha256: str
    extension: str

    @property
    def key(self) -> str:
        return media_key(self.sha256, self.extension)

    @property
    def path(self) -> str:
        """The stable relative path exports and backups use: media/ab/cd/<sha256>.jpg."""
        return f"{MEDIA_FOLDER}/{self.key}"


def media_key(sha256: str, extension: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}.{extension}"


def parse_key(key: str) -> Stored | None:
    """The sha256 and extension a key names, or None for anything that is not a media key."""
    found = KEY.match(key)
    return Stored(found[1], found[2]) if found else None


def extension_of(data: bytes) -> str:
    for magic, extension in SIGNATURES:
        if data.startswith(magic):
            return extension
    return "bin"


def describe(data: bytes) -> Stored:
    return Stored(hashlib.sha256(data).hexdigest(), extension_of(data))


class MediaStore(Protocol):
    """Where kept photos live. Every method may raise MediaError."""

    async def put(self, key: str, data: bytes) -> None:
        """Store data under key (a no-op when it is there already)."""
        ...

    async def get(self, key: str) -> bytes:
        """The bytes under key; MediaMissing when there are none."""
        ...

    async def exists(self, key: str) -> bool: ...

    def keys(self) -> AsyncIterator[str]:
        """Every key in the store (for backups and checks)."""
        ...


async def keep(store: MediaStore, data: bytes) -> Stored:
    """Store a photo's bytes under their own hash; the same photo twice is stored once."""
    stored = describe(data)
    if not await store.exists(stored.key):
        await store.put(stored.key, data)
    return stored


class LocalMediaStore:
    """A folder on this machine: right for one instance (the default, `./data/media`)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if parse_key(key) is None:
            raise MediaMissing(f"not a media key: {key!r}")
        return self.root / key

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written beside it and renamed: a crash never leaves a half photo under the final name.
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise MediaError(f"{path}: {error.strerror or error}") from error

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise MediaMissing(key) from None
        except OSError as error:
            raise MediaError(f"{path}: {error.strerror or error}") from error

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    async def keys(self) -> AsyncIterator[str]:
        found = await asyncio.to_thread(self._list)
        for key in found:
            yield key

    def _list(self) -> list[str]:
        if not self.root.is_dir():
            return []
        keys = (path.relative_to(self.root).as_posix() for path in self.root.glob("*/*/*") if path.is_file())
        return sorted(key for key in keys if parse_key(key) is not None)

    def local_path(self, key: str) -> Path:
        """Where the file is on disk (the terminal shows it)."""
        return self._path(key)
