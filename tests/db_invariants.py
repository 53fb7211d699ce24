"""Whole-database consistency checks, for tests that throw arbitrary input at the bot and then ask whether
everything stored still makes sense. `inconsistencies` lists what is wrong, in words (empty: all is well)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core import Core
from storage.complaint_models import (
    FINAL_STATUSES,
    Complaint,
    ComplaintEvent,
    ComplaintFollower,
    ComplaintPhoto,
    ComplaintSequence,
    ComplaintStatus,
    EventKind,
    Feedback,
)
from storage.complaint_numbers import format_number
from storage.inspection_models import (
    ClosureKind,
    ClosureSource,
    Inspection,
    InspectionPhoto,
    InspectionStatus,
    Unit,
    UnitClosure,
    UnitStatus,
)
from storage.milestone_models import MilestoneDone, PlanMilestone
from storage.models import Area, AreaLevel, Conversation, Invite, OutboxMessage, OutboxStatus, Role, User
from storage.question_models import LearnedEntry, Question
from storage.units import name_key
from tests.emulator import utf16_len

# Where each role sits in the area tree.
ROLE_AREA = {
    Role.CADRE: AreaLevel.VILLAGE,
    Role.OPERATOR: AreaLevel.VILLAGE,
    Role.TOWNSHIP: AreaLevel.TOWNSHIP,
    Role.COUNTY: None,
    Role.RESIDENT: None,
}
# The menu action that starts each flow: whoever is inside a flow must be allowed that action.
FLOW_ACTION = {
    "rename": "rename",
    "invite": "invite",
    "inspection": "inspect",
    "review": "review",
    "ask": "ask",
    "kb_answer": "kb_answer",
    "complaint": "complaint_new",
    "complaint_update": "complaint_update",
    "complaint_reroute": "complaint_reroute",
    "milestone_done": "ms_done",
    "broadcast": "broadcast",
    "closure": "closures",
    "person_revoke": "person_revoke",
    "code_revoke": "code_revoke",
}
OUTBOX_KINDS = {"message", "photo", "document", "edit"}
ANSWERS = {"pass", "fail", "na", "yes", "no"}
TELEGRAM_TEXT, TELEGRAM_BUTTONS, BUTTON_DATA = 4096, 100, 64


async def _all(session: AsyncSession, model: Any) -> list[Any]:
    return list((await session.scalars(select(model))).unique())


def _level(areas: dict[int, Area], area_id: int | None) -> str | None:
    return areas[area_id].level if area_id in areas else None


def _users(users: dict[int, User], areas: dict[int, Area]) -> Iterable[str]:
    for user in users.values():
        if user.role not in set(Role):
            yield f"user {user.id}: unknown role {user.role!r}"
            continue
        expected = ROLE_AREA[Role(user.role)]
        if _level(areas, user.area_id) != expected:
            yield f"user {user.id} ({user.role}) sits on area {user.area_id} ({_level(areas, user.area_id)})"


def _invites(invites: list[Invite], users: dict[int, User], areas: dict[int, Area]) -> Iterable[str]:
    for invite in invites:
        if (invite.used_at is None) != (invite.used_by_id is None):
            yield f"invite {invite.id}: used_at and used_by disagree"
        if invite.used_at is not None and invite.revoked_at is not None:
            yield f"invite {invite.id}: both used and withdrawn"
        if invite.used_by_id is not None and invite.used_by_id not in users:
            yield f"invite {invite.id}: used by unknown user {invite.used_by_id}"
        if invite.role not in set(Role) or _level(areas, invite.area_id) != ROLE_AREA[Role(invite.role)]:
            yield f"invite {invite.id}: role {invite.role!r} with area {invite.area_id}"


def _conversations(
    core: Core, conversations: list[Conversation], users: dict[int, User], named: dict[str, set[int]]
) -> Iterable[str]:
    flows, menus = core.parts.runner.flows, core.parts.menus
    for conversation in conversations:
        where = f"conversation of user {conversation.user_id} ({conversation.flow}/{conversation.step})"
        user = users.get(conversation.user_id)
        if user is None:
            yield f"{where}: no such user"
            continue
        flow = flows.get(conversation.flow)
        if flow is None or flow.step(conversation.step) is None:
            yield f"{where}: unknown flow or step"
        if not isinstance(conversation.data, dict):
            yield f"{where}: data is not an object"
        else:
            try:
                json.loads(json.dumps(conversation.data, allow_nan=False))
            except (TypeError, ValueError) as error:
                yield f"{where}: data is not plain JSON ({error})"
        if conversation.failures < 0 or conversation.nonce < 0:
            yield f"{where}: negative failures or nonce"
        if conversation.flow == "register":
            if user.role == Role.RESIDENT or user.name:
                yield f"{where}: registering a name the user does not need"
        elif conversation.flow in FLOW_ACTION and not menus.allows(user.role, FLOW_ACTION[conversation.flow]):
            yield f"{where}: a {user.role} may not be in this flow"
        for key, table in (
            ("cid", "complaints"),
            ("inspection_id", "inspections"),
            ("question_id", "questions"),
            ("mid", "milestones"),
        ):
            value = conversation.data.get(key) if isinstance(conversation.data, dict) else None
            if value is not None and int(value) not in named[table]:
                yield f"{where}: names missing {table} row {value}"


def _outbox(rows: list[OutboxMessage], chats: set[int]) -> Iterable[str]:
    for row in rows:
        where = f"outbox {row.id} to {row.chat_id}"
        if row.chat_id is None or row.chat_id not in chats:
            yield f"{where}: no such chat"
        if row.kind not in OUTBOX_KINDS or row.status not in set(OutboxStatus):
            yield f"{where}: kind {row.kind!r} status {row.status!r}"
        text = row.payload.get("text") if isinstance(row.payload, dict) else None
        if not isinstance(text, str) or not text.strip():
            yield f"{where}: no text"
            continue
        if row.kind in ("message", "edit") and utf16_len(text) > TELEGRAM_TEXT:
            yield f"{where}: {utf16_len(text)} UTF-16 units, over Telegram's {TELEGRAM_TEXT}"
        if row.kind == "edit" and not isinstance(row.payload.get("message_id"), int):
            yield f"{where}: an edit without a message id"
        buttons = [button for line in row.payload.get("buttons", []) for button in line]
        if len(buttons) > TELEGRAM_BUTTONS:
            yield f"{where}: {len(buttons)} buttons"
        for button in buttons:
            if not str(button.get("label", "")).strip() or not 1 <= len(str(button.get("data", "")).encode()) <= 64:
                yield f"{where}: bad button {button!r}"


def _complaints(
    complaints: list[Complaint],
    events: list[ComplaintEvent],
    sequences: dict[int, int],
    users: dict[int, User],
    areas: dict[int, Area],
    units: set[int],
) -> Iterable[str]:
    numbers = Counter(complaint.number for complaint in complaints)
    by_complaint: dict[int, list[ComplaintEvent]] = {}
    for event in sorted(events, key=lambda e: e.id):
        by_complaint.setdefault(event.complaint_id, []).append(event)
    ids = {complaint.id for complaint in complaints}
    for orphan in set(by_complaint) - ids:
        yield f"complaint events of missing complaint {orphan}"
    for complaint in complaints:
        where = f"complaint {complaint.id} ({complaint.number})"
        if numbers[complaint.number] > 1 or complaint.number != format_number(complaint.year, complaint.seq):
            yield f"{where}: number not unique or not its year and sequence"
        if complaint.seq > sequences.get(complaint.year, 0):
            yield f"{where}: sequence {complaint.seq} ahead of the year's counter"
        if complaint.status not in set(ComplaintStatus):
            yield f"{where}: status {complaint.status!r}"
        if complaint.complainant_id not in users:
            yield f"{where}: no complainant"
        if complaint.anonymous and (complaint.complainant_name or complaint.complainant_phone):
            yield f"{where}: anonymous, yet name or phone kept"
        if _level(areas, complaint.township_id) != AreaLevel.TOWNSHIP:
            yield f"{where}: township {complaint.township_id} is no township"
        if complaint.village_id is not None and (
            _level(areas, complaint.village_id) != AreaLevel.VILLAGE
            or areas[complaint.village_id].parent_id != complaint.township_id
        ):
            yield f"{where}: village {complaint.village_id} not in its township"
        if complaint.office_area_id != complaint.township_id and _level(areas, complaint.office_area_id) != "county":
            yield f"{where}: handled by area {complaint.office_area_id}, neither its township nor the county"
        if complaint.unit_id is not None and complaint.unit_id not in units:
            yield f"{where}: unit {complaint.unit_id} missing"
        if (complaint.final_at is not None) != (complaint.status in FINAL_STATUSES):
            yield f"{where}: final_at {complaint.final_at} with status {complaint.status}"
        if complaint.feedback == Feedback.RESOLVED and complaint.status != ComplaintStatus.CLOSED:
            yield f"{where}: confirmed resolved but {complaint.status}"
        if (
            (complaint.duplicate_of_id is not None) != (complaint.status == ComplaintStatus.DUPLICATE)
            or complaint.duplicate_of_id == complaint.id
            or (complaint.duplicate_of_id is not None and complaint.duplicate_of_id not in ids)
        ):
            yield f"{where}: duplicate of {complaint.duplicate_of_id} with status {complaint.status}"
        history = by_complaint.get(complaint.id, [])
        if not history or history[0].kind != EventKind.FILED:
            yield f"{where}: history does not start with its filing"
        moves = [event.to_status for event in history if event.to_status is not None]
        if not moves or moves[-1] != complaint.status:
            yield f"{where}: status {complaint.status} is not where its history ends ({moves[-1:]})"


def _inspections(inspections: list[Inspection], units: dict[int, Unit], users: dict[int, User]) -> Iterable[str]:
    by_id = {inspection.id: inspection for inspection in inspections}
    numbers = Counter(inspection.number for inspection in inspections if inspection.version == 1)
    for inspection in inspections:
        where = f"inspection {inspection.id}"
        if inspection.number is None or (inspection.version == 1 and numbers[inspection.number] > 1):
            yield f"{where}: number {inspection.number} missing or given twice"
        unit = units.get(inspection.unit_id)
        if unit is None:
            yield f"{where}: no unit {inspection.unit_id}"
        elif inspection.township_id != unit.township_id:
            yield f"{where}: township {inspection.township_id}, its unit's is {unit.township_id}"
        if inspection.inspector_id not in users:
            yield f"{where}: no inspector"
        if inspection.status not in set(InspectionStatus) or inspection.version < 1:
            yield f"{where}: status {inspection.status!r} version {inspection.version}"
        reviewed = inspection.status in (InspectionStatus.APPROVED, InspectionStatus.RETURNED)
        if reviewed and (inspection.reviewer_id not in users or inspection.reviewed_at is None):
            yield f"{where}: {inspection.status} without a reviewer"
        if not isinstance(inspection.answers, dict) or not set(inspection.answers.values()) <= ANSWERS:
            yield f"{where}: answers {inspection.answers!r}"
        if inspection.unit_status_before not in set(UnitStatus):
            yield f"{where}: its unit's entry before it is not recorded ({inspection.unit_status_before!r})"
        if inspection.previous_id is not None:
            previous = by_id.get(inspection.previous_id)
            if (
                previous is None
                or previous.status != InspectionStatus.SUPERSEDED
                or previous.unit_id != inspection.unit_id
                or previous.version + 1 != inspection.version
            ):
                yield f"{where}: does not follow its previous version {inspection.previous_id}"
            elif inspection.first_id != (previous.first_id or previous.id) or inspection.number != previous.number:
                yield f"{where}: numbered after {inspection.first_id}, its first version is {previous.first_id}"
        elif inspection.first_id is not None:
            yield f"{where}: a first version numbered after report {inspection.first_id}"


def _units(units: list[Unit], areas: dict[int, Area]) -> Iterable[str]:
    keys = Counter((unit.village_id, unit.name_key) for unit in units)
    for unit in units:
        where = f"unit {unit.id} ({unit.name})"
        if _level(areas, unit.village_id) != AreaLevel.VILLAGE or areas[unit.village_id].parent_id != unit.township_id:
            yield f"{where}: village {unit.village_id} / township {unit.township_id} do not fit"
        if unit.name_key != name_key(unit.name) or not unit.name_key:
            yield f"{where}: name key {unit.name_key!r} is not its name's"
        if keys[(unit.village_id, unit.name_key)] > 1:
            yield f"{where}: two units of one name in one village"
        if unit.status not in set(UnitStatus):
            yield f"{where}: status {unit.status!r}"


def _questions(questions: list[Question], learned: set[int], users: dict[int, User]) -> Iterable[str]:
    for question in questions:
        where = f"question {question.id}"
        if question.asker_id not in users or question.status not in ("open", "answered", "dismissed"):
            yield f"{where}: asker {question.asker_id} status {question.status!r}"
        if question.status == "answered" and (not question.answer or question.answered_by_id not in users):
            yield f"{where}: answered without an answer or official"
        if question.learned_id is not None and (question.learned_id not in learned or question.status != "answered"):
            yield f"{where}: learned entry {question.learned_id} without an answer"


async def inconsistencies(core: Core, chats: Iterable[int] = ()) -> list[str]:
    """Everything stored that does not hang together. `chats`: chat ids that wrote to the bot without becoming a
    user (strangers are answered too)."""
    async with core.db.transaction() as session:
        areas = {area.id: area for area in await _all(session, Area)}
        users = {user.id: user for user in await _all(session, User)}
        units = {unit.id: unit for unit in await _all(session, Unit)}
        complaints = await _all(session, Complaint)
        inspections = await _all(session, Inspection)
        questions = await _all(session, Question)
        milestones = {milestone.id for milestone in await _all(session, PlanMilestone)}
        named = {
            "complaints": {c.id for c in complaints},
            "inspections": {i.id for i in inspections},
            "questions": {q.id for q in questions},
            "milestones": milestones,
        }
        problems = [
            *_users(users, areas),
            *_invites(await _all(session, Invite), users, areas),
            *_conversations(core, await _all(session, Conversation), users, named),
            *_outbox(await _all(session, OutboxMessage), {u.channel_user_id for u in users.values()} | set(chats)),
            *_complaints(
                complaints,
                await _all(session, ComplaintEvent),
                {s.year: s.last for s in await _all(session, ComplaintSequence)},
                users,
                areas,
                set(units),
            ),
            *_inspections(inspections, units, users),
            *_units(list(units.values()), areas),
            *_questions(questions, {e.id for e in await _all(session, LearnedEntry)}, users),
        ]
        for photo in await _all(session, ComplaintPhoto):
            if photo.complaint_id not in named["complaints"]:
                problems.append(f"complaint photo {photo.id} of missing complaint")
        for photo in await _all(session, InspectionPhoto):
            if photo.inspection_id not in named["inspections"]:
                problems.append(f"inspection photo {photo.id} of missing inspection")
            if photo.sha256 is not None and (photo.failed or photo.stored_at is None or len(photo.sha256) != 64):
                problems.append(f"inspection photo {photo.id} is kept and failed, or kept without a time")
        for follower in await _all(session, ComplaintFollower):
            if follower.user_id not in users or follower.complaint_id not in named["complaints"]:
                problems.append(f"follower {follower.user_id} of complaint {follower.complaint_id} dangles")
        for closure in await _all(session, UnitClosure):
            if (
                closure.unit_id not in units
                or closure.recorded_by_id not in users
                or closure.kind not in set(ClosureKind)
                or closure.source not in set(ClosureSource)
                or (closure.source == ClosureSource.VISIT and not closure.photo_file_id)
            ):
                problems.append(f"closure {closure.id} dangles or lacks its photo")
        for mark in await _all(session, MilestoneDone):
            if (
                mark.milestone_id not in milestones
                or mark.user_id not in users
                or (mark.township_id is not None and _level(areas, mark.township_id) != AreaLevel.TOWNSHIP)
            ):
                problems.append(f"milestone mark {mark.id} dangles")
    return problems
