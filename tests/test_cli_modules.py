"""`shixiao CMD …` registers only the command modules CMD needs (bot/cli.py `COMMAND_MODULES`): the table must match
what each module registers, and every command line must see the same command as the whole command line does."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from bot.cli import COMMAND_MODULES, OWN_COMMANDS, build_app, modules_for
from bot.commands.chinese_cli import ChineseTyper

runner = CliRunner()


def command_paths(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [path]
    for name, sub in getattr(command, "commands", {}).items():
        paths += command_paths(sub, (*path, name))
    return paths


def first_words(command: Any) -> set[str]:
    """The first words of a command line (for the shared export group, its first two) a command tree offers."""
    words = set()
    for name, sub in command.commands.items():
        if name == "export":
            words |= {f"export {inner}" for inner in sub.commands}
        else:
            words.add(name)
    return words


@pytest.mark.parametrize("name", list(COMMAND_MODULES))
def test_the_table_names_what_each_module_registers(name):
    alone = ChineseTyper(name="shixiao")
    importlib.import_module(f"bot.commands.{name}").register(alone)
    assert first_words(typer.main.get_command(alone)) == set(COMMAND_MODULES[name])


WHOLE = typer.main.get_command(build_app())
EVERY_PATH = [path for path in command_paths(WHOLE) if path]


def test_every_command_of_the_whole_command_line_is_in_the_table():
    listed = {word for words in COMMAND_MODULES.values() for word in words} | set(OWN_COMMANDS)
    assert first_words(WHOLE) == listed


@pytest.mark.parametrize("path", EVERY_PATH, ids=" ".join)
def test_a_command_line_sees_the_same_command_as_the_whole_command_line(path):
    partial = build_app(list(path))
    alone = runner.invoke(partial, [*path, "--help"], catch_exceptions=False)
    whole = runner.invoke(build_app(), [*path, "--help"], catch_exceptions=False)
    assert alone.exit_code == whole.exit_code == 0
    assert alone.output == whole.output


def test_only_the_modules_a_command_needs_are_chosen():
    assert modules_for(["plan", "list", "--year", "2026"]) == ["plan"]
    assert modules_for(["export", "units", "--out", "u.xlsx"]) == ["units"]
    assert modules_for(["export", "report", "--out", "r.xlsx"]) == ["reports"]
    assert modules_for(["ask", "开饭店要办什么证"]) == ["knowledge"]
    assert modules_for(["run"]) == []
    # No command, help, a typo, or the export group alone: every module, so help and suggestions are complete.
    for args in ([], ["--help"], ["plann"], ["export"], ["export", "--help"], ["export", "unit"]):
        assert modules_for(args) == list(COMMAND_MODULES), args


@pytest.mark.parametrize("args", [["plann", "list"], ["export", "unit"], ["--help"], []])
def test_help_and_typos_read_as_before(args):
    partial = runner.invoke(build_app(args), args)
    whole = runner.invoke(build_app(), args)
    assert (partial.exit_code, partial.output) == (whole.exit_code, whole.output)
