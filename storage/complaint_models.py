"""Complaints (投诉举报): the complaint, its audit trail, followers, photos and the yearly number sequence."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.kept_photo_models import KeptColumns
from storage.models import Base
from storage.types import UTCDateTime


class ComplaintStatus(StrEnum):
    SUBMITTED = "submitted"  # 已提交
    ACCEPTED = "accepted"  # 已受理
    INVESTIGATING = "investigating"  # 调查中
    SCHEDULED = "scheduled"  # 已安排处理
    IN_PROGRESS = "in_progress"  # 处理中
    CLOSED = "closed"  # 已办结
    DUPLICATE = "duplicate"  # 重复
    NOT_RESPONSIBLE = "not_responsible"  # 不属于职责范围
    UNABLE = "unable"  # 无法处理


OPEN_STATUSES = frozenset(
    {
        ComplaintStatus.SUBMITTED,
        ComplaintStatus.ACCEPTED,
        ComplaintStatus.INVESTIGATING,
        ComplaintStatus.SCHEDULED,
        ComplaintStatus.IN_PROGRESS,
    }
)
FINAL_STATUSES = frozenset(set(ComplaintStatus) - OPEN_STATUSES)


class EventKind(StrEnum):
    FILED = "filed"
    STATUS = "status"
    REROUTED = "rerouted"
    REOPENED = "reopened"
    FEEDBACK = "feedback"
    ESCALATED = "escalated"


class Feedback(StrEnum):
    RESOLVED = "resolved"  # 问题解决了
    NOT_RESOLVED = "not_resolved"  # 没有解决 (the complaint was reopened)


class Complaint(Base):
    __tablename__ = "complaints"
    __table_args__ = (
        UniqueConstraint("year", "seq", name="uq_complaints_year_seq"),
        Index("ix_complaints_office_status", "office_area_id", "status"),
        Index("ix_complaints_final_at", "final_at"),  # closed in a period (the digest, the dashboard)
        # Overdue at a moment (the digest's count), from the index alone.
        Index("ix_complaints_due_created_final", "due_on", "created_at", "final_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # TS-2026-000123
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    # One complaint per filing conversation: a double tap or a redelivery finds the key taken.
    submit_key: Mapped[str] = mapped_column(String(64), unique=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    complainant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean)
    # Snapshot for 实名 complaints only (NULL when anonymous); who may read it is handlers/complaints/privacy.py.
    complainant_name: Mapped[str | None] = mapped_column(String(64))
    complainant_phone: Mapped[str | None] = mapped_column(String(32))
    township_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    # The office handling it: a township's area, or the county's for county-level categories and escalations.
    office_area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    unit_name: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    final_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    feedback: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ComplaintEvent(Base):
    """The audit log: every change of a complaint, with who made it (NULL: the system) and the note."""

    __tablename__ = "complaint_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    from_area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    to_area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    from_category: Mapped[str | None] = mapped_column(String(32))
    to_category: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ComplaintFollower(Base):
    """Someone who asked to follow another person's complaint instead of filing a duplicate."""

    __tablename__ = "complaint_followers"

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ComplaintPhoto(KeptColumns, Base):
    """A complaint's photo, kept by the photo keeper like a report's (storage/kept_photo_models.py)."""

    __tablename__ = "complaint_photos"
    __table_args__ = (Index("ix_complaint_photos_pending", "channel", "failed", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    file_id: Mapped[str] = mapped_column(String(200))
    file_unique_id: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ComplaintSequence(Base):
    """The last tracking number used per year; bumped atomically (INSERT … ON CONFLICT DO UPDATE)."""

    __tablename__ = "complaint_sequences"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)
