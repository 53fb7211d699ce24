"""/report: the digest on demand, for a township official (their township) or the county office (the county)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Turn
from handlers.digest_render import chart_caption, chart_png, digest_text, split_message
from handlers.events import Reply
from handlers.texts import Texts
from knowledge.models import KnowledgeBase
from storage.areas import the_county
from storage.clock import Clock
from storage.digest import Digest, Targets, compute_digest
from storage.models import Area, Role, User


def targets_of(knowledge: KnowledgeBase | None) -> Targets:
    if knowledge is None:
        return Targets()
    plan = knowledge.targets
    return Targets(plan.unit_share_in_township, plan.township_share, plan.industry_unit_share)


def industry_names(knowledge: KnowledgeBase | None) -> dict[str, str]:
    return {slug: checklist.name for slug, checklist in (knowledge.checklists.items() if knowledge else [])}


async def scope_of(session: AsyncSession, user: User) -> Area | None:
    if user.role == Role.TOWNSHIP:
        return user.area
    if user.role == Role.COUNTY:
        return await the_county(session)
    return None


def digest_replies(
    digest: Digest,
    texts: Texts,
    knowledge: KnowledgeBase | None,
    clock: Clock,
    charts: Path,
    chat_id: int | None = None,
) -> list[Reply]:
    """The digest as messages (each within Telegram's limit) followed by its chart."""
    text = digest_text(digest, texts, industry_names(knowledge), clock.tz)
    replies = [Reply(part, chat_id=chat_id) for part in split_message(text)]
    stamp = digest.end.astimezone(clock.tz).strftime("%Y%m%d-%H%M%S")
    chart = chart_png(digest, texts, charts / f"digest-{digest.scope_id}-{stamp}.png")
    replies.append(Reply(chart_caption(digest, texts), photo=str(chart), chat_id=chat_id))
    return replies


async def digest_replies_off_the_loop(
    digest: Digest,
    texts: Texts,
    knowledge: KnowledgeBase | None,
    clock: Clock,
    charts: Path,
    chat_id: int | None = None,
) -> list[Reply]:
    """digest_replies on a worker thread: drawing the chart takes 0.1 s, and 0.8 s more the first time (matplotlib
    and the CJK font), during which the event loop would serve no other chat."""
    return await asyncio.to_thread(digest_replies, digest, texts, knowledge, clock, charts, chat_id)


async def report(turn: Turn) -> list[Reply]:
    if turn.user.role not in (Role.TOWNSHIP, Role.COUNTY):
        return [turn.menu_reply(turn.texts("report_only_officials"))]
    scope = await scope_of(turn.session, turn.user)
    if scope is None:
        return [turn.menu_reply(turn.texts("report_no_area"))]
    digest = await compute_digest(turn.session, scope, turn.clock.now(), targets_of(turn.knowledge))
    return await digest_replies_off_the_loop(digest, turn.texts, turn.knowledge, turn.clock, turn.config.charts_dir)
