"""Writing the checked rows of a unit register, in batches, never over what inspections established.

A row for a unit that has inspection reports updates its register facts (address, operator, phone, licences,
示范点) but not its status or class: those are the latest report's result, and the import saying otherwise is a
conflict, listed with the report behind the current value and skipped. Nor may such a row change the unit's
industry: its reports were made against that industry's checklist. A unit never inspected takes the file's status
and class, as long as together with what the file leaves out they make a combination the chat allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.unit_import import CLASS_LABELS, STATUS_LABELS, ParsedRow, RowProblem, combination_problem
from handlers.formatting import cn_date
from storage.areas import AmbiguousArea, AreaNotFound, find_area
from storage.inspection_models import Unit
from storage.models import Area, AreaLevel
from storage.unit_reports import EntryReport, entry_report
from storage.units import find_by_name, upsert_unit

BATCH_ROWS = 500  # rows per write transaction: the bot's own writes wait at most one batch
REVIEW_LABELS = {"submitted": "待审核", "approved": "已通过", "returned": "已退回", "superseded": "已被修改稿替代"}


@dataclass(frozen=True)
class Conflict:
    """A status or class in the file that differs from the one an inspection report set: kept, not imported."""

    row: int
    column: str
    in_file: str
    current: str
    report: EntryReport


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def describe(report: EntryReport, tz: ZoneInfo) -> str:
    """检查报告 JC000002（2026年5月6日）, and the report's state when it no longer counts."""
    state = "" if report.counting else f"，{REVIEW_LABELS.get(report.status, report.status)}"
    return f"检查报告 {report.number}（{cn_date(report.submitted_at, tz)}{state}）"


class RegisterRows:
    """Applies rows one by one inside the caller's transaction; `write=False` only checks them."""

    def __init__(self, industry_names: dict[str, str], tz: ZoneInfo) -> None:
        self.industry_names, self.tz = industry_names, tz
        self.tally = Tally()
        self._villages: dict[tuple[str, str], Area | None] = {}

    async def village(self, session: AsyncSession, township: str, village: str) -> Area | None:
        key = (township, village)
        if key not in self._villages:  # areas are few and never change during an import
            try:
                self._villages[key] = await find_area(session, f"{township}/{village}", AreaLevel.VILLAGE)
            except (AreaNotFound, AmbiguousArea):
                self._villages[key] = None
        return self._villages[key]

    async def apply(self, session: AsyncSession, row: ParsedRow, now: datetime, *, write: bool = True) -> None:
        village = await self.village(session, row.township, row.village)
        if village is None:
            self.tally.problems.append(RowProblem(row.row, "村", f"找不到“{row.township}{row.village}”"))
            return
        fields = row.fields
        unit = await find_by_name(session, village.id, fields.name)
        if unit is not None:
            report = await entry_report(session, unit.id)
            problem = self._industry_change(row, unit, report) if report else self._combination(row, unit)
            if problem is not None:
                self.tally.problems.append(problem)
                return
            if report is not None:
                self._conflicts(row, unit, report)
                fields = replace(fields, status=None, unit_class=None)  # None: leave as the report set them
        if write:
            _, created = await upsert_unit(session, village, fields, now)
            self.tally.created, self.tally.updated = self.tally.created + created, self.tally.updated + (not created)

    def _industry_change(self, row: ParsedRow, unit: Unit, report: EntryReport) -> RowProblem | None:
        if row.fields.industry == unit.industry:
            return None
        old = self.industry_names.get(unit.industry, unit.industry)
        new = self.industry_names.get(row.fields.industry, row.fields.industry)
        return RowProblem(
            row.row,
            "行业",
            f"该单位已有{describe(report, self.tz)}，不能由“{old}”改为“{new}”："
            f"已有的检查报告是按“{old}”的检查表做的，改行业会使它们与名册不符",
        )

    def _combination(self, row: ParsedRow, unit: Unit) -> RowProblem | None:
        """The file's status and class together with what the unit already has, where the file leaves one out."""
        if row.fields.status is None and row.fields.unit_class is None:
            return None
        status, unit_class = row.fields.status or unit.status, row.fields.unit_class or unit.unit_class
        reason = combination_problem(status, unit_class)
        if reason is None:
            return None
        if row.fields.unit_class:
            column, kept = "分类", f"状态为“{STATUS_LABELS.get(status, status)}”"
        else:
            column, kept = "状态", f"分类为“{CLASS_LABELS.get(unit_class or '', unit_class)}”"
        return RowProblem(row.row, column, f"该单位在名册中{kept}，{reason}")

    def _conflicts(self, row: ParsedRow, unit: Unit, report: EntryReport) -> None:
        for column, wanted, current, labels in (
            ("状态", row.fields.status, unit.status, STATUS_LABELS),
            ("分类", row.fields.unit_class, unit.unit_class, CLASS_LABELS),
        ):
            if wanted is not None and wanted != current:
                self.tally.conflicts.append(
                    Conflict(
                        row.row,
                        column,
                        labels.get(wanted, wanted),
                        labels.get(current or "", current or "（无）"),
                        report,
                    )
                )
