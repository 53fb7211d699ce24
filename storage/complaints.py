"""Complaints: filing with a yearly tracking number (storage/complaint_numbers.py), audited transitions,
followers and the open queues. Counts for digests and streams for exports: storage/complaint_stats.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.complaint_models import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    Complaint,
    ComplaintEvent,
    ComplaintFollower,
    ComplaintPhoto,
    ComplaintSequence,
    ComplaintStatus,
    EventKind,
    Feedback,
)
from storage.complaint_numbers import format_number, normalize_number
from storage.models import Area, AreaLevel, User
from storage.units import name_key

# An anonymous complaint's location is kept to 3 decimal places (about 100 m): enough to find the shop, too coarse
# to point at the complainant's door.
ANONYMOUS_DECIMALS = 3


def anonymous_location(latitude: float, longitude: float) -> tuple[float, float]:
    return round(latitude, ANONYMOUS_DECIMALS), round(longitude, ANONYMOUS_DECIMALS)


@dataclass
class NewComplaint:
    """What a resident files; the filing flow assembles it from the conversation."""

    submit_key: str
    category: str
    complainant_id: int
    anonymous: bool
    township_id: int
    office_area_id: int
    description: str
    due_on: date
    village_id: int | None = None
    complainant_name: str | None = None
    complainant_phone: str | None = None
    unit_id: int | None = None
    unit_name: str | None = None
    location: tuple[float, float] | None = None
    photos: list[dict[str, object]] = field(default_factory=list)
    note: str = ""


async def _next_seq(session: AsyncSession, year: int) -> int:
    """Atomically bump the year's counter (the row lock serialises concurrent filings on PostgreSQL)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(ComplaintSequence)
        .values(year=year, last=1)
        .on_conflict_do_update(index_elements=["year"], set_={"last": ComplaintSequence.last + 1})
        .returning(ComplaintSequence.last)
    )
    return int((await session.execute(stmt)).scalar_one())


def _event(
    session: AsyncSession,
    complaint: Complaint,
    kind: EventKind,
    actor_id: int | None,
    note: str,
    now: datetime,
    **changes: object,
) -> ComplaintEvent:
    event = ComplaintEvent(
        complaint_id=complaint.id, kind=kind, actor_id=actor_id, note=note, created_at=now, **changes
    )
    session.add(event)
    complaint.updated_at = now
    return event


async def create_complaint(session: AsyncSession, new: NewComplaint, now: datetime) -> tuple[Complaint, bool]:
    """File it once. Returns (complaint, created); a repeated submit key returns the first complaint."""
    existing = await session.scalar(select(Complaint).where(Complaint.submit_key == new.submit_key))
    if existing is not None:
        return existing, False
    seq = await _next_seq(session, now.year)
    location = new.location
    if location is not None and new.anonymous:
        location = anonymous_location(*location)
    complaint = Complaint(
        number=format_number(now.year, seq),
        year=now.year,
        seq=seq,
        submit_key=new.submit_key,
        category=new.category,
        status=ComplaintStatus.SUBMITTED,
        complainant_id=new.complainant_id,
        anonymous=new.anonymous,
        complainant_name=None if new.anonymous else new.complainant_name,
        complainant_phone=None if new.anonymous else new.complainant_phone,
        township_id=new.township_id,
        village_id=new.village_id,
        office_area_id=new.office_area_id,
        unit_id=new.unit_id,
        unit_name=new.unit_name,
        description=new.description,
        latitude=location[0] if location else None,
        longitude=location[1] if location else None,
        due_on=new.due_on,
        reopen_count=0,
        created_at=now,
        updated_at=now,
    )
    session.add(complaint)
    await session.flush()
    _event(
        session,
        complaint,
        EventKind.FILED,
        new.complainant_id,
        new.note,
        now,
        to_status=ComplaintStatus.SUBMITTED,
        to_area_id=new.office_area_id,
        to_category=new.category,
    )
    for photo in new.photos:
        session.add(
            ComplaintPhoto(
                complaint_id=complaint.id,
                file_id=str(photo["file_id"]),
                file_unique_id=photo.get("unique_id"),
                size=photo.get("size"),
                created_at=now,
                channel=str(photo.get("channel") or "telegram"),
            )
        )
    await session.flush()
    return complaint, True


async def change_status(
    session: AsyncSession,
    complaint: Complaint,
    status: ComplaintStatus,
    actor_id: int | None,
    note: str,
    now: datetime,
    duplicate_of_id: int | None = None,
) -> ComplaintEvent:
    event = _event(
        session, complaint, EventKind.STATUS, actor_id, note, now, from_status=complaint.status, to_status=status
    )
    complaint.status = status
    complaint.final_at = now if status in FINAL_STATUSES else None
    if status == ComplaintStatus.CLOSED:
        complaint.feedback = None  # a new closing asks the complainant again
    if status == ComplaintStatus.DUPLICATE:
        complaint.duplicate_of_id = duplicate_of_id
    await session.flush()
    return event


@dataclass(frozen=True)
class Route:
    township_id: int
    village_id: int | None
    office_area_id: int
    category: str
    due_on: date


async def reroute(
    session: AsyncSession,
    complaint: Complaint,
    route: Route,
    status: ComplaintStatus,
    actor_id: int,
    note: str,
    now: datetime,
) -> ComplaintEvent:
    """A new place, office or category; a new office starts again from 已提交 so it is asked to accept."""
    event = _event(
        session,
        complaint,
        EventKind.REROUTED,
        actor_id,
        note,
        now,
        from_status=complaint.status,
        to_status=status,
        from_area_id=complaint.office_area_id,
        to_area_id=route.office_area_id,
        from_category=complaint.category,
        to_category=route.category,
    )
    if route.office_area_id != complaint.office_area_id:
        complaint.escalated_at = None  # the new office gets its own deadline, and its own escalation
    complaint.township_id, complaint.village_id = route.township_id, route.village_id
    complaint.office_area_id, complaint.category, complaint.due_on = route.office_area_id, route.category, route.due_on
    complaint.status = status
    await session.flush()
    return event


async def reopen(
    session: AsyncSession, complaint: Complaint, actor_id: int, note: str, now: datetime, due_on: date
) -> ComplaintEvent:
    """The complainant says it is not fixed: back to 已受理 with a fresh deadline and escalation."""
    event = _event(
        session,
        complaint,
        EventKind.REOPENED,
        actor_id,
        note,
        now,
        from_status=complaint.status,
        to_status=ComplaintStatus.ACCEPTED,
    )
    complaint.status = ComplaintStatus.ACCEPTED
    complaint.final_at = None
    complaint.feedback = Feedback.NOT_RESOLVED
    complaint.reopen_count += 1
    complaint.due_on = due_on
    complaint.escalated_at = None
    await session.flush()
    return event


async def record_feedback(
    session: AsyncSession, complaint: Complaint, actor_id: int, note: str, now: datetime
) -> ComplaintEvent:
    complaint.feedback = Feedback.RESOLVED
    event = _event(session, complaint, EventKind.FEEDBACK, actor_id, note, now)
    await session.flush()
    return event


async def mark_escalated(
    session: AsyncSession, complaint: Complaint, county_id: int, note: str, now: datetime
) -> ComplaintEvent:
    complaint.escalated_at = now
    return _event(
        session,
        complaint,
        EventKind.ESCALATED,
        None,
        note,
        now,
        from_area_id=complaint.office_area_id,
        to_area_id=county_id,
    )


# --- reading ---------------------------------------------------------------------------------------------------


async def get_complaint(session: AsyncSession, complaint_id: int) -> Complaint | None:
    return await session.get(Complaint, complaint_id)


async def find_by_number(session: AsyncSession, number: str) -> Complaint | None:
    normalized = normalize_number(number)
    if normalized is None:
        return None
    return await session.scalar(select(Complaint).where(Complaint.number == normalized))


async def events_of(session: AsyncSession, complaint_id: int) -> list[ComplaintEvent]:
    stmt = select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint_id).order_by(ComplaintEvent.id)
    return list(await session.scalars(stmt))


async def photos_of(session: AsyncSession, complaint_id: int) -> list[ComplaintPhoto]:
    stmt = select(ComplaintPhoto).where(ComplaintPhoto.complaint_id == complaint_id).order_by(ComplaintPhoto.id)
    return list(await session.scalars(stmt))


async def add_follower(session: AsyncSession, complaint_id: int, user_id: int, now: datetime) -> bool:
    """True when the user starts following; False when they already did."""
    if await session.get(ComplaintFollower, (complaint_id, user_id)) is not None:
        return False
    session.add(ComplaintFollower(complaint_id=complaint_id, user_id=user_id, created_at=now))
    await session.flush()
    return True


async def is_follower(session: AsyncSession, complaint_id: int, user_id: int) -> bool:
    return await session.get(ComplaintFollower, (complaint_id, user_id)) is not None


async def followers(session: AsyncSession, complaint_id: int) -> list[User]:
    stmt = (
        select(User)
        .join(ComplaintFollower, ComplaintFollower.user_id == User.id)
        .where(ComplaintFollower.complaint_id == complaint_id)
        .order_by(User.id)
    )
    return list((await session.scalars(stmt)).unique())


def _open() -> ColumnElement[bool]:
    return Complaint.status.in_([s.value for s in OPEN_STATUSES])


async def open_duplicate(
    session: AsyncSession,
    category: str,
    *,
    unit_id: int | None = None,
    village_id: int | None = None,
    unit_name: str | None = None,
) -> Complaint | None:
    """An open complaint about the same unit (by register id, or by name in the same village) and category."""
    stmt = select(Complaint).where(Complaint.category == category, _open()).order_by(Complaint.id)
    if unit_id is not None:
        return await session.scalar(stmt.where(Complaint.unit_id == unit_id))
    if village_id is None or not unit_name or not name_key(unit_name):
        return None
    key = name_key(unit_name)
    for candidate in await session.scalars(
        stmt.where(Complaint.village_id == village_id, Complaint.unit_name.is_not(None))
    ):
        if name_key(candidate.unit_name or "") == key:
            return candidate
    return None


@dataclass(frozen=True)
class QueueCounts:
    total: int
    overdue: int
    escalated: int


async def open_about_unit(session: AsyncSession, unit_id: int, limit: int = 10) -> list[Complaint]:
    """Open complaints filed against this registered unit, oldest first."""
    stmt = select(Complaint).where(Complaint.unit_id == unit_id, _open()).order_by(Complaint.id).limit(limit)
    return list(await session.scalars(stmt))


def _scope(township_id: int | None) -> list[Any]:
    """Open complaints for the whole county (None), or those a township handles or that are about its places."""
    conditions: list[Any] = [_open()]
    if township_id is not None:
        conditions.append(or_(Complaint.office_area_id == township_id, Complaint.township_id == township_id))
    return conditions


async def open_in_scope(
    session: AsyncSession, township_id: int | None, today: date, limit: int = 50
) -> tuple[list[Complaint], QueueCounts]:
    """待办投诉: every open complaint in scope, the earliest last day first (so the overdue lead), and how many
    there are, overdue and escalated, over all of them (not only those listed)."""
    conditions = _scope(township_id)
    row = (
        await session.execute(
            select(
                func.count(Complaint.id),
                func.coalesce(func.sum(case((Complaint.due_on < today, 1), else_=0)), 0),
                func.coalesce(func.sum(case((Complaint.escalated_at.is_not(None), 1), else_=0)), 0),
            ).where(*conditions)
        )
    ).one()
    stmt = select(Complaint).where(*conditions).order_by(Complaint.due_on, Complaint.id).limit(limit)
    return list(await session.scalars(stmt)), QueueCounts(int(row[0]), int(row[1]), int(row[2]))


async def county_ids(session: AsyncSession) -> list[int]:
    return list(await session.scalars(select(Area.id).where(Area.level == AreaLevel.COUNTY).order_by(Area.id)))


async def complaints_of_user(session: AsyncSession, user_id: int, limit: int = 20) -> list[Complaint]:
    """What a person filed or follows, newest first."""
    followed = select(ComplaintFollower.complaint_id).where(ComplaintFollower.user_id == user_id)
    stmt = (
        select(Complaint)
        .where(or_(Complaint.complainant_id == user_id, Complaint.id.in_(followed)))
        .order_by(Complaint.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(stmt))


async def open_complaints_overdue(
    session: AsyncSession, now: datetime, *, not_escalated: bool = False
) -> list[Complaint]:
    """Open complaints whose last day (due_on) has passed; `now` in local time (its date is today)."""
    stmt = select(Complaint).where(_open(), Complaint.due_on < now.date())
    if not_escalated:
        stmt = stmt.where(Complaint.escalated_at.is_(None))
    return list(await session.scalars(stmt.order_by(Complaint.township_id, Complaint.id)))
