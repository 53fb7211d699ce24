"""Reads knowledge/data/, validates it and turns it into entries and checklists.

Every error is raised as one KnowledgeError whose message names the file and the entry or item, so an official
editing a YAML file can find the mistake without reading Python.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from knowledge import checklist_rules, render
from knowledge.models import (
    KIND_VALUES,
    Checklist,
    ChecklistItem,
    CommonFile,
    EntriesFile,
    Entry,
    IndustriesFile,
    IndustryFile,
    ItemSpec,
    KnowledgeBase,
    KnowledgeError,
    Milestone,
    PlanFile,
    RetiredItem,
    SourceRef,
    SourcesFile,
    SynonymsFile,
)
from knowledge.normalize import Normalizer, SynonymTable
from knowledge.places import PLACES_FILE, load_places
from knowledge.topics import MIN_ITEMS, TOPICS_FILE, TopicsFile, TopicSpec, topic_answer, topic_items, topic_questions
from knowledge.vocabulary import (
    PARAPHRASES_FILE,
    VOCABULARY_FILE,
    ParaphrasesFile,
    VocabularyFile,
    add_paraphrases,
    check_bare_terms,
    merge,
)
from knowledge.yaml_errors import YamlFileError, read_yaml_file
from knowledge.yaml_lines import file_line_of, where

DATA_DIR = Path(__file__).resolve().parent / "data"
# Knowledge-only files beside the structured ones; other YAML in data/ belongs to other features.
EXTRA_ENTRY_FILES = ("food_safety_law.yaml", "general.yaml", "current_rules.yaml")

_ERROR_TEXT = {
    "missing": "缺少必填字段",
    "extra_forbidden": "无法识别的字段（是否拼错？）",
    "string_too_short": "不能为空",
    "too_short": "至少需要一项",
    "string_type": "应为文字",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "string_pattern_mismatch": "格式不对：只能用小写英文字母、数字、下划线和点，例如 rest.health_cert",
    "literal_error": "取值不在允许范围内",
    "list_type": "应为列表（每行以“- ”开头）",
    "dict_type": "应为键值对",
    "model_type": "应为键值对",
    "greater_than_equal": "数值太小",
    "less_than_equal": "数值太大",
}

M = TypeVar("M", bound=BaseModel)


def _read_yaml(path: Path, name: str) -> Any:
    try:
        return read_yaml_file(path)
    except YamlFileError as exc:
        raise KnowledgeError(f"{name}：{exc}") from None


def _owner_id(raw: Any, loc: tuple[Any, ...]) -> str | None:
    """The id of the innermost entry or item on the error's path, found by walking the raw data."""
    owner, node = None, raw
    for key in loc:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            owner = node["id"]
    return owner


def _parse(model: type[M], raw: Any, name: str, path: Path | None = None) -> M:
    """Validate against the schema; each error names the file, the line (when the file is known), the entry and the
    field."""
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{name}：文件内容应为键值对（可能是空文件或缩进错误）")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            owner = _owner_id(raw, loc)
            field = ".".join(str(p) for p in loc) or "（整个文件）"
            message = _ERROR_TEXT.get(err["type"], err["msg"])
            if err["type"] == "value_error":
                message = str(err["ctx"]["error"]) if "ctx" in err else err["msg"]
            who = f"条目 {owner}：" if owner else ""
            line = where(file_line_of(path, loc)) if path is not None else ""
            lines.append(f"{name}：{line}{who}字段 {field}：{message}")
        raise KnowledgeError("\n".join(lines)) from None


class _Builder:
    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir
        self.entries: list[Entry] = []
        self.seen: dict[str, str] = {}  # entry or item id -> file, for duplicate detection
        self.trade: str | None = None  # key term of the industry whose file is being read
        self.sources = _parse(
            SourcesFile,
            _read_yaml(data_dir / "sources.yaml", "sources.yaml"),
            "sources.yaml",
            data_dir / "sources.yaml",
        )

    def load(self, model: type[M], rel: str) -> M:
        return _parse(model, _read_yaml(self.dir / rel, rel), rel, self.dir / rel)

    def claim(self, ident: str, name: str, what: str = "条目") -> None:
        if ident in self.seen:
            raise KnowledgeError(f"{name}：{what} {ident} 的 id 与 {self.seen[ident]} 中的重复，id 必须全库唯一")
        self.seen[ident] = name

    def source(self, spec_source: Any, name: str, ident: str) -> str:
        return render.render_source(spec_source, self.sources, f"{name}：条目 {ident}")

    def add(
        self,
        name: str,
        ident: str,
        questions: Any,
        answer: str,
        source: str,
        reviewed: dt.date | None,
        scope: frozenset[str] = frozenset(),
    ) -> None:
        self.claim(ident, name)
        if reviewed is None:
            raise KnowledgeError(f"{name}：条目 {ident}：缺少 reviewed（最近核对日期），可写在条目或文件顶部")
        self.entries.append(Entry(ident, tuple(questions), answer, source, reviewed, name, self.trade, scope))

    def add_specs(
        self,
        file: EntriesFile,
        name: str,
        placeholders: dict[str, Any] | None = None,
        trades: frozenset[str] = frozenset(),
        normalizer: Normalizer | None = None,
    ) -> None:
        scope: frozenset[str] = frozenset()
        if file.trades and normalizer is not None:
            scope = frozenset(normalizer(t) for t in file.trades)
            unknown = [t for t in file.trades if normalizer(t) not in trades]
            if unknown:
                raise KnowledgeError(
                    f"{name}：trades 中的“{'、'.join(unknown)}”不是本县行业的关键词（应写 "
                    f"{'、'.join(sorted(trades))} 之一）"
                )
        for spec in file.entries:
            answer = render.fill_placeholders(spec.answer, placeholders or {}, f"{name}：条目 {spec.id}")
            self.add(
                name,
                spec.id,
                spec.questions,
                self.noted(answer, spec.source),
                self.source(spec.source, name, spec.id),
                spec.reviewed or file.reviewed,
                scope,
            )

    def noted(self, answer: str, ref: SourceRef) -> str:
        return render.superseded_note(answer, ref, self.sources)


def _plan(b: _Builder, industries: Sequence[str]) -> tuple[PlanFile, list[Milestone]]:
    """The plan's entries and milestones. `industries` (the county's list, in order) fills {industries}, so an
    answer that names the ten trades never disagrees with industries.yaml."""
    name = "plan.yaml"
    plan = b.load(PlanFile, name)
    year = plan.targets.year
    numbers: set[int] = set()
    ids: set[str] = set()
    by_date: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for m in plan.milestones:
        where = f"{name}：时间节点 {m.id}"
        if m.id in ids:
            raise KnowledgeError(f"{where}：id 重复")
        ids.add(m.id)
        if m.number in numbers:
            raise KnowledgeError(f"{where}：序号 number: {m.number} 重复")
        numbers.add(m.number)
        if not m.year_end:
            try:
                dt.date(year, m.month or 0, m.day or 0)
            except ValueError:
                raise KnowledgeError(f"{where}：{m.month}月{m.day}日不是有效日期") from None
        by_date[(13, 0) if m.year_end else (m.month or 0, m.day or 0)].append(m)
    doc = SourceRef(doc=plan.document)
    base = b.source(doc, name, "document")
    reviewed = plan.reviewed
    b.add_specs(plan, name, {"industries": lambda: "、".join(industries)})
    for p in plan.phases:
        b.add(
            name,
            f"plan.phase{p.number}",
            p.questions,
            f"{render.phase_heading(p)}：{p.summary}",
            base + "四、（一）",
            reviewed,
        )
    b.add(
        name,
        plan.phases_entry.id,
        plan.phases_entry.questions,
        render.phases_text(plan.phases),
        base + "四、（一）",
        reviewed,
    )
    for m in plan.milestones:
        b.add(
            name,
            f"plan.ms.{m.id}",
            m.questions,
            render.milestone_answer(m, year),
            f"{base}四、（二）第{m.number}项",
            reviewed,
        )
    for _key, group in sorted(by_date.items()):
        label = render.milestone_date(group[0], year)
        ident = "plan.date.year_end" if group[0].year_end else f"plan.date.m{group[0].month:02d}d{group[0].day:02d}"
        questions = [q.replace("{date}", label) for q in plan.date_entry_questions]
        items = "、".join(f"第{m.number}项" for m in group)
        b.add(name, ident, questions, render.date_answer(group, year), f"{base}四、（二）{items}", reviewed)
    b.add(
        name,
        plan.schedule_entry.id,
        plan.schedule_entry.questions,
        render.schedule_text(plan.milestones, year),
        base + "四、（二）",
        reviewed,
    )
    if plan.today_entry is not None:  # without a date (no clock) it answers with the whole schedule
        b.add(
            name,
            plan.today_entry.id,
            plan.today_entry.questions,
            render.schedule_text(plan.milestones, year),
            base + "四、（一）（二）",
            reviewed,
        )
    milestones = [
        Milestone(m.id, m.number, m.month, m.day, m.year_end, m.title, tuple(m.responsible), m.text)
        for m in plan.milestones
    ]
    return plan, milestones


def _items(
    b: _Builder, items: list[ItemSpec], name: str, reviewed: dt.date | None, known: dict[str, ItemSpec], scope: str
) -> dict[str, str]:
    """Validate items (ids, skip logic against earlier items) and add their entries; returns rendered sources.

    An item with a FAQ answers with it; every other check item answers with its own text, so a question about one
    requirement (冰箱生熟能放一起吗) gets that requirement rather than the whole checklist.
    """
    sources: dict[str, str] = {}
    for item in items:
        where = f"{name}：检查项 {item.id}"
        b.claim(item.id, name, "检查项")
        if item.relevant is not None:
            target = known.get(item.relevant.item)
            if target is None:
                raise KnowledgeError(f"{where}：relevant 引用的检查项 {item.relevant.item} 不存在或不在本项之前")
            if item.relevant.equals not in KIND_VALUES[target.kind]:
                allowed = "、".join(KIND_VALUES[target.kind])
                raise KnowledgeError(
                    f"{where}：relevant.equals 取值 {item.relevant.equals} 不适用于 {target.id}（可取：{allowed}）"
                )
        known[item.id] = item
        sources[item.id] = render.render_source(item.source, b.sources, where)
        if item.faq is not None:
            b.seen.pop(item.id)  # the FAQ entry shares the item's id on purpose
            b.add(name, item.id, item.faq.questions, b.noted(item.faq.answer, item.source), sources[item.id], reviewed)
        elif item.kind == "check":
            # Asked as the requirement itself, an industry's own item with its trade in front: the trade tells
            # 饭店冰箱生熟能放一起吗 from the grocery's cold chain, and several industries share texts such as
            # 持有有效的公共场所卫生许可证.
            b.seen.pop(item.id)
            b.add(
                name,
                item.id,
                [f"{b.trade or ''}{item.text}"],
                b.noted(render.item_answer(item, known, scope), item.source),
                sources[item.id],
                reviewed,
            )
    return sources


def _industries(b: _Builder, normalizer: Normalizer) -> dict[str, Checklist]:
    common = b.load(CommonFile, "common.yaml")
    place = checklist_rules.Place()
    place.add("common.yaml", checklist_rules.item_lines(b.dir / "common.yaml"), [it.id for it in common.items])
    checklist_rules.check_common(common.items, common.topics, place)
    common_known: dict[str, ItemSpec] = {}
    common_sources = _items(b, common.items, "common.yaml", common.reviewed, common_known, "各行业共有")
    b.add_specs(common, "common.yaml", {"checklist": lambda: render.checklist_text(common.items)})

    listing = b.load(IndustriesFile, "industries.yaml")
    folder = b.dir / "industries"
    on_disk = {p.stem for p in folder.glob("*.yaml")} if folder.is_dir() else set()
    for slug in listing.industries:
        if slug not in on_disk:
            raise KnowledgeError(f"industries.yaml：列出的行业 {slug} 没有对应文件 industries/{slug}.yaml")
    unlisted = sorted(on_disk - set(listing.industries))
    if unlisted:
        raise KnowledgeError(
            f"industries/{unlisted[0]}.yaml：该行业未列入 industries.yaml 的 industries 名单"
            "（要启用就加入名单，不用就删除或移走该文件）"
        )
    if len(set(listing.industries)) != len(listing.industries):
        raise KnowledgeError("industries.yaml：industries 名单中有重复的行业")

    checklists: dict[str, Checklist] = {}
    topics = b.load(TopicsFile, TOPICS_FILE).topics if (b.dir / TOPICS_FILE).is_file() else []
    for slug in listing.industries:
        name = f"industries/{slug}.yaml"
        ind = b.load(IndustryFile, name)
        if ind.slug != slug:
            raise KnowledgeError(f"{name}：slug: {ind.slug} 与文件名 {slug} 不一致")
        # The industry's key term (餐饮店 for 小餐饮店): search tells its entries from other industries' by it.
        trades = normalizer.keys_in(normalizer(ind.name))
        b.trade = next(iter(trades)) if len(trades) == 1 else None
        known = dict(common_known)
        sources = common_sources | _items(b, ind.items, name, ind.reviewed, known, ind.name)
        place.add(
            name,
            checklist_rules.item_lines(b.dir / name),
            [it.id for it in ind.items] + [old.id for old in ind.retired],
        )
        all_items = checklist_rules.effective_items(common.items, ind.items, common.topics, place)
        retired = checklist_rules.retired_items(ind.retired, all_items, place)
        for old in retired:
            b.claim(old.id, name, "已合并的检查项")
        # A replaced common item reads, in this industry's older reports, as asked; it is now asked as its successor.
        retired += tuple(
            RetiredItem(it.id, next(own.id for own in ind.items if it.id in own.replaces), it.text)
            for it in common.items
            if it not in all_items
        )
        where = f"{name}：行业 {slug}"
        lead = ind.lead_department.name
        render.render_source(ind.lead_department.source, b.sources, where)
        for lic in ind.licences:
            render.render_source(lic.source, b.sources, f"{where} 证照 {lic.name}")
        b.add_specs(
            ind,
            name,
            {
                "name": lambda ind=ind: ind.name,
                "licences": lambda ind=ind: render.licences_text(ind.licences),
                "lead_department": lambda lead=lead: lead,
                "checklist": lambda items=all_items: render.checklist_text(items),
            },
        )
        _topic_entries(b, topics, ind, all_items, name)
        b.trade = None
        checklists[slug] = Checklist(
            slug=slug,
            name=ind.name,
            aliases=tuple(ind.aliases),
            lead_department=lead,
            licences=tuple(lic.name for lic in ind.licences),
            items=tuple(
                ChecklistItem(
                    it.id,
                    it.kind,
                    it.text,
                    it.help,
                    it.veto,
                    it.relevant.item if it.relevant else None,
                    it.relevant.equals if it.relevant else None,
                    sources[it.id],
                    it.topic,
                )
                for it in all_items
            ),
            retired=retired,
        )
    names = "\n".join(f"{n}. {c.name}" for n, c in enumerate(checklists.values(), 1))
    b.add_specs(listing, "industries.yaml")
    b.add(
        "industries.yaml",
        listing.list_entry.id,
        listing.list_entry.questions,
        f"本县“十小”行业名单（共{len(checklists)}个）：\n{names}\n"
        "说明：省级正式名单未查到，各地名单略有不同（如有的地方列入小超市、小食堂），以县整规办公布的为准。",
        b.source(SourceRef(doc="practice", certainty="典"), "industries.yaml", listing.list_entry.id),
        listing.reviewed,
    )
    return checklists


def _topic_entries(
    b: _Builder, topics: list[TopicSpec], ind: IndustryFile, all_items: list[ItemSpec], name: str
) -> None:
    """One entry per topic of topics.yaml that at least two of the industry's items belong to."""
    if not ind.entries or b.trade is None:
        return
    prefix = ind.entries[0].id.split(".")[0]
    for topic in topics:
        chosen = topic_items(topic, all_items)
        if len(chosen) >= MIN_ITEMS:
            b.add(
                name,
                f"{prefix}.topic.{topic.id}",
                topic_questions(topic, b.trade),
                b.noted(topic_answer(ind.name, topic, chosen, all_items), SourceRef(doc="checklist")),
                b.source(SourceRef(doc="checklist"), name, f"{prefix}.topic.{topic.id}"),
                ind.reviewed,
            )


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
    b = _Builder(root)
    vocabulary = b.load(VocabularyFile, VOCABULARY_FILE) if (root / VOCABULARY_FILE).is_file() else VocabularyFile()
    synonyms = merge(b.load(SynonymsFile, "synonyms.yaml"), vocabulary, root / "synonyms.yaml", root / VOCABULARY_FILE)
    places = load_places(root / PLACES_FILE)
    if places is not None:  # the county's own place names say where the asker is, not what is asked
        synonyms = synonyms.model_copy(update={"fillers": [*synonyms.fillers, *places.home]})
    normalizer = make_normalizer(synonyms)
    checklists = _industries(b, normalizer)  # before the plan: its answers name the trades (`{industries}`)
    plan, milestones = _plan(b, [checklist.name for checklist in checklists.values()])
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
