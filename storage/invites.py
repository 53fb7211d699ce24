"""Single-use invite codes that give a user a role and an area."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.areas import load_ancestors
from storage.models import Area, Invite, Role, User

# No 0/O, 1/I/L: codes are read aloud and typed on phones.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


class InviteProblem(StrEnum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def looks_like_code(text: str) -> bool:
    code = normalize_code(text)
    return len(code) == CODE_LENGTH and all(ch in ALPHABET for ch in code) and len(text.strip()) <= 12


async def create_invite(
    session: AsyncSession,
    role: Role,
    area: Area | None,
    now: datetime,
    valid_for: timedelta,
    created_by: User | None = None,
) -> Invite:
    while True:
        code = new_code()
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
    )
    session.add(invite)
    await session.flush()
    return invite


async def find_invite(session: AsyncSession, code: str) -> Invite | None:
    invite = await session.scalar(select(Invite).where(Invite.code == normalize_code(code)))
    if invite is not None:
        await load_ancestors(session, invite.area)
    return invite


def check_invite(invite: Invite | None, now: datetime) -> InviteProblem | None:
    if invite is None:
        return InviteProblem.UNKNOWN
    if invite.used_at is not None:
        return InviteProblem.USED
    if invite.expires_at <= now:
        return InviteProblem.EXPIRED
    return None


def mark_used(invite: Invite, user: User, now: datetime) -> None:
    invite.used_at = now
    invite.used_by_id = user.id
