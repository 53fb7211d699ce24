"""Queries of the web console: sign-in links, sessions, the audit log, register edits and milestone files.

Tokens are random (secrets.token_urlsafe); only their sha256 is stored, so a copy of the database signs nobody in."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dml import rows_touched
from storage.web_models import MilestoneFile, UnitEdit, WebAudit, WebLink, WebSession

TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


async def create_link(session: AsyncSession, user_id: int, now: datetime, valid_for: timedelta) -> str:
    """A new single-use sign-in token for the user (returned once; only its hash is stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(WebLink(token_hash=token_hash(token), user_id=user_id, created_at=now, expires_at=now + valid_for))
    await session.flush()
    return token


async def redeem_link(session: AsyncSession, token: str, now: datetime) -> tuple[int | None, str]:
    """Use a sign-in token: (user id, "ok"), or (None, why): "unknown", "used" or "expired". Marking it used is one
    conditional UPDATE, so two browsers opening the same link at once cannot both sign in."""
    link = await session.scalar(select(WebLink).where(WebLink.token_hash == token_hash(token)))
    if link is None:
        return None, "unknown"
    if link.used_at is not None:
        return None, "used"
    if link.expires_at <= now:
        return None, "expired"
    taken = await session.execute(
        update(WebLink)
        .where(WebLink.id == link.id, WebLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_touched(taken) != 1:
        return None, "used"
    return link.user_id, "ok"


async def start_session(session: AsyncSession, user_id: int, now: datetime) -> tuple[str, WebSession]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = WebSession(
        token_hash=token_hash(token), user_id=user_id, csrf=secrets.token_urlsafe(24), created_at=now, last_seen_at=now
    )
    session.add(row)
    await session.flush()
    return token, row


async def live_session(session: AsyncSession, token: str, now: datetime, idle: timedelta) -> WebSession | None:
    """The session the token names if it was not ended and was used within `idle`; its last use becomes now."""
    row = await session.scalar(select(WebSession).where(WebSession.token_hash == token_hash(token)))
    if row is None or row.ended_at is not None:
        return None
    if now - row.last_seen_at > idle:
        row.ended_at = now
        return None
    row.last_seen_at = now
    return row


def end_session(row: WebSession, now: datetime) -> None:
    row.ended_at = now


async def end_all_sessions(session: AsyncSession, user_id: int, now: datetime) -> int:
    """Sign the user out everywhere (every browser, every instance); also voids their unused links."""
    ended = await session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(WebLink)
        .where(WebLink.user_id == user_id, WebLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return rows_touched(ended)


def audit(
    session: AsyncSession,
    user_id: int | None,
    now: datetime,
    action: str,
    target: str | None = None,
    detail: str | None = None,
) -> None:
    session.add(
        WebAudit(
            user_id=user_id,
            at=now,
            action=action[:32],
            target=(target or None) and target[:64],
            detail=detail[:2000] if detail else None,
        )
    )


async def audit_log(session: AsyncSession, user_id: int | None = None, limit: int = 100) -> list[WebAudit]:
    stmt = select(WebAudit).order_by(WebAudit.id.desc()).limit(limit)
    if user_id is not None:
        stmt = stmt.where(WebAudit.user_id == user_id)
    return list(await session.scalars(stmt))


def record_edit(
    session: AsyncSession, unit_id: int, user_id: int, now: datetime, field: str, before: str | None, after: str | None
) -> None:
    session.add(UnitEdit(unit_id=unit_id, user_id=user_id, at=now, field=field, before=before, after=after))


async def unit_edits(session: AsyncSession, unit_id: int) -> list[UnitEdit]:
    return list(await session.scalars(select(UnitEdit).where(UnitEdit.unit_id == unit_id).order_by(UnitEdit.id)))


def file_milestone(
    session: AsyncSession,
    milestone_id: int,
    township_id: int | None,
    name: str,
    key: str,
    size: int,
    user_id: int,
    now: datetime,
) -> None:
    session.add(
        MilestoneFile(
            milestone_id=milestone_id, township_id=township_id, name=name, key=key, size=size, user_id=user_id, at=now
        )
    )


async def milestone_files(session: AsyncSession, milestone_ids: list[int]) -> list[MilestoneFile]:
    if not milestone_ids:
        return []
    return list(
        await session.scalars(
            select(MilestoneFile).where(MilestoneFile.milestone_id.in_(milestone_ids)).order_by(MilestoneFile.id)
        )
    )


async def weekly_inspections(session: AsyncSession, township_id: int | None, starts: list[datetime]) -> list[int]:
    """Reports submitted in each week starting at `starts` (one range count each, from ix_inspections_submitted_status or ix_inspections_township_submitted alone)."""
    from sqlalchemy import func

    from storage.inspection_models import Inspection, InspectionStatus

    counts = []
    for start in starts:
        # As the digest counts them (storage/digest.py): a corrected report's earlier versions are not counted.
        stmt = select(func.count(Inspection.id)).where(
            Inspection.submitted_at >= start,
            Inspection.submitted_at < start + timedelta(days=7),
            Inspection.status != InspectionStatus.SUPERSEDED,
        )
        if township_id is not None:
            stmt = stmt.where(Inspection.township_id == township_id)
        counts.append(int(await session.scalar(stmt) or 0))
    return counts


async def list_units(
    session: AsyncSession,
    township_id: int | None,
    *,
    village_id: int | None = None,
    industry: str | None = None,
    status: str | None = None,
    unit_class: str | None = None,
    demo: bool | None = None,
    ids: list[int] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Any], int]:
    """The register filtered (every filter optional), by id; and how many match in all."""
    from sqlalchemy import func

    from storage.inspection_models import Unit

    conditions = []
    if township_id is not None:
        conditions.append(Unit.township_id == township_id)
    if village_id is not None:
        conditions.append(Unit.village_id == village_id)
    if industry:
        conditions.append(Unit.industry == industry)
    if status:
        conditions.append(Unit.status == status)
    if unit_class:
        conditions.append(Unit.unit_class == unit_class)
    if demo is not None:
        conditions.append(Unit.is_demo.is_(demo))
    if ids is not None:
        conditions.append(Unit.id.in_(ids))
    total = int(await session.scalar(select(func.count(Unit.id)).where(*conditions)) or 0)
    rows = await session.scalars(select(Unit).where(*conditions).order_by(Unit.id).limit(limit).offset(offset))
    return list(rows), total


async def complaints_about(session: AsyncSession, unit_id: int, limit: int = 50) -> list[Any]:
    from storage.complaint_models import Complaint

    return list(
        await session.scalars(
            select(Complaint).where(Complaint.unit_id == unit_id).order_by(Complaint.id.desc()).limit(limit)
        )
    )


async def complaints_desk(
    session: AsyncSession,
    township_id: int | None,
    *,
    status: str | None = None,
    category: str | None = None,
    in_township: int | None = None,
    overdue_on: Any = None,
    limit: int = 100,
) -> list[Any]:
    """Complaints an official may see (a township: those its office handles or about its places), filtered."""
    from sqlalchemy import or_

    from storage.complaint_models import OPEN_STATUSES, Complaint

    stmt = select(Complaint)
    if township_id is not None:
        stmt = stmt.where(or_(Complaint.office_area_id == township_id, Complaint.township_id == township_id))
    if status:
        stmt = stmt.where(Complaint.status == status)
    if category:
        stmt = stmt.where(Complaint.category == category)
    if in_township is not None:
        stmt = stmt.where(Complaint.township_id == in_township)
    if overdue_on is not None:
        stmt = stmt.where(Complaint.status.in_(list(OPEN_STATUSES)), Complaint.due_on < overdue_on)
    return list(await session.scalars(stmt.order_by(Complaint.due_on, Complaint.id).limit(limit)))


async def located(session: AsyncSession, township_id: int | None, limit: int = 5000) -> dict[str, list[Any]]:
    """What the map shows: units, reports and complaints with a stored location (anonymous complaints' locations
    are already coarsened when stored)."""
    from storage.complaint_models import Complaint
    from storage.inspection_models import Inspection, Unit

    def scoped(stmt: Any, column: Any) -> Any:
        return stmt.where(column == township_id) if township_id is not None else stmt

    units = await session.execute(
        scoped(
            select(Unit.id, Unit.name, Unit.status, Unit.latitude, Unit.longitude).where(Unit.latitude.is_not(None)),
            Unit.township_id,
        ).limit(limit)
    )
    reports = await session.execute(
        scoped(
            select(
                Inspection.id, Inspection.unit_id, Inspection.compliant, Inspection.latitude, Inspection.longitude
            ).where(Inspection.latitude.is_not(None)),
            Inspection.township_id,
        )
        .order_by(Inspection.id.desc())
        .limit(limit)
    )
    filed = await session.execute(
        scoped(
            select(Complaint.id, Complaint.number, Complaint.status, Complaint.latitude, Complaint.longitude).where(
                Complaint.latitude.is_not(None)
            ),
            Complaint.township_id,
        )
        .order_by(Complaint.id.desc())
        .limit(limit)
    )
    return {"units": list(units), "reports": list(reports), "complaints": list(filed)}
