"""vocabulary.yaml: each group of everyday words has a test question that must reach its entry (or, expect: null,
must not be answered); and the file is validated at load with errors that name the line, in Chinese."""

from __future__ import annotations

import pytest
from kb_support import copy_data, edit, shipped_answerer

from knowledge.loader import DATA_DIR, load_knowledge
from knowledge.models import KnowledgeError
from knowledge.vocabulary import VOCABULARY_FILE
from knowledge.yaml_lines import file_line_of

KB = load_knowledge()
GROUPS = list(enumerate(KB.vocabulary.groups))


@pytest.mark.parametrize(("number", "group"), GROUPS, ids=[g.canonical for _, g in GROUPS])
def test_each_group_reaches_its_entry(number, group):
    line = file_line_of(DATA_DIR / VOCABULARY_FILE, ["groups", number, "test"])
    answer = shipped_answerer().answer(group.test.q)
    if group.test.expect is None:
        assert answer.abstained, f"vocabulary.yaml 第{line}行：“{group.test.q}”不应作答，却答成了 {answer.entry_id}"
    else:
        assert group.test.expect in {e.id for e in KB.entries}, f"vocabulary.yaml 第{line}行：条目不存在"
        assert (answer.entry_id, answer.abstained) == (group.test.expect, False), (
            f"vocabulary.yaml 第{line}行：“{group.test.q}”应答成 {group.test.expect}，得到 {answer.entry_id}"
        )


@pytest.mark.parametrize(("number", "group"), GROUPS, ids=[g.canonical for _, g in GROUPS])
def test_each_group_is_what_carries_its_test(number, group):
    """Without its group, a group's test question no longer reads its variant as the standard's term."""
    normalize = shipped_answerer().index.normalize
    variants = [v for v in group.variants if v in group.test.q]
    assert variants, f"“{group.test.q}”没有用到“{group.canonical}”一组的任何说法"
    assert group.canonical in normalize(group.test.q)


def test_a_word_in_two_groups_names_both_lines(tmp_path):
    data = copy_data(tmp_path)
    edit(data / VOCABULARY_FILE, "variants: [老鼠, 耗子, 鼠患]", "variants: [老鼠, 耗子, 鼠患, 餐馆]")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(data)
    message = str(info.value)
    assert message.startswith("vocabulary.yaml：第") and "“餐馆”" in message and "synonyms.yaml 第" in message


def test_a_misspelt_key_names_the_line(tmp_path):
    data = copy_data(tmp_path)
    edit(
        data / VOCABULARY_FILE,
        "    test: {q: 小食品店有耗子要弄什么, expect: groc.pest_control}",
        "    tset: {q: 小食品店有耗子要弄什么, expect: groc.pest_control}",
    )
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(data)
    lines = (data / VOCABULARY_FILE).read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "tset:" in text)
    assert f"第{line}行" in str(info.value) or f"第{line - 2}行" in str(info.value)
    assert "无法识别的字段" in str(info.value)


def test_a_bare_term_for_a_missing_entry_is_an_error(tmp_path):
    data = copy_data(tmp_path)
    edit(data / VOCABULARY_FILE, "bare_terms: {健康证: common.health_cert,", "bare_terms: {健康证: common.health_card,")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(data)
    assert "vocabulary.yaml：第" in str(info.value) and "common.health_card" in str(info.value)
