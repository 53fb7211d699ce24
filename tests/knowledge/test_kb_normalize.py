"""Normalisation: the same question typed in different ways becomes the same text."""

from __future__ import annotations

import pytest

from knowledge.loader import load_knowledge, make_normalizer
from knowledge.normalize import MAX_CHARS, Normalizer, SynonymTable, basic_normalize


@pytest.fixture(scope="module")
def norm() -> Normalizer:
    return make_normalizer(load_knowledge().synonyms)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("開飯館要什麼證照？", "开饭馆要什么证照"),  # traditional to simplified
        ("ＫＴＶ　要辦證嗎！", "ktv要办证吗"),  # full-width letters and spaces
        ("“十小”、《食品安全法》……", "十小食品安全法"),  # punctuation
        ("四月十五号前", "4月15日前"),  # Chinese numerals before counter words, 号 as 日
        ("第二十七条", "第27条"),
        ("六项规定动作", "6项规定动作"),
        ("二〇〇九年", "2009年"),
        ("百分之八十", "80"),
        ("十小 三无 五常法 一票否决", "十小三无五常法一票否决"),  # words that merely contain numerals stay
        ("😀🎉", ""),
        ("", ""),
    ],
)
def test_basic(raw, expected):
    assert basic_normalize(raw) == expected


def test_non_text_and_very_long_input():
    assert basic_normalize(None) == ""
    assert basic_normalize(12345) == ""
    varied = "".join(f"饭店{i % 10}" for i in range(4_000))[:10_000]  # nothing repeated three times in a row
    assert len(basic_normalize(varied)) == MAX_CHARS
    assert len(basic_normalize(varied, limit=None)) == 10_000


def test_a_repeated_word_counts_once():
    assert basic_normalize("饭店" * 2_500) == "饭店"
    assert basic_normalize("饭" * 10_000) == "饭"
    assert basic_normalize("开饭店饭店饭店要办什么证") == "开饭店要办什么证"
    assert basic_normalize("饭店饭店") == "饭店饭店"  # twice may be meant
    assert basic_normalize("2000年") == "2000年"  # digits are never collapsed


def test_synonyms_and_fillers(norm):
    assert norm("请问开个饭馆要办啥手续啊？") == norm("开个餐饮店要办什么证照")
    assert norm("網吧") == norm("上网服务场所") == "网吧"
    assert norm("健康证明") == norm("健康合格证") == "健康证"
    assert norm("小饭店") == norm("小餐馆")
    assert norm("KTV") == norm("卡拉OK") == "歌舞厅"


def test_protected_words_survive_fillers(norm):
    assert "了解" in norm("我想了解一下")
    assert "申请" in norm("怎么申请")
    assert norm("网吧吧") == "网吧"  # 吧 is a particle, 网吧 a word


def test_longest_variant_wins():
    table = SynonymTable({"餐饮店": ["饭店", "小饭店"]}, fillers=["的"], keep=["目的"])
    assert table.apply("小饭店的目的") == "餐饮店目的"


def test_key_terms_forgive_one_typo_in_long_terms(norm):
    text = norm("建康证多久办一次")
    assert norm.has_key_term(text, "健康证")
    assert not norm.has_key_term(norm("网咔能进吗"), "网吧")  # two-character terms must be exact
    assert norm("网巴能进吗") == "网吧能进"  # a frequent typo is a synonym instead
    assert norm.keys_in(norm("开饭店要健康证吗")) == {"餐饮店", "健康证"}


def test_what_is_x_reads_as_x_is_what(norm):
    assert norm("什么是三合一") == norm("三合一是啥") == norm("啥是三合一") == "三合一是什么"
    assert norm("什么叫一票否决") == "一票否决是什么"
    assert norm("什么时候截止") == "什么时候截止"  # 什么时候 is a word of its own


def test_compact_writes_a_known_word_as_one_character(norm):
    text = norm("小孩能进理发店吗")
    assert text == "未成年人能进美容美发店"
    assert len(norm.compact(text)) == 4  # 未成年人, 能, 进, 美容美发店
    assert norm.compact(norm("建康证多久办一次"))[0] == norm.compact("健康证")  # one typo in a long key term
