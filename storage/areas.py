"""The county > township > village tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import Area, AreaLevel


@dataclass
class TownshipSpec:
    name: str
    villages: list[str] = field(default_factory=list)


@dataclass
class CountySpec:
    name: str
    townships: list[TownshipSpec]
    is_sample: bool = False


@dataclass(frozen=True)
class LoadResult:
    created: int
    existing: int


class AreaNotFound(LookupError):
    pass


class AmbiguousArea(LookupError):
    def __init__(self, name: str, candidates: list[str]) -> None:
        super().__init__(name)
        self.name = name
        self.candidates = candidates


async def _get_or_create(
    session: AsyncSession, level: AreaLevel, name: str, parent: Area | None, is_sample: bool, now: datetime
) -> tuple[Area, bool]:
    parent_id = parent.id if parent else None
    found = await session.scalar(
        select(Area).where(
            Area.name == name, Area.parent_id.is_(None) if parent_id is None else Area.parent_id == parent_id
        )
    )
    if found is not None:
        return found, False
    area = Area(level=level, name=name, parent_id=parent_id, is_sample=is_sample, created_at=now)
    session.add(area)
    await session.flush()
    return area, True


async def load_county(session: AsyncSession, spec: CountySpec, now: datetime) -> LoadResult:
    """Insert what is missing; loading the same county twice changes nothing."""
    created = existing = 0
    county, new = await _get_or_create(session, AreaLevel.COUNTY, spec.name, None, spec.is_sample, now)
    created, existing = created + new, existing + (not new)
    for township_spec in spec.townships:
        township, new = await _get_or_create(
            session, AreaLevel.TOWNSHIP, township_spec.name, county, spec.is_sample, now
        )
        created, existing = created + new, existing + (not new)
        if new:  # nothing can be under a township created just now: its villages in one flush, no lookups
            villages = dict.fromkeys(township_spec.villages)
            session.add_all(
                Area(
                    level=AreaLevel.VILLAGE, name=name, parent_id=township.id, is_sample=spec.is_sample, created_at=now
                )
                for name in villages
            )
            await session.flush()
            created += len(villages)
            continue
        for village_name in township_spec.villages:
            _, new = await _get_or_create(session, AreaLevel.VILLAGE, village_name, township, spec.is_sample, now)
            created, existing = created + new, existing + (not new)
    return LoadResult(created=created, existing=existing)


async def count_areas(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count(Area.id))) or 0)


async def list_areas(session: AsyncSession) -> list[Area]:
    """Depth-first order: each county, then each township followed by its villages."""
    rows = list((await session.scalars(select(Area).order_by(Area.id))).unique())
    children: dict[int | None, list[Area]] = {}
    for area in rows:
        children.setdefault(area.parent_id, []).append(area)
    ordered: list[Area] = []

    def walk(parent_id: int | None) -> None:
        for child in children.get(parent_id, []):
            ordered.append(child)
            walk(child.id)

    walk(None)
    return ordered


async def get_area(session: AsyncSession, area_id: int) -> Area | None:
    return await load_ancestors(session, await session.get(Area, area_id))


async def children_of(session: AsyncSession, area_id: int) -> list[Area]:
    return list((await session.scalars(select(Area).where(Area.parent_id == area_id).order_by(Area.id))).unique())


async def load_ancestors(session: AsyncSession, area: Area | None) -> Area | None:
    """Make `area.parent.parent…` readable without lazy IO (which async sessions cannot do)."""
    node = area
    while node is not None and node.parent_id is not None:
        if "parent" in inspect(node).unloaded:
            set_committed_value(node, "parent", await session.get(Area, node.parent_id))
        node = node.parent
    _keep(session, area)
    return area


def _keep(session: AsyncSession, area: Area | None) -> None:
    """Hold on to an area (and so its ancestors) for as long as the session lives. The session's identity map holds
    objects weakly, so an area read twice in one transaction, as the steps of a flow often do, was read twice."""
    if area is not None:
        session.info.setdefault("areas.kept", {})[area.id] = area


def area_path(area: Area | None) -> str:
    """Township and village as officials write them, e.g. 岩头镇芙蓉村; the county is left out."""
    if area is None:
        return ""
    parts: list[str] = []
    node: Area | None = area
    while node is not None and node.level != AreaLevel.COUNTY:
        parts.append(node.name)
        node = node.parent
    return "".join(reversed(parts)) or area.name


async def find_area(session: AsyncSession, query: str, level: AreaLevel | None = None) -> Area:
    """Find by name, or by a path such as 岩头镇/芙蓉村 when a village name is used twice."""
    parts = [part.strip() for part in query.replace("／", "/").split("/") if part.strip()]
    if not parts:
        raise AreaNotFound(query)
    stmt = select(Area).where(Area.name == parts[-1])
    if level is not None:
        stmt = stmt.where(Area.level == level)
    candidates = list((await session.scalars(stmt)).unique())
    for candidate in candidates:
        await load_ancestors(session, candidate)
    if len(parts) > 1:
        candidates = [area for area in candidates if area.parent is not None and area.parent.name == parts[-2]]
    if not candidates:
        raise AreaNotFound(query)
    if len(candidates) > 1:
        raise AmbiguousArea(
            query, [f"{area.parent.name}/{area.name}" if area.parent else area.name for area in candidates]
        )
    return candidates[0]


async def the_county(session: AsyncSession) -> Area | None:
    """The county this deployment serves (the first county loaded)."""
    return await session.scalar(select(Area).where(Area.level == AreaLevel.COUNTY).order_by(Area.id).limit(1))
