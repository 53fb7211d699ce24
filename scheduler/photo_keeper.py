"""Keeps every photo (reports', complaints', closure visits', owners' 已整改): downloads each once into the media
store, after its record's transaction committed.

A worker beside the outbox sender, one per runtime (the Telegram runtimes fetch file ids through their client's
public API, the terminal reads local files). It never runs inside an update's transaction: a slow or failing
download holds up no reply. Each attempt claims its photo for a lease (several instances share the work without
fetching one photo twice); a failure is retried with a doubling delay, and after `max_attempts` failures, or at
once when the channel says the file can never be fetched (too big, unknown file id), the photo is flagged
failed and its record says so (the review screen, the complaint, the exports). The clock is the injectable one,
so tests move time by hand.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from scheduler.sender import PermanentFailure
from storage import kept_photos
from storage.clock import Clock
from storage.db import Database
from storage.media import MediaStore, keep

log = logging.getLogger(__name__)


class PhotoSource(Protocol):
    async def fetch(self, reference: str) -> bytes:
        """The photo's bytes. Raise PermanentFailure when it can never be fetched; anything else is retried."""
        ...


@dataclass(frozen=True)
class KeepLimits:
    max_attempts: int = 8
    first_retry: float = 30.0  # seconds; doubled after each failure
    max_retry: float = 3600.0
    poll_seconds: float = 5.0  # how soon a newly submitted report's photos are looked at
    lease: float = 300.0  # an attempt's claim; a crashed instance's photo is tried again after it
    batch: int = 20


class PhotoKeeper:
    def __init__(
        self,
        db: Database,
        source: PhotoSource,
        store: MediaStore,
        clock: Clock,
        channel: str = "telegram",
        limits: KeepLimits | None = None,
    ) -> None:
        self.db, self.source, self.store, self.clock = db, source, store, clock
        self.channel = channel
        self.limits = limits or KeepLimits()
        self.kept = 0
        self._wake = asyncio.Event()
        self._stopped = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopped:
            try:
                attempted = await self.round()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is away for a moment: look again later
                log.exception("photo keeper round failed; retrying shortly")
                attempted = 0
            if attempted == 0 and not self._stopped:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.limits.poll_seconds)
                except TimeoutError:
                    pass

    async def round(self) -> int:
        """One attempt at every photo that is due now; returns how many were attempted."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            due = await kept_photos.due(session, self.channel, now, self.limits.batch)
        attempted = 0
        for photo in due:
            if self._stopped:
                break
            async with self.db.transaction() as session:
                until = now + timedelta(seconds=self.limits.lease)
                taken = await kept_photos.claim(session, photo.id, now, until, photo.table)
            if taken:
                attempted += 1
                await self._keep(photo)
        return attempted

    async def _keep(self, photo: kept_photos.PendingPhoto) -> None:
        try:
            stored = await keep(self.store, await self.source.fetch(photo.file_id))
        except PermanentFailure as error:
            log.error("photo %s/%s can never be fetched: %s", photo.table, photo.id, error)
            await self._failed(photo, str(error), give_up=True)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # network, the channel's 5xx, a full disk, an unreachable bucket, a bug
            log.warning(
                "photo %s/%s not kept (attempt %s): %s: %s",
                photo.table,
                photo.id,
                photo.attempts + 1,
                type(error).__name__,
                error,
            )
            await self._failed(
                photo, f"{type(error).__name__}: {error}", give_up=photo.attempts + 1 >= self.limits.max_attempts
            )
        else:
            async with self.db.transaction() as session:
                await kept_photos.mark_stored(session, photo.id, stored, self.clock.now(), photo.table)
            self.kept += 1

    async def _failed(self, photo: kept_photos.PendingPhoto, error: str, *, give_up: bool) -> None:
        delay = min(self.limits.first_retry * 2**photo.attempts, self.limits.max_retry)
        retry_at = None if give_up else self.clock.now() + timedelta(seconds=delay)
        if give_up:
            log.error("photo %s/%s given up after %s attempts: flagged", photo.table, photo.id, photo.attempts + 1)
        async with self.db.transaction() as session:
            await kept_photos.mark_failure(session, photo.id, error, retry_at, photo.table)
