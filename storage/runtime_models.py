"""Tables the running bot keeps for itself: APScheduler's job store and the instances that share delivery."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, LargeBinary, String, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base
from storage.types import UTCDateTime

JOBS_TABLE = "scheduler_jobs"


class ScheduledJob(Base):
    """APScheduler 3's SQLAlchemyJobStore table, declared here so that Alembic owns it like every other table.

    The columns are exactly the ones the job store defines (it creates the table only when it is missing)."""

    __tablename__ = JOBS_TABLE

    id: Mapped[str] = mapped_column(Unicode(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary)


class BotInstance(Base):
    """A running bot process, seen recently: instances split Telegram's global send rate between them."""

    __tablename__ = "bot_instances"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
