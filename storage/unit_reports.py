"""The inspection report behind a unit's register entry: what the register import must not overwrite."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.inspection_models import Inspection
from storage.inspections import COUNTING, report_number


@dataclass(frozen=True)
class EntryReport:
    """The report that set a unit's status and class (the latest one still counting), or, when every report was
    returned or replaced, the latest report of all (`counting` False)."""

    number: str
    submitted_at: datetime
    status: str
    counting: bool


async def entry_report(session: AsyncSession, unit_id: int) -> EntryReport | None:
    """None for a unit never inspected."""
    reports = list(
        await session.scalars(select(Inspection).where(Inspection.unit_id == unit_id).order_by(Inspection.id.desc()))
    )
    if not reports:
        return None
    report = next((report for report in reports if report.status in COUNTING), None)
    chosen = report or reports[0]
    return EntryReport(report_number(chosen), chosen.submitted_at, chosen.status, report is not None)
