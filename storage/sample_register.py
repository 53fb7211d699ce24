"""The sample register: invented units (names marked （示例）) and their inspections in the sample county, with the
sample county office that inspected them. Written once into the sample county of a database that had no areas (in a
transaction of its own after the county's, so that `shixiao run` can write it once it is polling); removed again by
`shixiao units remove-sample`.

The sample county office is chat account 0, which no Telegram or DingTalk account can be (Telegram's ids are
positive, DingTalk's are numbered negative): only the terminal chat (`shixiao chat --user 0`) speaks as it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.complaint_models import Complaint
from storage.inspection_models import SAMPLE_MARK as SAMPLE_MARK  # re-exported: handlers and tests take it here
from storage.inspection_models import (
    SAMPLE_NAME,
    Inspection,
    InspectionPhoto,
    InspectionStatus,
    Unit,
    UnitClosure,
)
from storage.inspections import Report, approve, submit
from storage.kept_photo_models import PhotoOf, RecordPhoto
from storage.models import Area, AreaLevel, Role, User
from storage.units import UnitFields, upsert_unit

SAMPLE_OFFICE_CHAT = 0
SAMPLE_OFFICE_NAME = "示例县整规办"


@dataclass
class SampleInspection:
    submitted_at: datetime
    compliant: bool
    unit_class: str
    status: str  # InspectionStatus: approved or submitted (waiting for the township's review)
    rectify_by: date | None
    answers: dict[str, str]
    notes: dict[str, str]


@dataclass
class SampleUnit:
    name: str  # with SAMPLE_MARK
    industry: str
    township: str
    village: str
    operator: str
    address: str
    inspection: SampleInspection | None = None


@dataclass
class SampleLoad:
    units: int = 0
    inspections: int = 0


@dataclass
class SampleRemoval:
    units: int = 0
    inspections: int = 0
    office_revoked: bool = False
    names: list[str] = field(default_factory=list)


async def pending_sample_county(session: AsyncSession) -> str | None:
    """The sample county whose sample register is still to be written, if any: the database holds a sample county,
    no unit at all, and no sample county office (written in the register's own transaction, and kept as a resident
    by `remove_sample_register`, so a register once loaded or removed is never written again, and one cut short by a
    crash, whose transaction was rolled back, is written at the next start)."""
    county = await session.scalar(
        select(Area.name).where(Area.level == AreaLevel.COUNTY, Area.is_sample.is_(True)).order_by(Area.id).limit(1)
    )
    if county is None:
        return None
    if await session.scalar(select(User.id).where(User.channel_user_id == SAMPLE_OFFICE_CHAT).limit(1)) is not None:
        return None
    if await session.scalar(select(Unit.id).limit(1)) is not None:
        return None
    return county


async def _sample_county(session: AsyncSession, county_name: str) -> Area | None:
    return await session.scalar(
        select(Area).where(Area.level == AreaLevel.COUNTY, Area.name == county_name, Area.is_sample.is_(True))
    )


async def load_sample_register(
    session: AsyncSession, county_name: str, units: list[SampleUnit], now: datetime
) -> SampleLoad:
    """Write the sample units and inspections into the sample county `county_name` (its areas must be marked
    sample: a real county never gets them)."""
    county = await _sample_county(session, county_name)
    if county is None:
        raise ValueError("the sample register goes into the sample county only")
    office = await session.scalar(select(User).where(User.channel_user_id == SAMPLE_OFFICE_CHAT))
    if office is None:
        office = User(
            channel_user_id=SAMPLE_OFFICE_CHAT,
            channel="terminal",
            role=Role.COUNTY,
            area_id=county.id,
            name=SAMPLE_OFFICE_NAME,
            created_at=now,
            last_seen_at=now,
        )
        session.add(office)
        await session.flush()
    await session.refresh(office, ["area"])
    townships = {
        area.name: area
        for area in await session.scalars(select(Area).where(Area.parent_id == county.id, Area.is_sample.is_(True)))
    }
    villages = {
        (area.parent_id, area.name): area
        for area in await session.scalars(
            select(Area).where(Area.parent_id.in_([t.id for t in townships.values()]), Area.is_sample.is_(True))
        )
    }
    loaded = SampleLoad()
    # Oldest inspection first, so report numbers follow the dates as they would have.
    ordered = sorted(units, key=lambda unit: unit.inspection.submitted_at if unit.inspection else now)
    for sample in ordered:
        village = villages[(townships[sample.township].id, sample.village)]
        unit, _ = await upsert_unit(
            session,
            village,
            UnitFields(
                name=sample.name, industry=sample.industry, address=sample.address, operator_name=sample.operator
            ),
            now,
        )
        loaded.units += 1
        spec = sample.inspection
        if spec is None:
            continue
        report = Report(
            unit_id=unit.id,
            submit_key=f"sample-register-{unit.id}",
            industry=sample.industry,
            answers=spec.answers,
            notes=spec.notes,
            proposed_compliant=spec.compliant,
            compliant=spec.compliant,
            unit_class=spec.unit_class,
            rectify_by=spec.rectify_by,
        )
        inspection, _ = await submit(session, report, office.id, spec.submitted_at)
        if spec.status == InspectionStatus.APPROVED:
            approve(inspection, office, spec.submitted_at)
        loaded.inspections += 1
    await session.flush()
    return loaded


async def sample_office_serves(session: AsyncSession) -> bool:
    """Whether the sample county office is still there to speak as (the sample register was not removed)."""
    role = await session.scalar(
        select(User.role).where(User.channel_user_id == SAMPLE_OFFICE_CHAT, User.name == SAMPLE_OFFICE_NAME)
    )
    return role == Role.COUNTY


def _sample_units(township_id: int | None = None):  # type: ignore[no-untyped-def]
    """Units of the sample register: the mark at the end of the name (SAMPLE_NAME, literally, so the partial index
    ix_units_sample answers), in a village of a sample county (of this township)."""
    sample_villages = select(Area.id).where(Area.is_sample.is_(True), Area.level == AreaLevel.VILLAGE)
    if township_id is not None:
        sample_villages = sample_villages.where(Area.parent_id == township_id)
    return select(Unit.id).where(text(SAMPLE_NAME), Unit.village_id.in_(sample_villages))


async def count_sample_units(session: AsyncSession, scope: Area | None = None) -> int:
    township_id = scope.id if scope is not None and scope.level == AreaLevel.TOWNSHIP else None
    stmt = select(func.count()).select_from(_sample_units(township_id).subquery())
    return int(await session.scalar(stmt) or 0)


async def remove_sample_register(session: AsyncSession) -> SampleRemoval:
    """Delete the sample units with their reports, photos and closures (a complaint about one keeps its text and
    loses the link), and make the sample county office a resident."""
    removed = SampleRemoval()
    unit_ids = list(await session.scalars(_sample_units()))
    if unit_ids:
        removed.names = list(await session.scalars(select(Unit.name).where(Unit.id.in_(unit_ids)).order_by(Unit.id)))
        report_ids = select(Inspection.id).where(Inspection.unit_id.in_(unit_ids))
        removed.inspections = int(
            await session.scalar(select(func.count(Inspection.id)).where(Inspection.unit_id.in_(unit_ids))) or 0
        )
        await session.execute(delete(InspectionPhoto).where(InspectionPhoto.inspection_id.in_(report_ids)))
        await session.execute(update(Inspection).where(Inspection.unit_id.in_(unit_ids)).values(previous_id=None))
        await session.execute(delete(Inspection).where(Inspection.unit_id.in_(unit_ids)))
        closures = select(UnitClosure.id).where(UnitClosure.unit_id.in_(unit_ids))
        closure_photos = (RecordPhoto.kind == PhotoOf.CLOSURE) & RecordPhoto.record_id.in_(closures)
        await session.execute(delete(RecordPhoto).where(closure_photos))
        await session.execute(delete(UnitClosure).where(UnitClosure.unit_id.in_(unit_ids)))
        await session.execute(update(Complaint).where(Complaint.unit_id.in_(unit_ids)).values(unit_id=None))
        await session.execute(delete(Unit).where(Unit.id.in_(unit_ids)))
        removed.units = len(unit_ids)
    office = await session.scalar(
        select(User).where(
            User.channel_user_id == SAMPLE_OFFICE_CHAT, User.name == SAMPLE_OFFICE_NAME, User.role != Role.RESIDENT
        )
    )
    if office is not None:
        office.role, office.area_id = Role.RESIDENT, None
        removed.office_revoked = True
    await session.flush()
    return removed
