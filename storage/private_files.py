"""Files that hold personal data (the database, backups, safety copies) are created readable by their owner only."""

from __future__ import annotations

import os
import shutil
from contextlib import suppress
from pathlib import Path

PRIVATE = 0o600


def create_private(path: Path) -> None:
    """Create `path` empty with mode 0600 unless something is there already; a symlink there is not followed.
    SQLite takes an empty file as an empty database, and gives its -wal, -shm and -journal files the database
    file's mode."""
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE))


def private_copy(source: Path, target: Path) -> None:
    """Copy a file to a new file of mode 0600 (never through a file or symlink already at `target`)."""
    with (
        source.open("rb") as src,
        os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE), "wb") as dst,
    ):
        shutil.copyfileobj(src, dst)
