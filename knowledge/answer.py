"""Turns search hits into what the user sees: an answer with its source, suggestions, or an honest 不确定.

Before and around the search:
- a question about another county or city is declined, naming this county (places.yaml);
- a question in two or more parts gets each part answered, or the part that can be, saying which is left;
- a long question told as a story is also searched by its asking clause, with the trade the story names;
- an answer that depends on today (the phase, the next milestones, how long until one) uses the date it is given;
- when nothing is sure enough, the answer is 不确定 with up to three 您是想问 suggestions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from knowledge.conjoined import conjoined_terms, two_trades
from knowledge.hit_order import milestones_by_entry, narrow_first
from knowledge.homophones import typo_lexicon
from knowledge.loader import load_knowledge, make_normalizer
from knowledge.meaning import Meaning
from knowledge.models import Entry, KnowledgeBase
from knowledge.normalize import basic_normalize
from knowledge.off_topic import OFF_TOPIC, OFF_TOPIC_TEXT, is_off_topic
from knowledge.parts import asking_clause, question_parts, run_on_cuts, run_on_tails, story_focus
from knowledge.search import Hit, SearchIndex
from knowledge.today import asks_countdown, countdown_note, today_answer

# Calibrated scores read as probabilities (see search.py); below this we abstain.
THRESHOLD = 0.5
# Entries within this distance of the best one are offered as "您是想问" suggestions.
AMBIGUITY_MARGIN = 0.08
MAX_SUGGESTIONS = 2
# When not sure: up to this many suggestions, each at least this likely.
NOT_SURE_SUGGESTIONS = 3
SUGGESTION_FLOOR = 0.1
# …or, when nothing it asks is in the entry, at least this likely and of the trade the question names.
TRADE_SUGGESTION_FLOOR = 0.03
# Features of a hit (search.py) that rule it out as a suggestion.
OTHER_TRADE, TRADE_CONFLICT, KEY_UNEXPLAINED, NO_CONTENT = 7, 8, 9, 10  # 7: a business the KB does not cover
# A story's asking clause is a guess about what matters: its answer must be this much surer than a plain question's.
FOCUS_MARGIN = 0.1
# A countdown question's milestone entry goes first when at most this much less likely than the best hit.
COUNTDOWN_MARGIN = 0.1
# A part with at most this many characters besides question words is a follow-up to the part before it.
FOLLOW_UP_CHARS = 3
# A part, tail or cut scoring this high is taken without trying the other variants (they only cost time).
SURE = 0.9
# A run-on's first half is searched for this many cuts at most (those whose second half is surest).
CUTS_TRIED = 2
ELSEWHERE = "elsewhere"
NUMERALS = "一二三四"

NOT_SURE = "不确定：知识库里没有找到可靠的答案。请换个说法再问，或咨询所在乡镇整规办、行业牵头部门。"
ELSEWHERE_TEXT = (
    "您问的是{place}的情况。十小通只解答{county}“十小”整规的问题（依据{county}的实施方案和本县做法），"
    "{place}的规定和安排可能不同，请咨询当地的市场监管部门或整规办。"
)
ABROAD_TEXT = (
    "您问的是{place}的情况。十小通只解答{county}“十小”整规的问题（依据{county}的实施方案和我国现行规定），"
    "不解答其他国家的规定。"
)
NOT_OURS = "not_ours"
NOT_OURS_TEXT = (
    "{business}不在“十小”行业里。十小通只解答{county}“十小”行业（{industries}）整规的问题，这里没有它的规定，"
    "请咨询县市场监管局等相关部门。"
)
NOT_OUR_MATTER_TEXT = (
    "{matter}的问题不在十小通的解答范围内。十小通只解答{county}“十小”行业整规的问题（各行业的证照、卫生、消防、"
    "从业人员要求，以及整规的安排和进度），这个问题请咨询相关部门。"
)
PART_LEFT = "另外，“{part}”这一问，知识库里没有找到可靠的答案，请换个说法单独再问，或咨询所在乡镇整规办。"


@dataclass(frozen=True)
class Answer:
    answer: str
    source: str | None
    score: float
    abstained: bool
    suggestions: list[dict[str, str]] = field(default_factory=list)
    entry_id: str | None = None
    parts: list[str] = field(default_factory=list)  # the entries answered, in order (one for a plain answer)
    # "elsewhere": another county, city or country; "not_ours": a business not in 十小; "off_topic": nothing of 十小
    declined: str | None = None

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
        semantic: bool = True,
    ) -> None:
        self.kb = kb if kb is not None else load_knowledge(data_dir)
        self.threshold = threshold
        synonyms = self.kb.synonyms
        words = [basic_normalize(w) for g in synonyms.groups for w in (g.canonical, *g.variants)]
        terms = [basic_normalize(w) for w in synonyms.homophone_terms]
        self.index = SearchIndex(
            self.kb.entries,
            make_normalizer(synonyms),
            progress=progress,
            typo_words=typo_lexicon([*words, *terms, *synonyms.key_terms], terms),
            not_typos=[basic_normalize(w) for w in synonyms.not_typos],
        )
        self._milestones = milestones_by_entry(self.kb.milestones)
        # The sentence encoder's second opinion when the characters say 不确定 (semantic.py; off without the package).
        self.meaning = Meaning(self.kb.entries, self.index) if semantic else None
        self._conjoinable = frozenset(
            w for w in (basic_normalize(t) for t in (*synonyms.homophone_terms, *synonyms.key_terms)) if len(w) == 2
        )
        bare_terms = self.kb.vocabulary.bare_terms if self.kb.vocabulary is not None else {}
        self._bare_ids = {self.index.normalize(term): ident for term, ident in bare_terms.items()}

    # ---- the answer ---------------------------------------------------------------------------------------

    def answer(self, question: object, today: date | None = None) -> Answer:
        text = question if isinstance(question, str) else ""
        places = self.kb.places
        if places is not None and (place := places.named(text)) is not None:
            return Answer(ELSEWHERE_TEXT.format(place=place, county=places.county), None, 0.0, True, declined=ELSEWHERE)
        if places is not None and (country := places.abroad(text)) is not None:
            text_abroad = ABROAD_TEXT.format(place=country, county=places.county)
            return Answer(text_abroad, None, 0.0, True, declined=ELSEWHERE)
        not_ours = self._not_ours(text)
        if not_ours is not None:
            return Answer(not_ours, None, 0.0, True, declined=NOT_OURS)
        bare = self._bare(text)
        if bare is not None:
            return Answer(bare.answer, bare.source, self.threshold, False, [], bare.id, [bare.id])
        hits = narrow_first(self._countdown_first(self.index.search(question, k=1 + NOT_SURE_SUGGESTIONS), text))
        parts = question_parts(text)
        if parts:
            answered = self._parts(text, parts, today)
            if answered is not None:
                return answered
        else:
            answered = self._run_on(text, today) or self._conjoined(text, hits, today)
            if answered is not None:
                return answered
        if not hits or hits[0].score < self.threshold:
            story = self._story(text)
            if story is not None:
                return self._single(story, [], text, today)
            # Decided once: nothing of 十小 in the question means no encoder pick, no suggestions, and a plain decline.
            off_topic = is_off_topic(self.index, text)
            meant = self.meaning.pick(text) if self.meaning is not None and not off_topic else None
            if meant is not None:
                entry, closeness = meant
                return Answer(self._text(entry, text, today), entry.source, closeness, False, [], entry.id, [entry.id])
            return self._not_sure(hits, text, off_topic)
        top = hits[0]
        floor = max(top.score - AMBIGUITY_MARGIN, self.threshold - AMBIGUITY_MARGIN)
        suggestions = [_suggestion(h.entry) for h in hits[1 : 1 + MAX_SUGGESTIONS] if h.score >= floor]
        return self._single(top, suggestions, text, today)

    def ranked_ids(self, question: object, k: int = 3) -> list[str]:
        """Entry ids of the k best candidates, whatever their score (for evaluation)."""
        return [h.entry.id for h in self.index.search(question, k=k)]

    # ---- pieces -------------------------------------------------------------------------------------------

    def _single(self, hit: Hit, suggestions: list[dict[str, str]], text: str, today: date | None) -> Answer:
        entry = hit.entry
        return Answer(self._text(entry, text, today), entry.source, hit.score, False, suggestions, entry.id, [entry.id])

    def _text(self, entry: Entry, question: str, today: date | None) -> str:
        """The entry's answer, with what today changes: the current phase, or how long until a milestone."""
        if today is None:
            return entry.answer
        if entry.id == self.kb.today_entry:
            return today_answer(self.kb.phases, self.kb.milestones, today)
        milestones = self._milestones.get(entry.id)
        if milestones and asks_countdown(question):
            return entry.answer + countdown_note(milestones, today)
        return entry.answer

    def _story(self, text: str) -> Hit | None:
        """A question told as a story: its asking clause (with the clause before it and the trade it names), and the
        whole of it without the words the knowledge base never uses; the surer of the two, if sure enough."""
        focus = story_focus(text)
        # Typed without punctuation, a story has no clauses: its last few characters stand for its asking clause.
        variants = [focus] if focus is not None else run_on_tails(text)
        # The asking clause alone, with the trade the story names (卖烟要不要另外办证 after 开了个小超市).
        # Only when a trade or another key term is then named: "我们这种要办什么手续" alone could be any trade's.
        clause = asking_clause(text)
        normalize = self.index.normalize
        if clause is not None and normalize.keys_in(normalize(self._with_trade(clause, text))):
            variants.append(clause)
        if not variants:
            return None
        best: Hit | None = None
        for variant in (*variants, self.index.known_only(text)):
            for hit in self.index.search(self._with_trade(variant, text), k=1):
                if best is None or hit.score > best.score:
                    best = hit
            if best is not None and best.score >= SURE:
                break  # the shorter variants come first; a sure one is as good as any
        return best if best is not None and best.score >= self.threshold + FOCUS_MARGIN else None

    def _not_ours(self, text: str) -> str | None:
        """The decline for a business outside the ten trades (宠物店洗澡, vocabulary.yaml not_ours) or a matter no
        十小 rule speaks of (驾照, 离婚: not_our_matters), or None."""
        vocabulary = self.kb.vocabulary
        if vocabulary is None or not text:
            return None
        basic = basic_normalize(text)

        def named(table: dict[str, list[str]]) -> str | None:
            return next(
                (name for name, words in table.items() if any(basic_normalize(w) in basic for w in words)), None
            )

        county = self.kb.places.county if self.kb.places is not None else "本县"
        if (matter := named(vocabulary.not_our_matters)) is not None:
            return NOT_OUR_MATTER_TEXT.format(matter=matter, county=county)
        if (business := named(vocabulary.not_ours)) is None:
            return None
        return NOT_OURS_TEXT.format(
            business=business, county=county, industries="、".join(c.name for c in self.kb.checklists.values())
        )

    def _countdown_first(self, hits: list[Hit], text: str) -> list[Hit]:
        """A question asking how long until something (还有几天) asks about a milestone: a milestone's entry nearly as
        likely as the best hit goes first (离分类截止还有几天 is plan.ms.classify, not what the classes are)."""
        if not hits or hits[0].entry.id in self._milestones or not asks_countdown(text):
            return hits
        for n, hit in enumerate(hits[1:], 1):
            if hit.entry.id in self._milestones and hit.score >= hits[0].score - COUNTDOWN_MARGIN:
                return [hit, *hits[:n], *hits[n + 1 :]]
        return hits

    def _bare(self, text: str) -> Entry | None:
        """The entry for a key term asked on its own (vocabulary.yaml bare_terms), if any."""
        if self.kb.vocabulary is None or not self.kb.vocabulary.bare_terms:
            return None
        ident = self._bare_ids.get(self.index.normalize(text)) if text else None
        return self.kb.entry(ident) if ident else None

    def _with_trade(self, part: str, whole: str) -> str:
        """The part, with the trade the whole question names in front when the part names none."""
        normalize = self.index.normalize
        trades = normalize.keys_in(normalize(whole)) & self.index.trades
        if len(trades) != 1 or normalize.keys_in(normalize(part)) & self.index.trades:
            return part
        return next(iter(trades)) + part

    def _parts(self, text: str, parts: list[str], today: date | None) -> Answer | None:
        """Each part answered on its own; None when fewer than one part is sure (the whole question is tried)."""
        found: list[tuple[str, Hit | None]] = []
        for n, part in enumerate(parts):
            asked = self._with_trade(self._with_subject(part, parts[n - 1] if n else ""), text)
            hits = self.index.search(asked, k=1)
            found.append((part, hits[0] if hits and hits[0].score >= self.threshold else None))
        sure = [(part, hit) for part, hit in found if hit is not None]
        distinct: list[tuple[str, Hit]] = []
        for part, hit in sure:
            if all(hit.entry.id != other.entry.id for _, other in distinct):
                distinct.append((part, hit))
        if not distinct:
            return None
        # A part not sure on its own but whose best candidates include an entry already answered (多久办一次 after
        # 要健康证吗) is answered by that entry: not "left".
        answered = {hit.entry.id for _, hit in distinct}
        left = [part for part, hit in found if hit is None and not self._covered(part, text, answered)]
        if len(distinct) == 1 and not left:
            return None  # every part asks the same thing: one answer, as for the whole question
        if len(distinct) == 1 and distinct[0][1].score < self.threshold + FOCUS_MARGIN:
            return None  # one part of several, not much surer than a guess: not answered on its own
        return self._sections(distinct, left, today)

    def _run_on(self, text: str, today: date | None) -> Answer | None:
        """Two questions typed as one run without punctuation ("KTV要什么证几点关门"): the cut between two question
        words whose halves are both answered, by different entries, with a story's margin; None when there is none."""
        # The short second halves first (cheap); the first halves only for the two cuts whose second half is surest.
        seconds: list[tuple[float, str, str, Hit]] = []
        for left, right in run_on_cuts(text):
            hits = self.index.search(self._with_trade(self._with_subject(right, left), text), k=1)
            if hits and hits[0].score >= self.threshold + FOCUS_MARGIN:
                seconds.append((hits[0].score, left, right, hits[0]))
        best: tuple[float, list[tuple[str, Hit]]] | None = None
        for _, left, right, second in sorted(seconds, key=lambda c: -c[0])[:CUTS_TRIED]:
            hits = self.index.search(self._with_trade(left, text), k=1)
            if not hits or hits[0].score < self.threshold + FOCUS_MARGIN or hits[0].entry.id == second.entry.id:
                continue
            score = min(hits[0].score, second.score)
            if best is None or score > best[0]:
                best = (score, [(left, hits[0]), (right, second)])
        return None if best is None else self._sections(best[1], [], today)

    def _conjoined(self, text: str, hits: list[Hit], today: date | None) -> Answer | None:
        """Two things asked with 和 (消防和卫生) or two trades asked alike (饭店和小卖部): see conjoined.py."""
        floor = self.threshold + FOCUS_MARGIN
        best = conjoined_terms(self.index, self._conjoinable, text, hits, floor) or two_trades(
            self.index, text, hits, floor, self.threshold
        )
        return None if best is None else self._sections(best, [], today)

    def _with_subject(self, part: str, before: str) -> str:
        """The part, with the key terms (other than trades) of the part before it in front when it names none: a
        follow-up (多久办一次 after 服务员要健康证吗) asks about the same thing."""
        normalize = self.index.normalize
        asked = normalize(part)
        if not before or normalize.keys_in(asked) - self.index.trades:
            return part
        # Only a part that says little besides question words (多久办一次, not 客人丢的东西怎么处理) is a follow-up.
        shape = [False] * len(asked)
        for word in normalize.question_words:
            start = asked.find(word)
            while start >= 0:
                shape[start : start + len(word)] = [True] * len(word)
                start = asked.find(word, start + 1)
        if shape.count(False) > FOLLOW_UP_CHARS:
            return part
        subject = sorted(normalize.keys_in(normalize(before)) - self.index.trades - set(normalize.question_words))
        return "".join(subject) + part if subject else part

    def _covered(self, part: str, whole: str, answered: set[str]) -> bool:
        """Whether an entry already answered is among the part's best candidates (with the whole's trade)."""
        hits = self.index.search(self._with_trade(part, whole), k=NOT_SURE_SUGGESTIONS)
        return any(h.entry.id in answered and h.score >= SUGGESTION_FLOOR for h in hits)

    def _sections(self, distinct: list[tuple[str, Hit]], left: list[str], today: date | None) -> Answer:
        """One answer from the parts answered (a heading each when several) and a note for each part left."""
        if today is not None and any(hit.entry.id == self.kb.today_entry for _, hit in distinct):
            # Today's answer names the current phase, its work and the next milestones with their countdowns: another
            # phase's entry beside it contradicts it, a milestone's repeats it.
            phase_ids = {f"plan.phase{p.number}" for p in self.kb.phases}
            distinct = [
                (p, h) for p, h in distinct if h.entry.id not in phase_ids and h.entry.id not in self._milestones
            ]
            if len(distinct) == 1 and not left:
                part, hit = distinct[0]
                return self._single(hit, [], part, today)
        sections = []
        for n, (part, hit) in enumerate(distinct):
            heading = f"{NUMERALS[n]}、{part}\n" if len(distinct) > 1 else ""
            sections.append(f"{heading}{self._text(hit.entry, part, today)}\n（出处：{hit.entry.source}）")
        sections += [PART_LEFT.format(part=part) for part in left]
        score = min(hit.score for _, hit in distinct)
        sources = "；".join(dict.fromkeys(hit.entry.source for _, hit in distinct))
        ids = [hit.entry.id for _, hit in distinct]
        return Answer("\n\n".join(sections), sources, score, False, [], ids[0], ids)

    def _not_sure(self, hits: list[Hit], text: str, off_topic: bool) -> Answer:
        """不确定, with the candidates worth offering: something the question asks is in them, or they belong to the
        trade it names; never another trade's, nor one silent on a key term of the question."""
        normalize = self.index.normalize
        trades = normalize.keys_in(normalize(text)) & self.index.trades if text else frozenset()
        suggestions = [
            _suggestion(h.entry)
            for h in hits
            if not h.features[TRADE_CONFLICT]
            and not h.features[KEY_UNEXPLAINED]
            and not h.features[OTHER_TRADE]
            and (
                h.score >= SUGGESTION_FLOOR
                if not h.features[NO_CONTENT]
                else h.score >= TRADE_SUGGESTION_FLOOR and h.entry.trade in trades
            )
        ][:NOT_SURE_SUGGESTIONS]
        if not hits:
            suggestions = self._topic_suggestions(text)
        if not suggestions and self.meaning is not None and not off_topic:
            suggestions = [_suggestion(entry) for entry in self.meaning.suggest(text)]
        if not suggestions and off_topic:
            county = self.kb.places.county if self.kb.places is not None else "本县"
            return Answer(OFF_TOPIC_TEXT.format(county=county), None, 0.0, True, declined=OFF_TOPIC)
        return Answer(NOT_SURE, None, hits[0].score if hits else 0.0, True, suggestions)

    def _topic_suggestions(self, text: str) -> list[dict[str, str]]:
        """A bare trade (饭店) names a topic, not a question: offer its licences, standards and department."""
        normalized = self.index.normalize(text)
        if normalized not in self.index.trades:
            return []
        wanted = ("licences", "standards", "lead")
        found = [e for e in self.kb.entries if e.trade == normalized and e.id.rsplit(".", 1)[-1] in wanted]
        return [_suggestion(e) for e in sorted(found, key=lambda e: wanted.index(e.id.rsplit(".", 1)[-1]))]


def _suggestion(entry: Entry) -> dict[str, str]:
    return {"id": entry.id, "question": entry.questions[0]}
