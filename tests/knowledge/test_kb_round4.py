"""Issue 16, fourth round: entries for the in-scope questions of the fourth development set that no entry answered
(/work/kbsets/dev4a_gaps.md, dev4b_gaps.md), each written only from a source (the current rules reference): the
revised 治安管理处罚法, Zhejiang's small-food rules (size of a 小餐饮店, toilets, two ordered stops, testing, display
fines, labels, destroying expired food), clinics' yearly 校验, public-place staff's health certificates, and the
notes that the county 十小办's 质监 was merged and that restaurants no longer need a 卫生许可证."""

from __future__ import annotations

from datetime import date

import pytest
from kb_support import shipped_answerer

from knowledge.answer import Answerer
from knowledge.loader import load_knowledge

TODAY = date(2026, 12, 7)


@pytest.fixture(scope="module")
def answerer() -> Answerer:
    return shipped_answerer()


@pytest.mark.parametrize(
    ("question", "expected", "facts"),
    [
        ("新的治安管理处罚法什么时候开始施行", "current.public_security_law", ["2026年1月1日", "县公安局治安大队确认"]),
        ("旅馆住宿登记不规范怎么罚", "current.public_security_law", ["尚未核实", "查验身份证件"]),
        ("一年被责令停业两次有什么后果", "current.stop_twice", ["第二十四条", "三年内不得从事食品生产经营"]),
        ("健康证没挂出来要罚多少钱", "current.display_fines", ["50元", "200元", "300元以上500元以下"]),
        ("多大的店算小餐饮", "current.small_restaurant_size", ["50平方米", "县市场监督管理局确认"]),
        ("厨房里能不能设厕所", "current.restaurant_layout", ["第十二条", "不得设置厕所"]),
        ("小作坊产品出厂要检验吗", "current.workshop_testing", ["第十一条", "委托有资质的检验机构"]),
        ("美容美发店健康证有效期多久", "current.public_place_health_cert", ["第七条", "每年一次", "县卫生健康局"]),
        ("诊所执业许可证几年校验一次", "clinic.permit_valid", ["床位不满100张", "每年校验一次", "县卫生健康局确认"]),
        ("歌舞厅要不要公共场所卫生许可证", "ktv.licences", ["尚未核实", "县卫生健康局确认"]),
        ("饭店还要办卫生许可证吗", "current.food_licence", ["国发〔2016〕12号", "不再单独办卫生许可证"]),
        ("作坊产品标签上要印登记证编号吗", "work.labels", ["第十一条", "登记证编号"]),
        ("今年有没有新的十小方案", "plan.current_year", ["永政办发〔2009〕58号", "本库没有资料", "县“十小办”"]),
    ],
)
def test_round_four_entries_answer_with_their_facts(answerer, question, expected, facts):
    answer = answerer.answer(question, today=TODAY)
    assert (answer.entry_id, answer.abstained) == (expected, False), answer
    for fact in facts:
        assert fact in answer.answer, (fact, answer.answer)


def test_the_county_office_answer_notes_the_2018_merger(answerer):
    answer = answerer.answer("县十小办设在哪个部门", today=TODAY)
    assert answer.entry_id == "plan.office", answer
    assert "县质监部门" in answer.answer and "并入市场监督管理部门" in answer.answer


def test_expired_food_is_destroyed_not_discounted(answerer):
    answer = answerer.answer("店里有过期食品怎么办", today=TODAY)
    assert answer.entry_id == "groc.no_expired", answer
    assert "销毁" in answer.answer and "不能打折处理" in answer.answer


def _item(slug: str, item_id: str):
    return next(i for i in load_knowledge().checklists[slug].items if i.id == item_id)


def test_the_workshop_label_rule_is_no_longer_called_practice():
    source = _item("small_food_workshop", "work.labels").source
    assert "浙江省食品小作坊" in source and "第十一条" in source and "未见正式条文" not in source


def test_the_restaurant_licence_item_names_zhejiangs_registration():
    assert "登记证" in _item("small_restaurant", "rest.permit").text
