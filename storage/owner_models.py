"""Shop owners (业主) bound to the units they run: one operator may hold several units, a unit several owners."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
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
