"""The weekday names of `SHIXIAO_DIGEST_DAY`, apart from the jobs: the settings check them without importing every
job (and with them the handlers and storage) at every start of every command."""

from __future__ import annotations

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
