"""Work groups (DingTalk and WeCom group robots): registered by the county office, pushed to through the outbox."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import outbox
from storage.channel_models import WorkGroup
from storage.models import Area

KINDS = ("dingtalk", "wecom")
MAX_NAME = 64


def robot_channel(kind: str) -> str:
    """The outbox channel of a kind's robots: "dingtalk-robot" or "wecom-robot"."""
    return f"{kind}-robot"


ROBOT_CHANNELS = tuple(robot_channel(kind) for kind in KINDS)


async def add_group(
    session: AsyncSession, name: str, kind: str, area: Area, webhook: str, secret: str | None, now: datetime
) -> WorkGroup:
    group = WorkGroup(
        name=name, kind=kind, area_id=area.id, webhook=webhook, secret=secret or None, created_at=now, failures=0
    )
    session.add(group)
    await session.flush()
    return group


async def group_named(session: AsyncSession, name: str) -> WorkGroup | None:
    return await session.scalar(select(WorkGroup).where(WorkGroup.name == name))


async def get_group(session: AsyncSession, group_id: int) -> WorkGroup | None:
    return await session.get(WorkGroup, group_id)


async def all_groups(session: AsyncSession) -> list[tuple[WorkGroup, Area]]:
    """Every group with its scope (the county or a township), in the order they were added."""
    rows = await session.execute(
        select(WorkGroup, Area).join(Area, Area.id == WorkGroup.area_id).order_by(WorkGroup.id)
    )
    return [(group, area) for group, area in rows.unique()]


async def groups_of(session: AsyncSession, area_ids: Iterable[int]) -> list[WorkGroup]:
    wanted = sorted(set(area_ids))
    if not wanted:
        return []
    return list(await session.scalars(select(WorkGroup).where(WorkGroup.area_id.in_(wanted)).order_by(WorkGroup.id)))


async def count_groups(session: AsyncSession, area_ids: Iterable[int] | None = None) -> int:
    stmt = select(func.count()).select_from(WorkGroup)
    if area_ids is not None:
        stmt = stmt.where(WorkGroup.area_id.in_(sorted(set(area_ids))))
    return int(await session.scalar(stmt) or 0)


async def remove_group(session: AsyncSession, group: WorkGroup) -> int:
    """Remove a group and the pushes still waiting for it (they would have nowhere to go); returns how many."""
    dropped = await outbox.drop_pending(session, robot_channel(group.kind), group.id)
    await session.execute(delete(WorkGroup).where(WorkGroup.id == group.id))
    return dropped


async def push(
    session: AsyncSession, groups: Iterable[WorkGroup], messages: list[tuple[str, dict[str, Any]]], now: datetime
) -> int:
    """Queue (kind, payload) messages to each group, in this order; returns the number of groups."""
    count = 0
    for group in groups:
        await outbox.enqueue_many(
            session, [(group.id, kind, payload) for kind, payload in messages], now, robot_channel(group.kind)
        )
        count += 1
    return count


async def record_failure(session: AsyncSession, group_id: int, now: datetime, report_after: int) -> WorkGroup | None:
    """Count a failed push; the group when it has now failed `report_after` times in a row and the county office
    has not been told since its last delivery (report it then), else None."""
    await session.execute(update(WorkGroup).where(WorkGroup.id == group_id).values(failures=WorkGroup.failures + 1))
    group = await session.get(WorkGroup, group_id, populate_existing=True)
    if group is None or group.failures < report_after or group.reported_at is not None:
        return None
    group.reported_at = now
    return group


async def record_delivery(session: AsyncSession, group_id: int) -> None:
    await session.execute(
        update(WorkGroup).where(WorkGroup.id == group_id, WorkGroup.failures > 0).values(failures=0, reported_at=None)
    )
