"""Verified closures: a 待关停 unit (classified 关停取缔类) leaves the digest's base only once someone saw it closed.

A township official records 已关停 / 已取缔 with the date (and a note) from the 待关停 list; a cadre does so on a
follow-up visit with a photo. Either way a UnitClosure row keeps what was seen, when and by whom, and the unit
becomes "closed".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.inspection_models import ClosureKind, ClosureSource, Inspection, Unit, UnitClosure, UnitStatus
from storage.kept_photo_models import PhotoOf
from storage.kept_photos import add_record_photos
from storage.models import Area, AreaLevel, User


@dataclass(frozen=True)
class ClosureReport:
    """What the official or cadre says they saw."""

    unit_id: int
    kind: ClosureKind
    closed_on: date
    source: ClosureSource
    note: str | None = None
    photo_file_id: str | None = None
    photo_unique_id: str | None = None
    photo_channel: str = "telegram"  # which runtime can fetch the photo (the keeper's channel)


def _in(stmt, area: Area):  # type: ignore[no-untyped-def]
    if area.level == AreaLevel.TOWNSHIP:
        return stmt.where(Unit.township_id == area.id)
    if area.level == AreaLevel.VILLAGE:
        return stmt.where(Unit.village_id == area.id)
    return stmt


async def pending_closures(session: AsyncSession, area: Area, limit: int) -> list[Unit]:
    """The area's 待关停 units, the longest waiting first."""
    stmt = _in(select(Unit).where(Unit.status == UnitStatus.PENDING_CLOSURE), area)
    return list(await session.scalars(stmt.order_by(Unit.updated_at, Unit.id).limit(limit)))


async def count_pending_closures(session: AsyncSession, area: Area) -> int:
    stmt = _in(select(func.count(Unit.id)).where(Unit.status == UnitStatus.PENDING_CLOSURE), area)
    return int(await session.scalar(stmt) or 0)


async def record_closure(
    session: AsyncSession, closure: ClosureReport, recorder: User, now: datetime
) -> UnitClosure | None:
    """Record the closure and take the unit out of the base. None when the unit is not 待关停 (any more): a new
    report changed it, or someone recorded its closure first; nothing is written then."""
    unit = await session.get(Unit, closure.unit_id, with_for_update=True)
    if unit is None or unit.status != UnitStatus.PENDING_CLOSURE:
        return None
    newest_report = await session.scalar(select(func.max(Inspection.id)).where(Inspection.unit_id == unit.id))
    row = UnitClosure(
        unit_id=unit.id,
        kind=closure.kind,
        closed_on=closure.closed_on,
        note=closure.note,
        photo_file_id=closure.photo_file_id,
        photo_unique_id=closure.photo_unique_id,
        source=closure.source,
        recorded_by_id=recorder.id,
        recorded_by_name=recorder.name,
        recorded_by_role=recorder.role,
        after_report_id=newest_report,
        recorded_at=now,
    )
    session.add(row)
    unit.status = UnitStatus.CLOSED
    unit.rectify_by = None
    unit.updated_at = now
    await session.flush()
    if closure.photo_file_id:  # kept by the photo keeper, like a report's photo
        photo = {
            "file_id": closure.photo_file_id,
            "unique_id": closure.photo_unique_id,
            "channel": closure.photo_channel,
        }
        add_record_photos(session, PhotoOf.CLOSURE, row.id, [photo], now)
        await session.flush()
    return row


async def latest_closures(session: AsyncSession, unit_ids: list[int]) -> dict[int, UnitClosure]:
    """The newest verified closure of each of these units that has one."""
    if not unit_ids:
        return {}
    rows = await session.scalars(select(UnitClosure).where(UnitClosure.unit_id.in_(unit_ids)).order_by(UnitClosure.id))
    return {row.unit_id: row for row in rows}
