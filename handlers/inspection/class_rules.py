"""Which unit classes a result allows: shared by the report's steps and the register import, and kept apart from
the steps so that `shixiao units import` does not import the chat flows."""

from __future__ import annotations

from storage.inspection_models import UnitClass


def allowed_classes(compliant: bool) -> tuple[str, ...]:
    if compliant:
        return UnitClass.UPGRADE, UnitClass.SHUTDOWN
    return UnitClass.UPGRADE, UnitClass.RECTIFY, UnitClass.SHUTDOWN


def class_conflict(compliant: bool, unit_class: str | None) -> str | None:
    """The class a 规范达标 result makes suspect (for the review screen's flag), or None when they agree."""
    if compliant and unit_class in (UnitClass.RECTIFY, UnitClass.SHUTDOWN):
        return unit_class
    return None
