"""Matters no 十小 rule speaks of, though asked in its words (vocabulary.yaml not_our_matters): a driving licence's
medical check is no health certificate, a village election no 村居 duty, a divorce's shop no licence question. They
are declined plainly instead of answered from a near entry or forwarded to the county office."""

from __future__ import annotations

import pytest
from kb_support import shipped_answerer

from knowledge.answer import NOT_OURS


@pytest.mark.parametrize(
    ("question", "matter"),
    [
        ("驾照体检是不是跟健康证一起办", "驾驶证"),
        ("开饭店的老板驾驶证过期了去哪换", "驾驶证"),
        ("村委会换届选举以后整规还是村干部管吗", "村委会换届选举"),
        ("小卖部员工的社保要老板交吗", "社会保险和医保"),
        ("药店刷医保卡要什么手续", "社会保险和医保"),
        ("我们离婚以后那个小吃店归谁", "离婚和家庭财产"),
    ],
)
def test_a_matter_outside_the_campaign_is_declined_by_name(question, matter):
    answer = shipped_answerer().answer(question)
    assert answer.abstained and answer.declined == NOT_OURS and answer.entry_id is None
    assert answer.answer.startswith(f"{matter}的问题不在十小通的解答范围内")


@pytest.mark.parametrize(
    ("question", "entry"),
    [("村居委会在整规中干什么", "plan.duty_village"), ("旅馆住宿登记要看户口本吗", "current.public_security_law")],
)
def test_the_campaigns_own_questions_in_the_same_words_are_answered(question, entry):
    answer = shipped_answerer().answer(question)
    assert not answer.declined and answer.entry_id == entry
