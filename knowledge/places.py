"""Questions about another county, city or province (places.yaml): declined, naming the county this bot serves."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field

from knowledge.kb_builder import parse_model, read_yaml
from knowledge.models import KnowledgeError, Text, _Strict
from knowledge.normalize import basic_normalize
from knowledge.yaml_lines import file_line_of, where

PLACES_FILE = "places.yaml"
SUFFIXES = "县市区"


class PlacesFile(_Strict):
    county: Text
    home: list[Text] = Field(default_factory=list)
    elsewhere: Annotated[list[Annotated[list[Text], Field(min_length=1)]], Field(min_length=1)]
    with_suffix_only: list[Text] = Field(default_factory=list)
    not_after: list[Text] = Field(default_factory=list)
    abroad: list[Text] = Field(default_factory=list)
    abroad_not_after: str = ""


class Places:
    def __init__(self, spec: PlacesFile) -> None:
        self.county = spec.county
        self.home = tuple(spec.home)
        bare = {basic_normalize(name) for group in spec.elsewhere for name in group} - {""}
        suffixed = {basic_normalize(name) for name in spec.with_suffix_only} - {""}
        self._not_after = tuple(sorted({basic_normalize(w) for w in spec.not_after} - {""}, key=len, reverse=True))
        names = sorted(bare, key=len, reverse=True)
        parts = [re.escape(n) for n in names]
        parts += [f"{re.escape(n)}[{SUFFIXES}]" for n in sorted(suffixed, key=len, reverse=True)]
        self._pattern = re.compile("|".join(parts)) if parts else None
        abroad = sorted({basic_normalize(name) for name in spec.abroad} - {""}, key=len, reverse=True)
        self._abroad = re.compile("|".join(re.escape(n) for n in abroad)) if abroad else None
        self._abroad_not_after = spec.abroad_not_after

    def named(self, question: object) -> str | None:
        """The other place the question is about, as typed (normalised), or None."""
        if self._pattern is None:
            return None
        text = basic_normalize(question)
        for match in self._pattern.finditer(text):
            if not text.startswith(self._not_after, match.end()):
                return match.group(0)
        return None

    def abroad(self, question: object) -> str | None:
        """The other country the question is about, as typed (normalised), or None (美国人, 日本菜 are not)."""
        if self._abroad is None:
            return None
        text = basic_normalize(question)
        for match in self._abroad.finditer(text):
            before = text[match.start() - 1] if match.start() else ""
            if before and before in self._abroad_not_after:
                continue
            if not text.startswith(self._not_after, match.end()):
                return match.group(0)
        return None


def load_places(path: Path) -> Places | None:
    """None when the file is absent (a knowledge base without it declines no place)."""
    if not path.is_file():
        return None
    spec = parse_model(PlacesFile, read_yaml(path, PLACES_FILE), PLACES_FILE, path)
    known = set()
    for g, group in enumerate(spec.elsewhere):
        for n, name in enumerate(group):
            if name in known:
                line = where(file_line_of(path, ["elsewhere", g, n]))
                raise KnowledgeError(f"{PLACES_FILE}：{line}地名“{name}”重复")
            known.add(name)
    return Places(spec)
