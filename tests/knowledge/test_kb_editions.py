"""The Food Safety Law was amended again in 2025 (in force 2025-12-01; ../shared/reference/current-rules-2026.md), and
whether its article numbers moved is not verified. So no answer may call the 2021 text the current one: wherever
the knowledge base cites the 2021 text of the Food Safety Law it says the 2025 amendment exists. (A blind grader of
frozen set 5 counted five answers false for calling the 2021 text 现行.)"""

from __future__ import annotations

import re

from knowledge.loader import DATA_DIR, load_knowledge

FSL_2021 = re.compile(r"2021年修正")
# What calls the 2021 text the current one.
CALLED_CURRENT = re.compile(r"现行(《食品安全法》)?（?2021年修正|现行文本（2021")


def data_texts() -> dict[str, str]:
    return {str(path.relative_to(DATA_DIR)): path.read_text(encoding="utf-8") for path in DATA_DIR.rglob("*.yaml")}


def test_no_data_file_calls_the_2021_text_current():
    found = {name: CALLED_CURRENT.findall(text) for name, text in data_texts().items()}
    assert {name: hits for name, hits in found.items() if hits} == {}


def test_every_citation_of_the_2021_food_safety_law_mentions_the_2025_amendment():
    missing = []
    for name, text in data_texts().items():
        for match in FSL_2021.finditer(text):
            around = text[max(0, match.start() - 60) : match.end() + 90]
            if "消防法" in around and "食品安全法" not in around:  # the Fire Law's 2021 text is its newest
                continue
            if "2025" not in around:
                missing.append(f"{name}: …{around}…")
    assert missing == []


def test_answers_and_sources_as_shown_never_call_the_2021_text_current():
    kb = load_knowledge()
    shown = [text for entry in kb.entries for text in (entry.answer, entry.source)]
    assert [text for text in shown if CALLED_CURRENT.search(text)] == []
    assert any("2021年修正文本" in text and "2025年12月1日" in text for text in shown)
