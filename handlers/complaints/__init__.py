"""Complaints (投诉举报): residents file, officials handle, the complainant confirms — the loop closes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from handlers.complaints import filing, handling, official_flows, reopen, tracking
from handlers.context import Turn
from handlers.events import Reply
from handlers.flow import Flow

ACTIONS: dict[str, Callable[[Turn], Awaitable[list[Reply]]]] = {
    "complaint_new": filing.start,
    "complaint_mine": tracking.mine,
    "complaint_track": tracking.track,
    "complaint_feedback": tracking.feedback,
    "complaint_queue": handling.queue,
    "complaint_view": handling.view,
    "complaint_accept": handling.accept,
    "complaint_update": handling.update,
    "complaint_reroute": handling.reroute,
}
COMMANDS: dict[str, str] = {"track": "complaint_track"}
FLOWS: tuple[Flow[Any], ...] = (
    filing.COMPLAINT,
    official_flows.COMPLAINT_UPDATE,
    official_flows.COMPLAINT_REROUTE,
    reopen.COMPLAINT_REOPEN,
)
