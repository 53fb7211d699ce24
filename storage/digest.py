"""The numbers of a digest, computed by one function that tests pin to hand-computed fixtures.

Compliance rate = units to standard ÷ (registered units − units whose closure was verified). A unit classified
关停取缔类 is 待关停 until a township official or a cadre's visit records it 已关停 / 已取缔 (storage/closures.py):
until then it stays in the base and is not to standard, so classifying units to close cannot raise a rate. A township is 基本完成 when that rate is at least 80%; the county target is 70% of townships basically
complete and 70% of each industry's units to standard (the plan's targets; see knowledge/data/plan.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.areas import children_of
from storage.complaint_stats import complaint_counts
from storage.inspection_models import Inspection, InspectionStatus, Unit, UnitStatus
from storage.inspections import count_overdue_rectifications
from storage.models import Area, AreaLevel
from storage.sample_register import count_sample_units


@dataclass(frozen=True)
class Targets:
    township_unit_share: int = 80  # % of a township's units to standard: 基本完成
    county_township_share: int = 70  # % of townships basically complete
    industry_unit_share: int = 70  # % of each industry's units to standard


@dataclass
class Share:
    """`part` of `whole`; whole == 0 means there is nothing to measure yet."""

    part: int = 0
    whole: int = 0

    def reaches(self, percent: int) -> bool:
        # Integer arithmetic: 79.99% must not round up to 80%.
        return self.whole > 0 and self.part * 100 >= percent * self.whole

    @property
    def rate(self) -> float | None:
        return self.part / self.whole if self.whole else None


@dataclass
class AreaLine:
    """A township (or, in a township's digest, a village) and its share; `complete`: at or above the 80% line."""

    area_id: int
    name: str
    units: int
    share: Share
    complete: bool
    pending_closure: int = 0  # 待关停: in the base, not to standard
    closed: int = 0  # 已关停 / 已取缔 (verified): out of the base


@dataclass
class IndustryLine:
    slug: str
    share: Share
    meets_target: bool
    pending_closure: int = 0
    closed: int = 0


@dataclass
class Digest:
    scope_id: int
    scope_name: str
    scope_level: str
    start: datetime
    end: datetime
    targets: Targets
    status_counts: dict[str, int] = field(default_factory=dict)
    share: Share = field(default_factory=Share)
    townships: list[AreaLine] = field(default_factory=list)  # ranked, best first
    # A township's digest only: its villages, ranked, for the chart (the county's chart shows its townships).
    villages: list[AreaLine] = field(default_factory=list)
    townships_complete: Share = field(default_factory=Share)
    industries: list[IndustryLine] = field(default_factory=list)
    inspections_this_week: int = 0
    inspections_last_week: int = 0
    complaints_opened: int = 0
    complaints_closed: int = 0
    complaints_overdue: int = 0
    overdue_rectifications: int = 0
    sample_units: int = 0  # units of the sample register among `units` (storage/sample_register.py)

    @property
    def units(self) -> int:
        return sum(self.status_counts.values())

    @property
    def pending_closure(self) -> int:
        return self.status_counts.get(UnitStatus.PENDING_CLOSURE, 0)

    @property
    def closed(self) -> int:
        return self.status_counts.get(UnitStatus.CLOSED, 0)


def _operating_share(counts: dict[str, int]) -> Share:
    """Only a verified closure leaves the base; 待关停 units stay in it, not to standard."""
    base = sum(n for status, n in counts.items() if status != UnitStatus.CLOSED)
    return Share(counts.get(UnitStatus.COMPLIANT, 0), base)


async def _unit_counts(session: AsyncSession, scope: Area) -> list[tuple[int, str, str, int]]:
    stmt = select(Unit.township_id, Unit.industry, Unit.status, func.count(Unit.id)).group_by(
        Unit.township_id, Unit.industry, Unit.status
    )
    if scope.level == AreaLevel.TOWNSHIP:
        stmt = stmt.where(Unit.township_id == scope.id)
    return [(t, i, s, int(n)) for t, i, s, n in (await session.execute(stmt)).all()]


async def _village_counts(session: AsyncSession, township: Area) -> dict[int, dict[str, int]]:
    stmt = (
        select(Unit.village_id, Unit.status, func.count(Unit.id))
        .where(Unit.township_id == township.id)
        .group_by(Unit.village_id, Unit.status)
    )
    counts: dict[int, dict[str, int]] = {}
    for village_id, status, count in (await session.execute(stmt)).all():
        counts.setdefault(village_id, {})[status] = int(count)
    return counts


def _ranked(areas: list[Area], counts: dict[int, dict[str, int]], targets: Targets) -> list[AreaLine]:
    lines = []
    for area in areas:
        area_counts = counts.get(area.id, {})
        share = _operating_share(area_counts)
        lines.append(
            AreaLine(
                area.id,
                area.name,
                sum(area_counts.values()),
                share,
                share.reaches(targets.township_unit_share),
                area_counts.get(UnitStatus.PENDING_CLOSURE, 0),
                area_counts.get(UnitStatus.CLOSED, 0),
            )
        )
    return sorted(lines, key=lambda line: (-(line.share.rate or -1.0), -line.units, line.area_id))


async def _inspections(session: AsyncSession, scope: Area, start: datetime, end: datetime) -> int:
    stmt = select(func.count(Inspection.id)).where(
        Inspection.submitted_at >= start,
        Inspection.submitted_at < end,
        Inspection.status != InspectionStatus.SUPERSEDED,
    )
    if scope.level == AreaLevel.TOWNSHIP:
        stmt = stmt.where(Inspection.township_id == scope.id)
    return int(await session.scalar(stmt) or 0)


async def compute_digest(session: AsyncSession, scope: Area, now: datetime, targets: Targets | None = None) -> Digest:
    """The digest of a county or a township for the 7 days before `now` (and the 7 days before those)."""
    if scope.level not in (AreaLevel.COUNTY, AreaLevel.TOWNSHIP):
        raise ValueError("a digest covers a county or a township")
    targets = targets or Targets()
    start, previous = now - timedelta(days=7), now - timedelta(days=14)
    digest = Digest(scope.id, scope.name, scope.level, start, now, targets)
    by_township: dict[int, dict[str, int]] = {}
    by_industry: dict[str, dict[str, int]] = {}
    for township_id, industry, status, count in await _unit_counts(session, scope):
        digest.status_counts[status] = digest.status_counts.get(status, 0) + count
        counts = by_township.setdefault(township_id, {})
        counts[status] = counts.get(status, 0) + count
        industry_counts = by_industry.setdefault(industry, {})
        industry_counts[status] = industry_counts.get(status, 0) + count
    digest.share = _operating_share(digest.status_counts)
    townships = [scope] if scope.level == AreaLevel.TOWNSHIP else await children_of(session, scope.id)
    digest.townships = _ranked(townships, by_township, targets)
    if scope.level == AreaLevel.TOWNSHIP:
        digest.villages = _ranked(await children_of(session, scope.id), await _village_counts(session, scope), targets)
    digest.townships_complete = Share(sum(line.complete for line in digest.townships), len(digest.townships))
    for slug, counts in sorted(by_industry.items()):
        share = _operating_share(counts)
        digest.industries.append(
            IndustryLine(
                slug,
                share,
                share.reaches(targets.industry_unit_share),
                counts.get(UnitStatus.PENDING_CLOSURE, 0),
                counts.get(UnitStatus.CLOSED, 0),
            )
        )
    digest.inspections_this_week = await _inspections(session, scope, start, now)
    digest.inspections_last_week = await _inspections(session, scope, previous, start)
    complaints = await complaint_counts(session, start, now, scope)
    digest.complaints_opened, digest.complaints_closed = complaints.opened, complaints.closed
    digest.complaints_overdue = complaints.overdue
    only_township = scope.id if scope.level == AreaLevel.TOWNSHIP else None  # None: the whole county
    digest.overdue_rectifications = await count_overdue_rectifications(session, now.date(), only_township)
    digest.sample_units = await count_sample_units(session, scope)
    return digest
