"""The everyday vocabulary (vocabulary.yaml) and the extra ways to ask shipped entries (paraphrases.yaml).

vocabulary.yaml holds, beside synonyms.yaml, the words owners and cadres use for the standards' own terms (苍蝇老鼠
for 防蝇防鼠, 小工 for 从业人员), dialect particles (伐, 嘞), the terms that are also recognised when typed with a
pinyin homophone (营业只照 for 营业执照) and the real words that must never be taken for such a typo (药方 is not
药房). Every group carries a test question and the entry it must reach (or null: it must not be answered), run by
tests/knowledge/test_vocabulary.py. paraphrases.yaml adds questions to entries defined elsewhere, checklist items
included, so an item can be asked in everyday words without touching the checklist.

Both are validated when the knowledge base loads; every error names the file and the line, in Chinese.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

from pydantic import Field

from knowledge.models import Entry, Id, KnowledgeError, SynonymGroup, SynonymsFile, Text, _Strict
from knowledge.yaml_lines import file_line_of, where

VOCABULARY_FILE = "vocabulary.yaml"
PARAPHRASES_FILE = "paraphrases.yaml"


class VocabularyTest(_Strict):
    q: Text
    expect: Id | None  # null: a question that must be answered 不确定


class VocabularyGroup(SynonymGroup):
    test: VocabularyTest


class VocabularyFile(_Strict):
    groups: list[VocabularyGroup] = Field(default_factory=list)
    fillers: list[Text] = Field(default_factory=list)
    key_terms: list[Text] = Field(default_factory=list)
    question_words: list[Text] = Field(default_factory=list)
    homophone_terms: list[Text] = Field(default_factory=list)
    not_typos: list[Text] = Field(default_factory=list)
    # A key term asked on its own (健康证？) and the entry that answers it; other bare key terms (饭店) get 不确定
    # with suggestions.
    bare_terms: dict[Text, Id] = Field(default_factory=dict)
    # Endings that ask the same kind of thing: an entry learned from the county office's answer is stored with its
    # question in the other endings of the same group too (knowledge/paraphrase.py).
    question_shapes: list[Annotated[list[Text], Field(min_length=2)]] = Field(default_factory=list)
    # Businesses outside the ten trades that share their words (宠物美容 is no beauty salon, 给狗洗澡 no bathhouse),
    # each with the words that name it: a question naming one is declined, naming the ten trades.
    not_ours: dict[Text, Annotated[list[Text], Field(min_length=1)]] = Field(default_factory=dict)
    # Matters no 十小 rule speaks of, though asked in its words (驾照体检, 村委换届, 离婚后饭店归谁), each with the words
    # that name it: a question naming one is declined as outside what 十小通 answers, and not forwarded.
    not_our_matters: dict[Text, Annotated[list[Text], Field(min_length=1)]] = Field(default_factory=dict)


class ParaphrasesFile(_Strict):
    paraphrases: dict[Id, Annotated[list[Text], Field(min_length=1)]]


def merge(
    synonyms: SynonymsFile, vocabulary: VocabularyFile, synonyms_path: Path, vocabulary_path: Path
) -> SynonymsFile:
    """One synonym table from both files; a word in two groups (in either file) is an error naming both lines."""
    # word -> (canonical, file name, path, loc): lines are looked up only to report an error (composing is slow)
    owner: dict[str, tuple[str, str, Path, list[object]]] = {}
    sources = (("synonyms.yaml", synonyms_path, synonyms.groups), (VOCABULARY_FILE, vocabulary_path, vocabulary.groups))
    for name, path, groups in sources:
        for g, group in enumerate(groups):
            for v, word in enumerate([group.canonical, *group.variants]):
                loc: list[object] = ["groups", g, "canonical"] if v == 0 else ["groups", g, "variants", v - 1]
                prev = owner.setdefault(word, (group.canonical, name, path, loc))
                if prev[0] != group.canonical:
                    there = f"{prev[1]} {where(file_line_of(prev[2], prev[3])).rstrip('：')}".strip()
                    raise KnowledgeError(
                        f"{name}：{where(file_line_of(path, loc))}同义词“{word}”同时出现在"
                        f"“{prev[0]}”（{there}）和“{group.canonical}”两组"
                    )
    plain_groups = [SynonymGroup(canonical=g.canonical, variants=g.variants) for g in vocabulary.groups]
    return SynonymsFile(
        groups=[*synonyms.groups, *plain_groups],
        fillers=[*synonyms.fillers, *vocabulary.fillers],
        keep=synonyms.keep,
        key_terms=[*synonyms.key_terms, *vocabulary.key_terms],
        question_words=[*synonyms.question_words, *vocabulary.question_words],
        homophone_terms=[*synonyms.homophone_terms, *vocabulary.homophone_terms],
        not_typos=[*synonyms.not_typos, *vocabulary.not_typos],
    )


def check_bare_terms(vocabulary: VocabularyFile, known: set[str], path: Path) -> None:
    """Each bare term's entry exists. (The groups' tests are run by tests/knowledge/test_vocabulary.py, not here: a
    renamed entry must not stop the bot from starting.)"""
    for term, ident in vocabulary.bare_terms.items():
        if ident not in known:
            line = where(file_line_of(path, ["bare_terms", term]))
            raise KnowledgeError(f"{VOCABULARY_FILE}：{line}bare_terms 中“{term}”对应的条目 {ident} 不存在")


def add_paraphrases(entries: list[Entry], file: ParaphrasesFile, path: Path) -> list[Entry]:
    """The entries with the extra questions of paraphrases.yaml appended to their own. An id whose prefix no entry
    has (pharm. when the county drops the pharmacy) is skipped; any other unknown id is an error."""
    index = {entry.id: n for n, entry in enumerate(entries)}
    prefixes = {entry.id.split(".")[0] for entry in entries}
    out = list(entries)
    for ident, questions in file.paraphrases.items():
        n = index.get(ident)
        if n is None and ident.split(".")[0] not in prefixes:
            continue  # an industry the county does not list (industries.yaml): its paraphrases are not used
        if n is None:
            line = where(file_line_of(path, ["paraphrases", ident]))
            raise KnowledgeError(f"{PARAPHRASES_FILE}：{line}条目 {ident} 不存在（检查项的 id 也可以用）")
        extra = [q for q in questions if q not in out[n].questions]
        out[n] = replace(out[n], questions=(*out[n].questions, *extra))
    return out
