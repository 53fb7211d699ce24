"""Answer texts generated from structured data, so a fact is written once and every answer agrees with it."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from knowledge.models import (
    ANSWER_LABELS,
    ItemSpec,
    KnowledgeError,
    LicenceSpec,
    MilestoneSpec,
    PhaseSpec,
    SourceRef,
    SourcesFile,
)

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
VETO_MARK = "★"


def render_source(ref: SourceRef, sources: SourcesFile, where: str) -> str:
    doc = sources.documents.get(ref.doc)
    if doc is None:
        known = "、".join(sorted(sources.documents))
        raise KnowledgeError(f"{where}：来源文件 doc: {ref.doc} 未在 sources.yaml 中登记（已登记：{known}）")
    text = doc.title + (ref.section or "")
    if ref.certainty:
        wording = sources.certainty_with_section if ref.section else sources.certainty
        text += wording.get(ref.certainty, sources.certainty.get(ref.certainty, ""))
    return text


def superseded_note(answer: str, ref: SourceRef, sources: SourcesFile) -> str:
    """The answer, with the 注 of a superseded source document after it unless the answer already speaks of it,
    and what the cited section says now when that is known (现行规定：…)."""
    doc = sources.documents.get(ref.doc)
    if doc is None or doc.superseded is None:
        return answer
    if f"{doc.superseded.year}年" not in answer:
        answer = f"{answer}\n注：{doc.superseded.note}"
    now = [text for key, text in doc.superseded.current.items() if key in (ref.section or "")]
    if now and "现行规定：" not in answer:
        answer += "\n现行规定：" + " ".join(now)
    return answer


def fill_placeholders(text: str, values: Mapping[str, Callable[[], str]], where: str) -> str:
    """Replace {name} markers; an unknown marker is an error rather than text shown to users."""

    def repl(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            allowed = "、".join("{" + k + "}" for k in values) or "无"
            raise KnowledgeError(f"{where}：答案中的占位符 {{{key}}} 无法识别（此处可用：{allowed}）")
        return values[key]()

    return _PLACEHOLDER.sub(repl, text)


# An item resting only on typical practice (certainty 典) is marked so, in checklists and in its own answer: it is
# not presented as a legal requirement.
PRACTICE_MARK = "（通行做法）"
PRACTICE_NOTE = "标“通行做法”的是各地整治的通行做法，未见正式条文，以当地规定为准"


def _is_practice(item: ItemSpec) -> bool:
    return item.source.certainty == "典"


def _condition(item: ItemSpec, by_id: Mapping[str, ItemSpec]) -> str:
    if item.relevant is None:
        return ""
    gate = by_id[item.relevant.item]
    return f"（仅当“{gate.text}”为“{ANSWER_LABELS[item.relevant.equals]}”时检查）"


def checklist_text(items: Sequence[ItemSpec], context: Sequence[ItemSpec] = ()) -> str:
    """The numbered check items; `context` is the whole checklist when `items` is a part of it (for the conditions)."""
    by_id = {it.id: it for it in (*context, *items)}
    lines: list[str] = []
    number = 0
    for item in items:
        if item.kind == "gate":
            continue  # screening questions decide what is asked; they are not requirements
        number += 1
        mark = PRACTICE_MARK if _is_practice(item) else ""
        lines.append(f"{number}. {VETO_MARK if item.veto else ''}{item.text}{mark}{_condition(item, by_id)}")
    checks = [it for it in items if it.kind != "gate"]
    if any(it.veto for it in checks):
        lines.append(f"（{VETO_MARK}为一票否决项：任一项不符合即不能评为规范达标）")
    if any(_is_practice(it) for it in checks):
        lines.append(f"（{PRACTICE_NOTE}）")
    return "\n".join(lines)


def item_answer(item: ItemSpec, known: Mapping[str, ItemSpec], scope: str) -> str:
    """The answer of a check item that has no FAQ of its own: the requirement, how it is checked, and how sure."""
    veto = "，属一票否决项" if item.veto else ""
    text = f"{scope}的检查项：{item.text}{veto}{_condition(item, known)}。"
    if _is_practice(item):
        text += "这是各地整治的通行做法，未见正式条文，以当地规定为准。"
    return text


def licences_text(licences: Sequence[LicenceSpec]) -> str:
    return "\n".join(f"{n}. {lic.name}" + (f"（{lic.note}）" if lic.note else "") for n, lic in enumerate(licences, 1))


def milestone_date(m: MilestoneSpec, year: int) -> str:
    return f"{year}年底" if m.year_end else f"{m.month}月{m.day}日"


def milestone_answer(m: MilestoneSpec, year: int) -> str:
    when = f"{year}年底" if m.year_end else f"{m.month}月{m.day}日前"
    return f"{when}：{m.text}\n责任主体：{'、'.join(m.responsible)}。"


def date_answer(milestones: Sequence[MilestoneSpec], year: int) -> str:
    when = milestone_date(milestones[0], year)
    head = f"{when}" + ("" if milestones[0].year_end else "前") + "要完成的工作："
    body = [f"{n}. {m.text}（责任主体：{'、'.join(m.responsible)}）" for n, m in enumerate(milestones, 1)]
    return "\n".join([head, *body])


def schedule_text(milestones: Sequence[MilestoneSpec], year: int) -> str:
    lines = [f"{year}年“十小”整规工作时间安排（共{len(milestones)}项）："]
    for m in milestones:
        when = milestone_date(m, year) + ("" if m.year_end else "前")
        lines.append(f"{m.number}. {when}：{m.title}（{'、'.join(m.responsible)}）")
    return "\n".join(lines)


def phases_text(phases: Sequence[PhaseSpec]) -> str:
    lines = [f"全年工作分{len(phases)}个阶段："]
    lines += [f"{phase_heading(p)}：{p.summary}" for p in phases]
    return "\n".join(lines)


def phase_heading(p: PhaseSpec) -> str:
    numerals = "一二三四五六七八九"
    label = numerals[p.number - 1] if p.number <= len(numerals) else str(p.number)
    return f"第{label}阶段（{p.start_month}月-{p.end_month}月）{p.name}"
