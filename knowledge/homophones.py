"""Pinyin-input typos: a word of the knowledge base typed with a homophone picked from the IME list (营业只照 for
营业执照, 卫声 for 卫生, 灭火气 for 灭火器) or half in pinyin (消du for 消毒) is read as that word.

Readings come from pypinyin (toneless, every reading of a polyphonic character). A stretch of the question is
replaced by a lexicon word when it sounds the same and the cost of the change stays within bounds that keep
unrelated homophones apart:
- at least one character is typed exactly as in the word (a stretch that shares only sounds is another word);
- at most one substituted character in a word of two or three characters, two in longer ones;
- a two-character stretch is never changed when it is itself a word the knowledge base uses as typed;
- no stretch is changed that is a real word listed in `not_typos` (药方 is not a typo of 药房, 饭点 not of 饭店).
Each change is counted: the search lowers the score of a question by a fixed cost per change, so a question that
needed corrections is answered only when the rest of it matches well.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import lru_cache

# Per-character readings are all we need; without the phrase table pypinyin imports in about a third of the time
# (documented switch, see pypinyin's FAQ). Set before the first import of pypinyin.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")
from pypinyin import Style, pinyin

MIN_WORD = 2


@lru_cache(maxsize=16384)
def readings(ch: str) -> frozenset[str]:
    """Toneless readings of one character ('' for a character without one)."""
    if not ("\u3400" <= ch <= "\u9fff"):
        return frozenset()
    found = pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")  # [] for a character without one
    return frozenset(r for r in found[0] if r) if found else frozenset()


def _first_reading(ch: str) -> str:
    found = pinyin(ch, style=Style.NORMAL, errors="ignore")
    return (found[0][0] or "") if found else ""


class Homophones:
    """Built once from the lexicon; `fix(text)` returns the text with typed homophones replaced, and the count."""

    def __init__(self, lexicon: Iterable[str], not_typos: Iterable[str], known_pair: Callable[[str], bool]) -> None:
        self.not_typos = frozenset(not_typos)
        self.known_pair = known_pair
        self.words = sorted(
            {w for w in lexicon if len(w) >= MIN_WORD and all("\u3400" <= c <= "\u9fff" for c in w)},
            key=lambda w: (-len(w), w),
        )
        self.lexicon = frozenset(self.words)
        self._by_sound: dict[str, list[tuple[str, tuple[frozenset[str], ...]]]] = defaultdict(list)
        self._spelt: dict[str, tuple[str, ...]] = {}
        for word in self.words:
            sounds = tuple(readings(c) for c in word)
            if not all(sounds):
                continue
            for reading in sounds[0]:
                self._by_sound[reading].append((word, sounds))
            self._spelt[word] = tuple(_first_reading(c) for c in word)

    def fix(self, text: str) -> tuple[str, int]:
        fixed, words = self.fix_words(text)
        return fixed, len(words)

    def fix_words(self, text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The text with typed homophones replaced, and for each correction the text as typed and the word put in
        its place."""
        if not text or not self.words:
            return text, ()
        out: list[str] = []
        fixes: list[tuple[str, str]] = []
        i = 0
        while i < len(text):
            found = self._match_at(text, i)
            if found is None:
                out.append(text[i])
                i += 1
                continue
            word, consumed, changed = found
            out.append(word)
            if changed > 0:
                fixes.append((text[i : i + consumed], word))
            i += consumed
        return "".join(out), tuple(fixes)

    def _match_at(self, text: str, i: int) -> tuple[str, int, int] | None:
        """The best lexicon word starting at i: (word, characters of text it covers, characters changed)."""
        ch = text[i]
        if ch.isascii() and ch.isalpha():
            return self._match_pinyin_start(text, i)
        for reading in readings(ch):
            for word, sounds in self._by_sound.get(reading, ()):
                hit = self._match_word(text, i, word, sounds)
                if hit is not None:
                    return hit
        return None

    def _match_word(
        self, text: str, i: int, word: str, sounds: tuple[frozenset[str], ...]
    ) -> tuple[str, int, int] | None:
        pos, changed, same, j = i, 0, 0, 0
        while j < len(word):
            if pos >= len(text):
                return None
            tch = text[pos]
            if tch == word[j]:
                same += 1
                pos += 1
                j += 1
            elif tch.isascii() and tch.isalpha():
                # Pinyin typed for one or more characters ("消du"): the whole ascii run must spell them exactly.
                run = _ascii_run(text, pos)
                used = _consume_pinyin(run, self._spelt.get(word, ())[j:])
                if not used:
                    return None
                changed += used
                pos += len(run)
                j += used
            elif readings(tch) & sounds[j]:
                changed += 1
                pos += 1
                j += 1
            else:
                return None
        return self._finish(text, i, pos, word, changed, same)

    def _finish(
        self, text: str, start: int, end: int, word: str, changed: int, same: int
    ) -> tuple[str, int, int] | None:
        if changed == 0:
            return word, end - start, 0  # spelt right: keep it whole so no shorter word is "corrected" inside it
        typed = text[start:end]
        if same == 0 or changed > (1 if len(word) <= 3 else 2):
            return None
        if typed in self.lexicon or typed in self.not_typos:
            return None
        if len(typed) == 2 and self.known_pair(typed):
            return None  # a pair the knowledge base uses as typed: a real word, not a typo
        return word, end - start, changed

    def _match_pinyin_start(self, text: str, i: int) -> tuple[str, int, int] | None:
        """A stretch starting in pinyin: only a word spelt out whole in pinyin (jiankangzheng) is taken."""
        run = _ascii_run(text, i)
        for word, spelt in self._spelt.items():
            if "".join(spelt) == run:
                return word, len(run), len(word)
        return None


def _ascii_run(text: str, pos: int) -> str:
    end = pos
    while end < len(text) and text[end].isascii() and text[end].isalpha():
        end += 1
    return text[pos:end]


def _consume_pinyin(run: str, syllables: tuple[str, ...]) -> int:
    """How many of the word's next syllables the ascii run spells exactly (0: none)."""
    spelt = ""
    for n, syllable in enumerate(syllables, 1):
        spelt += syllable
        if spelt == run:
            return n
        if not run.startswith(spelt):
            return 0
    return 0


# Question words are never a correction's target: 什么任务 must not become 什么人 (谁).
QUESTION_PARTS = ("什么", "怎么", "哪", "啥", "谁", "几", "多少", "多久", "能不", "可不", "要不", "是不")


def typo_lexicon(words: Iterable[str], two_char_terms: Iterable[str]) -> list[str]:
    """Words a typo may be corrected to: every vocabulary word of three or more characters that is not a question
    word, and only the listed two-character terms (most two-character stretches of a question are real words)."""
    long = {w for w in words if len(w) >= 3 and not any(part in w for part in QUESTION_PARTS)}
    return sorted(long | {w for w in two_char_terms if len(w) == 2})
