"""A flow's answers as a typed model, stored in the conversation row as plain JSON.

The stored names are the model's field names, which are the keys the answers had when they were one dict per
conversation; so a conversation saved before the answers were typed loads as it stands (strings that hold
numbers or dates are read as what they say). A model whose names changed says how to read the old ones in a
`before` validator. A stored conversation that still does not fit raises `Outdated`, and the core ends it with a
clear message instead of failing on every later message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError


class Outdated(Exception):
    """A stored conversation whose answers this version cannot read."""


class FlowState(BaseModel):
    # Keys a model does not name (a step's choice kept by the old dict, a derived value now recomputed) are left
    # behind; assignment is validated, so a step cannot store a value of the wrong type.
    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    @classmethod
    def load(cls, stored: Any) -> Self:
        try:
            return cls.model_validate(stored if isinstance(stored, dict) else {})
        except ValidationError as problem:
            raise Outdated(f"{cls.__name__}: {problem.error_count()} field(s) do not fit") from problem

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def answered(self, step_ids: Iterable[str]) -> bool:
        """Whether a step has an answer yet: one kept under its own name that is not empty (a flow whose other
        answers count too says so)."""
        return any(getattr(self, step_id, None) not in (None, "", [], {}) for step_id in step_ids)
