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
        text += sources.certainty.get(ref.certainty, "")
    return text


def fill_placeholders(text: str, values: Mapping[str, Callable[[], str]], where: str) -> str:
    """Replace {name} markers; an unknown marker is an error rather than text shown to users."""

    def repl(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            allowed = "、".join("{" + k + "}" for k in values) or "无"
            raise KnowledgeError(f"{where}：答案中的占位符 {{{key}}} 无法识别（此处可用：{allowed}）")
        return values[key]()

    return _PLACEHOLDER.sub(repl, text)


def checklist_text(items: Sequence[ItemSpec]) -> str:
    by_id = {it.id: it for it in items}
    lines: list[str] = []
    number = 0
    for item in items:
        if item.kind == "gate":
            continue  # screening questions decide what is asked; they are not requirements
        number += 1
        line = f"{number}. {VETO_MARK if item.veto else ''}{item.text}"
        if item.relevant is not None:
            gate = by_id[item.relevant.item]
            line += f"（仅当“{gate.text}”为“{ANSWER_LABELS[item.relevant.equals]}”时检查）"
        lines.append(line)
    if any(it.veto for it in items):
        lines.append(f"（{VETO_MARK}为一票否决项：任一项不符合即不能评为规范达标）")
    return "\n".join(lines)


def licences_text(licences: Sequence[LicenceSpec]) -> str:
    return "\n".join(
        f"{n}. {lic.name}" + (f"（{lic.note}）" if lic.note else "") for n, lic in enumerate(licences, 1)
    )


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
