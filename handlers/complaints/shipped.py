"""The shipped complaint rules (categories, offices, deadlines, county bounds, holidays), read once at import:
broken data stops start-up, naming the file and the entry."""

from __future__ import annotations

from handlers.complaints.categories import ComplaintConfig, default_config

CONFIG: ComplaintConfig = default_config()
