"""What a cadre has answered so far in an inspection report (handlers/inspection/report.py and its steps)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from pydantic import Field, model_validator

from handlers.flow_state import FlowState


class InspectionAnswers(FlowState):
    # Made when the report starts: a double tap or a redelivered update can never submit it twice.
    submit_key: str = Field(default_factory=lambda: uuid.uuid4().hex)
    # The unit: a registered one (unit_id), or one to register on submitting (new_*).
    find: str = ""  # a unit's id, "search" or "new"
    matches: list[int] = Field(default_factory=list)  # the units a typed name may mean
    pick: str = ""
    unit_notice: str = ""  # go on, or choose another unit after the notice
    notice_due: bool = False  # the unit has a report waiting for review or an open complaint: say so first
    unit_id: int | None = None
    new_name: str = ""
    new_industry: str = ""
    new_address: str = ""
    new_operator: str = ""
    unit_name: str = ""
    industry: str = ""  # the checklist's slug
    # The checklist: an answer (and a note for 不符合) per item id; cursor is the item asked (None: all answered).
    answers: dict[str, str] = Field(default_factory=dict)
    notes: dict[str, str] = Field(default_factory=dict)
    cursor: str | None = None
    item: str = ""
    help_for: str | None = None
    # A re-inspection of a unit with open items starts from its last report (handlers/inspection/carried.py):
    # `first` are the items it failed, asked first; `carried` the answers taken over unchecked (沿用上次), item id ->
    # the day each was last checked; `carried_seen` once the cadre chose to keep the rest; `carried_pick` the
    # carried step's last answer (an item to check again, or KEEP).
    first: list[str] = Field(default_factory=list)
    carried: dict[str, date] = Field(default_factory=dict)
    last_on: date | None = None  # the day of the report it starts from
    carried_seen: bool = False
    carried_pick: str = ""
    # Where answering goes back to while the report is being corrected from its summary ("result", "summary").
    return_to: str | None = None
    photos: list[dict[str, Any]] = Field(default_factory=list)
    photos_acked: bool = False
    location: list[float] | None = None
    result: str = ""
    proposed: bool | None = None  # what the checklist says
    compliant: bool | None = None  # what the cadre reports (differs only with an override reason)
    override_reason: str | None = None
    class_choice: str = ""  # the class step's last answer: a class, or back to the result
    unit_class: str | None = None
    class_reason: str | None = None
    deadline_typed: date | None = None
    deadline_ok: str = ""
    rectify_by: date | None = None
    summary: str = ""
    edit_pick: str = ""
    # A correction of a returned report.
    previous_id: int | None = None
    return_reason: str = ""

    def answered(self, step_ids: Iterable[str]) -> bool:
        # A returned report being corrected holds the whole report: discarding it is confirmed too.
        return self.previous_id is not None or bool(self.answers) or super().answered(step_ids)

    @model_validator(mode="before")
    @classmethod
    def _old_shape(cls, stored: Any) -> Any:
        """Rows of the dict-based flow kept the class step's answer as "class" (a keyword here)."""
        if isinstance(stored, dict) and "class" in stored and "class_choice" not in stored:
            stored = {**stored, "class_choice": stored["class"]}
        return stored
