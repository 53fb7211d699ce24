"""Broken YAML an official wrote (plan, areas, question sets) explained in Chinese, at the line to fix."""

from __future__ import annotations

import re

import pytest

from knowledge.yaml_errors import YamlFileError, parse_yaml_text, read_yaml_file

ENGLISH = re.compile(r"\b(?!YAML\b|UTF\b|YYYY\b|MM\b|DD\b|Tab\b)[A-Za-z]{3,}\b")  # any English word but those names


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("milestones:\n  - id: a\n    title: [\n", "第3行第12列：“[”没有配对的“]”"),
        ("a: [1, 2\nb: 3\n", "第1行第4列：“[”没有配对的“]”，或列表中的项之间缺少英文逗号"),
        ("a: {x: 1\n", "第1行第4列：“{”没有配对的“}”"),
        ("a:\n\tb: 1\n", "第2行第1列：有制表符（Tab）：YAML 只能用空格缩进"),
        ("a:\n  b: 1\n c: 2\n", "第3行第2列：缩进不一致"),
        ("title: 说明: 内容\n", "第1行第10列：这里不能有“: ”"),
        ('a: "abc\nb: 1\n', "第1行第4列：引号没有配对"),
        ("a: 1\nb\nc: 2\n", "第2行第1列：缺少冒号"),  # the key's line, not the next one where PyYAML stopped
        ("a: @x\n", "第1行第4列：值不能以“@”开头：请给整个值加上引号"),
        ("a: *x\n", "第1行第4列：值不能以“*”开头"),
        ("a: 1\n]\n", "第2行第1列：多余的“]”"),
        ("a: 1\n--- \n: x\n", "文件里只能有一份内容"),
        ('a: "\\q"\n', "双引号里的反斜杠“\\”无效"),
        ("a: [b\n", "第1行第4列：“[”没有配对的“]”"),
        ("a:\n  - x\n  - ", None),  # valid: an empty last item
    ],
)
def test_syntax_errors_are_explained_in_chinese_at_the_right_line(text, expected):
    if expected is None:
        parse_yaml_text(text)
        return
    with pytest.raises(YamlFileError) as error:
        parse_yaml_text(text)
    message = str(error.value)
    assert message.startswith("YAML 格式错误，") and expected in message, message
    assert not ENGLISH.findall(message), message


def test_an_impossible_date_names_its_line():
    with pytest.raises(YamlFileError) as error:
        parse_yaml_text("milestones:\n  - id: a\n    reviewed: 2026-13-45\n")
    assert str(error.value) == "第3行（2026-13-45）有不存在的日期，请写成真实的日期，格式 YYYY-MM-DD"


def test_files_that_cannot_be_read(tmp_path):
    cases = {tmp_path / "nope.yaml": "文件不存在", tmp_path: "不是文件"}
    gbk = tmp_path / "gbk.yaml"
    gbk.write_bytes("乡镇: 岩头镇\n".encode("gbk"))
    cases[gbk] = "不是 UTF-8 编码的文本文件"
    for path, expected in cases.items():
        with pytest.raises(YamlFileError, match=expected):
            read_yaml_file(path)
