"""Two things asked in one question without punctuation, each asked alone (used by answer.py).

- Two two-character terms of the knowledge base (homophone_terms, key_terms) joined by 和: 饭店的消防和卫生分别有啥要求.
- Two trades side by side, or joined by 和/跟/与/及 (小饭店小卖部归哪个部门管, 理发店跟浴室要办什么证): the question asks the
  same thing of each trade, so it is asked once per trade (round 5).

Either way both answers must be sure, come from different entries, and the whole question's best answer must be one
of them; otherwise the caller answers the question as one.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from knowledge.search import Hit, SearchIndex

# Two two-character terms of the knowledge base joined by this are asked one at a time (消防和卫生).
CONJUNCTION = "和"
CONJOINED_WORD = 2
# What may stand between two trades asked together (after normalisation, which drops 、 and spaces).
TRADE_JOINERS = "和跟与及或"
# "Each" said of the two trades means nothing once one trade is asked: 饭店跟小卖部分别要办什么证.
EACH_WORDS = re.compile("分别|各自")


def _both_sure(found: list[Hit], hits: list[Hit], floor: float, unsure_below: float | None = None) -> bool:
    """Two different sure answers, one of them the whole question's best (or, with `unsure_below`, the whole
    question's best below that score: nothing sure to contradict them)."""
    best = hits[0]
    return (
        len(found) == 2
        and found[0].entry.id != found[1].entry.id
        and min(h.score for h in found) >= floor
        and (best.entry.id in {h.entry.id for h in found} or (unsure_below is not None and best.score < unsure_below))
    )


def conjoined_terms(
    index: SearchIndex, conjoinable: Collection[str], text: str, hits: list[Hit], floor: float
) -> list[tuple[str, Hit]] | None:
    """消防和卫生: each term asked alone; the two (term, hit) pairs when both are sure, else None."""
    if not hits or CONJUNCTION not in text:
        return None
    for i in range(CONJOINED_WORD, len(text) - CONJOINED_WORD):
        if text[i] != CONJUNCTION:
            continue
        first, second = text[i - CONJOINED_WORD : i], text[i + 1 : i + 1 + CONJOINED_WORD]
        if not {first, second} <= set(conjoinable):
            continue  # only the knowledge base's own two-character terms (消防, 卫生), not any two characters
        left = text[: i - CONJOINED_WORD] + first + text[i + 1 + CONJOINED_WORD :]
        right = text[: i - CONJOINED_WORD] + text[i + 1 :]
        found = [h for variant in (left, right) for h in index.search(variant, k=1)[:1]]
        if _both_sure(found, hits, floor):
            return [(first, found[0]), (second, found[1])]
    return None


def two_trades(
    index: SearchIndex, text: str, hits: list[Hit], floor: float, threshold: float
) -> list[tuple[str, Hit]] | None:
    """小饭店小卖部归哪个部门管: the question once per trade; each answer must be its own trade's entry. The whole
    question's best answer may also be unsure (below `threshold`): 分别 and the second trade often make it so."""
    if not hits:
        return None
    normalized = index.normalize(text)
    trades = "|".join(map(re.escape, sorted(index.trades, key=len, reverse=True)))
    if not trades:
        return None
    match = re.search(f"({trades})[{TRADE_JOINERS}]?({trades})", normalized)
    if match is None or match.group(1) == match.group(2):
        return None
    start, end = match.span()
    found: list[Hit] = []
    for trade in match.groups():
        asked = EACH_WORDS.sub("", normalized[:start] + trade + normalized[end:])
        best = index.search(asked, k=1)[:1]
        if not best or best[0].entry.trade != trade:
            return None
        found += best
    if not _both_sure(found, hits, floor, threshold):
        return None
    return [(match.group(1), found[0]), (match.group(2), found[1])]
