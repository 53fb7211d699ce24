"""Shop owners (业主) bound to the units they run: one operator may hold several units, a unit several owners."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base
from storage.types import UTCDateTime


class UnitOwner(Base):
    __tablename__ = "unit_owners"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    # The code that bound them (None: bound by the CLI or an import); no foreign key, the code may be purged.
    invite_id: Mapped[int | None] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # What the owner was last told about the unit: the report and a key of its result, class, failed items and
    # deadline. A corrected version of that report with the same key is not told again.
    notified_report: Mapped[int | None] = mapped_column(Integer)
    notified_key: Mapped[str | None] = mapped_column(String(64))


class OwnerFix(Base):
    """An owner's report that failed items were put right (已整改), with photos and notes per item. It changes no
    official number: only the cadre's re-inspection does; it is the re-inspection task the cadre receives."""

    __tablename__ = "owner_fixes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    report_id: Mapped[int] = mapped_column(Integer)  # the report whose failed items were fixed
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # item id -> {"photos": [{"file_id", "unique_id", "channel"}…], "note": "…"}
    items: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SelfCheck(Base):
    """An owner's 自查: the unit's industry checklist answered by its owner. Never an inspection: it counts in no
    达标率, digest, export or milestone; the owner, the village's cadres and the township see the last one."""

    __tablename__ = "self_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    industry: Mapped[str] = mapped_column(String(40))
    answers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # item id -> pass / fail / na / yes / no
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
