"""投诉 转办 and 标记重复 on the complaints desk: the chat's two official flows (handlers/complaints/official_flows.py)
as forms, on the same functions and the same rules.

- Who: the role rule of the chat's action (complaint_reroute; 重复 is a status of complaint_update) and may_handle:
  the county office any complaint, a township official those its office handles.
- 转办 offers what the chat offers: every township of the county with its villages (or 不清楚所在村), or another
  category; a posted place or category outside those lists is refused.
- 重复 names the original by its number; like the chat, only a complaint this official may see (may_view), never
  the complaint itself.
- Both refuse a complaint that changed since the page was shown (the form carries the status it showed) or that is
  finished, and a note outside 2-500 characters. Notices go through the outbox; the web audit log records it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.web.app import Console, page, queue_notices
from bot.web.auth import Refusal, Viewer, not_found
from handlers.complaints import render
from handlers.complaints.handling import may_handle, may_view
from handlers.complaints.official_flows import (
    NOTE_MAX,
    NOTE_MIN,
    new_route,
    reroute_complaint,
    update_status,
)
from handlers.complaints.shipped import CONFIG
from storage import complaints, web
from storage.areas import children_of
from storage.audience import list_townships
from storage.complaint_models import FINAL_STATUSES, Complaint, ComplaintStatus

UNSURE = "none"  # the village choice "不清楚所在村", as in the chat


async def places(session: AsyncSession) -> list[tuple[str, list[tuple[str, str]]]]:
    """The re-route choices, grouped by township: (township name, [(value "township:village", label)])."""
    groups = []
    for township in await list_townships(session):
        options = [(f"{township.id}:{UNSURE}", f"{township.name}（不清楚所在村）")]
        options += [
            (f"{township.id}:{v.id}", f"{township.name} {v.name}") for v in await children_of(session, township.id)
        ]
        groups.append((township.name, options))
    return groups


async def _handled(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Complaint:
    """The complaint of the path, if this official may act on it and it is as the page showed it."""
    raw = request.path_params["complaint_id"]
    complaint_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else None
    complaint = await complaints.get_complaint(session, complaint_id) if complaint_id else None
    if complaint is None or not may_view(who.user, complaint):
        raise not_found("投诉")  # reads exactly like a number never issued
    if not may_handle(who.user, complaint):
        office = await render.area_name(session, console.texts, complaint.office_area_id)
        raise Refusal(403, "无权办理", console.texts("complaint_not_yours", office=office))
    if complaint.status in FINAL_STATUSES:
        status = render.status_label(console.texts, complaint.status)
        raise Refusal(409, "未能提交", console.texts("complaint_already_final", status=status))
    if request.state.form.get("from") != complaint.status:
        status = render.status_label(console.texts, complaint.status)
        raise Refusal(409, "未能提交", console.texts("complaint_changed_meanwhile", status=status))
    return complaint


def _note(request: Request) -> str:
    note = " ".join(str(request.state.form.get("note") or "").split())
    if not NOTE_MIN <= len(note) <= NOTE_MAX:
        raise Refusal(400, "未能提交", f"办理说明需要 {NOTE_MIN}–{NOTE_MAX} 个字，没有做任何修改。")
    return note


async def _place(session: AsyncSession, raw: str) -> tuple[int, int | None]:
    """A posted "township:village" choice, checked against the offered list."""
    township_raw, _, village_raw = raw.partition(":")
    for township in await list_townships(session):
        if str(township.id) != township_raw:
            continue
        if village_raw == UNSURE:
            return township.id, None
        for village in await children_of(session, township.id):
            if str(village.id) == village_raw:
                return township.id, village.id
    raise Refusal(400, "未能提交", "请从列表中选择乡镇和村，没有做任何修改。")


async def reroute(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    """转办: to another place, or to another category (one at a time, as in the chat)."""
    complaint = await _handled(console, request, session, who)
    form = request.state.form
    township_id = village_id = category = None
    if form.get("what") == "area":
        township_id, village_id = await _place(session, str(form.get("place") or ""))
    elif form.get("what") == "category":
        category = form.get("category")
        if not isinstance(category, str) or category not in {c.id for c in CONFIG.categories}:
            raise Refusal(400, "未能提交", "请从列表中选择新的类别，没有做任何修改。")
    else:
        raise Refusal(400, "未能提交", "请选择转办到其他地方还是更改类别，没有做任何修改。")
    note, now = _note(request), console.clock.now()
    route, notices = await new_route(
        session, console.texts, console.clock, complaint, township_id, village_id, category
    )
    done = await reroute_complaint(session, console.texts, who.user, complaint, route, note, now)
    if done is None:
        raise Refusal(400, "未能提交", console.texts("complaint_reroute_same"))
    text, more = done
    await queue_notices(session, [*notices, *more], console)
    detail = f"{route.township_id}/{route.village_id or '-'}/{route.category}: {note}"
    web.audit(session, who.user.id, now, "complaint_reroute", complaint.number, detail)
    return RedirectResponse(f"/complaints?done={console.cookies.flash(text)}", status_code=303)


async def duplicate(console: Console, request: Request, session: AsyncSession, who: Viewer) -> Response:
    """标记重复: the original named by its number; its complainant and followers follow the original from now on."""
    complaint = await _handled(console, request, session, who)
    number = " ".join(str(request.state.form.get("original") or "").split())[:40]
    original = await complaints.find_by_number(session, number) if number else None
    if original is None or not may_view(who.user, original) or original.id == complaint.id:
        raise Refusal(400, "未能提交", console.texts("complaint_original_invalid"))
    note, now = _note(request), console.clock.now()
    text, notices = await update_status(
        session, console.texts, who.user, complaint, ComplaintStatus.DUPLICATE, note, now, original
    )
    await queue_notices(session, notices, console)
    web.audit(session, who.user.id, now, "complaint_duplicate", complaint.number, f"{original.number}: {note}")
    return RedirectResponse(f"/complaints?done={console.cookies.flash(text)}", status_code=303)


def routes(console: Console) -> list[Route]:
    return [
        Route(
            "/complaints/{complaint_id}/reroute",
            page(console, "complaint_reroute", reroute, post=True),
            methods=["POST"],
        ),
        Route(
            "/complaints/{complaint_id}/duplicate",
            page(console, "complaint_update", duplicate, post=True),
            methods=["POST"],
        ),
    ]
