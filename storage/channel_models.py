"""Tables of the channels beyond Telegram: chat accounts whose ids are not numbers (DingTalk staff ids) and the
work groups (DingTalk and WeCom group robots) that official notices are pushed to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base
from storage.types import UTCDateTime


class ChannelAccount(Base):
    """A chat account named by a string (a DingTalk staff id), given a number for the rest of the product.

    Users, the outbox and the inbound limits key people by a BigInteger chat id (Telegram's ids are numbers). An
    account of another channel is numbered here: its chat id is minus this row's id, so it can never be a
    Telegram user's id (those are positive) and the mapping is fixed once made."""

    __tablename__ = "channel_accounts"
    __table_args__ = (UniqueConstraint("channel", "account", name="uq_channel_accounts_channel_account"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    account: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def chat_id(self) -> int:
        return -self.id


class WorkGroup(Base):
    """A DingTalk or WeCom work group that gets a scope's digest, reminders and broadcasts through its robot.

    The webhook (its access token or key is in the URL) and the signing secret are secrets: never logged, never
    exported, shown masked. Pushes are outbox rows of channel `<kind>-robot` whose chat id is this row's id."""

    __tablename__ = "work_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # dingtalk | wecom
    # The county (全县) or one township: the group gets what that scope's officials get.
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    webhook: Mapped[str] = mapped_column(Text)
    secret: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Failures in a row (reset by a delivery), and when the county office was last told the robot keeps failing.
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
