"""`knowledge.industry_names` reads the industries' names without building the knowledge base (for `shixiao export
units`): the same names, in the same order, as the full loader gives; a broken file is a Chinese error naming it."""

from __future__ import annotations

import pytest
from kb_support import copy_data, edit

from knowledge.industry_names import industry_names
from knowledge.loader import load_knowledge
from knowledge.models import KnowledgeError


def test_the_names_are_the_full_loaders_in_its_order():
    names = industry_names()
    checklists = load_knowledge().checklists
    assert list(names.items()) == [(slug, checklist.name) for slug, checklist in checklists.items()]
    assert names["small_restaurant"] == "小餐饮店"


def test_a_renamed_industry_is_read_renamed(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "industries" / "small_hotel.yaml", "name: 小旅馆", "name: 小宾馆旅馆")
    assert industry_names(data)["small_hotel"] == "小宾馆旅馆"
    assert load_knowledge(data).checklists["small_hotel"].name == "小宾馆旅馆"


def test_a_listed_industry_without_its_file_is_named_in_the_error(tmp_path):
    data = copy_data(tmp_path)
    (data / "industries" / "small_hotel.yaml").unlink()
    with pytest.raises(KnowledgeError, match=r"industries/small_hotel\.yaml：文件不存在"):
        industry_names(data)


def test_an_industry_without_a_name_is_named_in_the_error(tmp_path):
    data = copy_data(tmp_path)
    edit(data / "industries" / "small_clinic.yaml", "name: 小诊所", "label: 小诊所")
    with pytest.raises(KnowledgeError, match=r"industries/small_clinic\.yaml：缺少行业名称 name"):
        industry_names(data)
