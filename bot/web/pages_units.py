"""单位 (the register): typo-tolerant search as in the chat, filters, a unit's page with its reports, complaints and
edit history, editing register facts, and the xlsx import (the CLI's importer, its row report and caps) and export."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from rich.progress import Progress
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.register_rows import RegisterRows
from bot.unit_import import ImportFileError, ParsedRow, RowProblem, industry_lookup, parse_rows, read_rows
from bot.web.app import Console, page
from bot.web.auth import Refusal, Viewer, not_found
from bot.web.pages_main import CLASS_WORDS, STATUS_WORDS, _id, stored_photo
from bot.xlsx_exports import write_units
from handlers.complaints import render
from handlers.complaints.shipped import CONFIG
from handlers.formatting import cn_date, cn_datetime
from handlers.owner_notice import item_guidance
from handlers.report import industry_names, scope_of
from storage import inspections, owners, unit_records, units, web
from storage.areas import area_path, children_of, get_area
from storage.inspection_models import Unit, UnitStatus
from storage.inspections import report_number
from storage.kept_photo_models import RecordPhoto
from storage.models import Area, AreaLevel

PAGE_SIZE = 50
UNIT_STATUS: dict[str, str] = {
    UnitStatus.UNCHECKED: "未检查",
    UnitStatus.COMPLIANT: "规范达标",
    UnitStatus.RECTIFYING: "整改中",
    UnitStatus.PENDING_CLOSURE: "待关停",
    UnitStatus.CLOSED: "已关停/已取缔",
}
# Register facts an office may correct by hand; status and class come from reviewed reports only.
EDITABLE = {
    "address": ("地址", 200),
    "operator_name": ("经营者", 64),
    "operator_phone": ("联系电话", 32),
    "licences": ("证照编号", 300),
}


async def _villages(session: AsyncSession, who: Viewer) -> list[Area]:
    scope = await scope_of(session, who.user)
    if scope is None:
        return []
    if scope.level == AreaLevel.TOWNSHIP:
        return await children_of(session, scope.id)
    villages = []
    for township in await children_of(session, scope.id):
        villages += [(township.name + village.name, village) for village in await children_of(session, township.id)]
    return [village for _, village in sorted(villages, key=lambda pair: pair[0])]


async def register(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    params = request.query_params
    query = params.get("q", "")[:50]
    village = _id(params.get("village", "")) if params.get("village") else None
    names = industry_names(console.knowledge)
    industry = params.get("industry") if params.get("industry") in names else None
    status = params.get("status") if params.get("status") in UNIT_STATUS else None
    unit_class = params.get("class") if params.get("class") in CLASS_WORDS else None
    demo = {"1": True, "0": False}.get(params.get("demo", ""))
    offset = max(0, (_id(params.get("page", "1")) or 1) - 1) * PAGE_SIZE
    ids = None
    if query.strip():
        scope = await scope_of(session, who.user)
        found = await units.search_units(session, query, scope, limit=PAGE_SIZE)
        ids = [unit.id for unit, _ in found]
    rows, total = await web.list_units(
        session,
        who.township_id,
        village_id=village,
        ids=ids,
        limit=PAGE_SIZE,
        offset=offset,
        industry=industry,
        status=status,
        unit_class=unit_class,
        demo=demo,
    )
    if ids is not None:  # best match first, as the chat lists them
        rows.sort(key=lambda unit: ids.index(unit.id))
    places = {unit.id: area_path(await get_area(session, unit.village_id)) for unit in rows}
    return console.render(
        request,
        "units.html",
        who,
        rows=rows,
        total=total,
        query=query,
        params=params,
        villages=await _villages(session, who),
        industries=names,
        statuses=UNIT_STATUS,
        classes=CLASS_WORDS,
        places=places,
        offset=offset,
        page_size=PAGE_SIZE,
        flash=console.cookies.flash_of(request),
    )


async def _unit_in_scope(session: AsyncSession, request: Request, who: Viewer) -> Unit:
    unit_id = _id(request.path_params["unit_id"])
    unit = await units.get_unit(session, unit_id) if unit_id else None
    if unit is None or (who.township_id is not None and unit.township_id != who.township_id):
        raise not_found("单位")
    return unit


async def unit_page(
    console: Console, request: Request, session: AsyncSession, who: Viewer, error: str = ""
) -> Response:
    unit = await _unit_in_scope(session, request, who)
    tz = console.clock.tz
    reports = [
        (
            report_number(r),
            STATUS_WORDS.get(r.status, r.status),
            "规范达标" if r.compliant else "未达标",
            cn_date(r.submitted_at, tz),
            r.inspector_name or "",
            r.review_note or "",
        )
        for r in reversed(await inspections.history(session, unit.id))
    ]
    filed = [
        (c.number, CONFIG.name(c.category), render.status_label(console.texts, c.status), cn_date(c.created_at, tz))
        for c in await web.complaints_about(session, unit.id)
    ]
    # 自查 records: the owner's own checks, shown apart from the reports and counted nowhere.
    self_checks = [
        (
            cn_date(check.created_at, tz),
            [item.requirement for item in item_guidance(console.knowledge, check.industry, check.answers)],
        )
        for check in await owners.self_checks_of(session, unit.id)
    ]
    checklist = console.knowledge.checklists.get(unit.industry) if console.knowledge else None
    # The owner's 已整改 reports and the verified closures, with the photos the product kept (storage/unit_records).
    fixes = [
        (
            cn_datetime(shown.fix.created_at, tz),
            [
                ((checklist.text_of(item_id) if checklist else None) or item_id, str((entry or {}).get("note") or ""))
                for item_id, entry in (shown.fix.items or {}).items()
            ],
            [_photo_cell(photo) for photo in shown.photos],
        )
        for shown in await unit_records.owner_fixes_of(session, unit.id)
    ]
    closures = [
        (
            cn_date(shown.closure.closed_on),
            console.texts(f"closure_kind_{shown.closure.kind}"),
            shown.closure.recorded_by_name or "",
            shown.closure.note or "",
            [_photo_cell(photo) for photo in shown.photos],
        )
        for shown in await unit_records.closures_of(session, unit.id)
    ]
    labels = {field: label for field, (label, _) in EDITABLE.items()} | {"is_demo": "示范点"}
    edits = [
        (cn_datetime(e.at, tz), labels.get(e.field, e.field), e.before or "", e.after or "")
        for e in await web.unit_edits(session, unit.id)
    ]
    return console.render(
        request,
        "unit.html",
        who,
        unit=unit,
        place=area_path(await get_area(session, unit.village_id)),
        industry=industry_names(console.knowledge).get(unit.industry, unit.industry),
        unit_status=UNIT_STATUS.get(unit.status, unit.status),
        klass=CLASS_WORDS.get(unit.unit_class or "", "—"),
        reports=reports,
        filed=filed,
        self_checks=self_checks,
        fixes=fixes,
        closures=closures,
        edits=edits,
        editable=EDITABLE,
        error=error,
        status=400 if error else 200,
    )


def _photo_cell(photo: RecordPhoto) -> tuple[int, bool, bool]:
    """(id, kept, failed): a kept photo is shown, one still being saved or that could not be saved says so."""
    return photo.id, photo.sha256 is not None, photo.failed


async def unit_photo(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    """A kept photo of one of the unit's 已整改 reports or closures, for those who may open the unit's page."""
    unit = await _unit_in_scope(session, request, who)
    photo_id = _id(request.path_params["photo_id"])
    photo = await unit_records.unit_record_photo(session, unit.id, photo_id) if photo_id else None
    if photo is None or photo.sha256 is None:
        raise not_found("照片")
    return await stored_photo(console, photo.sha256, photo.extension)


async def unit_edit(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    unit = await _unit_in_scope(session, request, who)
    form, now, changed = request.state.form, console.clock.now(), []
    for field, (label, longest) in EDITABLE.items():
        value = form.get(field)
        if not isinstance(value, str):
            continue
        value = " ".join(value.split())
        if len(value) > longest:
            raise Refusal(400, "未能保存", f"「{label}」最多 {longest} 个字，没有做任何修改。")
        before = getattr(unit, field) or ""
        if value != before:
            web.record_edit(session, unit.id, who.user.id, now, field, before or None, value or None)
            setattr(unit, field, value or None)
            changed.append(label)
    demo = form.get("is_demo") == "1"
    if demo != unit.is_demo:
        web.record_edit(
            session, unit.id, who.user.id, now, "is_demo", "是" if unit.is_demo else "否", "是" if demo else "否"
        )
        unit.is_demo, unit.updated_at = demo, now
        changed.append("示范点")
    if changed:
        unit.updated_at = now
        web.audit(session, who.user.id, now, "unit_edit", str(unit.id), "、".join(changed))
    return RedirectResponse(f"/units/{unit.id}?saved={len(changed)}", status_code=303)


async def export(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    web.audit(session, who.user.id, console.clock.now(), "units_export")
    township = who.township_id  # a township official's export holds their township's units only

    async def write() -> Response:
        out = Path(tempfile.mkdtemp()) / "units.xlsx"
        with Progress(disable=True) as bar:
            await write_units(console.db, out, bar, industry_names(console.knowledge), township)
        return FileResponse(
            out,
            filename="单位名册.xlsx",
            background=BackgroundTask(_remove, out),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )

    request.state.after_commit = write
    return Response(status_code=204)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.parent.rmdir()


def _read_register(path: Path, industries: dict[str, str]) -> list[tuple[int, ParsedRow | None, list[RowProblem]]]:
    next(read_rows(path), None)
    return list(parse_rows(path, industries))


async def import_units(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    """All or nothing: every row is checked first; with any problem nothing is written and the rows are listed."""
    upload = request.state.form.get("file")
    if upload is None or isinstance(upload, str):
        raise Refusal(400, "未选择文件", "请选择要导入的单位名册 xlsx 文件。")
    names = industry_names(console.knowledge)
    industries = industry_lookup(console.knowledge.checklists if console.knowledge else {})
    township = (await get_area(session, who.township_id)) if who.township_id is not None else None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "register.xlsx"  # never the uploaded name: no path from the browser touches the disk
        path.write_bytes(await upload.read())
        try:
            # Reading a large workbook takes seconds: off the event loop, which may be serving the bot too (--web).
            parsed = await asyncio.to_thread(_read_register, path, industries)
        except ImportFileError as error:
            raise Refusal(400, "文件无法导入", f"{error}（没有导入任何数据）") from None
    checker, now = RegisterRows(names, console.clock.tz), console.clock.now()
    for number, row, problems in parsed:
        checker.tally.problems.extend(problems)
        if row is not None and township is not None and row.township != township.name:
            checker.tally.problems.append(RowProblem(number, "乡镇", f"“{row.township}”不是本乡镇（{township.name}）"))
        elif row is not None:
            await checker.apply(session, row, now, write=False)
    if checker.tally.problems:
        problems = sorted(checker.tally.problems, key=lambda p: p.row)
        return console.render(request, "import.html", who, problems=problems, total=len(parsed), status=400)
    writer = RegisterRows(names, console.clock.tz)
    for _number, row, _problems in parsed:
        if row is not None:
            await writer.apply(session, row, now)
    web.audit(
        session,
        who.user.id,
        now,
        "units_import",
        None,
        f"{len(parsed)} 行：新增 {writer.tally.created}，更新 {writer.tally.updated}",
    )
    said = f"导入完成：共 {len(parsed)} 行，新增 {writer.tally.created} 家，更新 {writer.tally.updated} 家。"
    return RedirectResponse(f"/units?done={console.cookies.flash(said)}", status_code=303)


def routes(console: Console) -> list[Route]:
    return [
        Route("/units", page(console, "web", register)),
        Route("/units/export.xlsx", page(console, "web", export)),
        Route("/units/import", page(console, "web", import_units, post=True), methods=["POST"]),
        Route("/units/{unit_id}", page(console, "web", unit_page)),
        Route("/units/{unit_id}/photos/{photo_id}", page(console, "web", unit_photo)),
        Route("/units/{unit_id}", page(console, "web", unit_edit, post=True), methods=["POST"]),
    ]
