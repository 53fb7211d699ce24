"""The industries: common.yaml's shared items, each industry file's items and entries, the topic entries
(topics.yaml) and the checklists built from them."""

from __future__ import annotations

import datetime as dt

from knowledge import checklist_rules, render
from knowledge.kb_builder import Builder
from knowledge.models import (
    KIND_VALUES,
    Checklist,
    ChecklistItem,
    CommonFile,
    IndustriesFile,
    IndustryFile,
    ItemSpec,
    KnowledgeError,
    RetiredItem,
    SourceRef,
)
from knowledge.normalize import Normalizer
from knowledge.topics import MIN_ITEMS, TOPICS_FILE, TopicsFile, TopicSpec, topic_answer, topic_items, topic_questions


def _items(
    b: Builder, items: list[ItemSpec], name: str, reviewed: dt.date | None, known: dict[str, ItemSpec], scope: str
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


def load_industries(b: Builder, normalizer: Normalizer) -> dict[str, Checklist]:
    common = b.load(CommonFile, "common.yaml")
    place = checklist_rules.Place()
    place.add("common.yaml", b.dir / "common.yaml", [it.id for it in common.items])
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
            b.dir / name,
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
    b: Builder, topics: list[TopicSpec], ind: IndustryFile, all_items: list[ItemSpec], name: str
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
