"""Taking access away: a person's role (back to resident) and an open invite code. One copy of the rules for the
chat (handlers/people.py) and the command line (`shixiao users …`, `shixiao invite …`).

The county office must never lock itself out: taking away the last county official's role, by revocation or by
redeeming another code, is refused with the reason (a successor registers with a county code first)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.events import Reply
from handlers.menus import Menus
from handlers.texts import Texts
from storage import invites, people, users
from storage.areas import area_path
from storage.conversations import end_conversation
from storage.models import Area, Invite, Role, User

log = logging.getLogger(__name__)

# Whose role is never replaced without asking, and whose every change of role the county office hears about.
OFFICIALS = (Role.CADRE, Role.TOWNSHIP, Role.COUNTY)


class Refused(Exception):
    """The change is not made; the message (Chinese) says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def identity(menus: Menus, role: str, area: Area | None) -> str:
    """Role and area as shown to people, e.g. 村干部（岩头镇芙蓉村）."""
    where = area_path(area)
    return f"{menus.title(role)}（{where}）" if where else menus.title(role)


def person(texts: Texts, user: User) -> str:
    """A person named in a notice or a list: their name and user number."""
    return texts("access_person", name=user.name or texts("no_name"), id=user.id)


async def to_county_office(session: AsyncSession, text: str, exclude: set[int]) -> list[Reply]:
    """The same notice to every county official except the users in `exclude` (who hear of it otherwise)."""
    office = await people.list_people(session, (Role.COUNTY,))
    return [Reply(text, chat_id=official.channel_user_id) for official in office if official.id not in exclude]


async def is_last_county_official(session: AsyncSession, user: User) -> bool:
    """Whether `user` is the county office's only official; the office's rows stay locked until the transaction
    ends, so the answer holds while the caller changes the role."""
    office = await people.lock_county_office(session)
    return [official.id for official in office] == [user.id]


async def revoke_person(
    session: AsyncSession, texts: Texts, menus: Menus, user_id: int, now: datetime, actor: User | None = None
) -> list[Reply]:
    """Make the user a resident again (area cleared, any open conversation ended). Returns the notices to send:
    the user, and every county official but the actor. Raises Refused for no such user, a resident, or the last
    county official.

    In the chat the core already holds the actor's own row; two county officials revoking each other at the same
    moment therefore wait on each other, and PostgreSQL aborts one of them (its sender gets the plain apology):
    never both revoked."""
    role = await people.current_role(session, user_id)
    if role is None:
        raise Refused(texts("revoke_not_found", id=user_id))
    subject = None
    if role == Role.COUNTY:
        # The office's rows first, in id order (the subject among them): see people.lock_county_office.
        office = await people.lock_county_office(session)
        subject = next((official for official in office if official.id == user_id), None)
        if subject is not None and len(office) == 1:
            raise Refused(texts("revoke_last_county", who=person(texts, subject)))
    if subject is None:
        subject = await people.lock_person(session, user_id)
    if subject is None:
        raise Refused(texts("revoke_not_found", id=user_id))
    if subject.role == Role.RESIDENT:
        raise Refused(texts("revoke_resident", who=person(texts, subject)))
    before = identity(menus, subject.role, subject.area)
    await end_conversation(session, subject.id)
    await users.assign_role(session, subject, Role.RESIDENT, None)
    by = person(texts, actor) if actor is not None else texts("access_by_cli")
    log.info("user %s revoked (was %s) by %s", subject.id, role, f"user {actor.id}" if actor else "the CLI")
    notices = [Reply(texts("revoked_you", identity=before), chat_id=subject.channel_user_id)]
    text = texts("revoked_notice", who=person(texts, subject), identity=before, by=by)
    exclude = {subject.id} | ({actor.id} if actor is not None else set())
    return notices + await to_county_office(session, text, exclude)


async def role_changed_notices(
    session: AsyncSession, texts: Texts, menus: Menus, user: User, before: str, invite: Invite
) -> list[Reply]:
    """An official took another role with a code: the county office hears of it (the user has their answer)."""
    after = identity(menus, user.role, user.area)
    log.info("user %s changed role with invite %s: was an official", user.id, invite.id)
    text = texts("role_changed_notice", who=person(texts, user), before=before, after=after)
    return await to_county_office(session, text, {user.id})


async def revoke_code(session: AsyncSession, texts: Texts, invite: Invite | None, now: datetime) -> None:
    """Withdraw an open code. Raises Refused (with the reason) for no such code, a used, withdrawn or expired one."""
    problem = invites.check_invite(invite, now)
    if problem is None and invite is not None and await invites.revoke(session, invite, now):
        log.info("invite %s revoked", invite.id)
        return
    if problem is None:
        problem = invites.InviteProblem.USED  # used in the moment between reading and withdrawing it
    raise Refused(texts(f"code_revoke_{problem.value}"))
