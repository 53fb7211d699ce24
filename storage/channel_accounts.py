"""Chat accounts named by strings (DingTalk staff ids), numbered as negative chat ids (storage/channel_models.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.channel_models import ChannelAccount

MAX_ACCOUNT = 128


async def chat_id_for(session: AsyncSession, channel: str, account: str, now: datetime) -> int:
    """The chat id of this account, numbered on first sight (two instances numbering it at once agree)."""
    if not account or len(account) > MAX_ACCOUNT:
        raise ValueError("an account name is 1-128 characters")
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(ChannelAccount)
        .values(channel=channel, account=account, created_at=now)
        .on_conflict_do_nothing(index_elements=["channel", "account"])
    )
    row_id = (
        await session.execute(
            select(ChannelAccount.id).where(ChannelAccount.channel == channel, ChannelAccount.account == account)
        )
    ).scalar_one()
    return -row_id


async def account_of(session: AsyncSession, channel: str, chat_id: int) -> str | None:
    """The account a chat id was given for (None: not an account of this channel)."""
    if chat_id >= 0:
        return None
    return await session.scalar(
        select(ChannelAccount.account).where(ChannelAccount.id == -chat_id, ChannelAccount.channel == channel)
    )
