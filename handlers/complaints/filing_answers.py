"""What a resident has said so far while filing a complaint (handlers/complaints/filing.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from handlers.flow_state import FlowState


class Similar(BaseModel):
    """An open complaint of the same category about the same unit. Someone else's is only a fact ("a similar
    complaint exists"): its id is kept only when it is the resident's own."""

    own: bool
    id: int | None = None


class FilingAnswers(FlowState):
    key: str  # the submit key, made when the conversation starts: a repeated confirm finds it used
    category: str = ""
    where: str = ""  # "township" chosen, "loc" (the location button) or "located" (a location was sent)
    township: int | None = None
    lat: float | None = None  # where the resident was, when they sent a location (coarsened when anonymous)
    lon: float | None = None
    village: int | None = None
    unit_query: str | None = None  # the unit's name as typed
    unit_matches: list[tuple[int, str]] = Field(default_factory=list)  # registered units it may mean: (id, name)
    dup: Similar | None = None
    unit_id: int | None = None
    unit_name: str | None = None
    duplicate: str = ""  # the answer to the similar complaint: file a new one or not
    description: str = ""
    photo_list: list[dict[str, Any]] = Field(default_factory=list)
    photos_done: bool = False
    identity: str = ""  # "real" or "anon"
    name: str | None = None
    phone: str | None = None
    confirm: str = ""

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None
