"""How a complaint reads in chat: its status, place, office, details and history. Identity goes through privacy."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.complaints import deadlines
from handlers.complaints.categories import ComplaintConfig
from handlers.complaints.privacy import Audience, complainant_identity, may_read_description
from handlers.formatting import cn_date, cn_datetime
from handlers.texts import Texts
from storage import complaints
from storage.areas import get_area
from storage.complaint_models import OPEN_STATUSES, Complaint, ComplaintEvent, EventKind
from storage.models import Area, AreaLevel

DESCRIPTION_PREVIEW = 300  # notices quote the start; the full text is in the detail view


def status_label(texts: Texts, status: str) -> str:
    return texts(f"complaint_status_{status}")


def is_overdue(complaint: Complaint, today: date) -> bool:
    return complaint.status in OPEN_STATUSES and complaint.due_on < today


def short_date(day: date) -> str:
    return f"{day.month}月{day.day}日"


async def area_name(session: AsyncSession, texts: Texts, area_id: int | None) -> str:
    area = await get_area(session, area_id) if area_id is not None else None
    if area is None:
        return ""
    return texts("complaint_county_office") if area.level == AreaLevel.COUNTY else area.name


async def place(session: AsyncSession, complaint: Complaint) -> str:
    township = await session.get(Area, complaint.township_id)
    village = await session.get(Area, complaint.village_id) if complaint.village_id else None
    return "".join(area.name for area in (township, village) if area is not None)


def unit_label(texts: Texts, complaint: Complaint) -> str:
    if not complaint.unit_name:
        return texts("complaint_unit_none")
    if complaint.unit_id is not None:
        return texts("complaint_unit_registered", name=complaint.unit_name)
    return complaint.unit_name


def identity_label(texts: Texts, complaint: Complaint, audience: Audience) -> str:
    """The complainant as this audience may see them (privacy decides, this only words it)."""
    identity = complainant_identity(complaint, audience)
    if audience is Audience.COMPLAINANT:
        if complaint.anonymous:
            return texts("complaint_viewer_self_anonymous")
        return texts("complaint_viewer_self_real", name=identity.name or "", phone=identity.phone or "")
    if complaint.anonymous:
        return texts("complaint_viewer_anonymous")
    if identity.visible:
        return texts("complaint_viewer_real_shown", name=identity.name or "", phone=identity.phone or "")
    return texts("complaint_viewer_real_hidden")


def preview(text: str, limit: int = DESCRIPTION_PREVIEW) -> str:
    return text if len(text) <= limit else f"{text[:limit]}…"


async def detail(
    session: AsyncSession,
    texts: Texts,
    config: ComplaintConfig,
    tz: ZoneInfo,
    complaint: Complaint,
    audience: Audience,
    today: date,
) -> str:
    parts = [
        texts(
            "complaint_detail",
            number=complaint.number,
            category=config.name(complaint.category),
            status=status_label(texts, complaint.status),
            place=await place(session, complaint),
            unit=unit_label(texts, complaint),
            office=await area_name(session, texts, complaint.office_area_id),
            filed=cn_datetime(complaint.created_at, tz),
            due=cn_date(complaint.due_on),
            overdue=texts("complaint_overdue_mark") if is_overdue(complaint, today) else "",
            note=deadlines.shown_note(texts, config.calendar, complaint),
        )
    ]
    if may_read_description(audience):
        photos = await complaints.photos_of(session, complaint.id)
        parts.append(texts("complaint_detail_description", description=complaint.description, photos=len(photos)))
        failed = sum(1 for photo in photos if photo.failed)  # the photo keeper gave up on them
        if failed:
            parts[-1] += texts("complaint_photos_failed", n=failed)
    parts.append(texts("complaint_detail_identity", identity=identity_label(texts, complaint, audience)))
    return "\n".join(parts)


async def _event_line(
    session: AsyncSession, texts: Texts, config: ComplaintConfig, tz: ZoneInfo, event: ComplaintEvent, full: bool
) -> str:
    """One line of the history; without `full` (followers, the public) the notes are left out: officials write
    them to the complainant, and the complainant's own words can identify them."""
    when = cn_datetime(event.created_at, tz)
    if event.kind == EventKind.FILED:
        return texts("complaint_event_filed", when=when, office=await area_name(session, texts, event.to_area_id))
    if event.kind == EventKind.STATUS:
        key = "complaint_event_status" if full else "complaint_event_status_public"
        return texts(key, when=when, status=status_label(texts, event.to_status or ""), note=event.note)
    if event.kind == EventKind.REROUTED:
        key = "complaint_event_rerouted" if full else "complaint_event_rerouted_public"
        return texts(key, when=when, change=await change_text(session, texts, config, event), note=event.note)
    if event.kind == EventKind.REOPENED and full and event.note and event.note != texts("complaint_button_not_solved"):
        return texts("complaint_event_reopened_note", when=when, note=event.note)
    return texts(f"complaint_event_{event.kind}", when=when)


async def change_text(session: AsyncSession, texts: Texts, config: ComplaintConfig, event: ComplaintEvent) -> str:
    changes: list[str] = []
    if event.from_area_id != event.to_area_id:
        changes.append(
            texts(
                "complaint_change_office",
                old=await area_name(session, texts, event.from_area_id),
                new=await area_name(session, texts, event.to_area_id),
            )
        )
    if event.from_category != event.to_category:
        changes.append(
            texts(
                "complaint_change_category",
                old=config.name(event.from_category or ""),
                new=config.name(event.to_category or ""),
            )
        )
    return "，".join(changes) or texts("complaint_change_place")


async def history(
    session: AsyncSession, texts: Texts, config: ComplaintConfig, tz: ZoneInfo, complaint: Complaint, audience: Audience
) -> str:
    full = may_read_description(audience)
    lines = [texts("complaint_history_header")]
    for event in await complaints.events_of(session, complaint.id):
        lines.append(f"· {await _event_line(session, texts, config, tz, event, full)}")
    return "\n".join(lines)


def fit(text: str, limit: int = 4000) -> str:
    """Telegram takes 4096 characters; a long history keeps its newest lines."""
    if len(text) <= limit:
        return text
    head, _, _ = text.partition("\n")
    return f"{head}\n…\n{text[-(limit - len(head) - 4) :]}"
