"""Streaming Excel exports of the register and the inspection reports (openpyxl write-only mode, bot/xlsx_book.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.progress import Progress
from sqlalchemy import ColumnElement, func, select

from bot.unit_import import CLASS_NAMES, COLUMNS, STATUS_NAMES
from bot.xlsx_book import DATE_WIDTH, MOMENT_WIDTH, Book
from bot.xlsx_records import add_record_sheets
from storage import kept_photos
from storage.db import Database
from storage.inspection_models import Inspection, InspectionPhoto, Unit
from storage.inspections import report_number
from storage.models import Area, AreaLevel

if TYPE_CHECKING:
    from knowledge.models import Checklist, KnowledgeBase

STATUS_LABELS: dict[str, str] = {value: label for label, value in STATUS_NAMES.items()}
CLASS_LABELS: dict[str, str] = {value: label for label, value in CLASS_NAMES.items()}
REVIEW_LABELS = {"submitted": "待审核", "approved": "已通过", "returned": "已退回", "superseded": "已被修改稿替代"}
ANSWER_LABELS = {"pass": "符合", "fail": "不符合", "na": "不适用", "yes": "是", "no": "否"}
INSPECTION_COLUMNS = (
    "报告编号",
    "单位名称",
    "行业",
    "乡镇",
    "村",
    "检查人",
    "提交时间",
    "判定",
    "建议判定",
    "改判理由",
    "分类",
    "整改期限",
    "审核状态",
    "审核意见",
    "版本",
    "照片数",
    "照片引用",
    "纬度",
    "经度",
    "分类理由",
    "审核人",
    "审核时间",
)
ITEM_COLUMNS = ("报告编号", "检查表序号", "检查项", "结果", "说明")
BATCH = 1000
PHOTO_PENDING, PHOTO_FAILED = "待保存", "未能保存"


async def _areas(db: Database) -> dict[int, Area]:
    async with db.transaction() as session:
        return {area.id: area for area in (await session.scalars(select(Area))).unique()}


def _industry_names(knowledge: KnowledgeBase | None) -> dict[str, str]:
    return {slug: checklist.name for slug, checklist in (knowledge.checklists.items() if knowledge else [])}


async def write_units(
    db: Database,
    out: Path,
    bar: Progress,
    industries: Mapping[str, str] | None = None,
    township_id: int | None = None,
) -> int:
    """The register (one township's with `township_id`, for the web console's township officials); `industries`
    names each industry slug (knowledge.industry_names, or handlers.report.industry_names of a loaded base)."""
    areas = await _areas(db)
    industries = industries or {}
    book = Book()
    sheet = book.sheet("单位名册", COLUMNS)
    scope = [] if township_id is None else [Unit.township_id == township_id]
    async with db.transaction() as session:
        total = int(await session.scalar(select(func.count(Unit.id)).where(*scope)) or 0)
        task = bar.add_task("导出单位", total=total)
        result = await session.stream(select(Unit).where(*scope).order_by(Unit.id).execution_options(yield_per=BATCH))
        count = 0
        async for unit in result.scalars():
            village = areas.get(unit.village_id)
            township = areas.get(unit.township_id)
            sheet.append(
                [
                    unit.name,
                    industries.get(unit.industry, unit.industry),
                    township.name if township else "",
                    village.name if village else "",
                    unit.address,
                    unit.operator_name,
                    unit.operator_phone,
                    unit.licences,
                    STATUS_LABELS.get(unit.status, ""),
                    CLASS_LABELS.get(unit.unit_class or "", ""),
                    "是" if unit.is_demo else "否",
                    unit.latitude,
                    unit.longitude,
                ]
            )
            count += 1
            bar.advance(task)
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
    return count


def item_rows(
    checklist: Checklist | None, answers: dict[str, str], notes: dict[str, str], carried: dict[str, str] | None = None
) -> list[list[object]]:
    """(number in the industry's checklist, Chinese text, answer, note) per answered item, in checklist order. An
    answer a re-inspection carried over unchecked says so: 符合（沿用上次 2026-12-01）.

    The number is the item's place in the whole checklist, not in the cadre's screen (screening questions hide items
    there), so the same item has the same number in every report of the industry and can be filtered on.
    """
    positions = {item.id: (number, item.text) for number, item in enumerate(checklist.items if checklist else (), 1)}
    rows: list[tuple[int | None, str, str, str]] = []
    for item_id, answer in answers.items():
        number, text = positions.get(item_id, (None, f"（此项已从检查表中删除，内部编号 {item_id}）"))
        successor = checklist.resolve(item_id) if checklist is not None and item_id not in positions else None
        if successor is not None and checklist is not None:  # merged since: as it was asked, under its successor
            number, text = (
                positions[successor][0],
                f"{checklist.text_of(item_id)}（已并入第{positions[successor][0]}项）",
            )
        label = ANSWER_LABELS.get(answer, answer)
        if carried and item_id in carried:
            label += f"（沿用上次 {carried[item_id]}）"
        rows.append((number, text, label, notes.get(item_id, "")))
    # retired items last, in the order they were answered (sorted() is stable)
    return [list(row) for row in sorted(rows, key=lambda row: row[0] if row[0] is not None else len(positions) + 1)]


def photo_reference() -> ColumnElement[str]:
    """A report photo in an export: its stable path in the media store (media/ab/cd/<sha256>.jpg), or why there
    is none (待保存: not downloaded yet; 未能保存: given up on). A Telegram file id means nothing outside the bot."""
    return kept_photos.photo_reference(InspectionPhoto, PHOTO_PENDING, PHOTO_FAILED)


def _inspection_filter(stmt, start: datetime | None, end: datetime | None, scope: Area | None):  # type: ignore[no-untyped-def]
    if start is not None:
        stmt = stmt.where(Inspection.submitted_at >= start)
    if end is not None:
        stmt = stmt.where(Inspection.submitted_at < end)
    if scope is not None and scope.level == AreaLevel.TOWNSHIP:
        stmt = stmt.where(Inspection.township_id == scope.id)
    elif scope is not None and scope.level == AreaLevel.VILLAGE:
        stmt = stmt.where(Unit.village_id == scope.id)
    return stmt


async def write_inspections(
    db: Database,
    out: Path,
    bar: Progress,
    start: datetime | None,
    end: datetime | None,
    scope: Area | None,
    knowledge: KnowledgeBase | None,
    tz: ZoneInfo,
) -> int:
    areas = await _areas(db)
    industries = _industry_names(knowledge)
    checklists = knowledge.checklists if knowledge else {}
    photos = (
        select(
            InspectionPhoto.inspection_id,
            func.count(InspectionPhoto.id).label("n"),
            func.aggregate_strings(photo_reference(), "|").label("refs"),
        )
        .group_by(InspectionPhoto.inspection_id)
        .subquery()
    )
    base = (
        select(Inspection, Unit.name, Unit.village_id, photos.c.n, photos.c.refs)
        .join(Unit, Unit.id == Inspection.unit_id)
        .outerjoin(photos, photos.c.inspection_id == Inspection.id)
    )
    book = Book()
    reports = book.sheet(
        "检查报告", INSPECTION_COLUMNS, {"提交时间": MOMENT_WIDTH, "整改期限": DATE_WIDTH, "审核时间": MOMENT_WIDTH}
    )
    items = book.sheet("检查项结果", ITEM_COLUMNS)
    count = 0
    async with db.transaction() as session:
        counter = _inspection_filter(
            select(func.count(Inspection.id)).join(Unit, Unit.id == Inspection.unit_id), start, end, scope
        )
        task = bar.add_task("导出检查报告", total=int(await session.scalar(counter) or 0))
        stmt = _inspection_filter(base, start, end, scope).order_by(Inspection.id).execution_options(yield_per=BATCH)
        async for inspection, unit_name, village_id, photo_count, refs in await session.stream(stmt):
            number = report_number(inspection)
            village = areas.get(village_id)
            township = areas.get(inspection.township_id)
            reports.append(
                [
                    number,
                    unit_name,
                    industries.get(inspection.industry, inspection.industry),
                    township.name if township else "",
                    village.name if village else "",
                    # Names as they were when submitted and reviewed: a later rename does not rewrite the record.
                    inspection.inspector_name or "",
                    inspection.submitted_at.astimezone(tz).replace(tzinfo=None),
                    "规范达标" if inspection.compliant else "不达标",
                    "规范达标" if inspection.proposed_compliant else "不达标",
                    inspection.override_reason or "",
                    CLASS_LABELS.get(inspection.unit_class, ""),
                    inspection.rectify_by,
                    REVIEW_LABELS.get(inspection.status, inspection.status),
                    inspection.review_note or "",
                    inspection.version,
                    photo_count or 0,
                    refs or "",
                    inspection.latitude,
                    inspection.longitude,
                    inspection.class_reason or "",
                    inspection.reviewer_name or "",
                    inspection.reviewed_at.astimezone(tz).replace(tzinfo=None) if inspection.reviewed_at else None,
                ]
            )
            for row in item_rows(
                checklists.get(inspection.industry), inspection.answers, inspection.notes, inspection.carried_over
            ):
                items.append([number, *row])
            count += 1
            bar.advance(task)
        await add_record_sheets(
            session, book, start=start, end=end, scope=scope, checklists=checklists, areas=areas, tz=tz
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
    return count
