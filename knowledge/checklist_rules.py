"""Rules an industry's checklist must keep, checked when the knowledge base loads (errors name file and line).

- One topic once: two items about the same thing (posting licences, health certificates, purchase records) let one
  "余下各项均符合" make a report say both 不符合 and 符合 about it. Every item names its topic; a checklist that asks
  a topic twice is refused.
- An industry item may replace common items (`replaces`): it is that industry's own form of them, and they are not
  asked there.
- A merged item's old id stays resolvable (`retired`: id, into, text), so reports and exports made before the merge
  still read as they were asked.
- A screening question's follow-ups come right after it, so the count shown (第n/N项) never jumps.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from knowledge.models import ItemSpec, KnowledgeError, RetiredItem, RetiredSpec

Lines = dict[str, int]


def item_lines(path: Path) -> Lines:
    """The line (from 1) where each item's or retired entry's id is written; {} when the file cannot be composed
    (it then fails elsewhere with its own message)."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError, ValueError):
        return {}
    lines: Lines = {}
    if not isinstance(root, yaml.MappingNode):
        return lines
    for key, section in root.value:
        if key.value not in ("items", "retired") or not isinstance(section, yaml.SequenceNode):
            continue
        for entry in section.value:
            if not isinstance(entry, yaml.MappingNode):
                continue
            for field, value in entry.value:
                if field.value == "id" and isinstance(value, yaml.ScalarNode):
                    lines.setdefault(value.value, value.start_mark.line + 1)
    return lines


class Place:
    """Where each item is written, for messages: 'industries/x.yaml 第12行'.

    The lines are found only when a message needs one: composing a file again with the pure-Python parser just for
    its line numbers cost more than parsing and validating the whole knowledge base, for files that are valid."""

    def __init__(self) -> None:
        self._at: dict[str, tuple[str, Path]] = {}
        self._lines: dict[Path, Lines] = {}

    def add(self, name: str, path: Path, ids: list[str]) -> None:
        for ident in ids:
            self._at[ident] = (name, path)

    def __call__(self, ident: str) -> str:
        if ident not in self._at:
            return ""
        name, path = self._at[ident]
        if path not in self._lines:
            self._lines[path] = item_lines(path)
        line = self._lines[path].get(ident)
        return f"{name} 第{line}行" if line else name


def check_common(items: list[ItemSpec], topics: dict[str, str], place: Place) -> None:
    for item in items:
        if item.replaces:
            raise KnowledgeError(
                f"{place(item.id)}：检查项 {item.id}：replaces 只能用在行业的检查项上（共性项不能取代别的项）"
            )
        _known_topic(item, topics, place)


def _known_topic(item: ItemSpec, topics: dict[str, str], place: Place) -> None:
    if item.topic not in topics:
        raise KnowledgeError(
            f"{place(item.id)}：检查项 {item.id}：topic: {item.topic} 不在 common.yaml 的 topics 中"
            "（拼错了？新的事项请先加入 topics 并写上中文名）"
        )


def effective_items(
    common: list[ItemSpec], own: list[ItemSpec], topics: dict[str, str], place: Place
) -> list[ItemSpec]:
    """The industry's checklist: the common items it does not replace, then its own, every rule checked."""
    by_id = {item.id: item for item in common}
    replaced: dict[str, ItemSpec] = {}
    for item in own:
        _known_topic(item, topics, place)
        for target in item.replaces:
            problem = _replace_problem(item, by_id.get(target), replaced.get(target), [*common, *own])
            if problem:  # the place (a file composed again for its line) only when there is an error to report
                raise KnowledgeError(f"{place(item.id)}：检查项 {item.id}：replaces: {target} {problem}")
            replaced[target] = item
    items = [item for item in common if item.id not in replaced] + list(own)
    _one_topic_once(items, topics, place)
    _follow_ups_together(items, place)
    return items


def _replace_problem(
    item: ItemSpec, common_item: ItemSpec | None, earlier: ItemSpec | None, all_items: list[ItemSpec]
) -> str | None:
    """Why `item` cannot replace `common_item` (the common item its replaces names), or None."""
    if common_item is None:
        return "不是共性检查项（只能取代 common.yaml 中的项）"
    if earlier is not None:
        return f"已被 {earlier.id} 取代，一个共性项只能由一项取代"
    target = common_item.id
    if common_item.kind == "gate" or any(other.relevant and other.relevant.item == target for other in all_items):
        return "是筛选题或被其他项引用，不能取代"
    if common_item.veto and not item.veto:
        return "是一票否决项，取代它的项也必须是一票否决项（veto: true）"
    return None


def _one_topic_once(items: list[ItemSpec], topics: dict[str, str], place: Place) -> None:
    first: dict[str, ItemSpec] = {}
    for item in items:
        earlier = first.setdefault(item.topic, item)
        if earlier is item:
            continue
        hint = (
            f"或在 {item.id} 下写 replaces: [{earlier.id}]"
            if earlier.id.startswith("common.")
            else f"并把 {item.id} 写进 retired（into: {earlier.id}）"
        )
        raise KnowledgeError(
            f"{place(item.id)}：检查项 {item.id} 与 {place(earlier.id)} 的 {earlier.id} 问的是同一件事"
            f"（{topics[item.topic]}，topic: {item.topic}）：同一检查表中同一事项只能问一次，"
            f"否则“余下各项均符合”会让报告自相矛盾。请合并这两项，{hint}"
        )


def _follow_ups_together(items: list[ItemSpec], place: Place) -> None:
    for index, item in enumerate(items):
        if item.relevant is None:
            continue
        gate = item.relevant.item
        previous = items[index - 1] if index else None
        if previous is None or not (previous.id == gate or (previous.relevant and previous.relevant.item == gate)):
            raise KnowledgeError(
                f"{place(item.id)}：检查项 {item.id}：要紧跟在筛选题 {gate} 之后"
                "（或它的其他追问之后），检查时的序号（第n/N项）才不会跳动"
            )
        if any(other.id == gate and other.relevant is not None for other in items):
            raise KnowledgeError(
                f"{place(item.id)}：检查项 {item.id}：relevant 只能引用不带条件的筛选题，{gate} 本身带条件"
            )


def retired_items(specs: list[RetiredSpec], items: list[ItemSpec], place: Place) -> tuple[RetiredItem, ...]:
    live = {item.id for item in items}
    seen: set[str] = set()
    retired: list[RetiredItem] = []
    for spec in specs:
        problem = (
            " 仍在本检查表中，已合并的项要从 items 中删去"
            if spec.id in live
            else " 重复"
            if spec.id in seen
            else f"：into: {spec.into} 不是本检查表中的检查项"
            if spec.into not in live
            else None
        )
        if problem:  # the place only when there is an error to report
            raise KnowledgeError(f"{place(spec.id)}：retired 中的 {spec.id}{problem}")
        seen.add(spec.id)
        retired.append(RetiredItem(spec.id, spec.into, spec.text))
    return tuple(retired)
