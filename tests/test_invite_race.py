"""Single-use means single-use: people sending one code at the same moment, each in a transaction of their own on
a pooled connection of their own, and exactly one of them takes the role (issue 21, item 1)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from handlers.events import Inbound, Kind
from storage.models import Invite, Role, User
from tests.chat_driver import Person, make_invite

RACERS = 8


async def _race(core, user_ids: list[int], code: str, first_update: int) -> list[str]:
    inbounds = [
        Inbound(user_id=uid, chat_id=uid, kind=Kind.COMMAND, command="start", text=code, update_id=first_update + n)
        for n, uid in enumerate(user_ids)
    ]
    outcomes = await asyncio.gather(*(core.handle(inbound) for inbound in inbounds))
    return [outcome.replies[0].text for outcome in outcomes]


async def _county_users(db) -> list[int]:
    async with db.transaction() as session:
        return list(await session.scalars(select(User.channel_user_id).where(User.role == Role.COUNTY)))


@pytest.mark.parametrize("who", ["strangers", "residents"])
async def test_one_code_sent_by_eight_people_at_once_makes_one_official(core, db, clock, who):
    user_ids = [9100 + n for n in range(RACERS)]
    if who == "residents":
        for uid in user_ids:
            await Person(core, uid).command("start")
    code = await make_invite(db, clock, Role.COUNTY)
    texts = await _race(core, user_ids, code, 9_000_000)
    winners = await _county_users(db)
    assert len(winners) == 1, (winners, texts)
    losers = [text for uid, text in zip(user_ids, texts, strict=True) if uid not in winners]
    assert len(losers) == RACERS - 1
    assert all("已经使用过" in text for text in losers), losers
    async with db.transaction() as session:
        invite = (await session.scalars(select(Invite))).one()
        winner = await session.scalar(select(User).where(User.channel_user_id == winners[0]))
        assert invite.used_by_id == winner.id
        users = await session.scalar(select(func.count(User.id)))
    # Strangers who lost are not registered; residents who lost stay residents.
    assert users == (1 if who == "strangers" else RACERS)


async def test_revoking_the_last_two_county_officials_at_once_leaves_one(core, db, clock):
    """Each revocation alone is allowed (another official remains); at the same moment, one must be refused."""
    from handlers import access
    from tests.chat_driver import register

    for uid, name in ((9201, "孙主任"), (9202, "钱主任")):
        await register(core, db, clock, uid, Role.COUNTY, None, name)
    async with db.transaction() as session:
        office = list(await session.scalars(select(User.id).where(User.role == Role.COUNTY).order_by(User.id)))

    async def revoke(user_id: int) -> str:
        try:
            async with db.transaction() as session:
                await access.revoke_person(session, core.texts, core.parts.menus, user_id, clock.now())
        except access.Refused as refused:
            return refused.message
        return "revoked"

    outcomes = await asyncio.gather(*(revoke(user_id) for user_id in reversed(office)))
    assert outcomes.count("revoked") == 1 and any("唯一的工作人员" in outcome for outcome in outcomes), outcomes
    assert len(await _county_users(db)) == 1
