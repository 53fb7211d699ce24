"""Validation of knowledge/data: every error names the file and the entry or item."""

from __future__ import annotations

import pytest
from kb_support import copy_data, edit

from knowledge.checklists import load_checklists
from knowledge.loader import load_knowledge
from knowledge.models import KnowledgeError


def test_shipped_data_loads():
    kb = load_knowledge()
    ids = [e.id for e in kb.entries]
    assert len(ids) == len(set(ids)) > 100
    assert all(e.reviewed and e.source and e.answer and e.questions for e in kb.entries)
    items = {item.id: item for checklist in kb.checklists.values() for item in checklist.items}
    written = [e for e in kb.entries if not (e.id in items and e.questions[0].endswith(items[e.id].text))]
    assert all(len(e.questions) >= 3 for e in written), "each written entry answers several phrasings"
    # A check item without a FAQ is an entry too, asked as its own text (the trade in front of an industry's item).
    for entry in set(kb.entries) - set(written):
        item = items[entry.id]
        assert entry.questions[0].endswith(item.text) and item.text in entry.answer
    # Asked first as the item's own text; paraphrases.yaml adds everyday wordings after it.
    assert kb.entry("rest.fridge").questions[0] == "餐饮店冰箱生熟分开存放并贴有标识"
    assert kb.entry("common.exits").questions[0] == "疏散通道、安全出口畅通，没有被货物堵塞或锁闭"
    gates = [e for e in kb.entries if e.id in items and items[e.id].kind == "gate"]
    assert not gates, "a screening question is not a requirement"


def _error(data, match: str | None = None) -> str:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(data)
    message = str(info.value)
    if match:
        assert match in message, message
    return message


def test_missing_answer_names_file_and_entry(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "plan.yaml", "  - id: plan.funding\n", "  - id: plan.funding\n    answer_typo: x\n")
    message = _error(data)
    assert "plan.yaml" in message and "plan.funding" in message and "answer_typo" in message


def test_empty_answer(tmp_path):
    data = copy_data(tmp_path)
    path = data / "food_safety_law.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: fsl.art40")
    answer = text.index("    answer: >-", start)
    source = text.index("    source:", answer)
    path.write_text(text[:answer] + '    answer: ""\n' + text[source:], encoding="utf-8")
    message = _error(data, "food_safety_law.yaml")
    assert "fsl.art40" in message and "不能为空" in message


def test_duplicate_id_across_files(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "general.yaml", "id: bot.about", "id: plan.targets")
    message = _error(data, "plan.targets")
    assert "general.yaml" in message and "plan.yaml" in message


def test_unknown_source_document(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "food_safety_law.yaml", "{doc: fsl2009, section: 第二十八条}", "{doc: fsl2015, section: 第二十八条}")
    message = _error(data, "fsl2015")
    assert "food_safety_law.yaml" in message and "fsl.art28" in message


def test_missing_reviewed_date(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "general.yaml", "reviewed: 2026-11-25\n", "")
    _error(data, "bot.about")


def test_bad_date(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "general.yaml", "reviewed: 2026-11-25", "reviewed: 2026-13-45")
    _error(data, "general.yaml")


def test_yaml_syntax_error_names_line(tmp_path):
    data = copy_data(tmp_path)
    (data / "general.yaml").write_text("entries:\n  - id: [broken\n", encoding="utf-8")
    message = _error(data, "general.yaml")
    assert "行" in message


def test_unknown_placeholder(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "industries" / "small_hotel.yaml", "{licences}", "{licenses}")
    message = _error(data, "small_hotel.yaml")
    assert "hotel.licences" in message and "{licenses}" in message


def test_same_question_in_two_entries(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "general.yaml", "questions: [你能做什么", "questions: [六项规定动作是什么, 你能做什么")
    message = _error(data, "六项规定动作是什么")
    assert "bot.about" in message and "plan.six_actions" in message


def test_listed_industry_without_file(tmp_path):
    data = copy_data(tmp_path)
    (data / "industries" / "small_pharmacy.yaml").unlink()
    _error(data, "small_pharmacy")


def test_industry_file_not_listed(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "industries.yaml", "  - small_pharmacy\n", "")
    _error(data, "industries/small_pharmacy.yaml")


def test_industry_list_is_data(tmp_path):
    """A county drops an industry by editing the list and removing the file."""
    data = copy_data(tmp_path)
    edit(data / "industries.yaml", "  - small_pharmacy\n", "")
    (data / "industries" / "small_pharmacy.yaml").unlink()
    kb = load_knowledge(data)
    assert "small_pharmacy" not in kb.checklists and len(kb.checklists) == 9
    assert "小药店" not in kb.entry("industries.list").answer
    assert not any(e.id.startswith("pharm.") for e in kb.entries)


def test_what_the_ten_are_follows_the_industry_list(tmp_path):
    shipped = load_knowledge().entry("plan.what_is").answer
    assert "小食杂店、小作坊（食品小作坊）、小餐饮店" in shipped and "小诊所、小药店" in shipped
    assert "可问" not in shipped
    data = copy_data(tmp_path)
    edit(data / "industries.yaml", "  - small_pharmacy\n", "")
    (data / "industries" / "small_pharmacy.yaml").unlink()
    edit(data / "industries" / "small_clinic.yaml", "name: 小诊所", "name: 小诊所（含村卫生室）")
    answer = load_knowledge(data).entry("plan.what_is").answer
    assert "小网吧、小诊所（含村卫生室）（以县整规办公布的为准）" in answer and "小药店" not in answer


def test_milestone_invalid_date(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "plan.yaml", "    month: 8\n    day: 31\n", "    month: 2\n    day: 30\n")
    message = _error(data, "plan.yaml")
    assert "evaluation_criteria" in message and "2月30日" in message


def test_milestone_needs_a_date(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "plan.yaml", "    year_end: true\n", "")
    message = _error(data, "plan.yaml")
    assert "year_end_acceptance" in message


def test_milestone_responsible_is_checked(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "plan.yaml", "responsible: [县整规办]\n", "responsible: [县长]\n")
    message = _error(data, "county_check")
    assert "plan.yaml" in message


def test_synonym_in_two_groups(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "synonyms.yaml", "variants: [小浴室,", "variants: [饭馆, 小浴室,")
    _error(data, "饭馆")


def test_key_term_must_be_canonical(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "synonyms.yaml", "key_terms: [餐饮店,", "key_terms: [饭店,")
    _error(data, "饭店")


# ---- checklist items ---------------------------------------------------------------------------------------


def _checklist_error(data, match: str) -> str:
    with pytest.raises(KnowledgeError) as info:
        load_checklists(data)
    message = str(info.value)
    assert match in message, message
    return message


def test_relevant_to_unknown_item(tmp_path):
    data = copy_data(tmp_path)
    edit(
        data / "industries" / "small_restaurant.yaml",
        '{item: rest.uses_gas, equals: "yes"}',
        '{item: rest.uses_gaz, equals: "yes"}',
    )
    message = _checklist_error(data, "rest.uses_gaz")
    assert "small_restaurant.yaml" in message and "rest.gas_use_safe" in message


def test_relevant_to_later_item(tmp_path):
    data = copy_data(tmp_path)
    permit = "    text: 持有有效的食品经营证照（2009年时为食品流通许可证；现在为食品经营许可证，浙江的小食杂店为登记证，只卖预包装食品的为备案）\n"
    edit(
        data / "industries" / "small_grocery.yaml",
        permit,
        permit + '    relevant: {item: groc.tobacco_sold, equals: "yes"}\n',
    )
    _checklist_error(data, "groc.permit")


def test_relevant_value_must_fit_the_item(tmp_path):
    data = copy_data(tmp_path)
    edit(
        data / "industries" / "small_restaurant.yaml",
        '{item: rest.uses_gas, equals: "yes"}',
        '{item: rest.uses_gas, equals: "pass"}',
    )
    _checklist_error(data, "rest.gas_use_safe")


def test_duplicate_item_id(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "industries" / "small_hotel.yaml", "id: hotel.security", "id: common.exits")
    message = _checklist_error(data, "common.exits")
    assert "small_hotel.yaml" in message and "common.yaml" in message


def test_item_missing_help(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "industries" / "small_clinic.yaml", "    help: 抽查近期处方、病历和门诊日志。\n", "")
    message = _checklist_error(data, "clinic.records")
    assert "small_clinic.yaml" in message and "help" in message


def test_gate_cannot_veto(tmp_path):
    data = copy_data(tmp_path)
    edit(
        data / "industries" / "small_pharmacy.yaml",
        "    kind: gate\n    text: 是否经营处方药？\n",
        "    kind: gate\n    veto: true\n    text: 是否经营处方药？\n",
    )
    _checklist_error(data, "pharm.sells_rx")


def test_bad_item_id(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "common.yaml", "id: common.wiring", "id: Common Wiring")
    _checklist_error(data, "common.yaml")
