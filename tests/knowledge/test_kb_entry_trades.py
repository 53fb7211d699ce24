"""An entry may name the trades it is about (`trades:` on the entry, over its file's): Zhejiang's rules for small food
businesses answer a restaurant's question, never a foot bath's or a KTV's (a blind grader found the food shops'
health-certificate fines given to a foot-bath worker as if they applied)."""

from __future__ import annotations

import re

import pytest
from kb_support import copy_data, edit, shipped_answerer

from knowledge.loader import load_knowledge
from knowledge.models import KnowledgeError


@pytest.mark.parametrize(
    "question",
    [
        "浴室搓澡工没办健康证查到了罚多少钱",
        "KTV被责令停业两次以后还能不能再开",
        "美发店开多大面积有限制吗",
        "药店的许可证能用几年",
    ],
)
def test_food_shop_rules_do_not_answer_other_trades(question):
    answer = shipped_answerer().answer(question)
    food_only = {
        "current.display_fines",
        "current.stop_twice",
        "current.small_restaurant_size",
        "current.food_licence_valid",
    }
    assert answer.entry_id not in food_only
    assert "小作坊、小餐饮店、小食杂店" not in answer.answer


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("小饭店服务员没办健康证被查到要罚多少", "current.display_fines"),
        ("食杂店一年被停业两次会怎样", "current.stop_twice"),
    ],
)
def test_they_still_answer_the_food_trades(question, entry):
    assert shipped_answerer().answer(question).entry_id == entry


def test_the_scope_is_the_entrys_own():
    kb = load_knowledge()
    assert kb.entry("current.display_fines").scope == frozenset({"食杂店", "作坊", "餐饮店"})
    assert kb.entry("current.departments").scope == frozenset()  # its file names no trades: every trade


def test_an_unknown_trade_on_an_entry_is_named_in_the_error(tmp_path):
    data = copy_data(tmp_path)
    edit(
        data / "current_rules.yaml",
        "    source: {doc: zj_small_food, section: 第十六条、第二十条、第二十一条}\n    trades: [食杂店, 作坊, 餐饮店]",
        "    source: {doc: zj_small_food, section: 第十六条、第二十条、第二十一条}\n    trades: [食杂店, 火锅城]",
    )
    with pytest.raises(
        KnowledgeError, match=re.escape("current_rules.yaml：条目 current.display_fines：trades 中的“火锅城”")
    ):
        load_knowledge(data)
