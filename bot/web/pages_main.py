"""总览 (the dashboard: the digest's numbers, so they equal /report's) and 审核 (the township's review queue)."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.web.app import Console, page, queue_notices
from bot.web.auth import Refusal, Viewer, not_found
from handlers.digest_render import chart_lines, chart_png
from handlers.formatting import cn_date, cn_datetime
from handlers.inspection.decisions import decide, may_review
from handlers.report import industry_names, scope_of, targets_of
from storage import inspections, milestones, units, web
from storage.areas import area_path, get_area
from storage.digest import compute_digest
from storage.inspection_models import Inspection
from storage.inspections import report_number
from storage.media import MediaError, media_key

TREND_WEEKS = 8
ANSWER_WORDS = {"pass": "符合", "fail": "不符合", "na": "不适用"}
CLASS_WORDS = {"upgrade": "整合提升类", "rectify": "整改规范类", "shutdown": "关停取缔类"}
STATUS_WORDS = {"submitted": "待审核", "approved": "已通过", "returned": "已退回", "superseded": "已被新版本替代"}


async def dashboard(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    scope = await scope_of(session, who.user)
    if scope is None:
        raise not_found("辖区")
    now = console.clock.now()
    digest = await compute_digest(session, scope, now, targets_of(console.knowledge))
    names = industry_names(console.knowledge)
    monday = digest.start
    starts = [monday - timedelta(days=7 * back) for back in range(TREND_WEEKS - 1, -1, -1)]
    trend = list(
        zip(
            [cn_date(start, console.clock.tz) for start in starts],
            await web.weekly_inspections(session, who.township_id, starts),
            strict=True,
        )
    )
    peak = max((count for _, count in trend), default=0) or 1
    plan = await _milestone_status(console, session, who)
    return console.render(
        request,
        "dashboard.html",
        who,
        digest=digest,
        bars=chart_lines(digest),
        names=names,
        trend=trend,
        peak=peak,
        plan=plan,
        now=cn_datetime(now, console.clock.tz),
    )


async def digest_chart(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    """The weekly digest's own chart (handlers/digest_render.py), drawn for this scope now."""
    scope = await scope_of(session, who.user)
    if scope is None:
        raise not_found("辖区")
    digest = await compute_digest(session, scope, console.clock.now(), targets_of(console.knowledge))
    with tempfile.TemporaryDirectory() as folder:  # drawn off the event loop (handlers/digest_render.py)
        chart = await asyncio.to_thread(chart_png, digest, console.texts, Path(folder) / "chart.png")
        data = chart.read_bytes()
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, no-store"})


async def _milestone_status(console: Console, session: AsyncSession, who: Viewer) -> dict[str, Any]:
    today = console.clock.now().date()
    items = [
        m
        for m in await milestones.milestones_for_year(session, today.year)
        if (milestones.for_townships(m) if who.township_id is not None else True) and m.kind != "phase"
    ]
    marks = await milestones.done_marks(session, [m.id for m in items])
    done = [m for m in items if any(mark.township_id == who.township_id for mark in marks.get(m.id, []))]
    overdue = [m for m in items if m.due_on < today and m not in done]
    upcoming = [m for m in items if m.due_on >= today and m not in done][:3]
    return {"total": len(items), "done": len(done), "overdue": overdue, "upcoming": upcoming}


async def review_list(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    assert who.user.area_id is not None  # the review action is a township official's (menus.yaml)
    waiting = await inspections.awaiting_review(session, who.user.area_id, 200)
    rows = [
        (
            inspection,
            unit,
            report_number(inspection),
            area_path(await get_area(session, unit.village_id)),
            cn_datetime(inspection.submitted_at, console.clock.tz),
        )
        for inspection, unit in waiting
    ]
    return console.render(request, "review_list.html", who, rows=rows, flash=console.cookies.flash_of(request))


async def _reviewable(session: AsyncSession, request: Request, who: Viewer) -> Inspection:
    inspection_id = _id(request.path_params["inspection_id"])
    inspection = await inspections.get_inspection(session, inspection_id) if inspection_id else None
    if inspection is None or not may_review(who.user, inspection):
        raise not_found("检查报告")
    return inspection


def _id(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else None


@dataclass(frozen=True)
class ChecklistLine:
    """One checklist item of a report as the review page shows it."""

    text: str
    answer: str
    fail: bool
    note: str


def _items(console: Console, inspection: Inspection) -> list[ChecklistLine]:
    checklist = console.knowledge.checklists.get(inspection.industry) if console.knowledge else None
    carried = inspection.carried_over or {}
    return [
        ChecklistLine(
            (checklist.text_of(item_id) if checklist else None) or item_id,
            ANSWER_WORDS.get(answer, answer) + (f"（沿用上次 {carried[item_id]}）" if item_id in carried else ""),
            answer == "fail",
            inspection.notes.get(item_id, ""),
        )
        for item_id, answer in inspection.answers.items()
    ]


async def review_detail(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    inspection = await _reviewable(session, request, who)
    unit = await units.get_unit(session, inspection.unit_id)
    assert unit is not None
    previous = await inspections.get_inspection(session, inspection.previous_id) if inspection.previous_id else None
    changes = []
    if previous is not None:
        before, after = {i.text: i for i in _items(console, previous)}, _items(console, inspection)
        changes = [
            (item.text, before[item.text].answer if item.text in before else "（无）", item.answer)
            for item in after
            if item.text not in before or before[item.text].answer != item.answer or before[item.text].note != item.note
        ]
    photos = await inspections.photos_of(session, inspection.id)
    history = [
        (
            report_number(old),
            STATUS_WORDS.get(old.status, old.status),
            "规范达标" if old.compliant else "未达标",
            cn_date(old.submitted_at, console.clock.tz),
            old.review_note or "",
        )
        for old in await inspections.history(session, unit.id)
        if old.id != inspection.id
    ]
    return console.render(
        request,
        "review.html",
        who,
        inspection=inspection,
        unit=unit,
        number=report_number(inspection),
        place=area_path(await get_area(session, unit.village_id)),
        items=_items(console, inspection),
        industry=industry_names(console.knowledge).get(inspection.industry, inspection.industry),
        klass=CLASS_WORDS.get(inspection.unit_class, inspection.unit_class),
        changes=changes,
        previous=previous,
        photos=[(index, photo.sha256 is not None, photo.failed) for index, photo in enumerate(photos)],
        history=history,
        submitted=cn_datetime(inspection.submitted_at, console.clock.tz),
        rectify_by=cn_date(inspection.rectify_by) if inspection.rectify_by else "",
        error=None,
    )


async def review_decide(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    inspection = await _reviewable(session, request, who)
    form = request.state.form
    choice = form.get("decision")
    if choice not in ("approve", "return"):
        return RedirectResponse(f"/review/{inspection.id}", status_code=303)
    reason = form.get("reason") if isinstance(form.get("reason"), str) else ""
    decision = await decide(
        session, console.texts, who.user, inspection, choice == "approve", reason or "", console.clock.now()
    )
    if not decision.done:
        raise Refusal({"decided": 409, "reason": 400}.get(decision.why, 404), "未能提交", decision.text)
    await queue_notices(session, decision.notices, console)
    web.audit(
        session,
        who.user.id,
        console.clock.now(),
        f"review_{choice}",
        report_number(inspection),
        reason if choice == "return" else None,
    )
    return RedirectResponse(f"/review?done={console.cookies.flash(decision.text)}", status_code=303)


async def review_photo(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    inspection = await _reviewable_any(session, request, who)
    photos = await inspections.photos_of(session, inspection.id)
    index = _id(request.path_params["index"])
    if index is None or index >= len(photos) or photos[index].sha256 is None:
        raise not_found("照片")
    return await stored_photo(console, photos[index].sha256 or "", photos[index].extension)


async def stored_photo(console: Console, sha256: str, extension: str | None) -> Response:
    """A kept photo's bytes from the media store (a report's or a complaint's)."""
    try:
        data = await console.media.get(media_key(sha256, extension or "bin"))
    except MediaError:
        raise not_found("照片") from None
    kind = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}
    return Response(
        data,
        media_type=kind.get(extension or "", "application/octet-stream"),
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


async def _reviewable_any(session: AsyncSession, request: Request, who: Viewer) -> Inspection:
    """A report's photos: for its township's officials and the county office."""
    inspection_id = _id(request.path_params["inspection_id"])
    inspection = await inspections.get_inspection(session, inspection_id) if inspection_id else None
    if inspection is None or (who.township_id is not None and inspection.township_id != who.township_id):
        raise not_found("照片")
    return inspection


def routes(console: Console) -> list[Route]:
    return [
        Route("/", page(console, "report", dashboard)),
        Route("/chart.png", page(console, "report", digest_chart)),
        Route("/review", page(console, "review", review_list)),
        Route("/review/{inspection_id}", page(console, "review", review_detail)),
        Route("/review/{inspection_id}", page(console, "review", review_decide, post=True), methods=["POST"]),
        Route("/photos/{inspection_id}/{index}", page(console, "web", review_photo)),
    ]
