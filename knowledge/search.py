"""Chinese-aware retrieval: BM25 over character n-grams for recall, then a calibrated rerank.

Recall: every question of every entry is one BM25 document (character unigrams and bigrams), and every answer is
one more, weaker document of its entry. Both are inverted indexes: only documents sharing an n-gram with the query
are touched, so the cost follows the postings read rather than the size of the knowledge base.

Rerank: the few best entries are rescored with features that are comparable across queries, whatever the size of
the knowledge base: how much of the query (weighted by rarity) the best question, all the entry's questions and its
answer explain; how much of the question the query explains; an edit-distance ratio for typos, in which a known word
of several characters (未成年人, 美容美发店) counts as one character; whether the question names a key term (trade,
actor, document) the query lacks; the share of query characters the knowledge base never uses; whether the query
names a business the knowledge base does not cover; whether the query names a trade that is not the entry's, or
another key term the entry never mentions; whether anything the query asks beyond its key terms and question words
is found in the entry at all. The last three keep a shared generic word (小孩, 营业执照) from carrying a match. A
logistic function fitted by bench/kb_calibrate.py squashes them into a score that reads as the probability that the
entry is right, so one threshold (0.5) separates "answer" from "not sure".
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter

from rapidfuzz import fuzz

from knowledge.bm25 import Bm25
from knowledge.homophones import Homophones
from knowledge.models import Entry
from knowledge.normalize import Normalizer, basic_normalize

UNIGRAM_WEIGHT = 0.3  # single characters help typos a little but say little about meaning
ANSWER_WEIGHT = 0.3  # an answer mentioning the query's words is weaker evidence than a matching question
CANDIDATES = 20  # entries rescored per query
# Logistic calibration, fitted by bench/kb_calibrate.py; one weight per feature of SearchIndex._score_entry (the
# last one, no_content, is set there rather than fitted). Measured with these: see bench/README.md.
WEIGHTS = (0.000, 0.000, 4.905, 2.107, 3.680, -2.493, -5.624, -1.981, -5.340, -4.477, -4.000, -0.700, 5.000)
BIAS = -3.745
# Weight of an unseen pair of known characters in coverage (see SearchIndex._weight).
JUNCTION_IDF = 4.0
# Last characters of words naming a kind of business or place (加油站, 服装厂, 驾校). Such a word that the knowledge
# base never uses means the question is about a trade it does not cover.
PLACE_SUFFIXES = frozenset("店厂馆站场院班园校司矿摊铺坊厅室房")
# Words beginning with such a character: there it starts a word rather than ending a name (留房间 is not a 留房).
SUFFIX_WORDS = frozenset(
    ("房间", "室内", "场所", "院子", "厅里", "店里", "店内", "店面", "馆里", "厂里", "站在", "场地", "园区", "班上")
)
# Words before such a character that do not name a trade (一家店, 开店, 小店, 不合格店, 无证店, 违规店).
GENERIC_BEFORE = frozenset("家个的小这那每各本开新大老该此其么啥哪些种类一两几少在到去进回我你他您俺们全整格证照规法")
# A bigram made only of question words (会不会, 行不行, 要几个) weighs this share of its rarity in coverage: the shape of
# a question must not move it across the threshold when its content words match well.
QUESTION_WORD_SHARE = 0.3
SEAM_SHARE = 0.6
# A corrected word must be in the entry when it has at least this many characters (or was typed in pinyin).
LONG_CORRECTION = 3
# A question longer than this many characters (after normalisation) is read more by how much of a knowledge-base
# question it contains than by how much of it that question explains: a question told as a story carries words
# no entry has. The feature grows from 0 at LONG_FROM characters to 1 at LONG_FROM + LONG_SPAN.
LONG_FROM, LONG_SPAN = 12, 20
TIE = 0.01
# One meaningful character is not a question (what is left of "在吗" or "？？" after normalisation).
MIN_QUERY_CHARS = 2


def ngrams(text: str) -> Counter[str]:
    grams: Counter[str] = Counter(text[i : i + 2] for i in range(len(text) - 1))
    grams.update(text)
    return grams


def bigrams(text: str) -> set[str]:
    if len(text) < 2:
        return {text} if text else set()
    return {text[i : i + 2] for i in range(len(text) - 1)}


@dataclass(frozen=True)
class Hit:
    entry: Entry
    question: str  # the entry's question that matched best
    score: float  # calibrated, 0..1
    features: tuple[float, ...]


def _explains(unit: str, questions: str, answer: str) -> bool:
    """Whether an entry's questions or answer contain the unit, or at least each of its characters."""
    return unit in questions or unit in answer or all(ch in questions or ch in answer for ch in unit)


def word_mask(text: str, words: Sequence[str]) -> list[bool]:
    """Which characters of the text belong to one of the words."""
    mask = [False] * len(text)
    for word in words:
        start = text.find(word)
        while start >= 0:
            mask[start : start + len(word)] = [True] * len(word)
            start = text.find(word, start + 1)
    return mask


def _shape_share(text: str, gram: str, shape: list[bool]) -> float:
    """Weight share of a bigram by how much of it belongs to question words (first occurrence): all of it, half of
    it (the seam between a word and a question word: 人会 in 住人会不会), or none."""
    i = text.find(gram)
    inside = shape[i] + shape[i + 1] if i >= 0 and len(gram) == 2 else 0
    return (1.0, SEAM_SHARE, QUESTION_WORD_SHARE)[inside]


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


class _Query:
    """What is computed once per query and reused for every candidate."""

    def __init__(self, index: SearchIndex, text: str, fixes: int = 0) -> None:
        self.text = text
        self.fixes = fixes  # homophone typos corrected in the query (see knowledge/homophones.py)
        # each correction: the text as typed and the word put in (set by SearchIndex.search)
        self.corrected: tuple[tuple[str, str], ...] = ()
        self.compact = index.normalize.compact(text)
        self.grams = bigrams(text)
        shape = word_mask(text, index.normalize.question_words)
        self.weighted = [(g, index._weight(g) * _shape_share(text, g, shape)) for g in self.grams]
        self.total = sum(w for _, w in self.weighted)
        self._normalize = index.normalize
        self._keys: dict[str, bool] = {}
        # Key terms the query names, trades apart from the others. Spelt exactly: forgiving a typo here would read
        # 整规经费 as naming 整规办.
        named = index.normalize.keys_in(text)
        self.trades = named & index.trades
        self.other_keys = named - index.trades
        # What is asked about the key terms: the bigrams touching neither a key term nor a question word, or, when
        # there is none, the single characters left (去, 办 in 营业执照去哪里办).
        mask = word_mask(text, (*named, *index.normalize.question_words))
        self.content = {text[i : i + 2] for i in range(len(text) - 1) if not mask[i] and not mask[i + 1]}
        if not self.content:
            self.content = {ch for ch, masked in zip(text, mask, strict=True) if not masked}
        # Characters the knowledge base never uses mean words it knows nothing about.
        self.novel = sum(ch not in index.chars for ch in text) / len(text)
        self.long = min(1.0, max(0.0, (len(text) - LONG_FROM) / LONG_SPAN))
        self.foreign_place = index._foreign_place(text)

    def covered_by(self, other: str) -> float:
        """Weight of the query's bigrams found in `other`."""
        return sum(w for g, w in self.weighted if g in other)

    def coverage_by(self, other: str) -> float:
        """Share of the query's (rarity-weighted) bigrams found in `other`."""
        return self.covered_by(other) / self.total if self.total else 0.0

    def lacks_any(self, terms: frozenset[str]) -> bool:
        """Whether a key term is missing from the query (checked lazily: only candidates' terms are looked up)."""
        for term in terms:
            found = self._keys.get(term)
            if found is None:
                found = self._keys[term] = self._normalize.has_key_term(self.text, term)
            if not found:
                return True
        return False


class SearchIndex:
    def __init__(
        self,
        entries: Sequence[Entry],
        normalizer: Normalizer,
        progress: Callable[[int], None] | None = None,
        weights: Sequence[float] = WEIGHTS,
        bias: float = BIAS,
        typo_words: Sequence[str] = (),
        not_typos: Sequence[str] = (),
    ) -> None:
        self.entries = list(entries)
        self.position = {entry.id: n for n, entry in enumerate(self.entries)}
        self.normalize = normalizer
        self.weights = tuple(weights)
        self.bias = bias
        self.doc_entry = array("i")
        self.entry_first_doc = array("i")  # an entry's documents are contiguous: first[e] .. first[e + 1]
        self.doc_question: list[str] = []
        self.doc_text: list[str] = []
        self.doc_keys: list[frozenset[str]] = []
        self.doc_compact: list[str] = []
        self.answer_text: list[str] = []
        self.questions = Bm25(UNIGRAM_WEIGHT)
        self.answers = Bm25(1.0)
        typed_pairs: set[str] = set()  # bigrams of the knowledge base as written (before synonyms)
        for e_index, entry in enumerate(self.entries):
            self.entry_first_doc.append(len(self.doc_text))
            for question in entry.questions:
                basic = basic_normalize(question)
                typed_pairs.update(basic[i : i + 2] for i in range(len(basic) - 1))
                text = normalizer.finish(basic)
                if text:
                    self.doc_entry.append(e_index)
                    self.doc_question.append(question)
                    self.doc_text.append(text)
                    self.doc_keys.append(normalizer.keys_in(text))
                    self.doc_compact.append(normalizer.compact(text))
                    self.questions.add(ngrams(text))
            basic = basic_normalize(entry.answer, None)
            typed_pairs.update(basic[i : i + 2] for i in range(len(basic) - 1))
            answer = normalizer.finish(basic)
            self.answer_text.append(answer)
            self.answers.add(Counter(answer[i : i + 2] for i in range(len(answer) - 1)))
            if progress is not None:
                progress(1)
        self.entry_first_doc.append(len(self.doc_text))
        self.questions.finish()
        self.answers.finish()
        self.idf_unseen = math.log(1 + (self.questions.n_docs + 0.5) / 0.5)
        self.chars = frozenset(ch for text in (*self.doc_text, *self.answer_text) for ch in text)
        self.doc_weight = array("f", (sum(self._weight(g) for g in bigrams(text)) for text in self.doc_text))
        self.trades = frozenset(e.trade for e in self.entries if e.trade)
        self.entry_keys = [
            self._entry_keys(range(self.entry_first_doc[e], self.entry_first_doc[e + 1]), e)
            for e in range(len(self.entries))
        ]
        self.homophones = Homophones(typo_words, not_typos, typed_pairs.__contains__) if typo_words else None

    def __len__(self) -> int:
        return len(self.entries)

    def _recall(self, text: str, exclude: int | None) -> list[int]:
        terms = ngrams(text)
        by_entry: dict[int, float] = {}
        for doc, score in self.questions.scores(terms).items():
            if doc == exclude:
                continue
            entry = self.doc_entry[doc]
            if score > by_entry.get(entry, 0.0):
                by_entry[entry] = score
        answer_terms = Counter({t: n for t, n in terms.items() if len(t) == 2})
        for entry, score in self.answers.scores(answer_terms).items():
            by_entry[entry] = by_entry.get(entry, 0.0) + ANSWER_WEIGHT * score
        return [e for e, _ in heapq.nlargest(CANDIDATES, by_entry.items(), key=itemgetter(1))]

    def _weight(self, gram: str) -> float:
        in_questions = self.questions.idf.get(gram)
        in_answers = self.answers.idf.get(gram)
        if in_questions is not None or in_answers is not None:
            # A word common in the answers (十小, 整规, 乡镇) is the domain's background, even when few questions
            # happen to use it: the lower of the two rarities counts.
            return min(w for w in (in_questions, in_answers) if w is not None)
        # An unseen pair of known characters is most often the seam between two words; a pair with a character
        # the knowledge base never uses is new vocabulary, a strong hint that the question is out of scope.
        if all(ch in self.chars for ch in gram):
            return JUNCTION_IDF
        return self.idf_unseen

    def _entry_keys(self, docs: Sequence[int], entry: int) -> frozenset[str]:
        """Key terms other than trades that the entry's questions (these ones) or its answer name."""
        return (
            self.normalize.keys_in("|".join(self.doc_text[d] for d in docs) + "|" + self.answer_text[entry])
            - self.trades
        )

    def _foreign_place(self, text: str) -> float:
        for i in range(1, len(text)):
            before = text[i - 1]
            if text[i : i + 2] in SUFFIX_WORDS:
                continue  # the character begins a word (房间, 店里): it does not end a business's name
            if text[i] in PLACE_SUFFIXES and not before.isdigit() and before not in GENERIC_BEFORE:
                gram = text[i - 1 : i + 1]
                if gram not in self.questions.idf and gram not in self.answers.idf:
                    return 1.0
        return 0.0

    def _score_entry(self, q: _Query, entry: int, exclude: int | None) -> Hit | None:
        docs = [d for d in range(self.entry_first_doc[entry], self.entry_first_doc[entry + 1]) if d != exclude]
        if not docs:
            return None
        joined = "|".join(self.doc_text[d] for d in docs)
        answer = self.answer_text[entry]
        by_entry = q.coverage_by(joined)
        by_answer = q.coverage_by(answer)
        # The query names trades and none of them is the entry's (未成年人能住旅馆吗 against the grocery's tobacco rule).
        trade, scope = self.entries[entry].trade, self.entries[entry].scope
        trade_conflict = (
            1.0
            if q.trades and ((trade is not None and trade not in q.trades) or (scope and not scope & q.trades))
            else 0.0
        )
        # The query names a key term the entry never speaks of (未成年人 against a beauty salon's medical rule).
        if q.other_keys:
            keys = self.entry_keys[entry] if exclude is None else self._entry_keys(docs, entry)
            key_unexplained = 1.0 if q.other_keys - keys else 0.0
        else:
            key_unexplained = 0.0
        if any(
            word not in joined and word not in answer and (not typed or (typed not in joined and typed not in answer))
            for typed, word in q.corrected
        ):
            key_unexplained = 1.0
        # Nothing the query asks beyond its key terms and question words is in the entry, not even character by
        # character: the match rests on a shared key term alone (未成年人发烧怎么办 against 学生来买烟怎么办).
        if q.content:
            no_content = 0.0 if any(_explains(g, joined, answer) for g in q.content) else 1.0
        else:
            # Only key terms and question words: the entry must have a question naming all of those key terms
            # (健康证多久 fits 健康证多久办一次; 未成年人身份证怎么办 does not fit the tobacco rule).
            named = q.trades | q.other_keys
            no_content = 0.0 if not named or any(named <= self.doc_keys[d] for d in docs) else 1.0
        w = self.weights
        # The entry-level and query-level terms are the same for every question of the entry.
        base = (
            self.bias
            + w[3] * by_entry
            + w[4] * by_answer
            + w[6] * q.novel
            + w[7] * q.foreign_place
            + w[8] * trade_conflict
            + w[9] * key_unexplained
            + w[10] * no_content
            + w[11] * q.fixes
        )
        best_z, best_doc, best_feats = -math.inf, docs[0], (0.0, 0.0, 0.0, 0.0)
        for doc in docs:
            doc_text = self.doc_text[doc]
            # Bigrams shared by query and question weigh the same from either side (all are known bigrams),
            # so one sum serves both coverages.
            shared = q.covered_by(doc_text)
            doc_total = self.doc_weight[doc]
            by_query = shared / q.total if q.total else 0.0
            by_doc = shared / doc_total if doc_total else 0.0
            ratio = fuzz.ratio(q.compact, self.doc_compact[doc]) / 100.0
            key_missing = 1.0 if q.lacks_any(self.doc_keys[doc]) else 0.0
            z = base + w[0] * by_query + w[1] * by_doc + w[2] * ratio + w[5] * key_missing + w[12] * by_doc * q.long
            if z > best_z:
                best_z, best_doc, best_feats = z, doc, (by_query, by_doc, ratio, key_missing)
        by_query, by_doc, ratio, key_missing = best_feats
        feats = (
            by_query,
            by_doc,
            ratio,
            by_entry,
            by_answer,
            key_missing,
            q.novel,
            q.foreign_place,
            trade_conflict,
            key_unexplained,
            no_content,
            float(q.fixes),
            by_doc * q.long,
        )
        return Hit(self.entries[entry], self.doc_question[best_doc], _sigmoid(best_z), feats)

    def calibrate(self, features: Sequence[float]) -> float:
        return _sigmoid(self.bias + sum(w * f for w, f in zip(self.weights, features, strict=True)))

    def known_only(self, query: str) -> str:
        """The question without the characters the knowledge base never uses (亲戚, 手机 in a story): what is left is
        what an entry could match."""
        return "".join(ch for ch in basic_normalize(query) if ch in self.chars)

    def search(self, query: object, k: int = 5, exclude: int | None = None) -> list[Hit]:
        """Best entries for the query, best first. `exclude` hides one question (leave-one-out calibration)."""
        prepared = self._prepare(query)
        if prepared is None:
            return []
        q, text = prepared
        hits = [h for e in self._recall(text, exclude) if (h := self._score_entry(q, e, exclude)) is not None]
        hits.sort(key=lambda h: h.score, reverse=True)
        # Scores within a hundredth of the best are a tie, won by the closest wording (a stored question typed word
        # for word wins).
        tied = [h for h in hits if h.score >= hits[0].score - TIE] if hits else []
        if len(tied) > 1:
            first = max(tied, key=lambda h: h.features[2])
            hits.remove(first)
            hits.insert(0, first)
        return hits[:k]

    def judge(self, query: object, entry: Entry) -> Hit | None:
        """The query scored against one entry, whether or not the search would recall it (the features say what
        speaks against an entry another method picked)."""
        prepared = self._prepare(query)
        position = self.position.get(entry.id)
        if prepared is None or position is None:
            return None
        return self._score_entry(prepared[0], position, None)

    def _prepare(self, query: object) -> tuple[_Query, str] | None:
        basic = basic_normalize(query)
        fixed, words = self.homophones.fix_words(basic) if self.homophones is not None else (basic, ())
        fixes = len(words)
        text = self.normalize.finish(fixed)
        # A bare key term (饭店, 未成年人, also 饭店 typed a thousand times) names a topic, not a question: many
        # entries fit it equally well and picking one would be a guess.
        if len(text) < MIN_QUERY_CHARS or text in self.normalize.key_terms:
            return None
        q = _Query(self, text, fixes)
        # A word read through a typo (消du → 消毒) was what the asker meant: an entry silent on it, and on the text as
        # typed (处方要 is no typo in 处方要保存多久), is not the answer.
        finish = self.normalize.finish
        # Two Chinese characters read as another two-character word are often a seam between words (游戏可以: 戏可 is no
        # typo of 许可), so only longer words and pinyin-typed ones (消du) count.
        q.corrected = tuple(
            (finish(typed), finish(word))
            for typed, word in words
            if finish(word) and (len(word) >= LONG_CORRECTION or any(ch.isascii() for ch in typed))
        )
        return q, text
