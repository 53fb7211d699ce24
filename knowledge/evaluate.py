"""Accuracy of the answerer on a labelled question set (used by `shixiao kb eval`, the tests and the bench).

A question expects one entry (`expect: plan.targets`, or `plan.demo|plan.ms.demo_sites` when either answers it
rightly), several (`expect: [rest.licences, common.health_cert]`, a question in two parts: every part must be
answered, and nothing else), none (`expect: null`, out of scope: the
answer must be 不确定 or a decline) or a decline naming this county (`expect: elsewhere`, a question about another
county or city). Results are also broken down by industry and by topic, from the expected entries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from knowledge.answer import Answerer
from knowledge.models import Entry, KnowledgeError
from knowledge.yaml_errors import YamlFileError, read_yaml_file

ELSEWHERE = "elsewhere"
OUT_OF_SCOPE = "范围外"
DECLINED_PLACE = "外地（应说明本县）"

# Topic of an entry, from its id: the first rule whose pattern the id contains wins (checked in order).
_TOPICS: tuple[tuple[str, str], ...] = (
    (".licences", "证照"),
    ("tobacco_licence", "证照"),
    ("current.", "现行规定"),
    (".standards", "检查标准"),
    (".lead", "牵头部门"),
    (".topic.", "分项要求"),
    ("plan.today", "时间安排"),
    ("plan.ms.", "时间安排"),
    ("plan.date.", "时间安排"),
    ("plan.phase", "时间安排"),
    ("plan.schedule", "时间安排"),
    ("plan.duty", "职责分工"),
    ("plan.office", "职责分工"),
    ("plan.township_leadership", "职责分工"),
    ("plan.responsibility", "职责分工"),
    ("plan.targets", "目标与达标"),
    ("plan.township_complete", "目标与达标"),
    ("plan.industry_target", "目标与达标"),
    ("plan.compliance_rate", "目标与达标"),
    ("plan.", "方案其他内容"),
    ("industries.", "方案其他内容"),
    ("fsl.", "食品安全法"),
    ("bot.", "十小通使用"),
    ("common.checklist", "检查标准"),
    ("common.evaluation", "检查标准"),
)
_SPECIFIC = "具体要求"  # a checklist item or its FAQ


@dataclass(frozen=True)
class Question:
    q: str
    expect: str | None  # the (first) expected entry; None: out of scope or another place
    parts: tuple[str, ...] = ()  # every expected entry, in order (empty when out of scope)
    elsewhere: bool = False  # about another county or city: must be declined naming this county
    alternatives: tuple[frozenset[str], ...] = ()  # per part, the entries that answer it rightly (a|b)

    def answered_by(self, parts: Sequence[str]) -> bool:
        options = self.alternatives or tuple(frozenset({p}) for p in self.parts)
        return len(parts) == len(options) and all(p in o for p, o in zip(parts, options, strict=True))


@dataclass
class Tally:
    total: int = 0
    right: int = 0
    not_sure: int = 0

    def add(self, ok: bool, abstained: bool) -> None:
        self.total += 1
        self.right += ok
        self.not_sure += abstained


@dataclass
class EvalResult:
    in_scope: int = 0
    out_of_scope: int = 0
    top1_hits: int = 0  # answered (not abstained) with exactly the expected entries
    top3_hits: int = 0  # the (first) expected entry among the three best candidates, whatever the threshold
    abstained_in: int = 0
    abstained_out: int = 0
    elsewhere: int = 0  # questions about another place
    elsewhere_named: int = 0  # of those, declined naming this county
    wrong_in: int = 0  # in-scope questions answered, but not with the expected entries
    misses: list[dict[str, object]] = field(default_factory=list)
    by_industry: dict[str, Tally] = field(default_factory=dict)
    by_topic: dict[str, Tally] = field(default_factory=dict)

    @property
    def top1(self) -> float:
        return self.top1_hits / self.in_scope if self.in_scope else 0.0

    @property
    def top3(self) -> float:
        return self.top3_hits / self.in_scope if self.in_scope else 0.0

    @property
    def abstention_out(self) -> float:
        """Share of out-of-scope questions answered 不确定 or declined (should be high)."""
        return self.abstained_out / self.out_of_scope if self.out_of_scope else 0.0

    @property
    def abstention_in(self) -> float:
        """Share of in-scope questions answered 不确定 (should be low)."""
        return self.abstained_in / self.in_scope if self.in_scope else 0.0

    @property
    def abstention(self) -> float:
        total = self.in_scope + self.out_of_scope
        return (self.abstained_in + self.abstained_out) / total if total else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "questions": self.in_scope + self.out_of_scope,
            "in_scope": self.in_scope,
            "out_of_scope": self.out_of_scope,
            "top1": round(self.top1, 4),
            "top3": round(self.top3, 4),
            "abstention": round(self.abstention, 4),
            "abstention_out_of_scope": round(self.abstention_out, 4),
            "abstention_in_scope": round(self.abstention_in, 4),
            "wrong_in_scope": self.wrong_in,
            "elsewhere": self.elsewhere,
            "elsewhere_declined_naming_county": self.elsewhere_named,
            "by_industry": {k: vars(v) for k, v in self.by_industry.items()},
            "by_topic": {k: vars(v) for k, v in self.by_topic.items()},
        }


def _expectation(raw: object, where: str) -> Question | None:
    if not isinstance(raw, dict) or "q" not in raw or "expect" not in raw:
        raise KnowledgeError(f"{where}应含 q 和 expect 两个字段")
    q, expect = raw["q"], raw["expect"]
    if not isinstance(q, str):
        raise KnowledgeError(f"{where}q 应为文字")
    if expect is None:
        return Question(q, None)
    if expect == ELSEWHERE:
        return Question(q, None, (), True)
    if isinstance(expect, str):
        expect = [expect]
    if isinstance(expect, list) and expect and all(isinstance(e, str) for e in expect):
        options = tuple(frozenset(e.split("|")) for e in expect)
        firsts = tuple(e.split("|")[0] for e in expect)
        return Question(q, firsts[0], firsts, False, options)
    raise KnowledgeError(f"{where}expect 应为条目 id、id 列表（分几部分的问题）、null（范围外）或 elsewhere（外地）")


def load_question_set(path: Path | str) -> list[Question]:
    """A YAML list of {q: question, expect: …}; errors name the item, in Chinese."""
    name = str(path)
    try:
        raw = read_yaml_file(Path(path))
    except YamlFileError as exc:
        raise KnowledgeError(f"{name}：{exc}") from None
    if not isinstance(raw, list):
        raise KnowledgeError(f"{name}：应为列表，每项形如 {{q: 问题, expect: 条目id 或 null}}")
    return [q for number, item in enumerate(raw, 1) if (q := _expectation(item, f"{name}：第{number}项："))]


def topic_of(entry_id: str) -> str:
    return next((topic for pattern, topic in _TOPICS if pattern in entry_id), _SPECIFIC)


def industry_of(entry: Entry, names: dict[str, str]) -> str:
    """The industry's name for an industry file's entry, else what the entry is about."""
    if entry.file.startswith("industries/"):
        return names.get(entry.file.removeprefix("industries/").removesuffix(".yaml"), entry.file)
    return {
        "plan.yaml": "实施方案",
        "common.yaml": "各行业共有",
        "food_safety_law.yaml": "食品安全法",
        "industries.yaml": "实施方案",
        "current_rules.yaml": "现行规定",
        "general.yaml": "十小通使用",
    }.get(entry.file, "其他")


def evaluate(
    answerer: Answerer,
    questions: Sequence[Question],
    advance: Callable[[], None] | None = None,
    today: date | None = None,
    allow_unknown: bool = False,
) -> EvalResult:
    """`allow_unknown`: an expected entry the knowledge base lacks counts as a miss instead of an error (to measure
    a question set written before its entries)."""
    entries = {entry.id: entry for entry in answerer.kb.entries}
    unknown = sorted({p for q in questions for option in q.alternatives for p in option if p not in entries})
    for ident in unknown if allow_unknown else ():
        entries[ident] = Entry(ident, (), "", "", date.min, "（尚无此条目）")
    if unknown and not allow_unknown:
        raise KnowledgeError(f"问题集中 expect 引用了知识库里没有的条目：{'、'.join(unknown)}")
    names = {slug: checklist.name for slug, checklist in answerer.kb.checklists.items()}
    result = EvalResult()
    for question in questions:
        answer = answerer.answer(question.q, today=today)
        if not question.parts:
            result.out_of_scope += 1
            result.abstained_out += answer.abstained
            ok = answer.abstained
            group = OUT_OF_SCOPE
            if question.elsewhere:
                result.elsewhere += 1
                ok = answer.declined == ELSEWHERE
                result.elsewhere_named += ok
                group = DECLINED_PLACE
            for tally in (result.by_industry, result.by_topic):
                tally.setdefault(group, Tally()).add(ok, answer.abstained)
        else:
            result.in_scope += 1
            result.abstained_in += answer.abstained
            ok = not answer.abstained and question.answered_by(answer.parts)
            result.wrong_in += not answer.abstained and not ok
            result.top1_hits += ok
            result.top3_hits += question.parts[0] in answerer.ranked_ids(question.q, 3)
            first = entries[question.parts[0]]
            result.by_industry.setdefault(industry_of(first, names), Tally()).add(ok, answer.abstained)
            topic = "两问合一" if len(question.parts) > 1 else topic_of(first.id)
            result.by_topic.setdefault(topic, Tally()).add(ok, answer.abstained)
        if not ok:
            result.misses.append(
                {
                    "q": question.q,
                    "expect": list(question.parts) or (ELSEWHERE if question.elsewhere else None),
                    "got": answer.parts or answer.declined,
                    "score": round(answer.score, 3),
                }
            )
        if advance is not None:
            advance()
    return result
