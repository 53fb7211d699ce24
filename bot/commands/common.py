"""Helpers shared by the CLI commands: settings, async entry, Chinese errors without tracebacks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from bot.commands.chinese_cli import ChineseTyper
from bot.settings import Settings

if TYPE_CHECKING:
    from rich.progress import Progress

T = TypeVar("T")
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]错误：[/]{message}", highlight=False)
    raise typer.Exit(code)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = "；".join(f"SHIXIAO_{'_'.join(map(str, e['loc'])).upper()}：{e['msg']}" for e in error.errors())
        fail(f"配置有误（环境变量或 .env）：{problems}")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def export_group(app: typer.Typer) -> typer.Typer:
    """The shared `shixiao export …` group; each feature adds its own export command to it."""
    for info in app.registered_groups:
        if info.name == "export" and info.typer_instance is not None:
            return info.typer_instance
    group = ChineseTyper(help="导出 Excel 报表（.xlsx，中文表头）。", no_args_is_help=True)
    app.add_typer(group, name="export")
    return group


def suffix_check(suffix: str, lead: str, stem: str) -> Callable[[Path | None], Path | None]:
    """An option callback refusing a path without `suffix` before any work: the file is always written in that
    format whatever the name says, and under another name (a .csv that is really xlsx) it opens as garbage."""

    def check(path: Path | None) -> Path | None:
        if path is not None and path.suffix.lower() != suffix:
            raise typer.BadParameter(f"{lead}，请把“{path.name}”改为如“{path.stem or stem}{suffix}”")
        return path

    return check


_xlsx_path = suffix_check(".xlsx", "只能导出为 Excel（.xlsx）文件", "报表")


def xlsx_out(example: str) -> Any:
    """The --out option of every `shixiao export …`: refused before any work when it is not an .xlsx path."""
    return typer.Option(..., "--out", help=f"输出的 Excel 文件（.xlsx），如 {example}", callback=_xlsx_path)


def progress() -> Progress:
    """The progress bar used by long CLI work (imports, exports); rich's progress module is imported with it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )
