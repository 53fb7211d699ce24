"""The shape of a long question: its clauses, which of them ask something, and the context the others give.

Voice input and chat produce questions in two parts ("网吧几点关门？未成年人能进吗？", "理发店要什么证还有毛巾要不要
消毒") and questions told as a story ("我在桥头开了个面馆，前几天村里来人检查，说水池不合格……到底要几个池子").
The answerer searches the parts one by one, and the asking clause of a story with the trade the story names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Where a question splits: punctuation, and the words people use to start a second question (另外 before a verb,
# as in 要不要另外办证, means "separately" and starts nothing).
_SPLIT = re.compile(
    r"[，,。．.？?！!；;\n]+|\s{1,}|(?:顺便|再|另外|还|我还|然后)问(?:一下|一问|下)?|还想问(?:一下)?|还有就是|"
    r"还有|另外(?![办要交收加开配装设买做申领再])|以及|此外|再一个|再有|第二个问题"
)
# A clause that asks something: a question particle or question word. (Checked on the clause as typed.)
_ASKS = re.compile(
    r"[吗么伐呢嘛?？]|什么|啥|怎么|咋|怎样|如何|几|多少|多久|多长|哪|谁|能不能|可不可以|要不要|是不是|有没有|"
    r"行不行|会不会|可以|能否|是否|对不对|好不好|算不算|要求|规定|标准|注意"
)
# Question characters inside words that ask nothing: 好几年, 几乎, 哪怕.
_NOT_ASKING = re.compile(r"好几|几乎|哪怕|不管|无论")
MIN_PART = 4  # characters a part needs to be asked on its own
MAX_PARTS = 4
# A run-on (voice input, no punctuation) is cut after a question word that can end a question: a final particle
# right after it, a word asking for a thing (什么证, 几点关门) up to WORD_AFTER characters after it. The second half
# must keep MIN_REST characters besides its question words ("多久一次" says too little to be asked alone).
_ENDS_QUESTION = re.compile(
    r"[吗么伐呢嘛]|什么|啥|怎么|咋|怎样|如何|几|多少|多久|多长|哪|谁|能不能|可不可以|要不要|是不是|"
    r"有没有|行不行|会不会|对不对|好不好|算不算"
)
_FINAL = re.compile(r"[吗么伐呢嘛]")
WORD_AFTER = 4
MIN_REST = 3
# A second half starting with a word that points back (各是哪几个月, 分别是什么) asks more about the first one.
_POINTS_BACK = ("各", "分别", "都", "每个", "它", "这些", "那些", "其中")
# A run-on story without punctuation is also searched by its last this-many characters (shortest first).
TAIL_LENGTHS = (6, 9, 12)
RUN_ON_FROM = 18  # characters from which a question without punctuation is read as a possible story


@dataclass(frozen=True)
class Clause:
    text: str
    asks: bool


def clauses(question: str) -> list[Clause]:
    text = unicodedata.normalize("NFKC", question)
    pieces = [p.strip() for p in _SPLIT.split(text)]
    return [Clause(p, bool(_ASKS.search(_NOT_ASKING.sub("", p)))) for p in pieces if p]


def _meaningful(text: str) -> int:
    return sum(ch.isalnum() for ch in text)


def question_parts(question: str) -> list[str]:
    """The clauses that each ask something, when there are at least two (else an empty list).

    A clause too short to stand alone (是吗, 多少) joins the one before it."""
    parts: list[str] = []
    for clause in clauses(question):
        if not clause.asks:
            continue
        if parts and _meaningful(clause.text) < MIN_PART:
            parts[-1] += clause.text
        else:
            parts.append(clause.text)
    parts = [p for p in parts if _meaningful(p) >= MIN_PART]
    return parts[:MAX_PARTS] if len(parts) >= 2 else []


def story_focus(question: str) -> str | None:
    """For a long question of several clauses: the last asking clause together with the clause before it, which
    usually says what it is about; None for a short question (it is searched whole)."""
    found = clauses(question)
    if len(found) < 3 or _meaningful(question) < 20:
        return None
    asking = [n for n, c in enumerate(found) if c.asks]
    if not asking:
        return None
    last = asking[-1]
    before = found[last - 1].text if last > 0 else ""
    return before + found[last].text


def _markers(text: str) -> list[tuple[int, int]]:
    """Spans of the question words in a clause (not those inside words that ask nothing: 好几年, 几乎)."""
    hidden = [m.span() for m in _NOT_ASKING.finditer(text)]
    return [m.span() for m in _ASKS.finditer(text) if not any(a <= m.start() < b for a, b in hidden)]


def run_on_cuts(question: str) -> list[tuple[str, str]]:
    """Ways to cut a question typed without punctuation into two asking halves ("KTV要什么证几点关门"): right after
    the first question word that ends a question (吗, 伐), or a few characters after one that asks for a thing (什么证,
    几点关门), when the rest asks again and says enough on its own. Words that also sit inside one question (可以,
    规定, 要求) never end the first half. Empty when the question already has several clauses, or asks only once."""
    found = clauses(question)
    if len(found) != 1:
        return []
    text = found[0].text
    first = next(
        (
            m
            for m in _ENDS_QUESTION.finditer(text)
            if not any(a <= m.start() < b for a, b in (h.span() for h in _NOT_ASKING.finditer(text)))
        ),
        None,
    )
    if first is None:
        return []
    if any(word in text[first.end() : first.end() + WORD_AFTER + 2] for word in _POINTS_BACK):
        return []
    ends = (first.end(),) if _FINAL.fullmatch(first.group()) else range(first.end() + 1, first.end() + 1 + WORD_AFTER)
    cuts = []
    for i in ends:
        left, right = text[:i], text[i:]
        spans = [m.span() for m in _ENDS_QUESTION.finditer(right)]  # it asks again (标准, 要求 alone do not)
        rest = len(right) - sum(b - a for a, b in spans)
        if _meaningful(left) >= MIN_PART and spans and rest >= MIN_REST:
            cuts.append((left, right))
    return cuts


def run_on_tails(question: str) -> list[str]:
    """For a long question typed without punctuation ("我家隔壁开了个小饭店天天油烟很大他们要办啥证"): its last
    few characters, where people put what they ask, in a few lengths; empty for short or punctuated questions."""
    found = clauses(question)
    if len(found) != 1 or _meaningful(question) < RUN_ON_FROM:
        return []
    text = found[0].text
    if not _markers(text[-max(TAIL_LENGTHS) :]):
        return []
    return [text[-n:] for n in TAIL_LENGTHS if n < len(text)]


def asking_clause(question: str) -> str | None:
    """The last clause that asks, when a question of several clauses says something else first ("老婆开了个小超市，
    卖烟要不要另外办证？"); None for a question of one clause."""
    found = clauses(question)
    asking = [c.text for c in found if c.asks]
    if len(found) < 2 or not asking or asking[-1] == found[0].text or _meaningful(asking[-1]) < MIN_PART:
        return None
    return asking[-1]
