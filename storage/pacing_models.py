"""How fast messages flow: each chat's send allowance shared by the instances, and inbound messages refused
because one user sent too many too fast."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base
from storage.types import UTCDateTime


class ChatPacing(Base):
    """When a chat's send allowance (a token bucket) is full again, so that instances sharing the outbox keep to
    one allowance per chat. Written only when the outbox is shared (scheduler/sender.py)."""

    __tablename__ = "chat_pacing"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    full_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ThrottledInbound(Base):
    """Messages of one user, on one local day, that were not handled because the user sent too many too fast;
    the county office sees the count (handlers/ask.py, 待答复问题)."""

    __tablename__ = "throttled_inbound"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    # When the user was last told to slow down (once per window, not once per refused message).
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
