"""Inspection checklists come from the same data as the knowledge base, so the two cannot disagree."""

from __future__ import annotations

import pytest

from knowledge.checklists import ANSWER_LABELS, load_checklists, vetoed
from knowledge.loader import load_knowledge
from knowledge.models import KIND_VALUES

SLUGS = [
    "small_grocery",
    "small_food_workshop",
    "small_restaurant",
    "small_beauty_salon",
    "small_bathhouse",
    "small_hotel",
    "small_karaoke_dance_hall",
    "small_internet_cafe",
    "small_clinic",
    "small_pharmacy",
]


@pytest.fixture(scope="module")
def checklists():
    return load_checklists()


def test_ten_industries_in_list_order(checklists):
    assert list(checklists) == SLUGS


def test_common_items_come_first(checklists):
    common = [item.id for item in checklists["small_bathhouse"].items if item.id.startswith("common.")]
    assert len(common) == 9  # the bathhouse replaces none of them
    for checklist in checklists.values():
        ids = [item.id for item in checklist.items]
        kept = [item_id for item_id in common if item_id in ids]
        assert ids[: len(kept)] == kept
        assert len(ids) == len(set(ids))
        assert not any(i.startswith("common.") for i in ids[len(kept) :])
        # a common item an industry does not ask is replaced by its own form of it, and resolves to that
        for item_id in set(common) - set(kept):
            assert checklist.resolve(item_id) in ids and not checklist.resolve(item_id).startswith("common.")


def test_items_are_complete(checklists):
    for checklist in checklists.values():
        assert checklist.name and checklist.licences and checklist.lead_department
        assert any(item.veto for item in checklist.items), "every industry has a veto item (its licence)"
        seen = set()
        for item in checklist.items:
            assert item.text and item.help and item.source
            assert item.kind in KIND_VALUES
            if item.kind == "gate":
                assert not item.veto
            if item.relevant_item is not None:
                assert item.relevant_item in seen, "a condition refers to an earlier item"
                assert item.relevant_equals in checklist.item(item.relevant_item).choices
            seen.add(item.id)


def test_skip_logic(checklists):
    rest = checklists["small_restaurant"]
    asked = {item.id for item in rest.applicable({})}
    assert "rest.uses_gas" in asked and "rest.gas_use_safe" not in asked
    assert "rest.gas_use_safe" in {item.id for item in rest.applicable({"rest.uses_gas": "yes"})}
    assert "rest.gas_use_safe" not in {item.id for item in rest.applicable({"rest.uses_gas": "no"})}


def test_veto(checklists):
    net = checklists["small_internet_cafe"]
    assert [item.id for item in vetoed(net, {"net.no_minors": "fail", "net.hours": "fail"})] == ["net.no_minors"]
    assert vetoed(net, {"net.no_minors": "pass"}) == []
    assert ANSWER_LABELS["fail"] == "不符合"


def test_knowledge_base_lists_the_same_items():
    kb = load_knowledge()
    for slug, checklist in kb.checklists.items():
        prefix = next(item.id.split(".")[0] for item in checklist.items if not item.id.startswith("common."))
        standards = kb.entry(f"{prefix}.standards").answer
        for item in checklist.items:
            if item.kind == "check":
                assert item.text in standards, (slug, item.id)
        licences = kb.entry(f"{prefix}.licences").answer
        for licence in checklist.licences:
            assert licence in licences
