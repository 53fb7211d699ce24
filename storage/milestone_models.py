"""Plan milestones of one year (the plan's dated tasks, phase starts, quarterly supervision) and their done-marks."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base
from storage.types import UTCDateTime


class MilestoneKind(StrEnum):
    TASK = "task"  # a dated task of the plan's time schedule (时间安排)
    PHASE = "phase"  # the start of one of the plan's phases (实施步骤): a notice, nothing to mark done
    SUPERVISION = "supervision"  # the quarterly 督查评价 of phase 2


class PlanMilestone(Base):
    __tablename__ = "milestones"
    __table_args__ = (UniqueConstraint("year", "key", name="uq_milestones_year_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    # Stable within a year (task.kickoff, phase.2, supervision.q2): re-loading a plan updates by key.
    key: Mapped[str] = mapped_column(String(64))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    # Order in the plan, for milestones on the same day.
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    # Role words as the plan writes them: 乡镇, 牵头部门, 县整规办, 各部门.
    responsible: Mapped[list[str]] = mapped_column(JSON)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MilestoneDone(Base):
    """A milestone marked done: by a township (township_id) or by the county office (township_id NULL)."""

    __tablename__ = "milestone_done"
    __table_args__ = (
        UniqueConstraint("milestone_id", "township_id", name="uq_milestone_done_milestone_township"),
        # NULLs are distinct in a unique constraint, so the county's own mark needs a partial index of its own.
        Index(
            "ix_milestone_done_county",
            "milestone_id",
            unique=True,
            sqlite_where=text("township_id IS NULL"),
            postgresql_where=text("township_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id"), index=True)
    township_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    done_at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
