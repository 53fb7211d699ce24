"""The unit register (监管档案): create, find, fuzzy search within an area."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import Column, String, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dml import table_of
from storage.inspection_models import Unit, UnitStatus
from storage.models import Area, AreaLevel

MATCH_CUTOFF = 55.0
CANDIDATES = 300  # names scored with WRatio after the SQL prefilter
FEATURES_MAX = 12


def _declared_length(column: Column[Any]) -> int:
    """The length a String column was declared with: the limit is written once, in the model."""
    if not isinstance(column.type, String) or column.type.length is None:
        raise TypeError(f"{column.name} is not a String column of fixed length")
    return column.type.length


NAME_KEY_MAX = _declared_length(table_of(Unit).c.name_key)
OPERATOR_NAME_MAX = _declared_length(table_of(Unit).c.operator_name)  # what the register can hold


def name_key(name: str) -> str:
    """Identity of a unit name: width-folded, lower case, without spaces or punctuation. Cut to the column's length:
    NFKC widens some characters (ﷺ becomes 18 letters), so a name that fits may fold into a key that does not."""
    folded = unicodedata.normalize("NFKC", name).lower()
    return "".join(ch for ch in folded if ch.isalnum())[:NAME_KEY_MAX]


@dataclass(frozen=True)
class UnitFields:
    name: str
    industry: str
    address: str | None = None
    operator_name: str | None = None
    operator_phone: str | None = None
    licences: str | None = None
    is_demo: bool = False
    status: str | None = None
    unit_class: str | None = None
    latitude: float | None = None
    longitude: float | None = None


async def find_by_name(session: AsyncSession, village_id: int, name: str) -> Unit | None:
    return await session.scalar(select(Unit).where(Unit.village_id == village_id, Unit.name_key == name_key(name)))


async def upsert_unit(session: AsyncSession, village: Area, fields: UnitFields, now: datetime) -> tuple[Unit, bool]:
    """Create the unit, or update the one of the same name in the same village. Returns (unit, created)."""
    if village.level != AreaLevel.VILLAGE or village.parent_id is None:
        raise ValueError("a unit belongs to a village")
    unit = await find_by_name(session, village.id, fields.name)
    created = unit is None
    if unit is None:
        unit = Unit(
            name=fields.name,
            name_key=name_key(fields.name),
            village_id=village.id,
            township_id=village.parent_id,
            status=UnitStatus.UNCHECKED,
            created_at=now,
        )
        session.add(unit)
    unit.name = fields.name
    unit.industry = fields.industry
    for attribute in (
        "address",
        "operator_name",
        "operator_phone",
        "licences",
        "status",
        "unit_class",
        "latitude",
        "longitude",
    ):
        value = getattr(fields, attribute)
        if value is not None:
            setattr(unit, attribute, value)
    unit.is_demo = fields.is_demo or unit.is_demo
    unit.updated_at = now
    await session.flush()
    return unit, created


async def get_unit(session: AsyncSession, unit_id: int) -> Unit | None:
    return await session.get(Unit, unit_id)


def _in_scope(stmt, area: Area | None):  # type: ignore[no-untyped-def]
    if area is None or area.level == AreaLevel.COUNTY:
        return stmt
    if area.level == AreaLevel.TOWNSHIP:
        return stmt.where(Unit.township_id == area.id)
    return stmt.where(Unit.village_id == area.id)


async def units_in(session: AsyncSession, area: Area | None) -> list[Unit]:
    return list(await session.scalars(_in_scope(select(Unit), area).order_by(Unit.id)))


async def search_units(
    session: AsyncSession, query: str, area: Area | None = None, limit: int = 5
) -> list[tuple[Unit, float]]:
    """Units in the area whose names resemble the query, best first (typos and partial names allowed).

    Scoring every name in a county (100,000) with WRatio took seconds, so the database first picks the few names
    sharing most of the query's character pairs (`_candidates`); only those are scored."""
    key = name_key(query)
    if not key:
        return []
    rows = (await session.execute(_candidates(_in_scope(select(Unit.id, Unit.name_key), area), key, limit))).all()
    if not rows:
        return []
    keys = {unit_id: unit_key for unit_id, unit_key in rows}
    matches = process.extract(key, keys, scorer=fuzz.WRatio, limit=limit, score_cutoff=MATCH_CUTOFF)
    units = {unit.id: unit for unit in await session.scalars(select(Unit).where(Unit.id.in_([m[2] for m in matches])))}
    return [(units[unit_id], float(score)) for _, score, unit_id in matches]


def search_features(key: str) -> list[str]:
    """What a candidate is counted on: the key's distinct adjacent character pairs (a typo spoils at most two), or
    for a key of fewer than four characters its characters too; at most FEATURES_MAX of them."""
    pairs = list(dict.fromkeys(key[i : i + 2] for i in range(len(key) - 1)))
    if len(key) < 4:
        pairs += [ch for ch in dict.fromkeys(key) if ch not in pairs]
    return pairs[:FEATURES_MAX]


def _candidates(stmt, key: str, limit: int):  # type: ignore[no-untyped-def]
    """The CANDIDATES (or 20 × limit) names of the scope sharing most features with the key, counted in SQL (one
    LIKE per feature, no fuzzy scoring); names sharing none are dropped by the caller's score cutoff anyway. A key
    holds letters and digits only (name_key), so a feature needs no LIKE escaping."""
    shared = sum(
        (case((Unit.name_key.like(f"%{feature}%"), len(feature)), else_=0) for feature in search_features(key)),
        start=literal(0),
    )
    closeness = func.abs(func.length(Unit.name_key) - len(key))  # of equal counts, WRatio prefers similar lengths
    return stmt.order_by(shared.desc(), closeness, Unit.id).limit(max(CANDIDATES, 20 * limit))
