"""Parse the YAML data files (knowledge, texts, menus, categories, holidays, plan) the bot reads at every start.

Every data file, shipped or loaded by a user (areas, plan, question sets), is plain data: anchors (&) and aliases
(*) are refused. An alias is a reference, so a 45 KB file of nested aliases stands for millions of villages; none
of our files needs them, and refusing them at parse time is simpler than bounding every consumer.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.error import Mark

# libyaml parses these files about 5x faster than PyYAML's pure-Python parser; a file it rejects is read again by
# the pure-Python parser, so error messages (line, column, what was expected) stay exactly as they were.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# knowledge/yaml_errors.py matches these to explain them in Chinese.
ALIAS_PROBLEM = "found an alias, which data files may not use"
ANCHOR_PROBLEM = "found an anchor, which data files may not use"


class PlainDataLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases where it composes them, pointing at their place."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        mark = event.start_mark if isinstance(event.start_mark, Mark) else None  # always one: pure-Python loader
        if isinstance(event, yaml.AliasEvent):
            raise ComposerError(None, None, ALIAS_PROBLEM, mark)
        if getattr(event, "anchor", None) is not None:
            raise ComposerError(None, None, ANCHOR_PROBLEM, mark)
        return super().compose_node(parent, index)


def parse_yaml(text: str) -> Any:
    """`yaml.safe_load` without anchors or aliases, through libyaml when it is there; raises yaml.YAMLError.

    libyaml composes in C, out of reach of PlainDataLoader, so it reads only texts that cannot hold an anchor or
    an alias (no & or * anywhere); any other text, and any text it rejects, goes through PlainDataLoader."""
    if "&" not in text and "*" not in text:
        try:
            return yaml.load(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass
    return yaml.load(text, Loader=PlainDataLoader)  # a SafeLoader subclass
