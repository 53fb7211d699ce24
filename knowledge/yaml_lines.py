"""Where a value sits in a YAML file ("第12行"), for errors found after parsing (a schema or a data check).

Parsed data has no line numbers; the file is composed again (PyYAML's node tree keeps its marks) only when an error
has to be reported, so loading a valid file costs nothing extra.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml


def line_of(text: str, path: Sequence[object]) -> int | None:
    """1-based line of the node at `path` (mapping keys and list indexes, as in a pydantic error's loc), or of the
    deepest node of the path that exists; None when the text does not compose."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    line = node.start_mark.line + 1
    for key in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next(
                (value for k, value in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(key)), None
            )
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            child = node.value[key]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def file_line_of(path: Path, loc: Sequence[object]) -> int | None:
    try:
        return line_of(path.read_text(encoding="utf-8"), loc)
    except (OSError, UnicodeDecodeError):
        return None


def where(line: int | None) -> str:
    """ "第12行：" or nothing."""
    return f"第{line}行：" if line else ""
