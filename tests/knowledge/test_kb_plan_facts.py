"""The county plan's facts (永政办发〔2009〕58号) as the knowledge base states them: dates, targets, duties."""

from __future__ import annotations

import re

import pytest

from knowledge.loader import load_knowledge

PLAN = "永政办发〔2009〕58号《2009年永嘉县“十小”行业质量安全整治与规范工作实施方案》"


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


def test_targets(kb):
    t = kb.targets
    assert (t.year, t.township_share, t.unit_share_in_township, t.industry_unit_share) == (2009, 70, 80, 70)
    answer = kb.entry("plan.targets").answer
    assert "2009年底" in answer and "70%的乡镇" in answer and "80%的“十小”单位" in answer
    assert "各行业70%的单位" in answer
    assert "80%" in kb.entry("plan.township_complete").answer
    assert kb.entry("plan.targets").source == PLAN + "二、目标任务"


def test_phases(kb):
    answer = kb.entry("plan.phases").answer
    assert "第一阶段（3月-4月）宣传发动阶段" in answer
    assert "第二阶段（5月-10月）全面整规阶段" in answer
    assert "第三阶段（11月-12月）总结提升阶段" in answer
    assert "每季度组织一次" in kb.entry("plan.phase2").answer
    assert "每季度" in kb.entry("plan.quarterly_supervision").answer


EXPECTED_MILESTONES = [
    (1, "kickoff", 4, 15, ("县整规办", "乡镇", "各部门"), "目标责任书"),
    (2, "work_plan", 4, 20, ("乡镇", "牵头部门"), "报县质安办备案"),
    (3, "demo_sites", 4, 25, ("乡镇",), "示范点"),
    (4, "city_check", 4, 25, ("乡镇", "各部门"), "市整治办"),
    (5, "classify", 5, 5, ("乡镇", "各部门"), "整合提升类、整改规范类、关停取缔类"),
    (6, "revise_standards", 5, 5, ("牵头部门",), "《食品安全法》"),
    (7, "township_standards", 5, 15, ("乡镇",), "省、市级行业标准规范"),
    (8, "support_policy", 6, 25, ("各部门",), "资金、土地、税收、服务"),
    (9, "evaluation_criteria", 8, 31, ("牵头部门", "县整规办"), "综合工作评价标准由县整规办负责制定"),
    (10, "training", 9, 25, ("各部门", "乡镇"), "分期分批"),
    (11, "county_check", 10, 26, ("县整规办",), "工作进展情况和整治效果"),
    (12, "year_end_acceptance", None, None, ("县整规办", "乡镇", "各部门"), "市领导小组"),
]


def test_the_twelve_dated_tasks(kb):
    assert len(kb.milestones) == 12
    for m, (number, ident, month, day, responsible, phrase) in zip(kb.milestones, EXPECTED_MILESTONES, strict=True):
        assert (m.number, m.id, m.month, m.day, m.responsible) == (number, ident, month, day, responsible)
        assert m.year_end == (month is None)
        assert phrase in m.text
        entry = kb.entry(f"plan.ms.{ident}")
        assert entry.source == f"{PLAN}四、（二）第{number}项"
        assert phrase in entry.answer
    assert kb.milestones[-1].due(2009).isoformat() == "2009-12-31"
    assert kb.milestones[0].due(2009).isoformat() == "2009-04-15"


def test_date_entries_group_same_day_tasks(kb):
    both = kb.entry("plan.date.m04d25")
    assert "示范点" in both.answer and "市整治办" in both.answer
    assert both.source.endswith("四、（二）第3项、第4项")
    assert "2009年底" in kb.entry("plan.date.year_end").answer
    schedule = kb.entry("plan.schedule").answer
    for date in (
        "4月15日",
        "4月20日",
        "4月25日",
        "5月5日",
        "5月15日",
        "6月25日",
        "8月31日",
        "9月25日",
        "10月26日",
        "2009年底",
    ):
        assert date in schedule


def test_six_required_actions_and_six_systems(kb):
    actions = kb.entry("plan.six_actions").answer
    assert "动员会、责任书、现场会、出政策、抓培训、搞督查" in actions
    systems = kb.entry("plan.six_systems").answer
    assert ("联席（联络员）会议制度、信息报送制度、新闻发布制度、督查制度、投诉举报制度、联合执法制度") in systems
    assert kb.entry("plan.six_actions").source == PLAN + "五、（五）"


def test_duties_and_accountability(kb):
    assert "负总责" in kb.entry("plan.duty_township").answer
    assert "经发办" in kb.entry("plan.township_leadership").answer
    assert "第一责任人" in kb.entry("plan.township_leadership").answer
    lead = kb.entry("plan.duty_lead_department").answer
    assert "定时间、定任务、定人员、定措施" in lead
    assert "县质监部门" in kb.entry("plan.office").answer
    assert "主力军" in kb.entry("plan.duty_village").answer
    accountability = kb.entry("plan.accountability").answer
    assert "通报批评" in accountability and "依法追究" in accountability
    principle = kb.entry("plan.responsibility_principle").answer
    assert "市县统筹协调、部门牵头指导、乡镇具体负责、村居属地管理、业主责任落实、社会共同参与" in principle
    assert "打扶结合、以扶为主，堵疏并举，以疏为主" in kb.entry("plan.rectify_principle").answer


def test_classification(kb):
    assert "整合提升类、整改规范类、关停取缔类" in kb.entry("plan.classification").answer


def test_food_safety_law_names_its_edition(kb):
    law = [e for e in kb.entries if e.id.startswith("fsl.")]
    assert len(law) >= 9
    for entry in law:
        assert "2009年版" in entry.source, entry.id
    assert "2009年6月1日" in kb.entry("fsl.edition").answer
    assert "2015年" in kb.entry("fsl.edition").answer
    assert "不少于二年" in kb.entry("fsl.art39").answer
    assert "每年应当进行健康检查" in kb.entry("fsl.art34").answer


def test_certainty_is_shown_for_inferred_facts(kb):
    lead = kb.entry("rest.lead")
    assert "推断" in lead.source
    checklist = kb.checklists["small_restaurant"]
    assert "推断" in checklist.item("rest.sinks").source
    assert checklist.item("rest.permit").source == "《中华人民共和国食品安全法》（2009年版）第二十九条"


def test_certainty_wording_does_not_contradict_the_citation(kb):
    grocery = kb.checklists["small_grocery"]
    assert grocery.item("common.business_licence").source == "工商登记相关法规（此项要求已核实，尚未查到具体条文）"
    assert grocery.item("groc.cold_chain").source == (
        "《中华人民共和国食品安全法》（2009年版）第二十七条（此项要求已核实，条款序号待核实）"
    )
    sources = {e.source for e in kb.entries} | {it.source for c in kb.checklists.values() for it in c.items}
    for source in sources:
        assert "内容已核实" not in source and "具体条款待核实" not in source, source
        if "尚未查到具体条文" in source:
            assert not re.search(r"第[一二三四五六七八九十百]+条", source), source  # and none is named
