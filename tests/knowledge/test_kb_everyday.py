"""Issue 16, the way owners really type: homophone typos, dialect words, other places, questions in parts, stories,
answers that depend on today, narrow topics, current rules, and 不确定 that still helps."""

from __future__ import annotations

from datetime import date

import pytest
from kb_support import HERE, copy_data, edit, shipped_answerer

from knowledge.answer import NOT_SURE, Answerer
from knowledge.evaluate import evaluate, load_question_set
from knowledge.homophones import Homophones
from knowledge.loader import load_knowledge
from knowledge.models import KnowledgeError
from knowledge.off_topic import OFF_TOPIC
from knowledge.parts import question_parts, story_focus
from knowledge.today import today_answer


@pytest.fixture(scope="module")
def answerer() -> Answerer:
    return shipped_answerer()


# ---- pinyin-input typos ------------------------------------------------------------------------------------


def _homophones(words, not_typos=(), known=()):
    return Homophones(words, not_typos, set(known).__contains__)


@pytest.mark.parametrize(
    ("typed", "fixed"),
    [
        ("营业只照", "营业执照"),
        ("卫声许可证", "卫生许可证"),
        ("灭火气要几个", "灭火器要几个"),
        ("要消du吗", "要消毒吗"),
        ("见康证", "健康证"),
        ("jiankangzheng", "健康证"),
    ],
)
def test_a_homophone_typed_from_the_pinyin_list_is_read_as_the_term(typed, fixed):
    h = _homophones(["营业执照", "卫生", "灭火器", "消毒", "健康证", "许可证"])
    assert h.fix(typed) == (fixed, 1)


def test_unrelated_homophones_stay_apart():
    h = _homophones(["药房", "饭店", "整规", "十小整规"], not_typos=["药方", "正规"], known=["出发"])
    assert h.fix("这个药方能抓药吗") == ("这个药方能抓药吗", 0)  # a real word, listed
    assert h.fix("正规的店") == ("正规的店", 0)
    assert h.fix("十小正规的目标") == ("十小整规的目标", 1)  # the longer term makes the typo plain
    assert h.fix("犯点错") == ("犯点错", 0)  # no character typed as in 饭店: only a sound in common
    assert h.fix("消duo") == ("消duo", 0)  # the pinyin must spell the syllable exactly


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("开饭店要办营业只照吗", "rest.licences"),
        ("理发店要卫声许可证吗", "beauty.licences"),
        ("灭火气要配几个", "common.extinguisher"),
        ("理发工具要消du吗", "beauty.tools"),
        ("见康证多久办一次", "common.health_cert"),
    ],
)
def test_typo_questions_are_answered(answerer, question, expected):
    answer = answerer.answer(question)
    assert (answer.entry_id, answer.abstained) == (expected, False), answer


def test_a_correction_costs_something(answerer):
    typo = answerer.index.search("灭火气要配几个", k=1)[0]
    right = answerer.index.search("灭火器要配几个", k=1)[0]
    assert typo.entry.id == right.entry.id and typo.score < right.score and typo.features[11] == 1.0


# ---- other places ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "乐清开饭店要办什么证",
        "瑞安的十小整规目标是多少",
        "我在鹿城开理发店要卫生许可证吗",
        "杭州网吧几点关门",
        "平阳县的示范点什么时候定",
        "天台县开小卖部要什么证",
        "温州市区开小卖部要什么证",
        "外省的小旅馆要办什么证",
    ],
)
def test_another_place_is_declined_naming_this_county(answerer, question):
    answer = answerer.answer(question)
    assert answer.abstained and answer.declined == "elsewhere" and "永嘉县" in answer.answer
    assert answer.entry_id is None and not answer.suggestions


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("岩头镇开饭店要办什么证", "rest.licences"),  # this county's own town: dropped, not declined
        ("我在桥下开了个沙县小吃要办什么证", "rest.licences"),  # a dish named after a place
        ("天台上能晒东西吗", None),  # 天台 without 县 is a rooftop
    ],
)
def test_this_countys_names_and_place_words_are_not_other_places(answerer, question, expected):
    answer = answerer.answer(question)
    assert answer.declined in (None, OFF_TOPIC)  # not declined as another place (天台: nothing of 十小 either)
    assert answer.entry_id == expected


def test_places_file_is_validated_with_the_line(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "places.yaml", "  - [鹿城, 龙湾,", "  - [鹿城, 鹿城, 龙湾,")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(data)
    assert "places.yaml" in str(info.value) and "鹿城" in str(info.value) and "行" in str(info.value)


# ---- questions in parts and told as stories ----------------------------------------------------------------


def test_parts_are_split_at_punctuation_and_connecting_words():
    assert question_parts("网吧几点关门？未成年人能进吗？") == ["网吧几点关门", "未成年人能进吗"]
    assert question_parts("理发店要什么证还有毛巾要不要消毒") == ["理发店要什么证", "毛巾要不要消毒"]
    assert question_parts("年底前还有什么任务") == []  # one question: 年底前 asks nothing
    assert question_parts("开饭店要办什么证") == []


def test_each_part_is_answered_with_the_trade_carried_over(answerer):
    answer = answerer.answer("网吧几点关门？未成年人能进吗？")
    assert answer.parts == ["net.hours", "net.no_minors"] and not answer.abstained
    assert "一、网吧几点关门" in answer.answer and "二、未成年人能进吗" in answer.answer
    assert answer.answer.count("（出处：") == 2


def test_a_part_that_cannot_be_answered_is_named(answerer):
    answer = answerer.answer("网吧几点关门，网吧老板的电脑配置怎么选")
    assert answer.parts == ["net.hours"] and "这一问" in answer.answer and "电脑配置" in answer.answer


def test_a_story_is_asked_by_its_last_clauses():
    assert (
        story_focus("我在桥头开了个面馆，前几天有人来检查，说水池不合格，到底要几个池子")
        == "说水池不合格到底要几个池子"
    )
    assert story_focus("开饭店要办什么证") is None


# ---- today -------------------------------------------------------------------------------------------------


def test_the_phase_and_next_milestones_follow_the_date(answerer):
    kb = answerer.kb
    december = today_answer(kb.phases, kb.milestones, date(2026, 12, 9))
    assert "今天是2026年12月9日" in december and "第三阶段（11月-12月）总结提升阶段" in december
    assert "2026年底前：年度评价验收" in december and "还有22天" in december
    assert "2027年4月15日前" in december  # next year's first milestones follow
    january = today_answer(kb.phases, kb.milestones, date(2027, 1, 20))
    assert "不在三个阶段之内" in january and "3月开始" in january
    # Said first, before any phase: the plan scheduled 2009 only, and this is a projection of its months and days.
    assert december.index("只安排了2009年") < december.index("第三阶段") and "推算" in december.splitlines()[0]


def test_how_long_until_a_milestone(answerer):
    before = answerer.answer("离报工作计划还有几天", today=date(2026, 4, 10))
    assert before.entry_id == "plan.ms.work_plan" and "2026年4月20日，还有10天" in before.answer
    after = answerer.answer("离报工作计划还有几天", today=date(2026, 12, 9))
    assert "已过去" in after.answer and "2027年4月20日" in after.answer
    plain = answerer.answer("年度工作计划什么时候交", today=date(2026, 12, 9))
    assert "今天是" not in plain.answer  # only a question about the distance gets it


def test_without_a_date_the_today_entry_gives_the_schedule(answerer):
    answer = answerer.answer("现在是哪个阶段")
    assert answer.entry_id == "plan.today" and "时间安排（共12项）" in answer.answer


# ---- narrow topics, current rules ------------------------------------------------------------------------


def test_a_narrow_question_gets_the_items_of_its_topic_only(answerer):
    answer = answerer.answer("KTV的消防有啥要求")
    assert answer.entry_id == "ktv.topic.fire"
    assert "灭火器" in answer.answer and "应急疏散预案" in answer.answer
    assert "未成年人" not in answer.answer and "营业日志" not in answer.answer


def test_topics_pick_items_by_their_words_so_renumbered_items_stay_in(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "common.yaml", "id: common.wiring", "id: common.electric_lines")
    assert "私拉乱接" in load_knowledge(data).entry("ktv.topic.fire").answer


def test_paraphrases_of_an_unknown_entry_name_the_line(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "industries" / "small_karaoke_dance_hall.yaml", "id: ktv.emergency_plan", "id: ktv.evacuation_plan")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(data)
    message = str(info.value)
    line = next(
        n
        for n, text in enumerate((data / "paraphrases.yaml").read_text(encoding="utf-8").splitlines(), 1)
        if text.strip().startswith("ktv.emergency_plan:")
    )
    assert message.startswith(f"paraphrases.yaml：第{line}行：") and "ktv.emergency_plan" in message


@pytest.mark.parametrize(
    ("question", "expected", "says"),
    [
        ("卖香烟要办什么证", "groc.tobacco_licence", "烟草专卖零售许可证"),
        ("现在还要办餐饮服务许可证吗", "current.food_licence", "2015年10月1日"),
        ("工商局现在叫什么", "current.departments", "市场监督管理局"),
    ],
)
def test_current_rules(answerer, question, expected, says):
    answer = answerer.answer(question)
    assert answer.entry_id == expected and says in answer.answer


def test_the_licence_answer_gives_the_2009_licence_and_todays(answerer):
    answer = answerer.answer("开饭店要办什么证").answer
    assert "餐饮服务许可证" in answer and "食品经营许可证" in answer and "登记证" in answer


def test_an_answer_on_a_revised_article_says_what_it_is_now(answerer):
    answer = answerer.answer("健康证多久办一次").answer
    assert "2009年版第三十四条" in answer and "现行规定：" in answer and "第四十五条" in answer


# ---- not sure, still helping -----------------------------------------------------------------------------


def test_not_sure_offers_up_to_three_suggestions(answerer):
    answer = answerer.answer("旅馆的窗户有什么要求")
    assert answer.abstained and answer.answer == NOT_SURE
    assert 1 <= len(answer.suggestions) <= 3 and all(s["id"].startswith("hotel.") for s in answer.suggestions)


def test_a_bare_trade_suggests_its_licences_standards_and_department(answerer):
    answer = answerer.answer("饭店")
    assert answer.abstained and [s["id"] for s in answer.suggestions] == [
        "rest.licences",
        "rest.standards",
        "rest.lead",
    ]


def test_a_bare_term_with_one_meaning_is_answered(answerer):
    assert answerer.answer("健康证？").entry_id == "common.health_cert"
    assert answerer.answer("灭火器").entry_id == "common.extinguisher"


@pytest.mark.parametrize(
    "question", ["狗要办健康证吗", "健康证去哪里办理", "小孩身份证怎么办理", "开花店要办什么手续", "垃圾分类怎么分"]
)
def test_out_of_scope_questions_sharing_words_are_not_answered(answerer, question):
    assert answerer.answer(question).abstained


# ---- the question sets -------------------------------------------------------------------------------------


def test_everyday_development_set(answerer):
    """The issue-16 development set (tuned on). Bars: the figures reached at the end of tuning, rounded down."""
    questions = load_question_set(HERE / "everyday.yaml")
    result = evaluate(answerer, questions, today=date(2026, 12, 9))
    assert result.top1 >= 0.85, result.misses
    assert result.abstention_out == 1.0 and result.elsewhere_named == result.elsewhere, result.misses
    assert result.wrong_in <= 10, result.misses


def test_everyday_heldout_set(answerer):
    """Written with everyday.yaml before any change and never tuned on; measured once at the end (top-1 80.0 %,
    不确定 12.7 % in scope, 4 wrong, out of scope declined 93.3 %, other places 6/6). Bars: those figures."""
    result = evaluate(answerer, load_question_set(HERE / "everyday_heldout.yaml"), today=date(2026, 12, 9))
    assert result.top1 >= 0.80 and result.wrong_in <= 4, result.misses
    assert result.abstention_out >= 0.93 and result.elsewhere_named == result.elsewhere == 6, result.misses


def test_question_sets_do_not_overlap():
    sets = [
        {q.q for q in load_question_set(HERE / name)}
        for name in ("questions.yaml", "heldout.yaml", "everyday.yaml", "everyday_heldout.yaml")
    ]
    for i, first in enumerate(sets):
        for second in sets[i + 1 :]:
            assert not first & second
