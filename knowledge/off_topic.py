"""Questions with nothing of the campaign in them (明天会下雨吗, 股票明天会涨吗, 红烧肉怎么做).

Such a question is told plainly that it is outside what 十小通 answers, instead of 不确定 — which forwards it to the
county office as a question owed an answer. The test is deliberately narrow: no key term (trade, document, actor),
and not one pair of characters, outside the question words, that any knowledge-base question or answer uses. A question with
a single word of the domain in it (卖过期食品罚多少钱: 过期, 食品) is still 不确定 and still forwarded, so an in-scope
question asked in words the knowledge base does not know is never turned away here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the handlers read OFF_TOPIC without loading the search (the answerer loads lazily)
    from knowledge.search import SearchIndex

OFF_TOPIC = "off_topic"
OFF_TOPIC_TEXT = (
    "这个问题不在十小通的解答范围内。十小通只解答{county}“十小”行业整规的问题（各行业的证照、卫生、消防、从业人员要求，"
    "以及整规的安排和进度），这个问题请咨询相关部门。如果您问的是整规的事，请带上行业和想问的事再问一次，"
    "例如“小饭店要办什么证”。"
)


def domain_pairs(index: SearchIndex, text: str) -> set[str]:
    """Pairs of characters of the question, neither of them part of a question word, that a knowledge-base question
    or answer also has (the answers' wider vocabulary keeps 感冒药-like words of the trades in)."""
    from knowledge.search import word_mask

    normalize = index.normalize
    normalized = normalize(text)
    asking = word_mask(normalized, normalize.question_words)
    pairs = {normalized[i : i + 2] for i in range(len(normalized) - 1) if not asking[i] and not asking[i + 1]}
    return {pair for pair in pairs if pair in index.questions.idf or pair in index.answers.idf}


def is_off_topic(index: SearchIndex, text: str) -> bool:
    normalize = index.normalize
    if normalize.keys_in(normalize(text)):
        return False
    return not domain_pairs(index, text)
