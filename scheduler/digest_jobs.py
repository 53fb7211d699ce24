"""The weekly digest: each township official gets their township's, each county official the county's, and each
work group its scope's."""

from __future__ import annotations

from pathlib import Path

from handlers.events import Reply
from handlers.report import digest_replies_off_the_loop, scope_of, targets_of
from handlers.texts import Texts
from handlers.work_groups import push_replies
from knowledge.models import KnowledgeBase
from storage import outbox, work_groups
from storage.clock import Clock
from storage.db import Database
from storage.digest import Digest, compute_digest
from storage.models import Role
from storage.notices import claim_notice
from storage.users import users_with_role


async def send_weekly_digests(
    db: Database, clock: Clock, texts: Texts, knowledge: KnowledgeBase | None, charts: Path
) -> int:
    """Queue this week's digest for every official, once per official per ISO week (a late run sends one)."""
    now = clock.now()
    year, week, _ = now.isocalendar()
    queued = 0
    cache: dict[int, Digest] = {}
    drawn: dict[int, list[Reply]] = {}  # one chart per scope, however many officials and groups get it

    async def replies_for(scope_id: int) -> list[Reply]:
        if scope_id not in drawn:
            drawn[scope_id] = await digest_replies_off_the_loop(cache[scope_id], texts, knowledge, clock, charts)
        return drawn[scope_id]

    async with db.transaction() as session:
        officials = [*await users_with_role(session, Role.COUNTY), *await users_with_role(session, Role.TOWNSHIP)]
        for official in officials:
            scope = await scope_of(session, official)
            if scope is None:
                continue
            if not await claim_notice(session, f"digest:{year}-W{week:02d}:{official.id}", now):
                continue
            if scope.id not in cache:
                cache[scope.id] = await compute_digest(session, scope, now, targets_of(knowledge))
            for reply in await replies_for(scope.id):
                await outbox.enqueue(
                    session, official.channel_user_id, reply.kind, reply.payload(), now, official.channel
                )
            queued += 1
        # Each work group gets its scope's digest too, once a week.
        for group, scope in await work_groups.all_groups(session):
            if not await claim_notice(session, f"digest:{year}-W{week:02d}:group:{group.id}", now):
                continue
            if scope.id not in cache:
                cache[scope.id] = await compute_digest(session, scope, now, targets_of(knowledge))
            queued += await push_replies(session, [group], await replies_for(scope.id), now)
    return queued
