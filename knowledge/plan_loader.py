"""The county plan (plan.yaml): its entries, phases, dated milestones and the entries answered from today's date."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from knowledge import render
from knowledge.kb_builder import Builder
from knowledge.models import (
    KnowledgeError,
    Milestone,
    PlanFile,
    SourceRef,
)


def load_plan(b: Builder, industries: Sequence[str]) -> tuple[PlanFile, list[Milestone]]:
    """The plan's entries and milestones. `industries` (the county's list, in order) fills {industries}, so an
    answer that names the ten trades never disagrees with industries.yaml."""
    name = "plan.yaml"
    plan = b.load(PlanFile, name)
    year = plan.targets.year
    numbers: set[int] = set()
    ids: set[str] = set()
    by_date: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for m in plan.milestones:
        where = f"{name}：时间节点 {m.id}"
        if m.id in ids:
            raise KnowledgeError(f"{where}：id 重复")
        ids.add(m.id)
        if m.number in numbers:
            raise KnowledgeError(f"{where}：序号 number: {m.number} 重复")
        numbers.add(m.number)
        if not m.year_end:
            try:
                dt.date(year, m.month or 0, m.day or 0)
            except ValueError:
                raise KnowledgeError(f"{where}：{m.month}月{m.day}日不是有效日期") from None
        by_date[(13, 0) if m.year_end else (m.month or 0, m.day or 0)].append(m)
    doc = SourceRef(doc=plan.document)
    base = b.source(doc, name, "document")
    reviewed = plan.reviewed
    b.add_specs(plan, name, {"industries": lambda: "、".join(industries)})
    for p in plan.phases:
        b.add(
            name,
            f"plan.phase{p.number}",
            p.questions,
            f"{render.phase_heading(p)}：{p.summary}",
            base + "四、（一）",
            reviewed,
        )
    b.add(
        name,
        plan.phases_entry.id,
        plan.phases_entry.questions,
        render.phases_text(plan.phases),
        base + "四、（一）",
        reviewed,
    )
    for m in plan.milestones:
        b.add(
            name,
            f"plan.ms.{m.id}",
            m.questions,
            render.milestone_answer(m, year),
            f"{base}四、（二）第{m.number}项",
            reviewed,
        )
    for _key, group in sorted(by_date.items()):
        label = render.milestone_date(group[0], year)
        ident = "plan.date.year_end" if group[0].year_end else f"plan.date.m{group[0].month:02d}d{group[0].day:02d}"
        questions = [q.replace("{date}", label) for q in plan.date_entry_questions]
        items = "、".join(f"第{m.number}项" for m in group)
        b.add(name, ident, questions, render.date_answer(group, year), f"{base}四、（二）{items}", reviewed)
    b.add(
        name,
        plan.schedule_entry.id,
        plan.schedule_entry.questions,
        render.schedule_text(plan.milestones, year),
        base + "四、（二）",
        reviewed,
    )
    if plan.today_entry is not None:  # without a date (no clock) it answers with the whole schedule
        b.add(
            name,
            plan.today_entry.id,
            plan.today_entry.questions,
            render.schedule_text(plan.milestones, year),
            base + "四、（一）（二）",
            reviewed,
        )
    milestones = [
        Milestone(m.id, m.number, m.month, m.day, m.year_end, m.title, tuple(m.responsible), m.text)
        for m in plan.milestones
    ]
    return plan, milestones
