"""Issue 16, third round: the failure patterns graders read in the frozen sets' answers (none of their questions
used): 举报 asked as a question, phrases that name no place, other countries and businesses outside the ten trades,
sub-questions answered by the other part's entry, typos read into a word the entry never uses, today's list of
diseases barring food work, and the third development set."""

from __future__ import annotations

from datetime import date

import pytest
from kb_support import HERE, copy_data, edit, shipped_answerer

from knowledge.answer import ELSEWHERE, NOT_OURS, NOT_SURE, PART_LEFT, Answerer
from knowledge.evaluate import evaluate, load_question_set
from knowledge.loader import load_knowledge
from knowledge.off_topic import OFF_TOPIC

TODAY = date(2026, 12, 7)


@pytest.fixture(scope="module")
def answerer() -> Answerer:
    return shipped_answerer()


# ---- 举报 asked as a question -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("有人举报我的店会怎么样", "bot.reported"),  # 不确定 before: no entry on being reported
        ("被举报了是不是要罚款", "bot.reported"),  # false premise: answered with the correction
        ("村里有个无证诊所能举报吗", "bot.report_unlicensed"),  # got the how-to-complain steps only
        ("怎么投诉隔壁的饭店", "bot.complaint"),  # a complaint itself still gets the complaint entry
    ],
)
def test_reporting_asked_as_a_question_is_answered(answerer, question, expected):
    answer = answerer.answer(question)
    assert (answer.entry_id, answer.abstained) == (expected, False), answer


def test_being_reported_is_not_said_to_mean_a_fine(answerer):
    text = answerer.answer("被举报了是不是要罚款").answer
    assert "不等于要罚款" in text and "以扶为主" in text


# ---- places -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("健康证在别的地方办的这里认不认", None),  # declined as "别的地方" before; no entry answers it
        ("我想在别的地方开分店要重新办证吗", "bot.licence_place"),
        ("我在外地办的营业执照在这里能用吗", "bot.licence_place"),
        ("外地人在这开饭店要啥证", "rest.licences"),
        ("其他地方的十小整治跟我们一样吗", None),
    ],
)
def test_phrases_naming_no_place_are_not_declined(answerer, question, expected):
    answer = answerer.answer(question)
    assert answer.declined is None, answer
    assert answer.entry_id == expected, answer


@pytest.mark.parametrize(
    ("question", "country"),
    [
        ("意大利餐厅在中国要办什么证", "意大利"),  # got this county's restaurant licences
        ("日本的居酒屋要什么许可", "日本"),
        ("美国开餐馆要办什么证", "美国"),
        ("柬埔寨开饭店要啥手续", "柬埔寨"),
    ],
)
def test_another_country_is_declined(answerer, question, country):
    answer = answerer.answer(question)
    assert answer.declined == ELSEWHERE and answer.abstained and answer.entry_id is None, answer
    assert country in answer.answer and "永嘉县" in answer.answer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("美国人来住旅馆要登记吗", "hotel.foreign_report|hotel.id_register"),  # a person from there: not_after 人
        ("今日本店卖过期食品会怎样", None),  # 今日 + 本店, not 日本
        ("违法国家规定的店会关掉吗", None),  # 违法 + 国家, not 法国
    ],
)
def test_a_country_inside_other_words_is_no_country(answerer, question, expected):
    answer = answerer.answer(question)
    assert answer.declined is None, answer
    if expected is not None:
        assert answer.entry_id in expected.split("|"), answer


def test_a_country_list_is_data(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "places.yaml", "abroad: [意大利,", "abroad: [瑙鲁, 意大利,")
    answer = Answerer(load_knowledge(data)).answer("瑙鲁开饭店要办什么证")
    assert answer.declined == ELSEWHERE and "瑙鲁" in answer.answer


# ---- businesses outside the ten trades ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "business"),
    [
        ("宠物美容店要卫生许可证伐", "宠物店"),  # got the beauty salon's licences: a false statement
        ("宠物店给狗洗澡要办证吗", "宠物店"),
        ("给狗美容的店算不算美容美发店", "宠物店"),
        ("开个猫咖要什么证", "猫咖"),
        ("洗车店要办什么证", "洗车店"),
    ],
)
def test_a_business_outside_the_ten_trades_is_declined(answerer, question, business):
    answer = answerer.answer(question)
    assert answer.declined == NOT_OURS and answer.abstained and answer.entry_id is None, answer
    assert answer.answer.startswith(business) and "小美容美发店" in answer.answer
    assert answer.suggestions == []


def test_the_decline_names_the_county_and_the_trades_from_the_data(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "vocabulary.yaml", "  驾校: [驾校]", "  驾校: [驾校, 学车]")
    answer = Answerer(load_knowledge(data)).answer("学车的地方要卫生许可证吗")
    assert answer.declined == NOT_OURS and answer.answer.startswith("驾校")


# ---- two parts: a follow-up asks about the same thing -------------------------------------------------------


def test_a_follow_up_part_carries_the_subject_before_it(answerer):
    """多久办一次 after 服务员要健康证吗 is about the health certificate: it got the inspection frequency."""
    answer = answerer.answer("小吃店的服务员要健康证吗？多久办一次？")
    assert answer.parts == ["common.health_cert"], answer
    assert "没有找到" not in answer.answer


def test_a_part_the_other_parts_entry_covers_is_not_said_not_found(answerer):
    answer = answerer.answer("开理发店要啥证？员工要体检吗？")
    assert answer.parts == ["beauty.licences", "beauty.topic.staff"], answer
    assert PART_LEFT.split("“")[0] not in answer.answer


def test_today_is_not_answered_beside_another_phase(answerer):
    """现在到哪个阶段了要干啥 got today's phase (the third) and the second phase's entry after it."""
    answer = answerer.answer("现在到哪个阶段了要干啥", TODAY)
    assert answer.parts == ["plan.today"] and "第三阶段" in answer.answer, answer
    assert "第二阶段（5月-10月）" not in answer.answer


def test_a_countdown_asks_about_the_milestone(answerer):
    answer = answerer.answer("离分类截止还有几天啊", TODAY)
    assert answer.entry_id == "plan.ms.classify" and "还有149天" in answer.answer, answer


# ---- typos read into a word ---------------------------------------------------------------------------------


def test_a_corrected_word_must_be_in_the_entry(answerer):
    """消du记录 was read as 消毒记录 and answered with the purchase ledger (进货记录), which says nothing of 消毒."""
    assert answerer.answer("消du记录要写伐").entry_id != "groc.purchase_ledger"


def test_text_typed_as_in_the_entry_is_no_typo(answerer):
    """处方要 is read as 处方药 by the homophone table; the clinic's entry has 处方要保存多久 as typed."""
    assert answerer.answer("处方要保存多久").entry_id == "clinic.records"


@pytest.mark.parametrize("question", ["卫声许可证哪里办", "营业只照咋办", "营业执照去哪里办", "特种行业许可证去哪办"])
def test_where_to_apply(answerer, question):
    answer = answerer.answer(question)
    assert answer.entry_id == "current.where_to_apply", answer
    assert "县卫生健康局" in answer.answer and "县公安局" in answer.answer


def test_no_place_name_is_read_in_a_failed_shop(answerer):
    """不合格店 looked like a place name ending in 店 (a foreign-place feature): 整治以后不合格的店 went unanswered."""
    assert answerer.answer("整治以后不合格的店会被关掉吗").entry_id == "common.evaluation"


def test_the_plan_names_no_group_leader(answerer):
    """整规领导小组谁当组长 got the kick-off milestone (领导小组 in it): the plan names no 组长."""
    assert answerer.answer("整规领导小组谁当组长").abstained


# ---- today's rules --------------------------------------------------------------------------------------------

CURRENT_DISEASES = (
    "霍乱",
    "细菌性和阿米巴性痢疾",
    "伤寒和副伤寒",
    "病毒性肝炎（甲型、戊型）",
    "活动性肺结核",
    "化脓性或者渗出性皮肤病",
)


@pytest.mark.parametrize(
    "question", ["得了乙肝能在饭店干活吗", "健康证查体哪些病不能干食品这行", "服务员得了皮肤病能上班吗"]
)
def test_diseases_barring_food_work_are_todays_list(answerer, question):
    answer = answerer.answer(question)
    assert answer.entry_id == "current.health_diseases", answer
    assert all(d in answer.answer for d in CURRENT_DISEASES)
    assert "国卫食品发〔2016〕31号" in answer.answer and "乙型肝炎、艾滋病不在" in answer.answer


def test_the_health_certificate_answer_lists_todays_diseases(answerer):
    text = answerer.answer("健康证").answer
    assert all(d in text for d in CURRENT_DISEASES) and "等消化道传染病" not in text


def test_the_2009_article_says_what_replaced_its_list(answerer):
    text = answerer.answer("食品安全法第三十四条").answer
    assert "有碍食品安全的疾病目录" in text and "乙型肝炎不在其中" in text


def test_the_tobacco_to_minors_answer_names_the_sign(answerer):
    text = answerer.answer("卖烟的店门口要挂不卖给未成年人的牌子吗").answer
    assert "不向未成年人销售烟酒的标志" in text


# ---- vocabulary added this round ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("俺家小店想卖烟咋办证", "groc.tobacco_licence"),  # 俺家 left 家 as unexplained content
        ("做麻糍的家庭作坊要办什么证", "work.licences"),  # 麻糍: characters the KB never uses
        ("小卖部卖过期的饼干被查到会咋样", "fsl.art85"),
        ("我老婆在家做年糕卖给邻居要办证吗", "work.licences"),
    ],
)
def test_everyday_words_of_round_three(answerer, question, expected):
    assert answerer.answer(question).entry_id == expected


# ---- the third development set --------------------------------------------------------------------------------


def test_third_development_set(answerer):
    """tests/knowledge/dev3.yaml (tuned on). Its first 125 questions before this round: 不确定 on 19 of 100 in scope,
    7 out-of-scope or elsewhere questions declined wrongly or not as such. Bars: the figures reached, rounded down."""
    result = evaluate(answerer, load_question_set(HERE / "dev3.yaml"), today=TODAY)
    assert result.top1 >= 0.97 and result.abstention_in <= 0.01 and result.wrong_in <= 3, result.misses
    assert result.abstention_out == 1.0 and result.elsewhere_named == result.elsewhere == 8, result.misses


def test_not_sure_still_reads_the_same(answerer):
    assert answerer.answer("村里的快递驿站需要办理什么手续").answer == NOT_SURE


# ---- a narrow question gets the narrow answer ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("美容院的染发膏要查什么", "beauty.cosmetics"),  # got the salon's whole checklist (beauty.standards)
        ("理发店卫生消毒有什么要求", "beauty.disinfection"),  # got the hygiene topic's item list
    ],
)
def test_a_narrow_entry_goes_before_a_broad_one(answerer, question, expected):
    assert answerer.answer(question).entry_id == expected


def test_a_broad_question_still_gets_the_checklist(answerer):
    assert answerer.answer("理发店检查哪些内容").entry_id == "beauty.standards"


def test_a_seam_between_words_is_no_corrected_word(answerer):
    """游戏可以: 戏可 is read as 许可; requiring 许可 in the entry lost the minors rule."""
    assert answerer.answer("学生周末去网吧打游戏可以吗").entry_id == "net.no_minors"


def test_a_follow_up_with_its_own_content_keeps_it(answerer):
    """店里能不能住人 after 灭火器要配几个 is about living in the shop, not about extinguishers."""
    assert answerer.answer("灭火器要配几个另外店里能不能住人").parts == [
        "common.extinguisher",
        "common.no_three_in_one",
    ]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("离年底还有几天", "plan.ms.year_end_acceptance"),  # 不确定 (0.23) with the right suggestions
        ("县整规办是干嘛的", "plan.office"),  # got what 十小 is
        ("村里要配合做什么", "plan.duty_village"),
        ("考核结果跟什么挂钩", "plan.assessment"),
        ("这个月有什么任务", "plan.today"),  # 这个 dropped as a filler left 月: got the year's targets
    ],
)
def test_plan_questions_of_round_three(answerer, question, expected):
    assert answerer.answer(question, TODAY).entry_id == expected


def test_two_terms_joined_by_he_are_each_answered(answerer):
    """饭店的消防和卫生分别有啥要求 got the fire-safety items only."""
    answer = answerer.answer("饭店的消防和卫生分别有啥要求")
    assert answer.parts == ["rest.topic.fire", "rest.topic.hygiene"], answer
    assert answerer.answer("旅馆的消防和卫生咋弄").parts == ["hotel.topic.fire", "hotel.topic.hygiene"]


def test_he_between_other_words_splits_nothing(answerer):
    """毛巾 and 工具 are not terms of the knowledge base's lists: the question is answered whole."""
    assert len(answerer.answer("理发店的毛巾和工具要消毒吗").parts) == 1


@pytest.mark.parametrize("question", ["现在是哪个阶段", "离年底验收还有几天", "离报年度计划还剩多少天"])
def test_dates_after_2009_are_called_a_projection_of_the_2009_plan_not_its_rule(question):
    # The plan schedules 2009 only: a later year's date is the bot's projection and must be said to be one.
    text = shipped_answerer().answer(question, TODAY).answer
    assert "2026" in text or "2027" in text
    assert "逐年沿用" not in text
    assert "只安排了2009年" in text and "以县整规办公布的为准" in text


# ---- nothing of 十小 in the question ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question", ["明天会下雨吗", "股票明天会涨吗", "红烧肉怎么做", "社保卡丢了怎么补", "给我讲个笑话"]
)
def test_a_question_with_nothing_of_the_campaign_is_declined_plainly(answerer, question):
    answer = answerer.answer(question)
    # 社保 is also named as a matter outside the campaign (vocabulary.yaml not_our_matters): declined by name.
    assert answer.abstained and answer.declined in (OFF_TOPIC, NOT_OURS), question
    assert "不在十小通的解答范围内" in answer.answer and answer.suggestions == [] and answer.source is None


@pytest.mark.parametrize(
    "question",
    [
        "卖过期食品罚多少钱",  # 过期, 食品: words of the campaign, though no entry answers it
        "作为店主我需要承担哪些责任",  # 店主
        "村里的快递驿站需要办理什么手续",  # 办理…手续
        "孩子发烧了怎么办",  # 孩子 reads as 未成年人, a key term: still 不确定, never declined as off topic
    ],
)
def test_a_question_with_a_word_of_the_campaign_is_not_declined_as_off_topic(answerer, question):
    answer = answerer.answer(question)
    assert answer.declined != OFF_TOPIC, question


def test_the_pharmacist_rule_names_its_condition(answerer):
    """Graders marked "药店营业时必须有药学技术人员在岗" false: the 实施条例 (Art. 15) asks for a pharmacist where
    prescription and class-A OTC drugs are sold (reference/current-rules-2026.md, confirmed)."""
    text = answerer.answer("药店要有药师在岗吗").answer
    assert "处方药、甲类非处方药" in text and "第十五条" in text and "营业时必须有" not in text


def test_the_transparent_rooms_rule_is_a_rule_not_a_practice(answerer):
    """Transparent doors and windows of KTV rooms are required by the 2008 public-security rules for entertainment
    venues, not only 通行做法 (graders' reading, checked against public reports of those rules)."""
    answer = answerer.answer("KTV包厢门要透明吗")
    assert answer.parts == ["ktv.transparent_rooms"]
    assert "娱乐场所管理条例" in answer.source and "未见正式条文" not in answer.answer + answer.source
