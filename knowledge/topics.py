"""Entries for one topic of an industry's checklist (topics.yaml): 消防, 卫生和消毒, 从业人员.

A narrow question ("KTV的消防有啥要求") gets the items of that topic, not the whole checklist. Items are picked by
the words of their text rather than by id, so merging or renumbering checklist items keeps the topics right.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from pydantic import Field

from knowledge import render
from knowledge.models import Id, ItemSpec, Text, _Strict

TOPICS_FILE = "topics.yaml"
MIN_ITEMS = 2


class TopicSpec(_Strict):
    id: Id
    name: Text
    words: Annotated[list[Text], Field(min_length=1)]
    not_words: list[Text] = Field(default_factory=list)
    questions: Annotated[list[Text], Field(min_length=1)]


class TopicsFile(_Strict):
    topics: list[TopicSpec]


def topic_items(topic: TopicSpec, items: Sequence[ItemSpec]) -> list[ItemSpec]:
    return [
        it
        for it in items
        if it.kind == "check"
        and any(w in it.text for w in topic.words)
        and not any(w in it.text for w in topic.not_words)
    ]


def topic_answer(name: str, topic: TopicSpec, chosen: Sequence[ItemSpec], all_items: Sequence[ItemSpec]) -> str:
    return f"{name}{topic.name}方面的检查项：\n{render.checklist_text(chosen, all_items)}"


def topic_questions(topic: TopicSpec, trade: str) -> list[str]:
    return [q.replace("{trade}", trade) for q in topic.questions]
