"""Inspection reports: idempotent submission, versions, review, follow-up queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.areas import area_path
from storage.inspection_models import (
    Inspection,
    InspectionPhoto,
    InspectionSequence,
    InspectionStatus,
    Unit,
    UnitClass,
    UnitClosure,
    UnitStatus,
)
from storage.models import User
from storage.users import get_user


@dataclass
class Report:
    """What a cadre submits; the flow assembles it from the conversation."""

    unit_id: int
    submit_key: str
    industry: str
    answers: dict[str, str]
    notes: dict[str, str]
    proposed_compliant: bool
    compliant: bool
    unit_class: str
    override_reason: str | None = None
    class_reason: str | None = None
    rectify_by: date | None = None
    location: tuple[float, float] | None = None
    photos: list[dict[str, object]] = field(default_factory=list)
    previous_id: int | None = None
    # Answers carried over from the unit's previous report (沿用上次): item id -> the date it was last checked.
    carried: dict[str, str] = field(default_factory=dict)


async def submit(session: AsyncSession, report: Report, inspector_id: int, now: datetime) -> tuple[Inspection, bool]:
    """Store the report once. Returns (inspection, created); a repeated submit key returns the first one."""
    existing = await session.scalar(select(Inspection).where(Inspection.submit_key == report.submit_key))
    if existing is not None:
        return existing, False
    unit = await session.get(Unit, report.unit_id)
    assert unit is not None
    inspector = await get_user(session, inspector_id)
    assert inspector is not None
    version, first_id, number = 1, None, None
    if report.previous_id is not None:
        previous = await session.get(Inspection, report.previous_id)
        if previous is not None:
            previous.status = InspectionStatus.SUPERSEDED
            version, first_id = previous.version + 1, previous.first_id or previous.id
            number = previous.number
    if number is None:
        number = await _next_number(session)
    inspection = Inspection(
        unit_id=unit.id,
        township_id=unit.township_id,
        inspector_id=inspector_id,
        submit_key=report.submit_key,
        inspector_name=inspector.name,
        inspector_role=inspector.role,
        inspector_area=area_path(inspector.area) or None,
        version=version,
        previous_id=report.previous_id,
        first_id=first_id,
        number=number,
        status=InspectionStatus.SUBMITTED,
        industry=report.industry,
        proposed_compliant=report.proposed_compliant,
        compliant=report.compliant,
        override_reason=report.override_reason,
        unit_class=report.unit_class,
        class_reason=report.class_reason,
        rectify_by=report.rectify_by,
        latitude=report.location[0] if report.location else None,
        longitude=report.location[1] if report.location else None,
        answers=dict(report.answers),
        notes=dict(report.notes),
        carried_over=dict(report.carried) or None,
        submitted_at=now,
    )
    session.add(inspection)
    await session.flush()
    for photo in report.photos:
        # A correction's photos carried over from the returned version are kept already: not fetched again.
        sha256 = photo.get("sha256")
        session.add(
            InspectionPhoto(
                inspection_id=inspection.id,
                file_id=str(photo["file_id"]),
                file_unique_id=photo.get("unique_id"),
                size=photo.get("size"),
                created_at=now,
                channel=str(photo.get("channel") or "telegram"),
                sha256=sha256,
                extension=photo.get("extension") if sha256 else None,
                stored_at=now if sha256 else None,
            )
        )
    if unit.latitude is None and inspection.latitude is not None:
        # The unit's registered location, from its first report with one (an import may have set it already).
        unit.latitude, unit.longitude = inspection.latitude, inspection.longitude
    apply_to_unit(unit, inspection, now)
    await session.flush()
    return inspection, True


async def _next_number(session: AsyncSession) -> int:
    """The next report number, bumped atomically: on PostgreSQL the row lock makes concurrent submissions take
    turns, and a submission rolled back gives its number back, so shown numbers have no gaps."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(InspectionSequence)
        .values(id=1, last=1)
        .on_conflict_do_update(index_elements=["id"], set_={"last": InspectionSequence.last + 1})
        .returning(InspectionSequence.last)
    )
    return int((await session.execute(stmt)).scalar_one())


# The reports that describe their unit: waiting for review or approved. A returned report does not (it is wrong
# in some way the township named), nor does a version replaced by its correction.
COUNTING = (InspectionStatus.SUBMITTED, InspectionStatus.APPROVED)


def apply_to_unit(unit: Unit, inspection: Inspection, now: datetime) -> None:
    """The unit's register entry follows its latest report from the moment it is submitted, before review: the
    township's review backlog must not hold up the digest. The entry as it was is kept on the report, so that
    returning the report can put it back (`_withdraw`)."""
    inspection.unit_status_before = unit.status
    inspection.unit_class_before = unit.unit_class
    inspection.rectify_by_before = unit.rectify_by
    if inspection.unit_class == UnitClass.SHUTDOWN:
        # Classified to close, not seen closed: it stays in the base until a closure is verified (storage/closures).
        unit.status = UnitStatus.PENDING_CLOSURE
    elif inspection.compliant:
        unit.status = UnitStatus.COMPLIANT
    else:
        unit.status = UnitStatus.RECTIFYING
    unit.unit_class = inspection.unit_class
    unit.rectify_by = inspection.rectify_by if unit.status == UnitStatus.RECTIFYING else None
    unit.updated_at = now


def report_number(inspection: Inspection) -> str:
    """JC + the report's number, and from the second version on the version: a correction of JC000002 is
    JC000002-2 wherever it is shown (chat, notices, exports), not a number of its own row. (A row without a number,
    never written since 0010, shows its first version's id, as numbers were before.)"""
    number = f"JC{inspection.number or inspection.first_id or inspection.id:06d}"
    return number + (f"-{inspection.version}" if inspection.version > 1 else "")


async def get_inspection(session: AsyncSession, inspection_id: int) -> Inspection | None:
    return await session.get(Inspection, inspection_id)


async def photos_of(session: AsyncSession, inspection_id: int) -> list[InspectionPhoto]:
    stmt = select(InspectionPhoto).where(InspectionPhoto.inspection_id == inspection_id).order_by(InspectionPhoto.id)
    return list(await session.scalars(stmt))


async def awaiting_review(session: AsyncSession, township_id: int, limit: int = 20) -> list[tuple[Inspection, Unit]]:
    stmt = (
        select(Inspection, Unit)
        .join(Unit, Unit.id == Inspection.unit_id)
        .where(Inspection.township_id == township_id, Inspection.status == InspectionStatus.SUBMITTED)
        .order_by(Inspection.submitted_at)
        .limit(limit)
    )
    return [(inspection, unit) for inspection, unit in (await session.execute(stmt)).all()]


def _reviewed(
    inspection: Inspection, status: InspectionStatus, reviewer: User, now: datetime, note: str | None
) -> None:
    inspection.status = status
    inspection.reviewer_id = reviewer.id
    inspection.reviewer_name = reviewer.name  # as it is now: a later rename does not rewrite the review
    inspection.reviewed_at = now
    inspection.review_note = note


def approve(inspection: Inspection, reviewer: User, now: datetime, note: str | None = None) -> None:
    _reviewed(inspection, InspectionStatus.APPROVED, reviewer, now, note)


async def send_back(session: AsyncSession, inspection: Inspection, reviewer: User, reason: str, now: datetime) -> None:
    """Return the report to its inspector; it stops counting for its unit until it is corrected and resubmitted."""
    _reviewed(inspection, InspectionStatus.RETURNED, reviewer, now, reason)
    await _withdraw(session, inspection, now)


async def _withdraw(session: AsyncSession, returned: Inspection, now: datetime) -> None:
    """The unit's entry goes back to what it was before the reports that no longer count.

    A newer report that still counts already describes the unit: nothing changes. Otherwise every report after
    the latest one still counting is returned or replaced, and the entry goes back to what it was when the first
    of them was submitted: the latest counting report's result, or the register's own entry (未检查, or what an
    import said) when no report counts. Reports are taken in id order, the order they were applied in.

    A verified closure still counts too, as if it were a report submitted when it was recorded: the unit was seen
    closed, whatever the reports before it said. Returning a report older than the closure leaves the entry as the
    closure left it; returning a newer one goes back no further than the closure."""
    reports = list(
        await session.scalars(select(Inspection).where(Inspection.unit_id == returned.unit_id).order_by(Inspection.id))
    )
    latest_counting = max((report.id for report in reports if report.status in COUNTING), default=0)
    # A closure counts from where it was recorded: after the unit's newest report at that moment.
    closed_after = await session.scalar(
        select(func.max(UnitClosure.after_report_id)).where(UnitClosure.unit_id == returned.unit_id)
    )
    still_counting = max(latest_counting, closed_after or 0)
    if still_counting >= returned.id:  # equal: a closure recorded right after the returned report
        return
    first_withdrawn = next(report for report in reports if report.id > still_counting)
    unit = await session.get(Unit, returned.unit_id)
    assert unit is not None
    unit.status = first_withdrawn.unit_status_before or UnitStatus.UNCHECKED
    unit.unit_class = first_withdrawn.unit_class_before
    unit.rectify_by = first_withdrawn.rectify_by_before
    unit.updated_at = now


async def history(session: AsyncSession, unit_id: int) -> list[Inspection]:
    stmt = select(Inspection).where(Inspection.unit_id == unit_id).order_by(Inspection.submitted_at, Inspection.id)
    return list(await session.scalars(stmt))


async def pending_for_unit(session: AsyncSession, unit_id: int) -> list[Inspection]:
    """The unit's reports submitted and not yet reviewed."""
    stmt = (
        select(Inspection)
        .where(Inspection.unit_id == unit_id, Inspection.status == InspectionStatus.SUBMITTED)
        .order_by(Inspection.id)
    )
    return list(await session.scalars(stmt))


async def earlier_reports(session: AsyncSession, inspection: Inspection, limit: int = 5) -> list[Inspection]:
    """The unit's other reports (each in its latest version), newest first: not this report nor its versions."""
    first = inspection.first_id or inspection.id
    stmt = (
        select(Inspection)
        .where(
            Inspection.unit_id == inspection.unit_id,
            Inspection.status != InspectionStatus.SUPERSEDED,
            Inspection.id != first,
            or_(Inspection.first_id.is_(None), Inspection.first_id != first),
            Inspection.submitted_at <= inspection.submitted_at,
        )
        .order_by(Inspection.submitted_at.desc(), Inspection.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(stmt))


async def returned_to(session: AsyncSession, inspector_id: int) -> list[tuple[Inspection, Unit]]:
    stmt = (
        select(Inspection, Unit)
        .join(Unit, Unit.id == Inspection.unit_id)
        .where(Inspection.inspector_id == inspector_id, Inspection.status == InspectionStatus.RETURNED)
        .order_by(Inspection.reviewed_at)
    )
    return [(inspection, unit) for inspection, unit in (await session.execute(stmt)).all()]


async def overdue_rectifications(session: AsyncSession, today: date, township_id: int | None = None) -> list[Unit]:
    stmt = select(Unit).where(Unit.status == UnitStatus.RECTIFYING, Unit.rectify_by < today)
    if township_id is not None:
        stmt = stmt.where(Unit.township_id == township_id)
    return list(await session.scalars(stmt.order_by(Unit.rectify_by, Unit.id)))


async def rectifications_due_between(session: AsyncSession, first: date, last: date) -> list[Unit]:
    stmt = select(Unit).where(Unit.status == UnitStatus.RECTIFYING, Unit.rectify_by >= first, Unit.rectify_by <= last)
    return list(await session.scalars(stmt.order_by(Unit.rectify_by, Unit.id)))


async def count_overdue_rectifications(session: AsyncSession, today: date, township_id: int | None = None) -> int:
    stmt = select(func.count(Unit.id)).where(Unit.status == UnitStatus.RECTIFYING, Unit.rectify_by < today)
    if township_id is not None:
        stmt = stmt.where(Unit.township_id == township_id)
    return int(await session.scalar(stmt) or 0)
