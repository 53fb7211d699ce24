"""Plan milestones of a year and who marked them done (a township, or the county office)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dml import rows_touched
from storage.milestone_models import MilestoneDone, PlanMilestone

# Role words of the plan. 乡镇 means every township marks its own; the others are the county's to mark.
TOWNSHIP_WORD = "乡镇"
COUNTY_WORDS = ("县整规办", "牵头部门", "各部门")
ROLE_WORDS = (TOWNSHIP_WORD, *COUNTY_WORDS)


@dataclass(frozen=True)
class PlannedMilestone:
    """One milestone as a plan file describes it, before it is stored for a year."""

    key: str
    due_on: date
    position: int
    kind: str
    title: str
    responsible: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class ReplaceResult:
    created: int
    updated: int
    removed: int
    kept_marks: int


def for_townships(milestone: PlanMilestone) -> bool:
    return TOWNSHIP_WORD in milestone.responsible


def for_county(milestone: PlanMilestone) -> bool:
    return any(word in milestone.responsible for word in COUNTY_WORDS)


async def count_for_year(session: AsyncSession, year: int) -> int:
    return int(await session.scalar(select(func.count(PlanMilestone.id)).where(PlanMilestone.year == year)) or 0)


async def milestones_for_year(session: AsyncSession, year: int) -> list[PlanMilestone]:
    stmt = select(PlanMilestone).where(PlanMilestone.year == year)
    return list(await session.scalars(stmt.order_by(PlanMilestone.due_on, PlanMilestone.position)))


async def due_between(session: AsyncSession, first: date, last: date) -> list[PlanMilestone]:
    """Milestones due in [first, last], whatever their year (a year-end task is overdue in the next year)."""
    stmt = select(PlanMilestone).where(PlanMilestone.due_on >= first, PlanMilestone.due_on <= last)
    return list(await session.scalars(stmt.order_by(PlanMilestone.due_on, PlanMilestone.position)))


async def get_milestone(session: AsyncSession, milestone_id: int) -> PlanMilestone | None:
    return await session.get(PlanMilestone, milestone_id)


async def replace_year(
    session: AsyncSession, year: int, planned: Sequence[PlanMilestone | PlannedMilestone], now: datetime
) -> ReplaceResult:
    """Make the year's milestones exactly `planned`, matched by key: existing rows (and their done-marks) are
    updated in place, new keys inserted, keys no longer planned deleted with their marks."""
    existing = {m.key: m for m in await milestones_for_year(session, year)}
    wanted = {p.key for p in planned}
    gone = [m.id for key, m in existing.items() if key not in wanted]
    if gone:
        await session.execute(delete(MilestoneDone).where(MilestoneDone.milestone_id.in_(gone)))
        await session.execute(delete(PlanMilestone).where(PlanMilestone.id.in_(gone)))
    created = updated = 0
    for item in planned:
        row = existing.get(item.key)
        if row is None:
            row = PlanMilestone(year=year, key=item.key, created_at=now)
            session.add(row)
            created += 1
        else:
            updated += 1
        row.due_on, row.position, row.kind = item.due_on, item.position, item.kind
        row.title, row.responsible, row.text = item.title, list(item.responsible), item.text
        row.updated_at = now
    await session.flush()
    kept = 0
    kept_ids = [m.id for key, m in existing.items() if key in wanted]
    if kept_ids:
        stmt = select(func.count(MilestoneDone.id)).where(MilestoneDone.milestone_id.in_(kept_ids))
        kept = int(await session.scalar(stmt) or 0)
    return ReplaceResult(created, updated, len(gone), kept)


async def mark_done(
    session: AsyncSession, milestone_id: int, township_id: int | None, user_id: int, note: str | None, now: datetime
) -> bool:
    """True when this marked it; False when it was already marked (a double tap, or a colleague first)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(MilestoneDone)
        .values(milestone_id=milestone_id, township_id=township_id, user_id=user_id, note=note, done_at=now)
        .on_conflict_do_nothing()
    )
    return bool(rows_touched(await session.execute(stmt)))


async def done_mark(session: AsyncSession, milestone_id: int, township_id: int | None) -> MilestoneDone | None:
    where = MilestoneDone.township_id.is_(None) if township_id is None else MilestoneDone.township_id == township_id
    return await session.scalar(select(MilestoneDone).where(MilestoneDone.milestone_id == milestone_id, where))


async def done_marks(session: AsyncSession, milestone_ids: Iterable[int]) -> dict[int, list[MilestoneDone]]:
    """Every mark of these milestones, by milestone id."""
    ids = list(milestone_ids)
    marks: dict[int, list[MilestoneDone]] = {i: [] for i in ids}
    if ids:
        stmt = select(MilestoneDone).where(MilestoneDone.milestone_id.in_(ids)).order_by(MilestoneDone.id)
        for mark in await session.scalars(stmt):
            marks[mark.milestone_id].append(mark)
    return marks
