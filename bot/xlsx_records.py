"""Two more sheets of the inspections export: the owners' 已整改 reports and the verified closures, each with its
kept photos by reference (the path in the media store, or 待保存 / 未能保存), so the evidence behind a re-inspection
task or a closure is in the workbook officials file, not only in the chat. Same filters as the reports: the time
the record was made (`--from` / `--to`) and the township or village of its unit (`--area`)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.xlsx_book import DATE_WIDTH, MOMENT_WIDTH, Book
from storage import kept_photos
from storage.inspection_models import ClosureSource, Inspection, Unit, UnitClosure
from storage.inspections import report_number
from storage.kept_photo_models import PhotoOf, RecordPhoto
from storage.models import Area, AreaLevel
from storage.owner_models import OwnerFix

if TYPE_CHECKING:
    from knowledge.models import Checklist

FIX_COLUMNS = ("报告时间", "所整改的检查报告", "单位名称", "乡镇", "村", "检查项", "业主说明", "照片数", "照片引用")
CLOSURE_COLUMNS = (
    "单位名称",
    "乡镇",
    "村",
    "结果",
    "关停日期",
    "记录人",
    "记录方式",
    "说明",
    "照片数",
    "照片引用",
    "记录时间",
)
CLOSURE_KINDS = {"shut_down": "已关停", "banned": "已取缔"}
CLOSURE_SOURCES = {ClosureSource.TOWNSHIP: "乡镇核实记录", ClosureSource.VISIT: "村干部上门核实"}
PENDING, FAILED = "待保存", "未能保存"


def _scoped(stmt: Any, when: Any, start: datetime | None, end: datetime | None, scope: Area | None) -> Any:
    if start is not None:
        stmt = stmt.where(when >= start)
    if end is not None:
        stmt = stmt.where(when < end)
    if scope is not None and scope.level == AreaLevel.TOWNSHIP:
        stmt = stmt.where(Unit.township_id == scope.id)
    elif scope is not None and scope.level == AreaLevel.VILLAGE:
        stmt = stmt.where(Unit.village_id == scope.id)
    return stmt


async def _photos(session: AsyncSession, kind: PhotoOf, records: Any) -> dict[tuple[int, str | None], list[str]]:
    """(record id, item id) -> the photos' references, for the records the subquery `records` selects."""
    reference = kept_photos.photo_reference(RecordPhoto, PENDING, FAILED)
    stmt = (
        select(RecordPhoto.record_id, RecordPhoto.item_id, reference)
        .where(RecordPhoto.kind == kind, RecordPhoto.record_id.in_(records))
        .order_by(RecordPhoto.id)
    )
    found: dict[tuple[int, str | None], list[str]] = defaultdict(list)
    for record_id, item_id, ref in await session.execute(stmt):
        found[(record_id, item_id)].append(ref)
    return found


async def add_record_sheets(
    session: AsyncSession,
    book: Book,
    *,
    start: datetime | None,
    end: datetime | None,
    scope: Area | None,
    checklists: dict[str, Checklist],
    areas: dict[int, Area],
    tz: ZoneInfo,
) -> None:
    def local(moment: datetime) -> datetime:
        return moment.astimezone(tz).replace(tzinfo=None)

    def place(unit: Unit) -> list[str]:
        township, village = areas.get(unit.township_id), areas.get(unit.village_id)
        return [township.name if township else "", village.name if village else ""]

    fixes_sheet = book.sheet("业主整改", FIX_COLUMNS, {"报告时间": MOMENT_WIDTH})
    fixes = _scoped(
        select(OwnerFix, Unit, Inspection)
        .join(Unit, Unit.id == OwnerFix.unit_id)
        .join(Inspection, Inspection.id == OwnerFix.report_id),
        OwnerFix.created_at,
        start,
        end,
        scope,
    )
    fix_ids = _scoped(
        select(OwnerFix.id).join(Unit, Unit.id == OwnerFix.unit_id), OwnerFix.created_at, start, end, scope
    )
    photos = await _photos(session, PhotoOf.OWNER_FIX, fix_ids.scalar_subquery())
    for fix, unit, report in await session.execute(fixes.order_by(OwnerFix.id)):
        checklist = checklists.get(unit.industry)
        for item_id, entry in (fix.items or {}).items():
            refs = photos.get((fix.id, item_id), [])
            fixes_sheet.append(
                [
                    local(fix.created_at),
                    report_number(report),
                    unit.name,
                    *place(unit),
                    (checklist.text_of(item_id) if checklist else None) or item_id,
                    str((entry or {}).get("note") or ""),
                    len(refs),
                    "|".join(refs),
                ]
            )

    closures_sheet = book.sheet("关停核实", CLOSURE_COLUMNS, {"关停日期": DATE_WIDTH, "记录时间": MOMENT_WIDTH})
    closures = _scoped(
        select(UnitClosure, Unit).join(Unit, Unit.id == UnitClosure.unit_id), UnitClosure.recorded_at, start, end, scope
    )
    closure_ids = _scoped(
        select(UnitClosure.id).join(Unit, Unit.id == UnitClosure.unit_id), UnitClosure.recorded_at, start, end, scope
    )
    photos = await _photos(session, PhotoOf.CLOSURE, closure_ids.scalar_subquery())
    for closure, unit in await session.execute(closures.order_by(UnitClosure.id)):
        refs = photos.get((closure.id, None), [])  # a closure's photo shows no item
        closures_sheet.append(
            [
                unit.name,
                *place(unit),
                CLOSURE_KINDS.get(closure.kind, closure.kind),
                closure.closed_on,
                closure.recorded_by_name or "",
                CLOSURE_SOURCES.get(closure.source, closure.source),
                closure.note or "",
                len(refs),
                "|".join(refs),
                local(closure.recorded_at),
            ]
        )
