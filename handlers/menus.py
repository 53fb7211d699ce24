"""Roles and menus as data (data/menus.yaml), validated at load."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from knowledge.yaml_text import parse_yaml
from storage.models import Role

DEFAULT_PATH = Path(__file__).parent / "data" / "menus.yaml"


class MenuError(ValueError):
    pass


@dataclass(frozen=True)
class RoleInfo:
    role: Role
    title: str
    area_level: str


@dataclass(frozen=True)
class MenuAction:
    id: str
    label: str
    roles: frozenset[Role]


@dataclass(frozen=True)
class Menus:
    roles: dict[Role, RoleInfo]
    actions: dict[str, MenuAction]
    menus: dict[Role, tuple[str, ...]]

    def title(self, role: str) -> str:
        return self.roles[Role(role)].title

    def menu_for(self, role: str) -> list[MenuAction]:
        return [self.actions[action] for action in self.menus[Role(role)]]

    def allows(self, role: str, action: str) -> bool:
        found = self.actions.get(action)
        return found is not None and Role(role) in found.roles


def _role(value: Any, where: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise MenuError(f"{where}: 未知角色 {value!r}（可用：{', '.join(r.value for r in Role)}）") from None


def load_menus(implemented: Iterable[str], path: Path = DEFAULT_PATH) -> Menus:
    """Load and check the menus; `implemented` are the action ids the code provides."""
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise MenuError(f"{path}: 无法读取：{error}") from error
    if not isinstance(raw, dict):
        raise MenuError(f"{path}: 顶层应为映射")
    known = set(implemented)
    roles: dict[Role, RoleInfo] = {}
    for key, info in (raw.get("roles") or {}).items():
        role = _role(key, f"{path} roles")
        if not isinstance(info, dict) or not info.get("title"):
            raise MenuError(f"{path} roles.{key}: 缺少 title")
        roles[role] = RoleInfo(role, str(info["title"]), str(info.get("area_level", "none")))
    missing = set(Role) - set(roles)
    if missing:
        raise MenuError(f"{path} roles: 缺少角色 {sorted(missing)}")
    actions: dict[str, MenuAction] = {}
    for key, info in (raw.get("actions") or {}).items():
        where = f"{path} actions.{key}"
        if key not in known:
            raise MenuError(f"{where}: 程序中没有这个功能")
        if not isinstance(info, dict) or not info.get("label"):
            raise MenuError(f"{where}: 缺少 label")
        allowed = frozenset(_role(r, where) for r in info.get("roles") or [])
        actions[key] = MenuAction(key, str(info["label"]), allowed)
    menus: dict[Role, tuple[str, ...]] = {}
    for key, items in (raw.get("menus") or {}).items():
        role = _role(key, f"{path} menus")
        for item in items or []:
            if item not in actions:
                raise MenuError(f"{path} menus.{key}: 未定义的功能 {item!r}")
            if role not in actions[item].roles:
                raise MenuError(f"{path} menus.{key}: 功能 {item!r} 不允许角色 {key}")
        menus[role] = tuple(items or [])
    for role in Role:
        menus.setdefault(role, ())
    return Menus(roles, actions, menus)
