"""Issue 16, second round: questions typed as one run without punctuation (two questions, or a story), everyday
words and stop-phrases as data, and the second development set."""

from __future__ import annotations

from datetime import date

import pytest
from kb_support import HERE, copy_data, edit, shipped_answerer

from knowledge.answer import Answerer
from knowledge.evaluate import evaluate, load_question_set
from knowledge.loader import load_knowledge
from knowledge.models import KnowledgeError
from knowledge.parts import question_parts, run_on_cuts, run_on_tails


@pytest.fixture(scope="module")
def answerer() -> Answerer:
    return shipped_answerer()


# ---- two questions typed as one run ------------------------------------------------------------------------


def test_a_run_on_is_cut_after_a_question_word():
    assert ("KTV要什么证", "几点关门") in run_on_cuts("KTV要什么证几点关门")
    assert ("开理发店要什么证", "员工要健康证吗") in run_on_cuts("开理发店要什么证员工要健康证吗")
    assert run_on_cuts("网吧几点关门能不能让未成年人进")[-1] == ("网吧几点关门", "能不能让未成年人进")


@pytest.mark.parametrize(
    "question",
    [
        "诊所许可证可以借给别人用吗",  # 可以 sits inside one question
        "六项规定动作是啥",  # so does 规定
        "饭店厨师要体检吗多久一次",  # 多久一次 says too little to be asked alone
        "整规工作一共几个阶段各是哪几个月",  # 各 points back at the first question
        "网吧几点关门？能让未成年人进吗？",  # punctuated: question_parts handles it
    ],
)
def test_a_single_question_is_not_cut(question):
    assert run_on_cuts(question) == []


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("KTV要什么证几点关门", ["ktv.licences", "ktv.hours"]),
        ("饭店要什么证碗筷咋消毒", ["rest.licences", "rest.tableware"]),
        ("网吧几点关门能不能让未成年人进", ["net.hours", "net.no_minors"]),
        ("整规分几个阶段现在是哪个阶段", ["plan.phases", "plan.today"]),
    ],
)
def test_both_questions_of_a_run_on_are_answered(answerer, question, expected):
    answer = answerer.answer(question, today=date(2026, 12, 7))
    assert (answer.parts, answer.abstained) == (expected, False), answer


def test_a_question_with_two_question_words_stays_one_answer(answerer):
    answer = answerer.answer("美发店可以搞个小包间吗")
    assert answer.parts == ["beauty.no_hidden_rooms"], answer


# ---- a story typed as one run ------------------------------------------------------------------------------


def test_a_long_run_on_is_also_read_by_its_last_characters():
    tails = run_on_tails("我家隔壁开了个小饭店天天油烟很大他们要办啥证")
    assert tails[0] == "他们要办啥证" and len(tails) > 2
    assert run_on_tails("一个镇百分之八十的店达标就行了吗") == []  # short: searched whole
    assert run_on_tails("我家隔壁开了个小饭店，天天油烟很大，他们要办啥证") == []  # punctuated: story_focus


def test_a_run_on_story_is_answered_by_what_it_asks(answerer):
    answer = answerer.answer("我家隔壁开了个小饭店天天油烟很大他们要办啥证")
    assert (answer.entry_id, answer.abstained) == ("rest.licences", False), answer


# ---- stop-phrases and everyday words (vocabulary.yaml; each group's own test is in test_vocabulary.py) ---------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("怎么投诉隔壁的饭店", "bot.complaint"),  # 隔壁: where the neighbour is, not what is asked
        ("对面那家饭店他们要办什么证", "rest.licences"),  # 他们
        ("镇里厢要几成店达标才算完成", "plan.township_complete"),  # 里厢 after 镇 (镇里 is a word of its own)
        ("喂喂听得到吗网吧几点关门", "net.hours"),
    ],
)
def test_stop_phrases_are_dropped(answerer, question, expected):
    answer = answerer.answer(question)
    assert (answer.entry_id, answer.abstained) == (expected, False), answer


@pytest.mark.parametrize("phrase", ["隔壁", "他们", "里厢", "听得到吗", "里面"])
def test_each_stop_phrase_is_removed_by_the_normalizer(answerer, phrase):
    assert phrase not in answerer.index.normalize(f"饭店{phrase}要办什么证")


def test_leaders_are_not_a_stop_phrase(answerer):
    """领导你好 is a greeting; 领导 alone is what 乡镇领导 / 加强领导 are about."""
    assert answerer.index.normalize("领导你好") == ""
    assert "领导" in answerer.index.normalize("乡镇领导负什么责任")


def test_dialect_mo_means_do_not(answerer):
    assert answerer.index.normalize("莫让小孩进网吧") == answerer.index.normalize("不要让小孩进网吧")


def test_a_second_half_naming_only_a_standard_is_not_a_question():
    assert run_on_cuts("牵头部门什么时候完善标准规范") == []


# ---- an answer's first word fits every way its entry is asked -----------------------------------------------


@pytest.mark.parametrize(
    ("entry", "asks_yes"),
    [
        ("pharm.pharmacist", "药店要有药师在岗吗"),
        ("clinic.qualified_staff", "诊所医生要有执业证吗"),
        ("clinic.permit_valid", "执业许可证要校验吗"),
        ("ktv.no_minor_staff", "歌厅招服务员有年龄限制吗"),
        ("clinic.disposables", "用过的一次性器械怎么处理"),
    ],
)
def test_an_answer_asked_both_ways_does_not_open_with_a_no(answerer, entry, asks_yes):
    """These entries are also asked the other way round ("要有药师吗"): an answer opening with 不能 would then say
    the opposite of the rule."""
    found = answerer.kb.entry(entry)
    assert asks_yes in found.questions
    assert not found.answer.startswith(("不能", "不可以")), found.answer


# ---- rules that are new since 2009 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected", "says"),
    [
        ("未成年人能住旅馆吗", "current.hotel_minors", "第五十七条"),
        ("小作坊能请几个工人", "current.workshop_scope", "7人"),
    ],
)
def test_rules_new_since_2009_are_answered_with_their_source(answerer, question, expected, says):
    answer = answerer.answer(question)
    assert (answer.entry_id, answer.abstained) == (expected, False), answer
    assert says in answer.answer and "2009年方案没有" in answer.answer


def test_a_deciding_term_is_not_overruled_by_a_shared_word(answerer):
    """安全出口 decides what is asked: 营业时 shared with 网吧营业时间 must not bring the opening hours."""
    answer = answerer.answer("网吧安全出口营业时能锁吗")
    assert "net.hours" not in answer.parts, answer


def test_the_trades_own_activity_is_no_second_question(answerer):
    """唱歌 is what one does in a karaoke hall: asking whether a minor may go in to sing asks whether a minor may go in."""
    answer = answerer.answer("未成年人能进KTV唱歌吗")
    assert (answer.entry_id, answer.abstained) == ("ktv.no_minors", False), answer


def test_inside_is_no_content(answerer):
    """KTV里面可以卖酒吗 was answered with the transparent-rooms rule (包厢里面从外面能看清吗) on 里面 alone."""
    assert "ktv.transparent_rooms" not in answerer.answer("KTV里面可以卖酒吗").parts


# ---- the second development set ---------------------------------------------------------------------------


def test_second_development_set(answerer):
    """tests/knowledge/dev2.yaml (tuned on). Before this round: top-1 80.7 %, 不确定 12.9 % in scope, 13 wrong,
    out of scope declined 96.9 %. Round 5: top-1 95.5 %, 不确定 2.5 % in scope, 4 wrong. Bars: the figures reached,
    rounded down."""
    result = evaluate(answerer, load_question_set(HERE / "dev2.yaml"), today=date(2026, 12, 7))
    assert result.top1 >= 0.955 and result.abstention_in <= 0.025 and result.wrong_in <= 4, result.misses
    assert result.abstention_out == 1.0 and result.elsewhere_named == result.elsewhere == 8, result.misses


def test_lingwai_before_a_verb_does_not_start_a_second_question(answerer):
    """要不要另外办证: 另外 means "separately" here; cut there, neither half was sure enough."""
    assert question_parts("卖烟要不要另外办证？网吧几点关门？") == ["卖烟要不要另外办证", "网吧几点关门"]
    answer = answerer.answer("老婆在家附近开了个小超市，卖烟要不要另外办证？")
    assert answer.entry_id in ("groc.tobacco_licence", "groc.licences") and not answer.abstained, answer


def test_an_asking_clause_naming_nothing_is_not_answered_alone(answerer):
    """我们这种要办什么手续 names no trade: taken alone it reads as the grocery's licences (0.85)."""
    answer = answerer.answer("我老婆在家里做豆腐拿到菜场卖，已经做了好几年了，听说现在要整规，我们这种要办什么手续")
    assert "groc.licences" not in answer.parts, answer


def test_a_yes_does_not_open_an_answer_reached_by_an_either_or_question(answerer):
    """ "每个人都要办吗还是只要老板办" reached the publicity rule, whose answer opened with 要。— a yes to an either-or."""
    answer = answerer.answer("那个我想问一下就是开饭店的话那个健康证是每个人都要办吗还是只要老板办")
    assert not answer.answer.startswith("要。"), answer


def test_who_needs_a_health_certificate_is_asked_in_many_ways(answerer):
    for question in ("哪些人要办健康证", "所有员工都要办健康证吗"):
        assert answerer.answer(question).entry_id == "common.health_cert"


# ---- the food law answers about food trades only -------------------------------------------------------------


def test_the_food_law_is_no_answer_about_another_trades_goods(answerer):
    """诊所里面的药过期了怎么处理 got the food law's rule on expired food (fsl.art40) before the file named its trades."""
    assert answerer.kb.entry("fsl.art40").scope == frozenset({"食杂店", "作坊", "餐饮店"})
    assert not answerer.answer("诊所里面的药过期了怎么处理").entry_id.startswith("fsl.")
    assert answerer.answer("食杂店要定期清理过期食品吗").entry_id is not None  # a food trade still reaches it


def test_a_files_trades_must_be_the_countys_trades(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "food_safety_law.yaml", "trades: [食杂店, 作坊, 餐饮店]", "trades: [食杂店, 花店]")
    with pytest.raises(KnowledgeError, match=r"food_safety_law\.yaml.*花店"):
        load_knowledge(data)


@pytest.mark.parametrize(
    ("question", "first", "second"),
    [
        ("网吧几点关门能不能让未成年人进", "网吧几点关门", "能不能让未成年人进"),
        ("整规分几个阶段现在是哪个阶段", "整规分几个阶段", "现在是哪个阶段"),
    ],
)
def test_a_run_on_is_cut_where_the_second_question_starts(answerer, question, first, second):
    """The best cut wins, not the first sure one ("网吧几点关" / "门能不能让未成年人进" were both sure too)."""
    text = answerer.answer(question, today=date(2026, 12, 7)).answer
    assert f"一、{first}\n" in text and f"二、{second}\n" in text, text


@pytest.mark.parametrize(("word", "canonical"), [("工人", "从业人员"), ("小鬼", "未成年人"), ("酸奶", "乳制品")])
def test_words_added_to_existing_groups(answerer, word, canonical):
    assert answerer.index.normalize(word) == canonical
