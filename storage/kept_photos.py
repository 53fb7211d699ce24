"""The photo keeper's bookkeeping: which photos still wait for their download, claims, and outcomes. Every photo
table (report, complaint, closure visit, owner's 已整改) has the same columns and is served alike."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.complaint_models import ComplaintPhoto
from storage.dml import rows_touched
from storage.inspection_models import InspectionPhoto
from storage.kept_photo_models import PhotoOf, RecordPhoto
from storage.media import Stored

PhotoModel = type[InspectionPhoto] | type[ComplaintPhoto] | type[RecordPhoto]
# The tables the keeper serves, in the order it looks at them.
MODELS: dict[str, PhotoModel] = {model.__tablename__: model for model in (InspectionPhoto, ComplaintPhoto, RecordPhoto)}
REPORT_PHOTOS = InspectionPhoto.__tablename__


@dataclass(frozen=True)
class PendingPhoto:
    id: int
    file_id: str
    attempts: int
    table: str = REPORT_PHOTOS


def _due(model: PhotoModel, now: datetime):  # type: ignore[no-untyped-def]
    return (
        model.sha256.is_(None),
        model.failed.is_(False),
        or_(model.next_attempt_at.is_(None), model.next_attempt_at <= now),
    )


async def due(session: AsyncSession, channel: str, now: datetime, limit: int) -> list[PendingPhoto]:
    """Photos of this channel not yet kept, whose next attempt is due (oldest first, table by table)."""
    found: list[PendingPhoto] = []
    for table, model in MODELS.items():
        if len(found) >= limit:
            break
        stmt = (
            select(model.id, model.file_id, model.attempts)
            .where(model.channel == channel, *_due(model, now))
            .order_by(model.id)
            .limit(limit - len(found))
        )
        found.extend(PendingPhoto(*row, table=table) for row in (await session.execute(stmt)).all())
    return found


async def claim(
    session: AsyncSession, photo_id: int, now: datetime, until: datetime, table: str = REPORT_PHOTOS
) -> bool:
    """Take the photo for one download attempt until `until`: another instance then leaves it alone. The
    condition is checked again under the row's lock, so of two instances only one gets it."""
    model = MODELS[table]
    result = await session.execute(
        update(model).where(model.id == photo_id, *_due(model, now)).values(next_attempt_at=until)
    )
    return rows_touched(result) == 1


async def mark_stored(
    session: AsyncSession, photo_id: int, stored: Stored, now: datetime, table: str = REPORT_PHOTOS
) -> None:
    model = MODELS[table]
    await session.execute(
        update(model)
        .where(model.id == photo_id)
        .values(
            sha256=stored.sha256,
            extension=stored.extension,
            stored_at=now,
            next_attempt_at=None,
            last_error=None,
            attempts=model.attempts + 1,
        )
    )


async def mark_failure(
    session: AsyncSession, photo_id: int, error: str, retry_at: datetime | None, table: str = REPORT_PHOTOS
) -> None:
    """One failed attempt: retried at `retry_at`, or (None) given up and flagged on its record."""
    model = MODELS[table]
    await session.execute(
        update(model)
        .where(model.id == photo_id)
        .values(attempts=model.attempts + 1, last_error=error[:500], next_attempt_at=retry_at, failed=retry_at is None)
    )


async def stored_photos(session: AsyncSession) -> list[Stored]:
    """Every kept photo (one entry per distinct file): what a backup must carry."""
    kept = union(
        *(select(model.sha256, model.extension).where(model.sha256.is_not(None)) for model in MODELS.values())
    ).subquery()
    rows = await session.execute(select(kept.c.sha256, kept.c.extension).distinct())
    return [Stored(sha256, extension or "jpg") for sha256, extension in rows if sha256 is not None]


def stored_of(photo: InspectionPhoto | ComplaintPhoto | RecordPhoto) -> Stored | None:
    return Stored(photo.sha256, photo.extension or "jpg") if photo.sha256 else None


def photo_reference(model: PhotoModel, pending: str, failed: str) -> ColumnElement[str]:
    """A photo in an export: its stable path in the media store (media/ab/cd/<sha256>.jpg), or why there is none
    (`pending`: not downloaded yet; `failed`: given up on). A Telegram file id means nothing outside the bot."""
    sha = model.sha256
    path = (
        literal("media/")
        .concat(func.substr(sha, 1, 2))
        .concat("/")
        .concat(func.substr(sha, 3, 2))
        .concat("/")
        .concat(sha)
        .concat(".")
        .concat(func.coalesce(model.extension, "jpg"))
    )
    return case((sha.is_not(None), path), (model.failed.is_(True), literal(failed)), else_=literal(pending))


def add_record_photos(
    session: AsyncSession, kind: PhotoOf, record_id: int, photos: Iterable[dict[str, Any]], now: datetime
) -> None:
    """The photos of a closure visit or an owner's fix, to be kept (`item_id`: the fixed item they show)."""
    for photo in photos:
        session.add(
            RecordPhoto(
                kind=kind,
                record_id=record_id,
                item_id=photo.get("item_id"),
                file_id=str(photo["file_id"]),
                file_unique_id=photo.get("unique_id"),
                channel=str(photo.get("channel") or "telegram"),
                created_at=now,
            )
        )


async def record_photos(session: AsyncSession, kind: PhotoOf, record_id: int) -> list[RecordPhoto]:
    stmt = select(RecordPhoto).where(RecordPhoto.kind == kind, RecordPhoto.record_id == record_id)
    return list(await session.scalars(stmt.order_by(RecordPhoto.id)))
