"""Answering: confident answers with a source, 您是想问 suggestions, honest 不确定, and no exception on bad input."""

from __future__ import annotations

import json

import pytest
from kb_support import shipped_answerer

from knowledge.answer import NOT_SURE, THRESHOLD, Answer


@pytest.fixture(scope="module")
def answerer():
    return shipped_answerer()


def test_confident_answer_with_source(answerer):
    answer = answerer.answer("开饭店要办什么证？")
    assert not answer.abstained and answer.entry_id == "rest.licences"
    assert "餐饮服务许可证" in answer.answer
    assert "第二十九条" in (answer.source or "")
    assert answer.score >= THRESHOLD


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("開網吧要辦什麼證", "net.licences"),  # traditional characters
        ("网吧能让小孩进去吗", "net.no_minors"),  # colloquial
        ("开饭店要办神马证", "rest.licences"),  # internet slang for 什么
        ("建康证多久办一次", "common.health_cert"),  # typo
        ("六项规定动作", "plan.six_actions"),  # a bare phrase, no question words
        ("5月5号前要完成啥", "plan.date.m05d05"),
        ("食品安全法第三十四条", "fsl.art34"),
        ("KTV能通宵吗", "ktv.hours"),  # mixed English and Chinese
    ],
)
def test_variants(answerer, question, expected):
    answer = answerer.answer(question)
    assert (answer.entry_id, answer.abstained) == (expected, False), answer


@pytest.mark.parametrize("question", ["十小行业包括哪些", "十小行业包括哪些？", "十小包括哪些行业", "十小是哪十个行业"])
def test_the_list_of_the_ten_is_given_not_pointed_to(answerer, question):
    answer = answerer.answer(question)
    assert (answer.entry_id, answer.abstained) == ("industries.list", False), answer
    assert "1. 小食杂店" in answer.answer and "10. 小药店" in answer.answer


def test_suggestions_when_entries_are_close(answerer):
    answer = answerer.answer("示范点")
    ids = {answer.entry_id} | {s["id"] for s in answer.suggestions}
    assert {"plan.demo", "plan.ms.demo_sites"} <= ids
    assert all(set(s) == {"id", "question"} for s in answer.suggestions)
    assert answer.entry_id not in {s["id"] for s in answer.suggestions}


@pytest.mark.parametrize(
    "question",
    [
        "",
        "   ",
        "😀",
        "？？？",
        "饭" * 10_000,
        "x" * 10_000,
        "how do I get a licence for my restaurant",
        "SELECT * FROM entries; DROP TABLE users;--",
        "<script>alert('十小')</script>",
        "<b>开饭店</b>要办什么证",
        "\x00\x01\x02",
        "\ud800",  # a lone surrogate
        "今天天气怎么样",
        "开加油站要办什么证",
    ],
)
def test_bad_input_never_raises(answerer, question):
    answer = answerer.answer(question)
    assert isinstance(answer, Answer)
    json.dumps(answer.to_dict(), ensure_ascii=False)
    if answer.abstained:
        # 不确定, or declined (加油站 is not one of the ten trades): never an entry, a source or suggestions
        assert answer.answer == NOT_SURE or answer.declined is not None
        assert answer.source is None and answer.entry_id is None
        assert answer.suggestions == []


def test_junk_is_not_answered(answerer):
    for question in ("", "😀", "x" * 10_000, "SELECT * FROM users", "今天天气怎么样", "开加油站要办什么证"):
        assert answerer.answer(question).abstained, question


@pytest.mark.parametrize(
    "question",
    [
        "孩子发烧了怎么办",  # got the tobacco rule (0.86): 小孩 and 怎么办 were all it shared
        "小孩可以买药吗",  # the tobacco rule (0.88)
        "未成年人能进足浴店吗",  # the tobacco rule: a grocery rule for a question about a bathhouse (未成年人能住旅馆吗 now has current.hotel_minors)
        "小孩能不能打游戏",  # the tobacco rule
        "小孩能进理发店吗",  # the medical-beauty rule (0.62): nothing there is about minors
        "饭店" * 2_500,  # 餐具消毒
        "饭店",  # a bare trade names a topic, not a question
        "未成年人",
    ],
)
def test_a_shared_generic_word_is_no_answer(answerer, question):
    answer = answerer.answer(question)
    assert answer.abstained, answer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("学生能进KTV吗", "ktv.no_minors"),
        ("小孩能去网吧吗", "net.no_minors"),
        ("小卖部能卖烟给小孩吗", "groc.no_minors_tobacco"),
        ("营业执照要挂出来吗", "common.display"),
    ],
)
def test_the_same_generic_words_still_answer_what_they_fit(answerer, question, expected):
    answer = answerer.answer(question)
    assert (answer.entry_id, answer.abstained) == (expected, False), answer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("美容美发店消毒要求", "beauty.disinfection"),
        ("饭店冰箱生熟能放一起吗", "rest.fridge"),  # a check item without a FAQ answers with its own text
        ("旅馆要有保管箱吗", "hotel.valuables"),
    ],
)
def test_one_requirement_is_answered_with_it_not_with_the_checklist(answerer, question, expected):
    answer = answerer.answer(question)
    assert (answer.entry_id, answer.abstained) == (expected, False), answer
    assert "检查要点" not in answer.answer


def test_typical_practice_is_not_presented_as_law(answerer):
    fridge = answerer.answer("饭店冰箱生熟能放一起吗")  # rest.fridge rests on typical practice (典)
    assert "通行做法" in fridge.answer and "未见正式条文" in fridge.answer
    valuables = answerer.answer("旅馆要有保管箱吗")  # 《旅馆业治安管理办法》第七条
    assert "通行做法" not in valuables.answer and "第七条" in (valuables.source or "")
    checklist = answerer.kb.entry("rest.standards").answer
    assert "冰箱生熟分开存放并贴有标识（通行做法）" in checklist
    assert "餐具饮具用前洗净消毒（有消毒柜或使用集中消毒的餐具）\n" in checklist  # 法: no mark
    assert "标“通行做法”的是各地整治的通行做法" in checklist


def test_answers_resting_on_the_2009_food_safety_law_say_it_was_revised(answerer):
    licence = answerer.answer("现在还用办食品流通许可证吗")
    # current.food_licence (issue 16) answers it from today's rules; fsl.art29 did from the 2009 text with a note
    assert (
        licence.entry_id == "current.food_licence" and "食品经营许可" in licence.answer and "2015年" in licence.answer
    )
    assert "食品经营许可证" in answerer.answer("开饭店要办什么证").answer
    fine = answerer.answer("卖过期食品罚多少")
    assert fine.entry_id == "fsl.art85" and fine.answer.endswith(
        "注：文中所引《食品安全法》为2009年版。该法2015年已全面修订，条文序号和部分内容已经改变，"
        "现在请以现行法律和市场监管部门的规定为准。"
    )
    for entry in answerer.kb.entries:
        if entry.source.startswith("《中华人民共和国食品安全法》（2009年版）"):
            assert "2015年" in entry.answer, entry.id
    assert answerer.kb.entry("fsl.edition").answer.count("2015年") == 1  # says it itself: no 注 added
    assert "注：" not in answerer.kb.entry("plan.what_is").answer


def test_html_around_a_real_question_is_ignored(answerer):
    assert answerer.answer("<b>开饭店</b>要办什么证").entry_id == "rest.licences"


def test_non_string_input(answerer):
    assert answerer.answer(None).abstained  # type: ignore[arg-type]
    assert answerer.answer(42).abstained  # type: ignore[arg-type]


def test_ranked_ids(answerer):
    assert answerer.ranked_ids("开饭店要办什么证", 3)[0] == "rest.licences"
    assert answerer.ranked_ids("", 3) == []
