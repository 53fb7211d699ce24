"""Which units an owner (业主) runs, and who owns a unit. The chat and the CLI share these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dml import rows_touched
from storage.inspection_models import Inspection, Unit, UnitStatus
from storage.inspections import COUNTING
from storage.kept_photo_models import PhotoOf
from storage.kept_photos import add_record_photos
from storage.models import Role, User
from storage.owner_models import OwnerFix, SelfCheck, UnitOwner
from storage.units import name_key


async def bind(session: AsyncSession, unit_id: int, user_id: int, now: datetime, invite_id: int | None = None) -> bool:
    """Make the user an owner of the unit; False if they already were (a second code for the same unit)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(UnitOwner).values(unit_id=unit_id, user_id=user_id, invite_id=invite_id, added_at=now)
    return rows_touched(await session.execute(stmt.on_conflict_do_nothing(index_elements=["unit_id", "user_id"]))) > 0


async def units_of(session: AsyncSession, user_id: int) -> list[Unit]:
    stmt = (
        select(Unit).join(UnitOwner, UnitOwner.unit_id == Unit.id).where(UnitOwner.user_id == user_id).order_by(Unit.id)
    )
    return list(await session.scalars(stmt))


async def owns(session: AsyncSession, user_id: int, unit_id: int) -> bool:
    stmt = select(UnitOwner.unit_id).where(UnitOwner.user_id == user_id, UnitOwner.unit_id == unit_id)
    return await session.scalar(stmt) is not None


async def owners_of(session: AsyncSession, unit_id: int) -> list[tuple[UnitOwner, User]]:
    """The unit's owners who still hold the operator role (a revoked owner hears nothing more)."""
    stmt = (
        select(UnitOwner, User)
        .join(User, User.id == UnitOwner.user_id)
        .where(UnitOwner.unit_id == unit_id, User.role == Role.OPERATOR)
        .order_by(User.id)
    )
    return [(row, user) for row, user in (await session.execute(stmt)).unique()]


def bindable(unit: Unit | None) -> bool:
    """A code can bind only a unit still in the register and not closed (已关停 / 已取缔)."""
    return unit is not None and unit.status != UnitStatus.CLOSED


@dataclass(frozen=True)
class UnitMatch:
    unit: Unit | None
    candidates: tuple[str, ...]  # when no single unit matched: names to choose from (may be empty)


async def match_in_village(session: AsyncSession, village_id: int, name: str) -> UnitMatch:
    """The unit of that name in the village: the exact name (folded), else the only one whose name contains it.
    Several containing it, or none: no unit, with the candidates (those containing it, else all of the village)."""
    units = list(await session.scalars(select(Unit).where(Unit.village_id == village_id).order_by(Unit.id)))
    key = name_key(name)
    exact = [unit for unit in units if unit.name_key == key]
    if len(exact) == 1:
        return UnitMatch(exact[0], ())
    partial = [unit for unit in units if key and key in unit.name_key]
    if len(partial) == 1:
        return UnitMatch(partial[0], ())
    return UnitMatch(None, tuple(unit.name for unit in (partial or units)))


async def latest_report(session: AsyncSession, unit_id: int) -> Inspection | None:
    """The report that describes the unit now: its newest one waiting for review or approved."""
    stmt = (
        select(Inspection)
        .where(Inspection.unit_id == unit_id, Inspection.status.in_(COUNTING))
        .order_by(Inspection.id.desc())
        .limit(1)
    )
    return await session.scalar(stmt)


async def owned_rectifications_due(session: AsyncSession, first: date, last: date) -> list[tuple[Unit, User]]:
    """(unit, owner) for units being put right (整改中) with a deadline in [first, last] and an owner still
    holding the operator role."""
    stmt = (
        select(Unit, User)
        .join(UnitOwner, UnitOwner.unit_id == Unit.id)
        .join(User, User.id == UnitOwner.user_id)
        .where(
            Unit.status == UnitStatus.RECTIFYING,
            Unit.rectify_by >= first,
            Unit.rectify_by <= last,
            User.role == Role.OPERATOR,
        )
        .order_by(Unit.rectify_by, Unit.id, User.id)
    )
    return [(unit, user) for unit, user in (await session.execute(stmt)).unique()]


async def record_fix(
    session: AsyncSession, unit_id: int, report_id: int, owner_id: int, items: dict[str, Any], now: datetime
) -> OwnerFix:
    """The owner's 已整改 report; its photos (items' "photos") are kept by the photo keeper."""
    fix = OwnerFix(unit_id=unit_id, report_id=report_id, owner_id=owner_id, items=items, created_at=now)
    session.add(fix)
    await session.flush()
    photos = [
        {**photo, "item_id": item_id} for item_id, entry in items.items() for photo in (entry or {}).get("photos") or []
    ]
    add_record_photos(session, PhotoOf.OWNER_FIX, fix.id, photos, now)
    await session.flush()
    return fix


async def record_self_check(
    session: AsyncSession, unit_id: int, owner_id: int, industry: str, answers: dict[str, str], now: datetime
) -> SelfCheck:
    """An owner's 自查: kept apart from inspections, so it counts in no official number."""
    check = SelfCheck(unit_id=unit_id, owner_id=owner_id, industry=industry, answers=dict(answers), created_at=now)
    session.add(check)
    await session.flush()
    return check


async def last_self_check(session: AsyncSession, unit_id: int) -> SelfCheck | None:
    stmt = select(SelfCheck).where(SelfCheck.unit_id == unit_id).order_by(SelfCheck.id.desc()).limit(1)
    return await session.scalar(stmt)


async def self_checks_of(session: AsyncSession, unit_id: int, limit: int = 20) -> list[SelfCheck]:
    """A unit's latest 自查 records, newest first (the web console's unit page)."""
    stmt = select(SelfCheck).where(SelfCheck.unit_id == unit_id).order_by(SelfCheck.id.desc()).limit(limit)
    return list(await session.scalars(stmt))
