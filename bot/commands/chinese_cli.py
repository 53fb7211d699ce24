"""Typer in Chinese: the help screens' and usage errors' own words, not only our commands' texts.

Typer writes "Usage:", "Options", "Show this message and exit.", "[default: …]", "Missing argument 'FILE'." and
"Aborted." in English whatever the commands say. `ChineseTyper` is a `typer.Typer` whose groups and commands
write those in Chinese. Typer's rich help module costs ~65 ms to import (Markdown, Pygments), so its headings are
translated only when a help screen or an error is about to be shown, never on a normal start.

Public API only: the command classes Typer builds (`typer.core.TyperCommand`/`TyperGroup`) with their help and
usage methods overridden, the texts of Typer's rich help module (`typer.rich_utils`), and Click's usage errors by
their `format_message()` (Typer carries its own copy of Click, which is private, so errors are recognised by that
method rather than by class). tests/test_cli.py runs every command's help and the common mistakes, so a Typer that
changes any of this fails there, loudly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

HELP_OPTION_TEXT = "显示本帮助并退出。"
USAGE_PREFIX = "用法："

# Typer's rich help module reads these module-level texts each time it renders.
RICH_TEXTS = {
    "DEPRECATED_STRING": "（已停用）",
    "DEFAULT_STRING": "[默认：{}]",
    "ENVVAR_STRING": "[环境变量：{}]",
    "REQUIRED_LONG_STRING": "[必填]",
    "ARGUMENTS_PANEL_TITLE": "参数",
    "OPTIONS_PANEL_TITLE": "选项",
    "COMMANDS_PANEL_TITLE": "命令",
    "ERRORS_PANEL_TITLE": "错误",
    "ABORTED_TEXT": "已取消。",
    "RICH_HELP": "运行 [blue]'{command_path} {help_option}'[/] 查看帮助。",
}

# Click's usage errors, as it formats them; anything not listed stays as Click wrote it.
ERROR_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"^No such command '(.+)'\.$", r"没有命令“\1”。"),
        (r"^Missing command\.$", "缺少命令。"),
        (r"^No such option: (\S+)$", r"没有选项 \1。"),
        (r"^Missing argument '(.+)'\.$", r"缺少参数 \1。"),
        (r"^Missing option '(.+)'\.$", r"缺少选项 \1。"),
        (r"^Missing parameter: (.+)$", r"缺少参数 \1。"),
        (r"^Option '(.+)' requires an argument\.$", r"选项 \1 后面需要一个值。"),
        (r"^Got unexpected extra argument(?:s|\(s\))? \((.+)\)$", r"多余的参数：\1。"),
        (r"^Invalid value for '(.+)': '(.*)' is not a valid integer\.$", r"\1 的值“\2”不是整数。"),
        (r"^Invalid value for '(.+)': '(.*)' is not a valid float\.$", r"\1 的值“\2”不是数字。"),
        (r"^Invalid value for '(.+)': '(.*)' is not one of (.+)\.$", r"\1 的值“\2”无效，可选：\3。"),
        (r"^Invalid value for '(.+)': (?:File|Path) '(.*)' does not exist\.$", r"\1：文件“\2”不存在。"),
        (r"^Invalid value for '(.+)': (.+)$", r"\1 的值无效：\2"),
        (r"^Invalid value: (.+)$", r"\1"),  # typer.BadParameter raised by a command, already in Chinese
    )
)
# Typer checks values with pydantic; its reason follows "Invalid value for '--days': ".
DETAIL_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"^Input should be a valid integer.*$", "应为整数"),
        (r"^Input should be a valid number.*$", "应为数字"),
        (r"^Input should be greater than or equal to (.+)$", r"应不小于 \1"),
        (r"^Input should be greater than (.+)$", r"应大于 \1"),
        (r"^Input should be less than or equal to (.+)$", r"应不大于 \1"),
        (r"^Input should be less than (.+)$", r"应小于 \1"),
    )
)
# Click appends its guesses to some messages.
SUGGESTION = re.compile(r"\s*(?:Did you mean (.+)\?|\(Possible options: (.+)\))$")


def translate_error(message: str) -> str:
    suggestion = SUGGESTION.search(message)
    if suggestion:
        message = message[: suggestion.start()]
    message = _first_match(ERROR_PATTERNS, message)
    head, colon, detail = message.partition(" 的值无效：")
    if colon:
        message = f"{head}{colon}{_first_match(DETAIL_PATTERNS, detail)}。"
    if suggestion:
        message += f"您是不是想输入 {suggestion.group(1) or suggestion.group(2)}？"
    return message


def _first_match(patterns: tuple[tuple[re.Pattern[str], str], ...], text: str) -> str:
    for pattern, replacement in patterns:
        match = pattern.match(text)
        if match:
            return match.expand(replacement)
    return text


def use_chinese_help_texts() -> None:
    from typer import rich_utils

    for name, text in RICH_TEXTS.items():
        setattr(rich_utils, name, text)


@contextmanager
def chinese_errors() -> Iterator[None]:
    """Errors leaving this block are shown in Chinese (Typer prints them after they have left the command)."""
    try:
        yield
    except typer.Abort:
        use_chinese_help_texts()
        raise
    except Exception as error:
        english: Callable[[], str] | None = getattr(error, "format_message", None)
        if english is None or not callable(english):
            raise  # not a usage error: the command's own failure, shown as it is
        use_chinese_help_texts()
        if not getattr(error, "in_chinese", False):  # nested commands see the same error on its way out
            setattr(error, "format_message", lambda: translate_error(english()))  # noqa: B010 (any usage error)
            setattr(error, "in_chinese", True)  # noqa: B010
        raise


class ChineseCommandMixin:
    # ctx is Typer's click Context, whose class Typer names only in a private module: Any here.
    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_OPTION_TEXT
        return option

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=USAGE_PREFIX)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        use_chinese_help_texts()
        super().format_help(ctx, formatter)  # type: ignore[misc]

    def make_context(self, *args: Any, **kwargs: Any) -> typer.Context:
        with chinese_errors():
            return super().make_context(*args, **kwargs)  # type: ignore[misc]

    def invoke(self, ctx: Any) -> Any:
        with chinese_errors():
            return super().invoke(ctx)  # type: ignore[misc]


class ChineseCommand(ChineseCommandMixin, TyperCommand):
    pass


class ChineseGroup(ChineseCommandMixin, TyperGroup):
    pass


class ChineseTyper(typer.Typer):
    """A `typer.Typer` whose group and commands speak Chinese (see the module's docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", ChineseGroup)
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", ChineseCommand)
        return super().command(*args, **kwargs)
