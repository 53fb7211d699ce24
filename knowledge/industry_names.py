"""The industries' display names straight from the data files, for a command that needs nothing else of the
knowledge base (`shixiao export units`): building the whole base (every entry validated and indexed) would cost
that command more than its own work. `tests/knowledge/test_industry_names.py` checks these are the names the full
loader gives, file by file; the full loader (`shixiao kb check`, every start of the bot) validates the files."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

from knowledge.yaml_errors import YamlFileError, read_yaml_file

DATA_DIR = Path(__file__).resolve().parent / "data"


def industry_names(data_dir: Path = DATA_DIR) -> dict[str, str]:
    """slug → name (小餐饮店 …) in the order industries.yaml lists them."""
    listing = _read(data_dir, "industries.yaml")
    slugs = listing.get("industries") if isinstance(listing, dict) else None
    if not isinstance(slugs, list):
        _fail("industries.yaml：缺少 industries 名单")
    names: dict[str, str] = {}
    for slug in slugs:
        rel = f"industries/{slug}.yaml"
        industry = _read(data_dir, rel)
        name = industry.get("name") if isinstance(industry, dict) else None
        if not isinstance(name, str) or not name.strip():
            _fail(f"{rel}：缺少行业名称 name")
        names[str(slug)] = name
    return names


def _read(data_dir: Path, rel: str) -> object:
    try:
        return read_yaml_file(data_dir / rel)
    except YamlFileError as exc:
        _fail(f"{rel}：{exc}")


def _fail(message: str) -> NoReturn:
    from knowledge.models import KnowledgeError  # only on a broken file: it brings pydantic

    raise KnowledgeError(message)
