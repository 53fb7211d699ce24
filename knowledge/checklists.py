"""Inspection checklists, built from the same industry files as the knowledge base so the two never disagree."""

from __future__ import annotations

from pathlib import Path

from knowledge.loader import load_knowledge
from knowledge.models import ANSWER_LABELS, Checklist, ChecklistItem, KnowledgeError

__all__ = ["ANSWER_LABELS", "Checklist", "ChecklistItem", "KnowledgeError", "load_checklists", "vetoed"]


def load_checklists(data_dir: Path | str | None = None) -> dict[str, Checklist]:
    """Per industry slug (in the county's list order): the common items, then the industry's own, validated.

    Raises KnowledgeError naming the file and the item for duplicate ids, missing fields or a `relevant`
    condition that refers to an unknown or later item.
    """
    return load_knowledge(data_dir).checklists


def vetoed(checklist: Checklist, answers: dict[str, str]) -> list[ChecklistItem]:
    """Veto items answered 不符合 among those that apply: any one of them rules out 规范达标."""
    return [item for item in checklist.applicable(answers) if item.veto and answers.get(item.id) == "fail"]
