"""What a unit's page in the web console shows beside its reports: the owner's 已整改 reports and the verified
closures, each with the photos the product kept of it (record_photos)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.inspection_models import UnitClosure
from storage.kept_photo_models import PhotoOf, RecordPhoto
from storage.owner_models import OwnerFix

SHOWN = 20  # the newest records of each kind; older ones stay in the database and the backups


@dataclass(frozen=True)
class OwnerFixShown:
    fix: OwnerFix
    photos: list[RecordPhoto]


@dataclass(frozen=True)
class ClosureShown:
    closure: UnitClosure
    photos: list[RecordPhoto]


async def _photos(session: AsyncSession, kind: PhotoOf, record_ids: list[int]) -> dict[int, list[RecordPhoto]]:
    found: dict[int, list[RecordPhoto]] = {record_id: [] for record_id in record_ids}
    if record_ids:
        stmt = select(RecordPhoto).where(RecordPhoto.kind == kind, RecordPhoto.record_id.in_(record_ids))
        for photo in await session.scalars(stmt.order_by(RecordPhoto.id)):
            found[photo.record_id].append(photo)
    return found


async def owner_fixes_of(session: AsyncSession, unit_id: int) -> list[OwnerFixShown]:
    """The unit's newest 已整改 reports, newest first, with their photos."""
    stmt = select(OwnerFix).where(OwnerFix.unit_id == unit_id).order_by(OwnerFix.id.desc()).limit(SHOWN)
    fixes = list(await session.scalars(stmt))
    photos = await _photos(session, PhotoOf.OWNER_FIX, [fix.id for fix in fixes])
    return [OwnerFixShown(fix, photos[fix.id]) for fix in fixes]


async def closures_of(session: AsyncSession, unit_id: int) -> list[ClosureShown]:
    """The unit's verified closures, newest first, with the visit's photo."""
    stmt = select(UnitClosure).where(UnitClosure.unit_id == unit_id).order_by(UnitClosure.id.desc()).limit(SHOWN)
    closures = list(await session.scalars(stmt))
    photos = await _photos(session, PhotoOf.CLOSURE, [closure.id for closure in closures])
    return [ClosureShown(closure, photos[closure.id]) for closure in closures]


async def unit_record_photo(session: AsyncSession, unit_id: int, photo_id: int) -> RecordPhoto | None:
    """The kept photo `photo_id` if it belongs to one of this unit's fixes or closures; None otherwise (another
    unit's photo reads as one that never existed)."""
    photo = await session.get(RecordPhoto, photo_id)
    if photo is None:
        return None
    owner: type[OwnerFix] | type[UnitClosure] = OwnerFix if photo.kind == PhotoOf.OWNER_FIX else UnitClosure
    record_unit = await session.scalar(select(owner.unit_id).where(owner.id == photo.record_id))
    return photo if record_unit == unit_id else None
