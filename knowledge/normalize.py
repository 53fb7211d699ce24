"""Text normalisation shared by the index and by queries, so both sides see the same characters."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

import opencc

# "什么是X" / "什么叫X" (after synonyms, so 啥是 and 啥叫 too), rewritten as "X是什么".
_WHAT_IS = re.compile(r"^什么[是叫](.{2,})$")

# compact() writes known words as characters from here on (Unicode private use area, never in real text).
_PRIVATE_USE = 0xE000

# Queries longer than this are cut: nobody types a real question this long, and it bounds the work per query.
MAX_CHARS = 300

# The converter only reads its tables; building it costs a few ms, so it is shared rather than rebuilt.
_T2S = opencc.OpenCC("t2s")

# Everything that is not a CJK ideograph, an ascii letter or a digit is noise for matching (punctuation,
# spaces, emoji, symbols). U+3007 〇 is kept because it is a digit in dates such as 二〇〇九年.
_NOISE = re.compile(r"[^0-9a-z\u3007\u3400-\u4dbf\u4e00-\u9fff]+")

# Markup pasted with a question (<b>, <br/>, <script …>) is not part of it.
_HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,80}>")
_CN_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
# Chinese numerals are turned into digits only before a counter word, so that 十小, 三无, 五常法 or 一票否决 stay
# words while 四月十五号, 第二十七条 and 六项 match 4月15日, 第27条 and 6项.
_COUNTERS = ("月", "日", "号", "项", "条", "个", "阶段", "年", "天", "小时", "米", "岁", "类", "次", "周")
_CN_NUMBER = re.compile(rf"([廿〇零一二两三四五六七八九十百]+)(?={'|'.join(_COUNTERS)})")
_DAY_HAO = re.compile(r"(\d+)号")
# The same few characters typed three or more times in a row (饭店饭店饭店…, 哈哈哈) are one word repeated: only
# one copy is kept, so a repetition cannot outweigh the rest of a question. Digits are left alone (2000年).
_REPEAT = re.compile(r"(\D{1,8}?)\1{2,}")


# 百分之八十 and 80% both become 80 (the % sign is dropped as punctuation).
_PERCENT = re.compile(r"百分之([〇零一二两三四五六七八九十百]+)")


def _percent(match: re.Match[str]) -> str:
    value = _cn_to_int(match.group(1))
    return match.group(0) if value is None else str(value)


def _cn_to_int(text: str) -> int | None:
    if "十" not in text and "百" not in text:
        # Digit by digit, as in 二〇〇九.
        if all(ch in _CN_DIGITS for ch in text):
            return int("".join(str(_CN_DIGITS[ch]) for ch in text))
        return None
    total, current = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
    return total + current


def _numerals_to_digits(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        value = _cn_to_int(match.group(1).replace("廿", "二十"))  # 廿 is an old way of writing twenty
        return match.group(1) if value is None else str(value)

    return _DAY_HAO.sub(r"\1日", _CN_NUMBER.sub(repl, text))


def basic_normalize(text: object, limit: int | None = MAX_CHARS) -> str:
    """Traditional to simplified, full-width to half-width, lower case, punctuation and spaces removed."""
    if not isinstance(text, str) or not text:
        return ""
    # Lone surrogates (broken input) cannot be encoded and would crash the converter.
    out = (text if limit is None else text[: limit * 4]).encode("utf-8", "ignore").decode("utf-8")
    out = _HTML_TAG.sub("", unicodedata.normalize("NFKC", out))
    out = _T2S.convert(out).lower()
    out = _NOISE.sub("", out)
    out = _REPEAT.sub(r"\1", out)
    out = _PERCENT.sub(_percent, out)
    out = _numerals_to_digits(out)
    return out if limit is None else out[:limit]


class SynonymTable:
    """Rewrites variants to one canonical word and drops filler phrases, in a single left-to-right pass.

    The longest phrase wins at each position, so a protected word such as 了解 survives the filler 了.
    """

    def __init__(
        self,
        groups: Mapping[str, Iterable[str]] | None = None,
        fillers: Iterable[str] = (),
        keep: Iterable[str] = (),
    ) -> None:
        mapping: dict[str, str] = {}
        for word in fillers:
            mapping[basic_normalize(word)] = ""
        for word in keep:
            norm = basic_normalize(word)
            mapping[norm] = norm
        for canonical, variants in (groups or {}).items():
            target = basic_normalize(canonical)
            mapping[target] = target
            for variant in variants:
                mapping[basic_normalize(variant)] = target
        mapping.pop("", None)
        self.mapping = mapping
        # The words every variant is rewritten to: after apply() a text names a concept by exactly these words.
        self.canonicals = frozenset(basic_normalize(c) for c in (groups or {})) - {""}
        ordered = sorted(mapping, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def apply(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(lambda m: self.mapping[m.group(0)], text)


class Normalizer:
    """The full pipeline used for both knowledge-base questions and user queries.

    Key terms are the words that decide which entry is meant (the trade, the actor, the document): a question
    naming one only fits a user question that names it too.
    """

    def __init__(
        self, synonyms: SynonymTable | None = None, key_terms: Iterable[str] = (), question_words: Iterable[str] = ()
    ) -> None:
        self.synonyms = synonyms or SynonymTable()
        self.key_terms = tuple(sorted({self(term) for term in key_terms} - {""}))
        # Words that shape a question rather than say what it is about (什么, 能, 要不要…), normalised, longest first.
        self.question_words = tuple(sorted({self(word) for word in question_words} - {""}, key=lambda w: (-len(w), w)))
        self._near = {term: _near_pattern(term) for term in self.key_terms}
        # compact(): every word of several characters that the synonym table produces becomes one private-use
        # character, longest first; key terms of three or more characters also when typed with one typo.
        words = sorted({w for w in self.synonyms.canonicals | set(self.key_terms) if len(w) > 1}, key=len, reverse=True)
        self._symbol = {w: chr(_PRIVATE_USE + i) for i, w in enumerate(words)}
        near = [self._near[w].pattern for w in words if w in self._near and len(w) >= 3]
        exact = [re.escape(w) for w in words]
        self._word = re.compile("|".join(exact + near)) if words else None

    def keys_in(self, normalized: str) -> frozenset[str]:
        """Key terms named in an already normalised text (exactly: knowledge-base questions are spelt right)."""
        return frozenset(term for term in self.key_terms if term in normalized)

    def has_key_term(self, normalized: str, term: str) -> bool:
        """Whether a user's normalised question names the key term, forgiving one typo in longer terms."""
        pattern = self._near.get(term)
        return term in normalized if pattern is None else pattern.search(normalized) is not None

    def __call__(self, text: object, limit: int | None = MAX_CHARS) -> str:
        return self.finish(basic_normalize(text, limit))

    def finish(self, basic: str) -> str:
        """The second half of the pipeline, on a text already through basic_normalize (and typo correction)."""
        # 什么是三合一 and 什么叫四化 ask what 三合一是什么 and 四化是什么 ask: one word order for both.
        return _WHAT_IS.sub(r"\1是什么", self.synonyms.apply(basic))

    def compact(self, normalized: str) -> str:
        """The normalised text with each known word of several characters written as one character.

        Character-level comparisons then count a word once: 未成年人 or 美容美发店 shared by two questions weighs as
        much as one other shared character, not four or five.
        """
        if self._word is None:
            return normalized
        return self._word.sub(
            lambda m: self._symbol.get(m.group(0)) or self._symbol[self._near_term(m.group(0))], normalized
        )

    def _near_term(self, typed: str) -> str:
        return next(
            term for term, pattern in self._near.items() if len(term) == len(typed) and pattern.fullmatch(typed)
        )


def _near_pattern(term: str) -> re.Pattern[str]:
    """Matches the term, forgiving one wrong character in terms of three or more (建康证 for 健康证)."""
    if len(term) < 3:
        return re.compile(re.escape(term))
    variants = [re.escape(term[:i]) + "." + re.escape(term[i + 1 :]) for i in range(len(term))]
    return re.compile("|".join(variants))
