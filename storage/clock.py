"""Injectable time source: production uses the system clock, tests move time by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    tz: ZoneInfo

    def now(self) -> datetime:
        """The current instant, timezone-aware, in the clock's zone."""
        ...


class SystemClock:
    def __init__(self, tz: ZoneInfo = SHANGHAI) -> None:
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(self.tz)


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime, tz: ZoneInfo = SHANGHAI) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=tz)
        self.tz = tz
        self._now = start.astimezone(tz)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now = self._now + delta

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(self.tz)


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
