"""Turns search hits into what the user sees: an answer with its source, suggestions, or an honest 不确定."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from knowledge.loader import load_knowledge, make_normalizer
from knowledge.models import KnowledgeBase
from knowledge.homophones import typo_lexicon
from knowledge.normalize import basic_normalize
from knowledge.search import SearchIndex

# Calibrated scores read as probabilities (see search.py); below this we abstain.
THRESHOLD = 0.5
# Entries within this distance of the best one are offered as "您是想问" suggestions.
AMBIGUITY_MARGIN = 0.08
MAX_SUGGESTIONS = 2

NOT_SURE = "不确定：知识库里没有找到可靠的答案。请换个说法再问，或咨询所在乡镇整规办、行业牵头部门。"


@dataclass(frozen=True)
class Answer:
    answer: str
    source: str | None
    score: float
    abstained: bool
    suggestions: list[dict[str, str]] = field(default_factory=list)
    entry_id: str | None = None
    parts: list[str] = field(default_factory=list)  # the entries answered, in order (one for a plain answer)
    declined: str | None = None  # "elsewhere": a question about another county or city

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = round(self.score, 4)
        return data


class Answerer:
    """Answers one question at a time from a loaded knowledge base; build once and reuse (the index is built here)."""

    def __init__(
        self,
        kb: KnowledgeBase | None = None,
        *,
        data_dir: Path | str | None = None,
        threshold: float = THRESHOLD,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.kb = kb if kb is not None else load_knowledge(data_dir)
        self.threshold = threshold
        synonyms = self.kb.synonyms
        words = [basic_normalize(w) for g in synonyms.groups for w in (g.canonical, *g.variants)]
        terms = [basic_normalize(w) for w in synonyms.homophone_terms]
        self.index = SearchIndex(self.kb.entries, make_normalizer(synonyms), progress=progress,
                                 typo_words=typo_lexicon([*words, *terms, *synonyms.key_terms], terms),
                                 not_typos=[basic_normalize(w) for w in synonyms.not_typos])

    def answer(self, question: object, today: object = None) -> Answer:
        hits = self.index.search(question, k=1 + MAX_SUGGESTIONS)
        if not hits or hits[0].score < self.threshold:
            return Answer(NOT_SURE, None, hits[0].score if hits else 0.0, True)
        top = hits[0]
        floor = max(top.score - AMBIGUITY_MARGIN, self.threshold - AMBIGUITY_MARGIN)
        suggestions = [
            {"id": h.entry.id, "question": h.entry.questions[0]} for h in hits[1:] if h.score >= floor
        ]
        return Answer(top.entry.answer, top.entry.source, top.score, False, suggestions, top.entry.id, [top.entry.id])

    def ranked_ids(self, question: object, k: int = 3) -> list[str]:
        """Entry ids of the k best candidates, whatever their score (for evaluation)."""
        return [h.entry.id for h in self.index.search(question, k=k)]
