"""Reading a YAML file an official wrote (a plan, the county's areas, a question set), with errors in Chinese.

PyYAML explains a broken file in English parser terms ("expected the node content, but found '<stream end>'") and
at a place that is often not where the mistake is: the end of the file for an unclosed bracket, the line after a
key without its colon. `read_yaml_file` says what is wrong in Chinese and points at the line to fix. The message
leaves out the file's name: each caller adds it in its own form.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from knowledge.yaml_text import parse_yaml


class YamlFileError(ValueError):
    """A YAML file that cannot be used; str() is the Chinese explanation."""


# (PyYAML's problem, what it means, which mark shows the place: the problem's or its context's)
_PROBLEMS: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(p), text, mark)
    for p, text, mark in (
        (r"found character '\\t'|found a tab character", "有制表符（Tab）：YAML 只能用空格缩进", "problem"),
        (r"found character '(.)' that cannot start any token", r"值不能以“\1”开头：请给整个值加上引号", "problem"),
        (
            r"mapping values are not allowed here",
            "这里不能有“: ”：请检查缩进是否与上下行对齐；如果值里本身有冒号，请给整个值加上引号",
            "problem",
        ),
        (r"could not find expected ':'", "缺少冒号：应写作“名称: 值”（英文冒号，后面加一个空格）", "context"),
        (r"found unexpected end of stream", "引号没有配对：从这里开始的引号到文件末尾都没有结束", "context"),
        (r"found unknown escape character", "双引号里的反斜杠“\\”无效：请改用单引号", "problem"),
        (r"expected ',' or '\]'", "“[”没有配对的“]”，或列表中的项之间缺少英文逗号", "context"),
        (r"expected ',' or '\}'", "“{”没有配对的“}”，或各项之间缺少英文逗号", "context"),
        (r"expected <block end>, but found '([\]}])'", r"多余的“\1”：前面没有与它配对的括号", "problem"),
        (
            r"expected <block end>|did not find expected key|did not find expected '-' indicator|"
            r"expected <block mapping start>",
            "缩进不一致：同一层的各项要用相同数量的空格对齐",
            "problem",
        ),
        (r"found undefined alias", "值不能以“*”开头：请给整个值加上引号", "problem"),
        (
            r"found an alias, which",
            "值不能以“*”开头：数据文件不能使用 YAML 别名（*），请把内容直接写出；"
            "如果“*”是值本身的文字，请给整个值加上引号",
            "problem",
        ),
        (
            r"found an anchor, which",
            "不能使用 YAML 锚点（&）：数据文件里的内容要直接写出；如果“&”是值本身的文字，请给整个值加上引号",
            "problem",
        ),
        (
            r"but found another document|expected '<document start>'",
            "文件里只能有一份内容：请删去多余的“---”或“...”",
            "problem",
        ),
        (r"found unhashable key", "名称（冒号前）不能是列表或键值对", "problem"),
    )
)
_UNKNOWN = "格式不对：请检查缩进、冒号和引号"
MAX_FILE_BYTES = 2 * 1024 * 1024  # the largest data file shipped is under 40 KB


def read_yaml_file(path: Path) -> Any:
    if not path.exists():
        raise YamlFileError("文件不存在")
    if not path.is_file():
        raise YamlFileError("不是文件（是一个文件夹？）")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise YamlFileError(
                f"文件过大（{path.stat().st_size / 1024 / 1024:.1f} MB，上限 "
                f"{MAX_FILE_BYTES // 1024 // 1024} MB）：请检查是否选错了文件"
            )
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise YamlFileError("不是 UTF-8 编码的文本文件：请用 UTF-8 编码另存（Excel、Word 文件不能直接载入）") from None
    except PermissionError:
        raise YamlFileError("没有读取这个文件的权限") from None
    except OSError as error:
        raise YamlFileError(f"无法读取（{error.strerror}）") from None
    return parse_yaml_text(text)


def parse_yaml_text(text: str) -> Any:
    try:
        return parse_yaml(text)
    except yaml.YAMLError as error:
        raise YamlFileError(f"YAML 格式错误，{explain(error, text)}") from None
    except ValueError:  # PyYAML builds dates itself and fails on 2026-13-45
        where = _bad_date(text)
        raise YamlFileError(f"{where}有不存在的日期，请写成真实的日期，格式 YYYY-MM-DD") from None


def explain(error: yaml.YAMLError, text: str) -> str:
    """ "第3行第5列：…" in Chinese."""
    problem = str(getattr(error, "problem", "") or "")
    for pattern, meaning, which in _PROBLEMS:
        match = pattern.search(problem)
        if match:
            mark = getattr(error, f"{which}_mark", None) or getattr(error, "problem_mark", None)
            return f"{_where(mark, text)}：{match.expand(meaning)}"
    if "<stream end>" in problem:
        bracket = _unclosed_bracket(text)
        if bracket is not None:
            closer = "]" if bracket.id == "[" else "}"
            return f"{_where(bracket.start_mark, text)}：“{bracket.id}”没有配对的“{closer}”"
        return f"{_where(getattr(error, 'problem_mark', None), text)}：文件意外结束，最后一项没有写完"
    return f"{_where(getattr(error, 'problem_mark', None), text)}：{_UNKNOWN}"


def _where(mark: Any, text: str) -> str:
    if mark is None:
        return "某处"
    lines = len(text.splitlines())
    if mark.line >= lines:  # PyYAML counts the end of a file as the line after its last
        return f"文件末尾（第{lines}行之后）"
    return f"第{mark.line + 1}行第{mark.column + 1}列"


def _unclosed_bracket(text: str) -> Any:
    """The innermost [ or { still open when the text ends, as a PyYAML token (None if every one is closed)."""
    opened: list[Any] = []
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.FlowSequenceStartToken | yaml.FlowMappingStartToken):
                opened.append(token)
            elif isinstance(token, yaml.FlowSequenceEndToken | yaml.FlowMappingEndToken) and opened:
                opened.pop()
    except yaml.YAMLError:
        pass
    return opened[-1] if opened else None


def _bad_date(text: str) -> str:
    """Where the first impossible date is ("第3行"), found on the parsed nodes before any value is built."""
    try:
        nodes = [yaml.compose(text, Loader=yaml.SafeLoader)]
    except yaml.YAMLError:
        return ""
    constructor = yaml.SafeLoader("")
    while nodes:
        node = nodes.pop(0)
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:timestamp":
            try:
                constructor.construct_yaml_timestamp(node)
            except ValueError:
                return f"第{node.start_mark.line + 1}行（{node.value}）"
        elif isinstance(node, yaml.SequenceNode):
            nodes.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            nodes.extend(child for pair in node.value for child in pair)
    return ""
