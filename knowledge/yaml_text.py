"""Parse the YAML data files (knowledge, texts, menus, categories, holidays, plan) the bot reads at every start."""

from __future__ import annotations

from typing import Any

import yaml

# libyaml parses these files about 5x faster than PyYAML's pure-Python parser; a file it rejects is read again by
# the pure-Python parser, so error messages (line, column, what was expected) stay exactly as they were.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """`yaml.safe_load`, through libyaml when it is there; raises yaml.YAMLError as safe_load would."""
    try:
        return yaml.load(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        return yaml.safe_load(text)
