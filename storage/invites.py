"""Single-use invite codes that give a user a role and an area."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from storage.areas import load_ancestors
from storage.dml import rows_touched
from storage.models import Area, Invite, InviteFailure, Role, User

# No 0/O, 1/I/L: codes are read aloud and typed on phones.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
# A county code opens everything (every complaint, every person's role), so it is longer: 31^12 ≈ 8e17 values.
COUNTY_CODE_LENGTH = 12
CODE_LENGTHS = (CODE_LENGTH, COUNTY_CODE_LENGTH)
SEPARATORS_ALLOWED = 4  # "ABCD-EFGH", "ABCD EFGH": a code copied with a space or a dash still counts


class InviteProblem(StrEnum):
    UNKNOWN = "unknown"
    USED = "used"
    REVOKED = "revoked"
    EXPIRED = "expired"


def code_length(role: Role) -> int:
    return COUNTY_CODE_LENGTH if role == Role.COUNTY else CODE_LENGTH


def new_code(length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def looks_like_code(text: str) -> bool:
    code = normalize_code(text)
    return (
        len(code) in CODE_LENGTHS
        and all(ch in ALPHABET for ch in code)
        and len(text.strip()) <= len(code) + SEPARATORS_ALLOWED
    )


def code_prefix(text: str) -> str:
    """What a log line may show of a code someone sent: enough to tell codes apart, too little to use one."""
    return normalize_code(text)[:3]


async def create_invite(
    session: AsyncSession,
    role: Role,
    area: Area | None,
    now: datetime,
    valid_for: timedelta,
    created_by: User | None = None,
    unit_id: int | None = None,
) -> Invite:
    while True:
        code = new_code(code_length(role))
        if await session.scalar(select(Invite.id).where(Invite.code == code)) is None:
            break
    invite = Invite(
        code=code,
        role=role,
        area_id=area.id if area else None,
        area=area,
        created_at=now,
        expires_at=now + valid_for,
        created_by_id=created_by.id if created_by else None,
        unit_id=unit_id,
    )
    session.add(invite)
    await session.flush()
    return invite


async def find_invite(session: AsyncSession, code: str) -> Invite | None:
    invite = await session.scalar(select(Invite).where(Invite.code == normalize_code(code)))
    if invite is not None:
        await load_ancestors(session, invite.area)
    return invite


async def get_invite(session: AsyncSession, invite_id: int) -> Invite | None:
    invite = await session.get(Invite, invite_id)
    if invite is not None:
        await load_ancestors(session, invite.area)
    return invite


def check_invite(invite: Invite | None, now: datetime) -> InviteProblem | None:
    if invite is None:
        return InviteProblem.UNKNOWN
    if invite.used_at is not None:
        return InviteProblem.USED
    if invite.revoked_at is not None:
        return InviteProblem.REVOKED
    if invite.expires_at <= now:
        return InviteProblem.EXPIRED
    return None


async def claim(session: AsyncSession, invite: Invite, user: User, now: datetime) -> bool:
    """Mark the code used by `user`, if it still is open: one conditional UPDATE, so of several people sending one
    code at the same moment exactly one gets it. On PostgreSQL the others' UPDATE waits for the winner's row lock,
    then finds used_at set and changes nothing; the caller changes the role in the same transaction only on True."""
    result = await session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None), Invite.revoked_at.is_(None), Invite.expires_at > now)
        .values(used_at=now, used_by_id=user.id)
        .execution_options(synchronize_session=False)
    )
    if rows_touched(result) != 1:
        return False
    set_committed_value(invite, "used_at", now)
    set_committed_value(invite, "used_by_id", user.id)
    return True


async def revoke(session: AsyncSession, invite: Invite, now: datetime) -> bool:
    """Withdraw a code nobody has used; False if it was used (or withdrawn) first."""
    result = await session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None), Invite.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_touched(result) != 1:
        return False
    set_committed_value(invite, "revoked_at", now)
    return True


async def open_invites(session: AsyncSession, now: datetime) -> list[tuple[Invite, User | None]]:
    """Codes that can still be used (not used, not withdrawn, not expired), oldest first, with who made them."""
    creator = aliased(User)
    stmt = (
        select(Invite, creator)
        .outerjoin(creator, creator.id == Invite.created_by_id)
        .where(Invite.used_at.is_(None), Invite.revoked_at.is_(None), Invite.expires_at > now)
        .order_by(Invite.id)
    )
    rows: list[tuple[Invite, User | None]] = [
        (invite, made_by) for invite, made_by in (await session.execute(stmt)).unique()
    ]
    for invite, _ in rows:
        await load_ancestors(session, invite.area)
    return rows


async def recent_failures(session: AsyncSession, channel_user_id: int, since: datetime) -> list[datetime]:
    """When this sender's failed codes since `since` were sent, oldest first."""
    stmt = (
        select(InviteFailure.failed_at)
        .where(InviteFailure.channel_user_id == channel_user_id, InviteFailure.failed_at > since)
        .order_by(InviteFailure.failed_at)
    )
    return list(await session.scalars(stmt))


async def record_failure(session: AsyncSession, channel_user_id: int, now: datetime, keep: timedelta) -> None:
    """Count a failed code; failures older than `keep` (anyone's) are forgotten on the way."""
    await session.execute(delete(InviteFailure).where(InviteFailure.failed_at <= now - keep))
    session.add(InviteFailure(channel_user_id=channel_user_id, failed_at=now))
    await session.flush()
