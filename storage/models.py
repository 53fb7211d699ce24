"""SQLAlchemy models of the foundation: areas, users, invites, conversations, updates, outbox."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime

# Explicit constraint names keep migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class AreaLevel(StrEnum):
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


class Role(StrEnum):
    CADRE = "cadre"
    TOWNSHIP = "township"
    COUNTY = "county"
    OPERATOR = "operator"
    RESIDENT = "resident"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Area(Base):
    __tablename__ = "areas"
    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_areas_parent_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    parent: Mapped[Area | None] = relationship(remote_side=[id], lazy="raise_on_sql")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    # Where the person chats, so notices to them go there: "telegram", "terminal" or "dingtalk" (whose staff ids
    # are numbered in channel_accounts). The channel they last wrote from.
    # (No Python-side default: rows written by code of an older schema, as migration tests do, leave it out.)
    channel: Mapped[str] = mapped_column(String(16), server_default="telegram")
    role: Mapped[str] = mapped_column(String(16), default=Role.RESIDENT)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Pacing (storage/pacing.py): when the user's inbound allowance is full again, and the message whose button
    # press was last taken, when (a second press on it a moment later is a double tap).
    inbound_full_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pressed_message_id: Mapped[int | None] = mapped_column(BigInteger)
    pressed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    area: Mapped[Area | None] = relationship(lazy="joined")


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Withdrawn by the county office before anyone used it (`shixiao invite revoke`, or in the chat).
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # An owner's code (operator role) names the unit it binds to (storage/owners.py). No foreign key: adding one
    # makes SQLite rebuild the table, and a code for a unit no longer in the register is refused when sent.
    unit_id: Mapped[int | None] = mapped_column(Integer)

    area: Mapped[Area | None] = relationship(lazy="joined")


class InviteFailure(Base):
    """A code someone sent that was unknown, used, withdrawn or expired: counted per sender (a stranger too, so by
    chat account, not by user row) to slow down guessing. Rows older than the counting window are deleted."""

    __tablename__ = "invite_failures"
    __table_args__ = (Index("ix_invite_failures_sender", "channel_user_id", "failed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_user_id: Mapped[int] = mapped_column(BigInteger)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Conversation(Base):
    """Where a user stands in a flow; written after every step so a restart resumes it."""

    __tablename__ = "conversations"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Bumped on every prompt: buttons carry it, so a press on an old prompt is recognised as stale.
    nonce: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProcessedUpdate(Base):
    __tablename__ = "processed_updates"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxMessage(Base):
    """Every outbound message, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_channel_status", "channel", "status", "id"),
        # Each chat's next pending message (replies first, then oldest), read from the index alone.
        Index("ix_outbox_pending_chat", "channel", "status", "chat_id", "priority", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Which runtime delivers it: "telegram", "terminal" (a local chat never leaks to Telegram), "dingtalk", or a
    # work group's robot ("dingtalk-robot", "wecom-robot": chat_id is the work group's id).
    channel: Mapped[str] = mapped_column(String(16), default="telegram")
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # NULL means "as soon as possible"; set when a retry must wait or the chat had a message a moment ago
    # (real time, not the app clock).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    external_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    # REPLY (0): the answer to someone who is waiting; NOTICE (1): reminders, digests, broadcasts, the ✅ mark on a
    # pressed button. Replies go first, overall and within a chat, so that a large broadcast or a queue of notices
    # never keeps a person waiting for the answer to what they just typed.
    priority: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    # Which instance is delivering it, until when: several instances share one outbox without sending twice.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SentNotice(Base):
    """Keys of scheduled notices already queued (reminders, escalations), so a job re-run never repeats one."""

    __tablename__ = "sent_notices"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
