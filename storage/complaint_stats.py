"""Complaints counted for the digests and streamed for the exports, by area and period."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVarTuple

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.complaint_models import Complaint, ComplaintEvent, ComplaintPhoto
from storage.kept_photos import photo_reference
from storage.models import Area, AreaLevel

_Row = TypeVarTuple("_Row")  # the columns a query selects


@dataclass(frozen=True)
class ComplaintCounts:
    opened: int
    closed: int
    overdue: int


def in_area(stmt: Select[*_Row], area: Area | None) -> Select[*_Row]:
    if area is None or area.level == AreaLevel.COUNTY:
        return stmt
    if area.level == AreaLevel.TOWNSHIP:
        return stmt.where(Complaint.township_id == area.id)
    return stmt.where(Complaint.village_id == area.id)


async def _count(session: AsyncSession, stmt: Select[int]) -> int:
    return int(await session.scalar(stmt) or 0)


async def complaint_counts(
    session: AsyncSession, start: datetime, end: datetime, area: Area | None = None
) -> ComplaintCounts:
    """For digests, in [start, end): filed; finished (已办结, 重复, 不属于职责范围, 无法处理); and overdue at
    `end` — still open then, its last day before end's date. Reopened complaints count as open again."""
    base = in_area(select(func.count(Complaint.id)), area)
    opened = await _count(session, base.where(Complaint.created_at >= start, Complaint.created_at < end))
    closed = await _count(session, base.where(Complaint.final_at >= start, Complaint.final_at < end))
    overdue = await _count(
        session,
        base.where(
            Complaint.created_at < end,
            Complaint.due_on < end.date(),
            or_(Complaint.final_at.is_(None), Complaint.final_at >= end),
        ),
    )
    return ComplaintCounts(opened, closed, overdue)


def _export_query(start: datetime | None, end: datetime | None, area: Area | None) -> Select[Complaint]:
    stmt = in_area(select(Complaint), area)
    if start is not None:
        stmt = stmt.where(Complaint.created_at >= start)
    if end is not None:
        stmt = stmt.where(Complaint.created_at < end)
    return stmt


async def count_for_export(
    session: AsyncSession, start: datetime | None, end: datetime | None, area: Area | None
) -> int:
    stmt = _export_query(start, end, area).with_only_columns(func.count(Complaint.id)).order_by(None)
    return await _count(session, stmt)


async def stream_for_export(
    session: AsyncSession, start: datetime | None, end: datetime | None, area: Area | None, pending: str, failed: str
) -> AsyncIterator[tuple[Complaint, int, str]]:
    """(complaint, photo count, its photos' references joined by "|") in filing order, fetched in batches so a big
    county never sits in memory. A reference is the photo's stable path in the media store, or `pending` (not
    downloaded yet) or `failed` (given up on): kept_photos.photo_reference."""
    photos = (
        select(
            ComplaintPhoto.complaint_id,
            func.count(ComplaintPhoto.id).label("n"),
            func.aggregate_strings(photo_reference(ComplaintPhoto, pending, failed), "|").label("refs"),
        )
        .group_by(ComplaintPhoto.complaint_id)
        .subquery()
    )
    stmt = (
        _export_query(start, end, area)
        .add_columns(func.coalesce(photos.c.n, 0), photos.c.refs)
        .outerjoin(photos, photos.c.complaint_id == Complaint.id)
        .order_by(Complaint.id)
        .execution_options(yield_per=500)
    )
    result = await session.stream(stmt)
    async for complaint, count, references in result:
        yield complaint, int(count), references or ""


async def stream_events_for_export(
    session: AsyncSession, start: datetime | None, end: datetime | None, area: Area | None
) -> AsyncIterator[tuple[str, ComplaintEvent]]:
    ids = _export_query(start, end, area).with_only_columns(Complaint.id).order_by(None)
    stmt = (
        select(Complaint.number, ComplaintEvent)
        .join(Complaint, Complaint.id == ComplaintEvent.complaint_id)
        .where(ComplaintEvent.complaint_id.in_(ids))
        .order_by(ComplaintEvent.complaint_id, ComplaintEvent.id)
        .execution_options(yield_per=500)
    )
    result = await session.stream(stmt)
    async for number, event in result:
        yield number, event
