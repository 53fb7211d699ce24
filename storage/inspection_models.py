"""The unit register (监管档案) and inspection reports."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.kept_photo_models import KeptColumns
from storage.models import Base
from storage.types import UTCDateTime


class UnitStatus(StrEnum):
    UNCHECKED = "unchecked"  # 未检查
    COMPLIANT = "compliant"  # 规范达标
    RECTIFYING = "rectifying"  # 整改中
    # 待关停: classified 关停取缔类 by a report, not yet seen closed. Still in the digest's base, not to standard.
    PENDING_CLOSURE = "pending_closure"
    # 已关停 / 已取缔: the closure was verified (a UnitClosure row says when, how and by whom, or the register import
    # said so). Only these units leave the base.
    CLOSED = "closed"


class UnitClass(StrEnum):
    UPGRADE = "upgrade"  # 整合提升类
    RECTIFY = "rectify"  # 整改规范类
    SHUTDOWN = "shutdown"  # 关停取缔类


class ClosureKind(StrEnum):
    SHUT_DOWN = "shut_down"  # 已关停
    BANNED = "banned"  # 已取缔


class ClosureSource(StrEnum):
    TOWNSHIP = "township"  # a township official recorded it from the 待关停 list
    VISIT = "visit"  # a cadre's follow-up visit, with a photo


class InspectionStatus(StrEnum):
    SUBMITTED = "submitted"  # waiting for the township's review
    APPROVED = "approved"
    RETURNED = "returned"  # sent back to the cadre with a reason
    SUPERSEDED = "superseded"  # replaced by a corrected version


class Answer(StrEnum):
    PASS = "pass"  # 符合
    FAIL = "fail"  # 不符合
    NA = "na"  # 不适用


SAMPLE_MARK = "（示例）"  # ends the name of every unit of the sample register (storage/sample_register.py)
# The sample units, as a WHERE term written literally: a partial index serves only a query that repeats it.
SAMPLE_NAME = f"name LIKE '%{SAMPLE_MARK}'"


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("village_id", "name_key", name="uq_units_village_name"),
        # Covers the digest's counts by township, industry and status without touching the table.
        Index("ix_units_township_industry_status", "township_id", "industry", "status"),
        # The digest's count of sample units reads only them, not every name of the county (0020_web_speed).
        Index("ix_units_sample", "village_id", sqlite_where=text(SAMPLE_NAME), postgresql_where=text(SAMPLE_NAME)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Normalised name (no spaces or punctuation, simplified) so re-imports update instead of duplicating.
    name_key: Mapped[str] = mapped_column(String(100))
    industry: Mapped[str] = mapped_column(String(40), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    operator_name: Mapped[str | None] = mapped_column(String(64))
    operator_phone: Mapped[str | None] = mapped_column(String(32))
    licences: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default=UnitStatus.UNCHECKED, index=True)
    unit_class: Mapped[str | None] = mapped_column(String(16))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    rectify_by: Mapped[date | None] = mapped_column(Date)
    # Where the unit is: from the register import, or else from its first report with a location. The review
    # screen shows how far a report's location is from it.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Inspection(Base):
    __tablename__ = "inspections"
    __table_args__ = (
        Index("ix_inspections_township_status", "township_id", "status"),
        # Reports in a period (the digest's weeks, the web console's trend), county-wide and per township, counted
        # from the index alone (0018_web_console).
        Index("ix_inspections_submitted_status", "submitted_at", "status"),
        Index("ix_inspections_township_submitted", "township_id", "submitted_at", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The inspector as they were when the report was submitted (name, role, area path such as 岩头镇芙蓉村):
    # renaming or moving the user later changes none of a report's history.
    inspector_name: Mapped[str | None] = mapped_column(String(64))
    inspector_role: Mapped[str | None] = mapped_column(String(16))
    inspector_area: Mapped[str | None] = mapped_column(String(200))
    # One report per conversation submit: a double tap or a redelivery finds the key taken.
    submit_key: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"))
    # A correction's first version: the report keeps that version's number (JC000002, then JC000002-2) for life.
    # None for a first version, whose own id is its number. No foreign key: previous_id already ties the versions
    # together, and adding one would make SQLite rebuild the table, which its own foreign keys do not survive.
    first_id: Mapped[int | None] = mapped_column(Integer)
    # The number shown (JC000002): a first version takes the next one from InspectionSequence, a correction keeps
    # its first version's, so shown numbers have no gaps. Reports from before 0010 keep the number they were shown
    # with (their first version's id). Nullable only because SQLite cannot add a NOT NULL column in place.
    number: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=InspectionStatus.SUBMITTED)
    industry: Mapped[str] = mapped_column(String(40))
    proposed_compliant: Mapped[bool] = mapped_column(Boolean)
    compliant: Mapped[bool] = mapped_column(Boolean)
    override_reason: Mapped[str | None] = mapped_column(Text)
    unit_class: Mapped[str] = mapped_column(String(16))
    # Why a unit judged 规范达标 is nonetheless 关停取缔类 (the cadre must say; the township sees it flagged).
    class_reason: Mapped[str | None] = mapped_column(Text)
    rectify_by: Mapped[date | None] = mapped_column(Date)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    answers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    notes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # A re-inspection's answers carried over from the unit's previous report (沿用上次) and not checked again on
    # site: item id -> the date (YYYY-MM-DD, Beijing) that answer was last checked. None or {}: every answer was
    # checked on this visit (0019).
    carried_over: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # Indexed with the status (ix_inspections_submitted_status), which replaced the index on this column alone.
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewer_name: Mapped[str | None] = mapped_column(String(64))  # as it was at the review
    review_note: Mapped[str | None] = mapped_column(Text)
    # The unit's register entry just before this report was applied to it: returning the report puts it back.
    unit_status_before: Mapped[str | None] = mapped_column(String(16))
    unit_class_before: Mapped[str | None] = mapped_column(String(16))
    rectify_by_before: Mapped[date | None] = mapped_column(Date)


class InspectionPhoto(KeptColumns, Base):
    """A report's photo. Telegram's file id is only a loan (another bot token cannot use it): the photo keeper
    (scheduler/photo_keeper.py) downloads each one once, after the report is committed, into the media store,
    named by its content's sha256. After MAX attempts it stays `failed`, and the review screen says so."""

    __tablename__ = "inspection_photos"
    __table_args__ = (Index("ix_inspection_photos_pending", "channel", "failed", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    file_id: Mapped[str] = mapped_column(String(200))
    file_unique_id: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InspectionSequence(Base):
    """The last report number given to a first version (one row, id 1); bumped atomically like the complaints'."""

    __tablename__ = "inspection_sequence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class UnitClosure(Base):
    """A verified closure (已关停 / 已取缔): the fact that takes a 待关停 unit out of the digest's base."""

    __tablename__ = "unit_closures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # ClosureKind
    closed_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    # A cadre's visit brings a photo of the closed premises (a Telegram file id, like the reports' photos).
    photo_file_id: Mapped[str | None] = mapped_column(String(200))
    photo_unique_id: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(16))  # ClosureSource
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_by_name: Mapped[str | None] = mapped_column(String(64))  # as it was when recorded
    recorded_by_role: Mapped[str] = mapped_column(String(16))
    # The unit's newest report when the closure was recorded (None: it had none): places the closure among the
    # reports, so that returning an older report does not undo it (storage/inspections.py _withdraw).
    after_report_id: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
