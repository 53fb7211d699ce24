"""Kept photos in backups (reports', complaints', closure visits', owners' 已整改): `shixiao backup --out F` writes the database file F and, beside it, the folder
`F.media/` with every photo that database snapshot references (ab/cd/<sha256>.<ext>, the media store's own
layout); `shixiao restore F` puts the folder's photos back into the media store. A file whose content does not
match its name (damaged on the way) is reported and left out, never stored."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from storage.media import MediaMissing, MediaStore, Stored, parse_key


@dataclass
class MediaCopy:
    copied: int = 0
    present: int = 0  # already there: nothing to copy
    missing: list[str] = field(default_factory=list)  # referenced, but the store (or folder) has no such file
    damaged: list[str] = field(default_factory=list)  # content does not match the name

    @property
    def total(self) -> int:
        return self.copied + self.present


def media_folder_for(backup: Path) -> Path:
    """The photo folder that goes with a database backup file."""
    return backup.with_name(backup.name + ".media")


# Every table whose rows the photo keeper fills in (storage/kept_photos.py MODELS); written out, for the file may
# be of an older schema that lacks some of them.
PHOTO_TABLES = ("inspection_photos", "complaint_photos", "record_photos")


def referenced_photos(database: Path) -> list[Stored]:
    """The kept photos a shixiao SQLite database file references (read only; an older schema has fewer or none)."""
    found: dict[str, Stored] = {}
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        for table in PHOTO_TABLES:
            columns = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
            if "sha256" not in columns:
                continue
            rows = connection.execute(f"SELECT DISTINCT sha256, extension FROM {table} WHERE sha256 IS NOT NULL")
            for sha256, extension in rows:
                found.setdefault(sha256, Stored(sha256, extension or "jpg"))
    return [found[sha256] for sha256 in sorted(found)]


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


async def back_up_media(backup: Path, store: MediaStore) -> MediaCopy:
    """Copy every photo the backup file references from the store into the backup's photo folder."""
    folder = media_folder_for(backup)
    result = MediaCopy()
    for stored in await asyncio.to_thread(referenced_photos, backup):
        target = folder / stored.key
        if await asyncio.to_thread(target.is_file):
            result.present += 1
            continue
        try:
            data = await store.get(stored.key)
        except MediaMissing:
            result.missing.append(stored.path)
            continue
        await asyncio.to_thread(_write_atomically, target, data)
        result.copied += 1
    return result


def _folder_files(folder: Path) -> list[tuple[str, Path]]:
    found = []
    for path in sorted(folder.glob("*/*/*")):
        key = path.relative_to(folder).as_posix()
        if path.is_file() and parse_key(key) is not None:
            found.append((key, path))
    return found


async def restore_media(backup: Path, store: MediaStore) -> MediaCopy:
    """Put the photos of the backup's photo folder into the store (those it lacks), checking each one's hash;
    photos the restored database references but the folder lacks are reported as missing."""
    folder = media_folder_for(backup)
    result = MediaCopy()
    files = await asyncio.to_thread(_folder_files, folder) if folder.is_dir() else []
    for key, path in files:
        stored = parse_key(key)
        assert stored is not None
        data = await asyncio.to_thread(path.read_bytes)
        if hashlib.sha256(data).hexdigest() != stored.sha256:
            result.damaged.append(stored.path)
            continue
        if await store.exists(key):
            result.present += 1
            continue
        await store.put(key, data)
        result.copied += 1
    in_folder = {key for key, _ in files}
    for stored in await asyncio.to_thread(referenced_photos, backup):
        if stored.key not in in_folder and not await store.exists(stored.key):
            result.missing.append(stored.path)
    return result
