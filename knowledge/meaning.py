"""When to take the sentence encoder's pick (semantic.py) over 不确定, and its 您是想问 suggestions.

The encoder is loaded on the first question the character search is unsure of, not when the answerer is built: most
questions never need it, and a bot that starts does not wait for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from knowledge.models import Entry
    from knowledge.search import SearchIndex
    from knowledge.semantic import SemanticIndex

# Features of a character-search hit (search.py) that rule an entry out whatever the encoder says: a business the
# knowledge base does not cover, a trade that is not the entry's, a key term the entry never names. (That nothing
# else the question asks is in the entry's words is what the encoder is for: 最晚开到几点 against 几点要关门.)
AGAINST = (7, 8, 9)
NO_CONTENT = 10
# …but when it is, the character score must reach this much: a shared key term and nothing else (网吧的电脑配置怎么选
# against the internet cafe's location rule, 灭火器的化学原理 against the extinguisher rule) scores 0.002-0.015, a
# question in other words for the same thing (歌厅最晚开到几点 against 几点要关门) 0.05 and more (development sets).
NO_CONTENT_FLOOR = 0.03


class Meaning:
    def __init__(self, entries: Sequence[Entry], index: SearchIndex) -> None:
        self.entries = entries
        self.index = index
        self._semantic: SemanticIndex | None = None
        self._tried = False

    def semantic(self) -> SemanticIndex | None:
        if not self._tried:
            self._tried = True
            from knowledge import semantic

            model = semantic.encoder()
            self._semantic = semantic.SemanticIndex(self.entries, model) if model is not None else None
        return self._semantic

    def _allowed(self, text: str, entry: Entry) -> bool:
        hit = self.index.judge(text, entry)
        if hit is None or any(hit.features[i] for i in AGAINST):
            return False
        return not hit.features[NO_CONTENT] or hit.score >= NO_CONTENT_FLOOR

    def pick(self, text: str) -> tuple[Entry, float] | None:
        """The entry the question means, when the encoder is clearly sure and nothing speaks against it (the answerer
        asks only about questions with something of 十小 in them: off_topic.py)."""
        if not text:
            return None
        found = self.semantic()
        if found is None:
            return None
        from knowledge.semantic import MARGIN, SURE

        near = found.nearest(text, k=2)
        if not near:
            return None
        entry, closeness = near[0]
        runner_up = near[1][1] if len(near) > 1 else 0.0
        if closeness < SURE or closeness - runner_up < MARGIN or not self._allowed(text, entry):
            return None
        return entry, closeness

    def suggest(self, text: str, k: int = 3) -> list[Entry]:
        """您是想问: the entries nearest in meaning, when the character search has none to offer."""
        if not text:
            return []
        found = self.semantic()
        if found is None:
            return []
        from knowledge.semantic import SUGGEST

        return [
            entry
            for entry, closeness in found.nearest(text, k=k)
            if closeness >= SUGGEST and self._allowed(text, entry)
        ]
