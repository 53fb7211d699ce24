"""Redeeming an owner's code (an operator code naming a unit): the unit is bound to the person who sends it.

A new person or a resident becomes the unit's owner; an owner who already runs another unit gains this one and
keeps their role; an official is asked first (handlers/registration.py's confirmation, shared with every code)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Turn
from handlers.events import Reply
from handlers.texts import Texts
from storage import invites, owners, units
from storage.models import Invite, User

log = logging.getLogger(__name__)


async def unit_gone(session: AsyncSession, texts: Texts, invite: Invite) -> str | None:
    """What to tell the sender of an owner's code whose unit left the register or was closed; None otherwise."""
    if invite.unit_id is None:
        return None
    if owners.bindable(await units.get_unit(session, invite.unit_id)):
        return None
    log.warning("invite %s names unit %s, which can no longer be bound", invite.id, invite.unit_id)
    return texts("owner_code_unit_gone")


async def bind_from_invite(session: AsyncSession, invite: Invite, user: User, now: datetime) -> None:
    if invite.unit_id is not None:
        await owners.bind(session, invite.unit_id, user.id, now, invite.id)
        log.info("user %s bound to unit %s by invite %s", user.id, invite.unit_id, invite.id)


async def add_unit(turn: Turn, invite: Invite) -> list[Reply]:
    """An owner sends a code for a unit: it joins their units (a code for a unit they already run is left unused)."""
    assert invite.unit_id is not None
    unit = await units.get_unit(turn.session, invite.unit_id)
    assert unit is not None
    if await owners.owns(turn.session, turn.user.id, unit.id):
        return [turn.menu_reply(turn.texts("owner_code_same_unit", unit=unit.name))]
    now = turn.clock.now()
    if not await invites.claim(turn.session, invite, turn.user, now):
        return [turn.menu_reply(turn.texts("invite_used"))]
    await bind_from_invite(turn.session, invite, turn.user, now)
    held = await owners.units_of(turn.session, turn.user.id)
    return [turn.menu_reply(turn.texts("owner_unit_added", unit=unit.name, count=len(held)))]
