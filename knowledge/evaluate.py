"""Accuracy of the answerer on a labelled question set (used by `shixiao kb eval`, the tests and the bench)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.answer import Answerer
from knowledge.models import KnowledgeError
from knowledge.yaml_errors import YamlFileError, read_yaml_file


@dataclass(frozen=True)
class Question:
    q: str
    expect: str | None  # None: out of scope, the answerer should abstain


@dataclass
class EvalResult:
    in_scope: int = 0
    out_of_scope: int = 0
    top1_hits: int = 0  # answered (not abstained) with the expected entry
    top3_hits: int = 0  # expected entry among the three best candidates, whatever the threshold
    abstained_in: int = 0
    abstained_out: int = 0
    misses: list[dict[str, object]] = field(default_factory=list)

    @property
    def top1(self) -> float:
        return self.top1_hits / self.in_scope if self.in_scope else 0.0

    @property
    def top3(self) -> float:
        return self.top3_hits / self.in_scope if self.in_scope else 0.0

    @property
    def abstention_out(self) -> float:
        """Share of out-of-scope questions answered 不确定 (should be high)."""
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
        }


def load_question_set(path: Path | str) -> list[Question]:
    """A YAML list of {q: question, expect: entry id or null}; errors name the item, in Chinese."""
    name = str(path)
    try:
        raw = read_yaml_file(Path(path))
    except YamlFileError as exc:
        raise KnowledgeError(f"{name}：{exc}") from None
    if not isinstance(raw, list):
        raise KnowledgeError(f"{name}：应为列表，每项形如 {{q: 问题, expect: 条目id 或 null}}")
    questions = []
    for number, item in enumerate(raw, 1):
        if not isinstance(item, dict) or "q" not in item or "expect" not in item:
            raise KnowledgeError(f"{name}：第{number}项应含 q 和 expect 两个字段")
        q, expect = item["q"], item["expect"]
        if not isinstance(q, str) or not (expect is None or isinstance(expect, str)):
            raise KnowledgeError(f"{name}：第{number}项：q 应为文字，expect 应为条目 id 或 null")
        questions.append(Question(q, expect))
    return questions


def evaluate(
    answerer: Answerer,
    questions: Sequence[Question],
    advance: Callable[[], None] | None = None,
) -> EvalResult:
    known = {entry.id for entry in answerer.kb.entries}
    unknown = sorted({q.expect for q in questions if q.expect is not None and q.expect not in known})
    if unknown:
        raise KnowledgeError(f"问题集中 expect 引用了知识库里没有的条目：{'、'.join(unknown)}")
    result = EvalResult()
    for question in questions:
        answer = answerer.answer(question.q)
        if question.expect is None:
            result.out_of_scope += 1
            result.abstained_out += answer.abstained
            ok = answer.abstained
        else:
            result.in_scope += 1
            result.abstained_in += answer.abstained
            ok = not answer.abstained and answer.entry_id == question.expect
            result.top1_hits += ok
            result.top3_hits += question.expect in answerer.ranked_ids(question.q, 3)
        if not ok:
            result.misses.append({"q": question.q, "expect": question.expect, "got": answer.entry_id,
                                  "score": round(answer.score, 3)})
        if advance is not None:
            advance()
    return result
