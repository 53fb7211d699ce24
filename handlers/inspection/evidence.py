"""What a township reviewer sees beside the report itself: the photos (an album), where it was made and how far
from the unit's registered place, what changed since the returned version, the unit's earlier reports and its
open complaints. The comparisons are pure functions (distance_m, diff_reports) so they are tested on their own."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from handlers.complaints.categories import default_config
from handlers.context import Turn
from handlers.events import MEDIA_PREFIX, Reply, photo_replies
from handlers.formatting import cn_date
from handlers.inspection.checklist_steps import FAIL
from handlers.inspection.outcome_steps import CLASS_KEYS
from storage import complaints, inspections
from storage.inspection_models import Inspection, InspectionPhoto, Unit
from storage.inspections import report_number
from storage.kept_photos import stored_of
from storage.users import get_user

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)
FAR_M = 500.0  # a report made this far from the unit's registered place is pointed out
DESCRIPTION_SHOWN = 40
ANSWER_KEYS = {"pass": "insp_pass", "fail": "insp_fail", "na": "insp_na", "yes": "insp_yes", "no": "insp_no"}
REVIEW_LABELS = {
    "submitted": "evidence_status_submitted",
    "approved": "evidence_status_approved",
    "returned": "evidence_status_returned",
}


def distance_m(first: tuple[float, float], second: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (latitude, longitude) points (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*first, *second))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def distance_text(metres: float) -> str:
    return f"{metres:.0f}米" if metres < 1000 else f"{metres / 1000:.1f}公里"


def photo_identity(photo: InspectionPhoto) -> str:
    """The same picture in two versions: its content hash once kept, else Telegram's lasting file id."""
    return photo.sha256 or photo.file_unique_id or photo.file_id


@dataclass
class ReportDiff:
    """What a corrected version changed: items as (item id, answer before, answer after; None: not asked)."""

    items: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # items still failing whose explanation was rewritten
    deadline: tuple[date | None, date | None] | None = None
    verdict: tuple[bool, bool] | None = None
    unit_class: tuple[str, str] | None = None
    photos_added: int = 0
    photos_removed: int = 0
    location_changed: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.items
            or self.notes
            or self.deadline
            or self.verdict
            or self.unit_class
            or self.photos_added
            or self.photos_removed
            or self.location_changed
        )


def diff_reports(
    before: Inspection, after: Inspection, photos_before: list[InspectionPhoto], photos_after: list[InspectionPhoto]
) -> ReportDiff:
    diff = ReportDiff()
    for item_id in [*after.answers, *(key for key in before.answers if key not in after.answers)]:
        old, new = before.answers.get(item_id), after.answers.get(item_id)
        if old != new:
            diff.items.append((item_id, old, new))
        elif new == FAIL and before.notes.get(item_id) != after.notes.get(item_id):
            diff.notes.append(item_id)
    if before.rectify_by != after.rectify_by:
        diff.deadline = (before.rectify_by, after.rectify_by)
    if before.compliant != after.compliant:
        diff.verdict = (before.compliant, after.compliant)
    if before.unit_class != after.unit_class:
        diff.unit_class = (before.unit_class, after.unit_class)
    old_photos = [photo_identity(photo) for photo in photos_before]
    new_photos = [photo_identity(photo) for photo in photos_after]
    diff.photos_added = sum(1 for photo in new_photos if photo not in old_photos)
    diff.photos_removed = sum(1 for photo in old_photos if photo not in new_photos)
    diff.location_changed = (before.latitude, before.longitude) != (after.latitude, after.longitude)
    return diff


def album_references(photos: list[InspectionPhoto], channel: str) -> list[str]:
    """What can be shown of the photos here: a kept one from the media store; one not kept yet by its file id
    when it came through this same channel; a photo that could not be kept is left out (its file id failed)."""
    references = []
    for photo in photos:
        stored = stored_of(photo)
        if stored is not None:
            references.append(MEDIA_PREFIX + stored.key)
        elif not photo.failed and photo.channel == channel:
            references.append(photo.file_id)
    return references


def photo_album(turn: Turn, inspection: Inspection, photos: list[InspectionPhoto]) -> list[Reply]:
    references = album_references(photos, turn.inbound.channel)
    if not references:
        return []
    return photo_replies(turn.texts("evidence_album", number=report_number(inspection), n=len(references)), references)


def _item_text(turn: Turn, industry: str, item_id: str) -> str:
    checklist = turn.knowledge.checklists.get(industry) if turn.knowledge else None
    try:
        return checklist.item(item_id).text if checklist else item_id
    except KeyError:
        return item_id


def _answer(turn: Turn, answer: str | None) -> str:
    return turn.texts(ANSWER_KEYS[answer]) if answer in ANSWER_KEYS else turn.texts("evidence_not_asked")


def diff_lines(turn: Turn, diff: ReportDiff, industry: str) -> list[str]:
    if not diff:
        return [turn.texts("evidence_diff_none")]
    lines = []
    for item_id, old, new in diff.items:
        lines.append(
            turn.texts(
                "evidence_diff_item",
                text=_item_text(turn, industry, item_id)[:30],
                before=_answer(turn, old),
                after=_answer(turn, new),
            )
        )
    lines += [turn.texts("evidence_diff_note", text=_item_text(turn, industry, item_id)[:30]) for item_id in diff.notes]
    if diff.verdict is not None:
        lines.append(
            turn.texts(
                "evidence_diff_verdict", before=_verdict(turn, diff.verdict[0]), after=_verdict(turn, diff.verdict[1])
            )
        )
    if diff.unit_class is not None:
        lines.append(
            turn.texts(
                "evidence_diff_class",
                before=turn.texts(CLASS_KEYS[diff.unit_class[0]]),
                after=turn.texts(CLASS_KEYS[diff.unit_class[1]]),
            )
        )
    if diff.deadline is not None:
        lines.append(
            turn.texts(
                "evidence_diff_deadline", before=_day(turn, diff.deadline[0]), after=_day(turn, diff.deadline[1])
            )
        )
    if diff.photos_added or diff.photos_removed:
        lines.append(turn.texts("evidence_diff_photos", added=diff.photos_added, removed=diff.photos_removed))
    if diff.location_changed:
        lines.append(turn.texts("evidence_diff_location"))
    return lines


def _verdict(turn: Turn, compliant: bool) -> str:
    return turn.texts("insp_verdict_ok" if compliant else "insp_verdict_fail")


def _day(turn: Turn, value: date | None) -> str:
    return cn_date(value) if value else turn.texts("evidence_no_deadline")


def location_line(turn: Turn, inspection: Inspection, unit: Unit) -> str:
    if inspection.latitude is None or inspection.longitude is None:
        return turn.texts("evidence_location_none")
    where = f"{inspection.latitude:.5f}, {inspection.longitude:.5f}"
    if unit.latitude is None or unit.longitude is None:
        return turn.texts("evidence_location", where=where)
    metres = distance_m((inspection.latitude, inspection.longitude), (unit.latitude, unit.longitude))
    if metres < 1:
        return turn.texts("evidence_location_same", where=where)
    key = "evidence_location_far" if metres > FAR_M else "evidence_location_near"
    return turn.texts(key, where=where, distance=distance_text(metres))


def photos_line(turn: Turn, photos: list[InspectionPhoto]) -> str:
    failed = sum(1 for photo in photos if photo.failed)
    line = turn.texts("evidence_photos", n=len(photos))
    if failed:
        line += "\n" + turn.texts("evidence_photos_failed", n=failed)
    return line


async def evidence_lines(turn: Turn, inspection: Inspection, unit: Unit, photos: list[InspectionPhoto]) -> list[str]:
    """Inspector, photos, location, changes since the returned version, earlier reports, open complaints."""
    session = turn.session
    # The name as it was when the report was submitted (a later rename changes no report); older rows have none.
    name = inspection.inspector_name
    if name is None:
        inspector = await get_user(session, inspection.inspector_id)
        name = inspector.name if inspector else None
    where = f"（{inspection.inspector_area}）" if inspection.inspector_area else ""
    lines = [
        turn.texts("evidence_inspector", name=f"{name or '—'}{where}"),
        photos_line(turn, photos),
        location_line(turn, inspection, unit),
    ]
    if inspection.previous_id is not None:
        previous = await inspections.get_inspection(session, inspection.previous_id)
        if previous is not None:
            diff = diff_reports(previous, inspection, await inspections.photos_of(session, previous.id), photos)
            lines.append(turn.texts("evidence_diff_head", number=report_number(previous)))
            lines += [f"  {line}" for line in diff_lines(turn, diff, inspection.industry)]
    earlier = await inspections.earlier_reports(session, inspection)
    lines.append(
        turn.texts("evidence_earlier_head", n=len(earlier)) if earlier else turn.texts("evidence_earlier_none")
    )
    for report in earlier:
        lines.append(
            "  "
            + turn.texts(
                "evidence_earlier_line",
                number=report_number(report),
                date=cn_date(report.submitted_at, turn.clock.tz),
                verdict=_verdict(turn, report.compliant),
                status=turn.texts(REVIEW_LABELS.get(report.status, "evidence_status_returned")),
            )
        )
    open_complaints = await complaints.open_about_unit(session, unit.id)
    if not open_complaints:
        lines.append(turn.texts("evidence_complaints_none"))
        return lines
    lines.append(turn.texts("evidence_complaints_head", n=len(open_complaints)))
    categories = default_config()
    for complaint in open_complaints:
        # A township official may read a complaint's description; who filed it is never shown here.
        text = (
            complaint.description
            if len(complaint.description) <= DESCRIPTION_SHOWN
            else complaint.description[:DESCRIPTION_SHOWN] + "…"
        )
        lines.append(
            "  "
            + turn.texts(
                "evidence_complaint_line",
                number=complaint.number,
                category=categories.name(complaint.category),
                status=turn.texts(f"complaint_status_{complaint.status}"),
                date=cn_date(complaint.created_at, turn.clock.tz),
                text=text,
            )
        )
    return lines
