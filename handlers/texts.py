"""Message texts live in data/texts/*.yaml (one file per feature), so wording changes without code."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import yaml

from knowledge.yaml_text import parse_yaml

DEFAULT_DIR = Path(__file__).parent / "data" / "texts"


class TextsError(ValueError):
    pass


class Texts:
    def __init__(self, entries: dict[str, str], source: str = "texts") -> None:
        self._entries = entries
        self._source = source

    @classmethod
    def load(cls, directory: Path = DEFAULT_DIR) -> Texts:
        entries: dict[str, str] = {}
        origin: dict[str, Path] = {}
        paths = sorted(directory.glob("*.yaml"))
        if not paths:
            raise TextsError(f"{directory}: 没有消息文本文件")
        for path in paths:
            for key, value in _read(path).items():
                if key in entries:
                    raise TextsError(f"{path}: 条目 {key!r} 与 {origin[key].name} 重复")
                entries[key], origin[key] = value, path
        return cls(entries, str(directory))

    def __call__(self, key: str, /, **values: Any) -> str:  # positional: a text may have a {key} of its own
        try:
            template = self._entries[key]
        except KeyError:
            raise TextsError(f"{self._source}: 缺少消息文本 {key!r}") from None
        return template.format(**values) if values else template

    def keys(self) -> set[str]:
        return set(self._entries)


def _read(path: Path) -> dict[str, str]:
    try:
        raw: Any = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise TextsError(f"{path}: 无法读取消息文本：{error}") from error
    if not isinstance(raw, dict):
        raise TextsError(f"{path}: 应为“键: 文本”的映射")
    entries: dict[str, str] = {}
    formatter = string.Formatter()
    for key, value in raw.items():
        if not isinstance(value, str) or not value.strip():
            raise TextsError(f"{path}: 条目 {key!r} 的文本为空或不是字符串")
        try:
            list(formatter.parse(value))
        except ValueError as error:
            raise TextsError(f"{path}: 条目 {key!r} 的占位符有误：{error}") from error
        entries[str(key)] = value.rstrip("\n")
    return entries
