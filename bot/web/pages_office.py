"""投诉 (the complaints desk), 计划 (the township × milestone grid) and 地图 (the map).

The complaints desk shows a complaint through the chat's own renderer with the viewer's audience, so an anonymous
complainant is never identified and a 实名 complainant's name and phone reach only the county office."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.web import complaint_actions
from bot.web.app import Console, page, queue_notices
from bot.web.auth import Refusal, Viewer, allow, not_found
from bot.web.pages_main import _id, stored_photo
from handlers.complaints import render
from handlers.complaints.handling import accept_complaint, may_handle, may_view
from handlers.complaints.official_flows import NOTE_MAX, NOTE_MIN, SETTABLE, update_status
from handlers.complaints.privacy import audience_of, may_read_description
from handlers.complaints.shipped import CONFIG
from handlers.milestones import mark_scope
from storage import complaints, milestones, web
from storage.areas import children_of, the_county
from storage.complaint_models import FINAL_STATUSES, Complaint, ComplaintStatus
from storage.milestone_models import MilestoneKind

SAFE_NAME = re.compile(r"[^\w\u4e00-\u9fff.（）()\-]+")
FILE_TYPES = {".pdf", ".doc", ".docx", ".xls", ".xlsx", ".jpg", ".jpeg", ".png", ".txt"}


async def desk(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    params, today = request.query_params, console.clock.now().date()
    status = params.get("state") if params.get("state") in set(ComplaintStatus) else None
    category = params.get("category") if params.get("category") in {c.id for c in CONFIG.categories} else None
    county = await the_county(session)
    townships = await children_of(session, county.id) if county is not None and who.township_id is None else []
    in_township = _id(params.get("township", "")) if params.get("township") else None
    items = await web.complaints_desk(
        session,
        who.township_id,
        status=status,
        category=category,
        in_township=in_township,
        overdue_on=today if params.get("overdue") else None,
    )
    rows = [
        (
            c,
            CONFIG.name(c.category),
            render.status_label(console.texts, c.status),
            await render.place(session, c),
            render.short_date(c.due_on),
            render.is_overdue(c, today),
        )
        for c in items
    ]
    return console.render(
        request,
        "complaints.html",
        who,
        rows=rows,
        params=params,
        townships=townships,
        states={s.value: render.status_label(console.texts, s) for s in ComplaintStatus},
        categories=CONFIG.categories,
        flash=console.cookies.flash_of(request),
    )


async def _visible(session: AsyncSession, request: Request, who: Viewer) -> Complaint:
    complaint_id = _id(request.path_params["complaint_id"])
    complaint = await complaints.get_complaint(session, complaint_id) if complaint_id else None
    if complaint is None or not may_view(who.user, complaint):
        raise not_found("投诉")  # reads exactly like a number never issued
    return complaint


async def complaint_page(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    complaint = await _visible(session, request, who)
    audience, today, tz = audience_of(who.user, complaint), console.clock.now().date(), console.clock.tz
    text = await render.detail(session, console.texts, CONFIG, tz, complaint, audience, today)
    # The photos, like the description, only for those who may read the complainant's words.
    photos = await complaints.photos_of(session, complaint.id) if may_read_description(audience) else []
    history = await render.history(session, console.texts, CONFIG, tz, complaint, audience)
    handles = may_handle(who.user, complaint) and complaint.status not in FINAL_STATUSES
    return console.render(
        request,
        "complaint.html",
        who,
        complaint=complaint,
        photos=[(index, photo.sha256 is not None, photo.failed) for index, photo in enumerate(photos)],
        text=text,
        history=history,
        may_accept=handles and complaint.status == ComplaintStatus.SUBMITTED,
        may_update=handles,
        settable=[
            (s.value, render.status_label(console.texts, s))
            for s in SETTABLE
            if s not in (complaint.status, ComplaintStatus.DUPLICATE)
        ],
        note_min=NOTE_MIN,
        note_max=NOTE_MAX,
        may_reroute=handles and console.menus.allows(who.user.role, "complaint_reroute"),
        places=await complaint_actions.places(session) if handles else [],
        categories=[(c.id, c.name) for c in CONFIG.categories if c.id != complaint.category],
    )


async def complaint_photo(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    complaint = await _visible(session, request, who)
    photos = await complaints.photos_of(session, complaint.id)
    index = _id(request.path_params["index"])
    readable = may_read_description(audience_of(who.user, complaint))  # the photos go with the description
    if not readable or index is None or index >= len(photos) or photos[index].sha256 is None:
        raise not_found("照片")
    return await stored_photo(console, photos[index].sha256 or "", photos[index].extension)


async def complaint_update(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    """更新状态 as in the chat: a status and a note of 2-500 characters; refused if the complaint changed since the
    page was shown (the form carries the status it showed). 重复 names the original: bot/web/complaint_actions.py."""
    complaint = await _visible(session, request, who)
    if not may_handle(who.user, complaint):
        office = await render.area_name(session, console.texts, complaint.office_area_id)
        raise Refusal(403, "无权办理", console.texts("complaint_not_yours", office=office))
    form = request.state.form
    if complaint.status in FINAL_STATUSES or form.get("from") != complaint.status:
        status = render.status_label(console.texts, complaint.status)
        raise Refusal(409, "未能提交", console.texts("complaint_changed_meanwhile", status=status))
    wanted = form.get("status")
    if wanted not in {s.value for s in SETTABLE} or wanted == ComplaintStatus.DUPLICATE:
        raise Refusal(400, "未能提交", "请选择新的状态。")
    note = " ".join(str(form.get("note") or "").split())
    if not NOTE_MIN <= len(note) <= NOTE_MAX:
        raise Refusal(400, "未能提交", f"办理说明需要 {NOTE_MIN}–{NOTE_MAX} 个字，没有做任何修改。")
    text, notices = await update_status(
        session, console.texts, who.user, complaint, ComplaintStatus(wanted), note, console.clock.now()
    )
    await queue_notices(session, notices, console)
    web.audit(session, who.user.id, console.clock.now(), "complaint_update", complaint.number, wanted)
    return RedirectResponse(f"/complaints?done={console.cookies.flash(text)}", status_code=303)


async def complaint_accept(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    complaint = await _visible(session, request, who)
    if not may_handle(who.user, complaint):
        office = await render.area_name(session, console.texts, complaint.office_area_id)
        raise Refusal(403, "无权办理", console.texts("complaint_not_yours", office=office))
    text, notices = await accept_complaint(session, console.texts, who.user, complaint, console.clock.now())
    await queue_notices(session, notices, console)
    web.audit(session, who.user.id, console.clock.now(), "complaint_accept", complaint.number)
    return RedirectResponse(f"/complaints?done={console.cookies.flash(text)}", status_code=303)


async def plan(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    year = console.clock.now().year
    items = [m for m in await milestones.milestones_for_year(session, year) if m.kind != MilestoneKind.PHASE]
    county = await the_county(session)
    townships = [
        t
        for t in (await children_of(session, county.id) if county is not None else [])
        if who.township_id is None or t.id == who.township_id
    ]
    marks = await milestones.done_marks(session, [m.id for m in items])
    files = await web.milestone_files(session, [m.id for m in items])
    grid = []
    for item in items:
        done = {mark.township_id: mark for mark in marks.get(item.id, [])}
        cells = [(t.id, done.get(t.id)) for t in townships] if milestones.for_townships(item) else None
        mine = done.get(who.township_id)
        markable = (
            console.menus.allows(who.user.role, "ms_done")
            and mine is None
            and not isinstance(mark_scope(console.texts, who.user, item), str)
        )
        grid.append(
            (
                item,
                cells,
                done.get(None),
                [
                    f
                    for f in files
                    if f.milestone_id == item.id and (who.township_id is None or f.township_id == who.township_id)
                ],
                markable,
            )
        )
    return console.render(
        request,
        "plan.html",
        who,
        grid=grid,
        townships=townships,
        today=console.clock.now().date(),
        flash=console.cookies.flash_of(request),
        may_mark=console.menus.allows(who.user.role, "ms_done"),
    )


async def plan_mark(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    allow(console.menus, who, "ms_done")
    milestone_id = _id(request.path_params["milestone_id"])
    milestone = await milestones.get_milestone(session, milestone_id) if milestone_id else None
    if milestone is None:
        raise not_found("计划节点")
    scope = mark_scope(console.texts, who.user, milestone)
    if isinstance(scope, str):
        raise Refusal(403, "不能标记", scope)
    township_id, who_name = scope
    form, now = request.state.form, console.clock.now()
    note = " ".join(str(form.get("note") or "").split())[:500] or None
    upload = form.get("file")
    stored = None
    if upload is not None and not isinstance(upload, str) and upload.filename:
        stored = await _keep_file(console, upload)
    marked = await milestones.mark_done(session, milestone.id, township_id, who.user.id, note, now)
    if stored is not None:
        name, key, size = stored
        web.file_milestone(session, milestone.id, township_id, name, key, size, who.user.id, now)
    web.audit(session, who.user.id, now, "milestone_done", str(milestone.id), note)
    said = f"已标记“{milestone.title}”完成（{who_name}）。" if marked else f"“{milestone.title}”此前已标记完成。"
    if stored is not None:
        said += f"已归档文件：{stored[0]}"
    return RedirectResponse(f"/plan?done={console.cookies.flash(said)}", status_code=303)


async def _keep_file(console: Console, upload: UploadFile) -> tuple[str, str, int]:
    """Store an uploaded file under a random name in the private folder; the shown name is cleaned of any path."""
    raw = Path(str(upload.filename).replace("\\", "/")).name  # "../../etc/passwd" -> "passwd"
    suffix = Path(raw).suffix.lower()
    if suffix not in FILE_TYPES:
        raise Refusal(
            400, "文件类型不支持", f"只能归档这些类型的文件：{'、'.join(sorted(FILE_TYPES))}。没有做任何修改。"
        )
    name = SAFE_NAME.sub("_", raw)[:100] or f"文件{suffix}"
    data = await upload.read(console.upload_max + 1)
    if len(data) > console.upload_max:
        raise Refusal(413, "文件太大", f"文件超过 {console.upload_max // (1024 * 1024)} MB 的上限，没有做任何修改。")
    key = f"{secrets.token_hex(16)}{suffix}"
    console.files_dir.mkdir(parents=True, exist_ok=True)
    (console.files_dir / key).write_bytes(data)
    return name, key, len(data)


async def plan_file(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    file_id = _id(request.path_params["file_id"])
    found = [
        f
        for f in await web.milestone_files(session, [_id(request.path_params["milestone_id"]) or 0])
        if f.id == file_id and (who.township_id is None or f.township_id == who.township_id)
    ]
    if not found or not re.fullmatch(r"[0-9a-f]{32}\.[a-z]{2,5}", found[0].key):
        raise not_found("文件")
    return FileResponse(console.files_dir / found[0].key, filename=found[0].name)


async def map_page(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    return console.render(request, "map.html", who, tile_url=console.tile_url, attribution=console.tile_attribution)


async def map_points(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    found = await web.located(session, who.township_id)
    return JSONResponse(
        {
            "units": [
                {"id": u.id, "name": u.name, "status": u.status, "lat": u.latitude, "lng": u.longitude}
                for u in found["units"]
            ],
            "reports": [
                {"id": r.id, "unit": r.unit_id, "ok": r.compliant, "lat": r.latitude, "lng": r.longitude}
                for r in found["reports"]
            ],
            "complaints": [
                {"number": c.number, "status": c.status, "lat": c.latitude, "lng": c.longitude}
                for c in found["complaints"]
            ],
        },
        headers={"Cache-Control": "no-store"},
    )


def routes(console: Console) -> list[Route]:
    return [
        Route("/complaints", page(console, "complaint_queue", desk)),
        Route("/complaints/{complaint_id}", page(console, "complaint_view", complaint_page)),
        Route("/complaints/{complaint_id}/photos/{index}", page(console, "complaint_view", complaint_photo)),
        Route(
            "/complaints/{complaint_id}/accept",
            page(console, "complaint_accept", complaint_accept, post=True),
            methods=["POST"],
        ),
        Route(
            "/complaints/{complaint_id}/status",
            page(console, "complaint_update", complaint_update, post=True),
            methods=["POST"],
        ),
        Route("/plan", page(console, "milestones", plan)),
        Route("/plan/{milestone_id}", page(console, "milestones", plan_mark, post=True), methods=["POST"]),
        Route("/plan/{milestone_id}/files/{file_id}", page(console, "milestones", plan_file)),
        Route("/map", page(console, "report", map_page)),
        Route("/map/points.json", page(console, "report", map_points)),
    ]
