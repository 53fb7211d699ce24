"""Reading knowledge/data/ files: YAML parsed and validated against the schema, each error one KnowledgeError that
names the file, the line and the entry or item (in Chinese), and the Builder that collects entries with unique ids.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from knowledge import render
from knowledge.models import (
    EntriesFile,
    Entry,
    KnowledgeError,
    SourceRef,
    SourcesFile,
)
from knowledge.normalize import Normalizer
from knowledge.yaml_errors import YamlFileError, read_yaml_file
from knowledge.yaml_lines import file_line_of, where

# pydantic error types in words, shared with the other data files validated at load (handlers/plan_schedule.py).
VALIDATION_MESSAGES = {
    "missing": "缺少必填字段",
    "extra_forbidden": "无法识别的字段（是否拼错？）",
    "string_too_short": "不能为空",
    "too_short": "至少需要一项",
    "string_type": "应为文字",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
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


def read_yaml(path: Path, name: str) -> Any:
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


def parse_model(model: type[M], raw: Any, name: str, path: Path | None = None) -> M:
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
            message = VALIDATION_MESSAGES.get(err["type"], err["msg"])
            if err["type"] == "value_error":
                message = str(err["ctx"]["error"]) if "ctx" in err else err["msg"]
            who = f"条目 {owner}：" if owner else ""
            line = where(file_line_of(path, loc)) if path is not None else ""
            lines.append(f"{name}：{line}{who}字段 {field}：{message}")
        raise KnowledgeError("\n".join(lines)) from None


class Builder:
    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir
        self.entries: list[Entry] = []
        self.seen: dict[str, str] = {}  # entry or item id -> file, for duplicate detection
        self.trade: str | None = None  # key term of the industry whose file is being read
        self.sources = parse_model(
            SourcesFile,
            read_yaml(data_dir / "sources.yaml", "sources.yaml"),
            "sources.yaml",
            data_dir / "sources.yaml",
        )

    def load(self, model: type[M], rel: str) -> M:
        return parse_model(model, read_yaml(self.dir / rel, rel), rel, self.dir / rel)

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
        def scope_of(listed: list[str], where: str) -> frozenset[str]:
            if not listed or normalizer is None:
                return frozenset()
            unknown = [t for t in listed if normalizer(t) not in trades]
            if unknown:
                raise KnowledgeError(
                    f"{where}：trades 中的“{'、'.join(unknown)}”不是本县行业的关键词（应写 "
                    f"{'、'.join(sorted(trades))} 之一）"
                )
            return frozenset(normalizer(t) for t in listed)

        scope = scope_of(file.trades, name)
        for spec in file.entries:
            answer = render.fill_placeholders(spec.answer, placeholders or {}, f"{name}：条目 {spec.id}")
            self.add(
                name,
                spec.id,
                spec.questions,
                self.noted(answer, spec.source),
                self.source(spec.source, name, spec.id),
                spec.reviewed or file.reviewed,
                scope_of(spec.trades, f"{name}：条目 {spec.id}") if spec.trades else scope,
            )

    def noted(self, answer: str, ref: SourceRef) -> str:
        return render.superseded_note(answer, ref, self.sources)
