"""Helpers for the knowledge tests: a writable copy of the shipped data, and one shared answerer."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

from knowledge.answer import Answerer
from knowledge.loader import DATA_DIR

HERE = Path(__file__).resolve().parent


def copy_data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@cache
def shipped_answerer() -> Answerer:
    """Built once per test session: the answerer is read-only, so sharing it is safe."""
    return Answerer()
