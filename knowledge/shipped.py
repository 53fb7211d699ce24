"""The knowledge base shipped in knowledge/data, read once per process. Apart from `handlers.assembly` (which
re-exports it) so that a command needing only the data (a digest's targets, an export's industry names) does not
import every flow of the bot."""

from __future__ import annotations

from functools import lru_cache

from knowledge.loader import load_knowledge
from knowledge.models import KnowledgeBase


@lru_cache(maxsize=1)
def shipped_knowledge() -> KnowledgeBase:
    """The knowledge base shipped in knowledge/data (read once per process; the files do not change at run time)."""
    return load_knowledge()
