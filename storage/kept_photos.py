"""The photo keeper's bookkeeping: which report photos still wait for their download, claims, and outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dml import rows_touched
from storage.inspection_models import InspectionPhoto
from storage.media import Stored


@dataclass(frozen=True)
class PendingPhoto:
    id: int
    file_id: str
    attempts: int


def _due(now: datetime):  # type: ignore[no-untyped-def]
    return (
        InspectionPhoto.sha256.is_(None),
        InspectionPhoto.failed.is_(False),
        or_(InspectionPhoto.next_attempt_at.is_(None), InspectionPhoto.next_attempt_at <= now),
    )


async def due(session: AsyncSession, channel: str, now: datetime, limit: int) -> list[PendingPhoto]:
    """Photos of this channel not yet kept, whose next attempt is due (oldest first)."""
    stmt = (
        select(InspectionPhoto.id, InspectionPhoto.file_id, InspectionPhoto.attempts)
        .where(InspectionPhoto.channel == channel, *_due(now))
        .order_by(InspectionPhoto.id)
        .limit(limit)
    )
    return [PendingPhoto(*row) for row in (await session.execute(stmt)).all()]


async def claim(session: AsyncSession, photo_id: int, now: datetime, until: datetime) -> bool:
    """Take the photo for one download attempt until `until`: another instance then leaves it alone. The
    condition is checked again under the row's lock, so of two instances only one gets it."""
    result = await session.execute(
        update(InspectionPhoto).where(InspectionPhoto.id == photo_id, *_due(now)).values(next_attempt_at=until)
    )
    return rows_touched(result) == 1


async def mark_stored(session: AsyncSession, photo_id: int, stored: Stored, now: datetime) -> None:
    await session.execute(
        update(InspectionPhoto)
        .where(InspectionPhoto.id == photo_id)
        .values(
            sha256=stored.sha256,
            extension=stored.extension,
            stored_at=now,
            next_attempt_at=None,
            last_error=None,
            attempts=InspectionPhoto.attempts + 1,
        )
    )


async def mark_failure(session: AsyncSession, photo_id: int, error: str, retry_at: datetime | None) -> None:
    """One failed attempt: retried at `retry_at`, or (None) given up and flagged on its report."""
    await session.execute(
        update(InspectionPhoto)
        .where(InspectionPhoto.id == photo_id)
        .values(
            attempts=InspectionPhoto.attempts + 1,
            last_error=error[:500],
            next_attempt_at=retry_at,
            failed=retry_at is None,
        )
    )


async def stored_photos(session: AsyncSession) -> list[Stored]:
    """Every kept photo (one entry per distinct file): what a backup must carry."""
    rows = await session.execute(
        select(InspectionPhoto.sha256, InspectionPhoto.extension).where(InspectionPhoto.sha256.is_not(None)).distinct()
    )
    return [Stored(sha256, extension or "jpg") for sha256, extension in rows if sha256 is not None]


def stored_of(photo: InspectionPhoto) -> Stored | None:
    return Stored(photo.sha256, photo.extension or "jpg") if photo.sha256 else None
