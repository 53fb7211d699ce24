"""Reads knowledge/data/, validates it and turns it into entries and checklists (the plan in plan_loader.py, the
industries in industry_loader.py, file reading in kb_builder.py).

Every error is raised as one KnowledgeError whose message names the file and the entry or item, so an official
editing a YAML file can find the mistake without reading Python.
"""

from __future__ import annotations

from pathlib import Path

from knowledge.industry_loader import load_industries
from knowledge.kb_builder import Builder
from knowledge.models import (
    EntriesFile,
    Entry,
    KnowledgeBase,
    KnowledgeError,
    SynonymsFile,
)
from knowledge.normalize import Normalizer, SynonymTable
from knowledge.places import PLACES_FILE, load_places
from knowledge.plan_loader import load_plan
from knowledge.vocabulary import (
    PARAPHRASES_FILE,
    VOCABULARY_FILE,
    ParaphrasesFile,
    VocabularyFile,
    add_paraphrases,
    check_bare_terms,
    merge,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
# Knowledge-only files beside the structured ones; other YAML in data/ belongs to other features.
EXTRA_ENTRY_FILES = ("food_safety_law.yaml", "general.yaml", "current_rules.yaml")


def _check_questions(entries: list[Entry], normalizer: Normalizer) -> None:
    owner: dict[str, Entry] = {}
    for entry in entries:
        for q in entry.questions:
            key = normalizer(q)
            if not key:
                raise KnowledgeError(f"{entry.file}：条目 {entry.id}：问法“{q}”规范化后为空，请写成完整的问题")
            other = owner.get(key)
            if other is not None and other.id != entry.id:
                raise KnowledgeError(
                    f"{entry.file}：条目 {entry.id}：问法“{q}”与 {other.file} 中条目 "
                    f"{other.id} 的问法相同，同一个问题只能对应一个条目"
                )
            owner[key] = entry


def load_knowledge(data_dir: Path | str | None = None) -> KnowledgeBase:
    """Load and validate everything under data_dir (default: the shipped knowledge/data)."""
    root = Path(data_dir) if data_dir is not None else DATA_DIR
    if not root.is_dir():
        raise KnowledgeError(f"{root}：知识库目录不存在")
    b = Builder(root)
    vocabulary = b.load(VocabularyFile, VOCABULARY_FILE) if (root / VOCABULARY_FILE).is_file() else VocabularyFile()
    synonyms = merge(b.load(SynonymsFile, "synonyms.yaml"), vocabulary, root / "synonyms.yaml", root / VOCABULARY_FILE)
    places = load_places(root / PLACES_FILE)
    if places is not None:  # the county's own place names say where the asker is, not what is asked
        synonyms = synonyms.model_copy(update={"fillers": [*synonyms.fillers, *places.home]})
    normalizer = make_normalizer(synonyms)
    checklists = load_industries(b, normalizer)  # before the plan: its answers name the trades (`{industries}`)
    plan, milestones = load_plan(b, [checklist.name for checklist in checklists.values()])
    for rel in EXTRA_ENTRY_FILES:
        if (root / rel).is_file():
            b.add_specs(
                b.load(EntriesFile, rel),
                rel,
                trades=frozenset(e.trade for e in b.entries if e.trade),
                normalizer=normalizer,
            )
    entries = b.entries
    if (root / PARAPHRASES_FILE).is_file():
        entries = add_paraphrases(entries, b.load(ParaphrasesFile, PARAPHRASES_FILE), root / PARAPHRASES_FILE)
    check_bare_terms(vocabulary, {entry.id for entry in entries}, root / VOCABULARY_FILE)
    _check_questions(entries, normalizer)
    return KnowledgeBase(
        entries,
        synonyms,
        checklists,
        milestones,
        plan.targets,
        plan.targets.year,
        tuple(plan.phases),
        vocabulary,
        places,
        plan.today_entry.id if plan.today_entry else None,
    )


def make_normalizer(synonyms: SynonymsFile) -> Normalizer:
    groups: dict[str, list[str]] = {}
    for g in synonyms.groups:  # a canonical word may have groups in both synonyms.yaml and vocabulary.yaml
        groups.setdefault(g.canonical, []).extend(g.variants)
    table = SynonymTable(groups, synonyms.fillers, synonyms.keep)
    plain = Normalizer(table)
    for term in synonyms.key_terms:
        if plain(term) != term:
            raise KnowledgeError(
                f"synonyms.yaml：key_terms 中的“{term}”规范化后变成“{plain(term)}”，请写同义词组里的规范词（canonical）"
            )
    return Normalizer(table, synonyms.key_terms, synonyms.question_words)
