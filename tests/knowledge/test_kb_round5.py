"""Issue 16, fifth round: the graders' remaining patterns on the development sets. The asked point answered first
(how long a licence lasts, how often it is reviewed, how many days after the licence the police filing is due, what
replaced the police review of internet cafes, whether a cafe may hire a minor), fines asked after a food word, two
trades asked the same thing in one question, and everyday wordings of entries whose formal wordings were answered.
Every fact comes from ../shared/reference/current-rules-2026.md; the questions here are not in any question set."""

from __future__ import annotations

from datetime import date

import pytest
from kb_support import HERE, shipped_answerer

from knowledge.answer import Answerer
from knowledge.evaluate import evaluate, load_question_set

TODAY = date(2026, 12, 7)


@pytest.fixture(scope="module")
def answerer() -> Answerer:
    return shipped_answerer()


@pytest.mark.parametrize(
    ("question", "expected", "facts"),
    [
        ("食品经营许可证可以用多少年", "current.food_licence_valid", ["有效期为5年", "县市场监督管理局确认"]),
        ("美容院的卫生许可证多久复核一次", "current.public_place_licence_review", ["两年复核一次", "县卫生健康局确认"]),
        ("歌厅领了娱乐经营许可证多少天内去公安备案", "current.ktv_police_filing", ["15日内", "听证"]),
        ("网吧开张以后公安什么时候来检查", "current.netcafe_police_check", ["20个工作日", "签署承诺"]),
        ("网吧可以请未成年人当网管吗", "current.netcafe_minor_staff", ["不能", "第六十一条"]),
    ],
)
def test_round_five_entries_answer_the_asked_point(answerer, question, expected, facts):
    answer = answerer.answer(question, today=TODAY)
    assert (answer.entry_id, answer.abstained) == (expected, False), answer
    for fact in facts:
        assert fact in answer.answer, (fact, answer.answer)


@pytest.mark.parametrize("question", ["变质食品罚多少钱", "散装食品罚款多少"])
def test_a_fine_after_a_food_word_is_no_typo_of_the_food_law(answerer, question):
    """食品罚 was read as a typo of 食品法 (食品安全法): the correction, absent from the penalty entry, ruled it out."""
    answer = answerer.answer(question, today=TODAY)
    assert (answer.entry_id, answer.abstained) == ("fsl.art85", False), answer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("宿舍楼底下能不能开歌舞厅", "ktv.location"),
        ("商住楼二楼可以开歌厅吗", "ktv.location"),
    ],
)
def test_a_residential_building_by_its_everyday_names(answerer, question, expected):
    answer = answerer.answer(question, today=TODAY)
    assert (answer.entry_id, answer.abstained) == (expected, False), answer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("饭店跟小卖部分别要办什么证", ["rest.licences", "groc.licences"]),
        ("理发店和足浴店归哪个部门管", ["beauty.lead", "bath.lead"]),
        ("网吧歌厅凌晨几点要关门", ["net.hours", "ktv.hours"]),
    ],
)
def test_two_trades_asked_alike_are_answered_per_trade(answerer, question, expected):
    answer = answerer.answer(question, today=TODAY)
    assert (answer.parts, answer.abstained) == (expected, False), answer
    assert answer.answer.startswith("一、"), answer.answer


@pytest.mark.parametrize("question", ["十小包括饭店和小卖部吗", "饭店的消防和卫生分别有啥要求"])
def test_two_trades_rule_leaves_other_questions_alone(answerer, question):
    """A list of trades the plan answers as one, and two terms of one trade, keep their earlier answers."""
    answer = answerer.answer(question, today=TODAY)
    assert not any(p.endswith(".licences") or p.endswith(".lead") for p in answer.parts), answer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("一楼卖东西二楼睡觉算不算三合一", "common.no_three_in_one"),
        ("诊所现在能不能备案开", "clinic.licences"),
        ("想投诉一家小店该打什么电话", "bot.complaint"),
        ("店面改造政府有补贴吗", "plan.ms.support_policy"),
    ],
)
def test_everyday_wordings_of_answered_entries(answerer, question, expected):
    answer = answerer.answer(question, today=TODAY)
    assert (answer.entry_id, answer.abstained) == (expected, False), answer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("十六岁能进KTV吗", "ktv.no_minors"),
        ("14周岁能不能进网吧", "net.no_minors"),
        ("网吧能不能雇17岁的网管", "current.netcafe_minor_staff"),
    ],
)
def test_an_age_under_eighteen_is_a_minor(answerer, question, expected):
    answer = answerer.answer(question, today=TODAY)
    assert (answer.entry_id, answer.abstained) == (expected, False), answer


def test_an_adults_age_is_not_a_minor(answerer):
    """A guard: one-digit ages are not listed, since 6岁 would also match the end of 26岁."""
    assert "未成年人" not in answerer.index.normalize("26岁的员工要办健康证吗")


@pytest.mark.parametrize("question", ["家里包粽子拿去卖要办什么证", "做汤圆的作坊要办什么证", "做麦饼卖要办什么证"])
def test_more_foods_by_name_are_food(answerer, question):
    answer = answerer.answer(question, today=TODAY)
    assert (answer.entry_id, answer.abstained) == ("work.licences", False), answer


def test_what_to_do_with_a_measure_word_inside(answerer):
    """要做些啥, 干点什么: 点/些 between the verb and 什么 hid the question word 干什么."""
    answer = answerer.answer("十小整规村里到底要做些啥", today=TODAY)
    assert (answer.entry_id, answer.abstained) == ("plan.duty_village", False), answer


def test_fourth_development_set_after_round_five(answerer):
    """tests/knowledge/dev4.yaml. Before this round (197 in scope): top-1 0.701, 不确定 in scope 0.218, 16 wrong, out of
    scope declined 0.975; after it 0.741, 0.183, 15, 0.975. Bars: the figures reached, rounded to the worse side."""
    result = evaluate(answerer, load_question_set(HERE / "dev4.yaml"), today=TODAY)
    assert result.top1 >= 0.74 and result.abstention_in <= 0.185 and result.wrong_in <= 15, result.misses
    assert result.abstention_out >= 0.97, result.misses
