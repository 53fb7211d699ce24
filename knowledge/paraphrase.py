"""Paraphrases for an entry learned from the county office's answer: the question asked in the other usual shapes.

"村里的快递驿站需要办理什么手续" is stored with "村里的快递驿站要办什么证", "村里的快递驿站要办哪些证照"… The shapes are
data (vocabulary.yaml `question_shapes`: groups of endings that ask the same kind of thing); a question that ends in
none of them gets no paraphrase here, and the county office can add its own in the chat.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MAX_GENERATED = 4
_TAIL = re.compile(r"[\s？?！!。.，,～~]+$|[吗呢呀啊吧嘛伐哦]+$")


def _trim(question: str) -> str:
    previous = None
    text = " ".join(question.split())
    while previous != text:
        previous, text = text, _TAIL.sub("", text)
    return text


def paraphrases(question: str, shapes: Sequence[Sequence[str]], limit: int = MAX_GENERATED) -> list[str]:
    """The question with its ending replaced by the other endings of its shape (longest matching ending first)."""
    text = _trim(question)
    best: tuple[str, Sequence[str]] | None = None
    for group in shapes:
        for ending in group:
            if text.endswith(ending) and len(text) > len(ending) and (best is None or len(ending) > len(best[0])):
                best = (ending, group)
    if best is None:
        return []
    ending, group = best
    subject = text[: -len(ending)]
    return [subject + other for other in group if other != ending][:limit]
