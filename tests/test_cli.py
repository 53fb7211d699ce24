"""The `shixiao` command line, run as a user would (CliRunner and real subprocesses)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    return {
        "SHIXIAO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "SHIXIAO_TELEGRAM_TOKEN": "",
    }


def invoke(args: list[str], env: dict[str, str], **kwargs):
    return runner.invoke(app, args, env=env, catch_exceptions=False, **kwargs)


def command_paths(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [path]
    for name, sub in getattr(command, "commands", {}).items():
        paths += command_paths(sub, (*path, name))
    return paths


EVERY_COMMAND = command_paths(typer.main.get_command(app))
TYPER_ENGLISH = (
    "Usage",
    "Show this message",
    "Options",
    "Arguments",
    "Commands",
    "[default",
    "[required",
    "Error",
    "Try ",
    "Aborted",
    "Missing",
    "No such",
    "Invalid value",
    "Input should",
)


def test_the_command_tree_is_what_the_readme_documents():
    assert len(EVERY_COMMAND) > 20
    assert {("run",), ("chat",), ("backup",), ("restore",), ("db", "upgrade"), ("export", "units")} <= set(
        EVERY_COMMAND
    )


@pytest.mark.parametrize("args", EVERY_COMMAND, ids=lambda path: " ".join(path) or "shixiao")
def test_every_command_has_help_in_chinese(args, env):
    result = invoke([*args, "--help"], env)
    assert result.exit_code == 0
    assert "用法：shixiao" in result.output and "显示本帮助并退出" in result.output
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in result.output) > 10  # the command itself is explained
    assert not [word for word in TYPER_ENGLISH if word in result.output], result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["nosuch"], "没有命令“nosuch”"),
        (["areas", "lis"], "没有命令“lis”。您是不是想输入 'list'？"),
        (["backup"], "缺少选项 --out"),
        (["restore"], "缺少参数"),
        (["areas", "list", "--bogus"], "没有选项 --bogus"),
        (["invite", "--role", "cadre", "--days", "abc"], "--days 的值无效：应为整数。"),
        (["invite", "--role", "cadre", "--days", "0"], "--days 的值无效：应不小于 1。"),
        (["plan", "list", "--year", "3000"], "--year 的值无效：应不大于 2100。"),
        (["backup", "--out"], "选项 --out 后面需要一个值"),
        (["chat", "extra"], "多余的参数：extra"),
    ],
)
def test_a_mistyped_command_is_explained_in_chinese(args, expected, env):
    result = invoke(args, env)
    assert result.exit_code == 2
    assert expected in result.output and "╭─ 错误" in result.output
    assert not [word for word in TYPER_ENGLISH if word in result.output], result.output


EXPORTS = [path for path in EVERY_COMMAND if len(path) == 2 and path[0] == "export"]


@pytest.mark.parametrize("name", ["u.csv", "u.xls", "u"])
@pytest.mark.parametrize("args", EXPORTS, ids=" ".join)
def test_every_export_refuses_a_file_that_is_not_xlsx(args, name, env, tmp_path):
    assert len(EXPORTS) >= 4  # units, inspections, complaints, report
    out = tmp_path / name
    result = invoke([*args, "--out", str(out)], env)
    assert result.exit_code == 2, result.output
    assert f"只能导出为 Excel（.xlsx）文件，请把“{name}”改为如“u.xlsx”" in result.output
    assert not out.exists() and not [word for word in TYPER_ENGLISH if word in result.output]


def test_a_prompt_closed_without_an_answer_says_so_in_chinese(env, tmp_path):
    backup = tmp_path / "backup.db"
    assert invoke(["db", "upgrade"], env).exit_code == 0
    assert invoke(["backup", "--out", str(backup)], env).exit_code == 0
    result = invoke(["restore", str(backup)], env, input=None)  # stdin at its end: the prompt is aborted
    assert result.exit_code == 1
    assert "已取消" in result.output and "Aborted" not in result.output


def test_run_without_a_token_explains_what_to_do(env):
    result = invoke(["run"], env)
    assert result.exit_code == 2
    assert "SHIXIAO_TELEGRAM_TOKEN" in result.output and "shixiao chat" in result.output


@pytest.mark.parametrize(
    ("args", "extra", "expected"),
    [
        (["run", "--webhook"], {}, "SHIXIAO_WEBHOOK_URL"),
        (["run", "--webhook", "--listen", "8080"], {"SHIXIAO_WEBHOOK_URL": "https://bot.example/hook"}, "主机:端口"),
        (["run", "--webhook", "--runtime", "ptb"], {"SHIXIAO_WEBHOOK_URL": "https://bot.example/hook"}, "aiogram"),
    ],
)
def test_webhook_mode_explains_what_is_missing(env, args, extra, expected):
    result = invoke(args, {**env, "SHIXIAO_TELEGRAM_TOKEN": "123:abc", **extra})
    assert result.exit_code != 0
    assert expected in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_db_upgrade_and_downgrade(env):
    result = invoke(["db", "upgrade"], env)
    from storage.migrate import head_revision

    assert result.exit_code == 0 and f"当前版本：{head_revision()}" in result.output
    result = invoke(["db", "downgrade", "base"], env)
    assert result.exit_code == 0 and "base" in result.output


def test_areas_load_and_list(env, tmp_path):
    areas = tmp_path / "county.yaml"
    areas.write_text(
        "county: 测试县\ntownships:\n  - name: 甲镇\n    villages: [一村, 二村]\n  - name: 乙乡\n", encoding="utf-8"
    )
    first = invoke(["areas", "load", str(areas)], env)
    assert first.exit_code == 0 and "新增 5 条" in first.output
    second = invoke(["areas", "load", str(areas)], env)
    assert "新增 0 条，已存在 5 条" in second.output
    listing = invoke(["areas", "list"], env)
    assert listing.output.splitlines() == [
        "county\t测试县\t",
        "township\t甲镇\t测试县",
        "village\t一村\t甲镇",
        "village\t二村\t甲镇",
        "township\t乙乡\t测试县",
    ]


def cut_in_half(path: Path) -> Path:
    """A real areas workbook whose sheet is cut in half: openpyxl fails only part-way through the rows."""
    import zipfile

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["县", "乡镇", "村"])
    for n in range(300):
        book.active.append(["测试县", f"{n}镇", f"{n}村"])
    whole = path.with_name("whole.xlsx")
    book.save(whole)
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, data[: len(data) // 2] if item.filename == "xl/worksheets/sheet1.xml" else data)
    return path


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lambda p: p.write_bytes(b"PK\x03\x04 broken") and p,
            "无法打开“areas.xlsx”：文件已损坏，或不是 Excel（.xlsx）文件",
        ),
        (cut_in_half, "“areas.xlsx”的内容已损坏，读到一半无法继续"),
        (lambda p: p.mkdir() or p, "“areas.xlsx”是文件夹"),
    ],
)
def test_areas_load_rejects_a_broken_file_without_a_traceback(env, tmp_path, make, expected):
    before = invoke(["areas", "list"], env).output
    result = invoke(["areas", "load", str(make(tmp_path / "areas.xlsx"))], env)
    assert result.exit_code == 1
    assert expected in result.output and "Traceback" not in result.output and "Error" not in result.output
    assert invoke(["areas", "list"], env).output == before


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("county: 测试县\ntownships: [\n", "第2行第12列：“[”没有配对的“]”"),
        ("county: 测试县\ntownships:\n  - name: 甲镇\n     villages: [一村]\n", "第4行第14列：这里不能有“: ”"),
        ("county: 测试县\ntownships:\n\t- name: 甲镇\n", "第3行第1列：有制表符（Tab）"),
        ("乡镇: 岩头镇\n".encode("gbk"), "不是 UTF-8 编码的文本文件"),
    ],
)
def test_areas_load_explains_a_broken_yaml_in_chinese_and_changes_nothing(env, tmp_path, content, expected):
    before = invoke(["areas", "list"], env).output
    broken = tmp_path / "areas.yaml"
    broken.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = invoke(["areas", "load", str(broken)], env)
    assert result.exit_code == 1 and "areas.yaml：" in result.output and expected in result.output, result.output
    assert "Traceback" not in result.output and "expected" not in result.output and "line" not in result.output
    assert invoke(["areas", "list"], env).output == before


def test_invite_for_each_role(env):
    cadre = invoke(["invite", "--role", "cadre", "--area", "芙蓉村"], env)
    assert cadre.exit_code == 0 and "村干部（岩头镇芙蓉村）" in cadre.output
    county = invoke(["invite", "--role", "county"], env)
    assert county.exit_code == 0 and "县整规办干部" in county.output
    township = invoke(["invite", "--role", "乡镇", "--area", "岩头镇", "--days", "3"], env)
    assert township.exit_code == 0 and "乡镇干部（岩头镇）" in township.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "cadre"], "需要 --area"),
        (["--role", "cadre", "--area", "火星村"], "找不到区域"),
        (["--role", "resident"], "居民无需邀请码"),
        (["--role", "township", "--area", "芙蓉村"], "找不到区域"),
    ],
)
def test_invite_mistakes_are_explained(env, args, message):
    result = invoke(["invite", *args], env)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_terminal_chat_end_to_end(tmp_path):
    env = {
        **os.environ,
        "SHIXIAO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}",
        "SHIXIAO_TELEGRAM_TOKEN": "",
    }
    code = subprocess.run(
        [sys.executable, "-m", "bot", "invite", "--role", "cadre", "--area", "苍坡村"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    ).stdout
    invite = code.splitlines()[0].split("：")[1].strip()
    script = f"{invite}\n王\n王小明\n/profile\n1\n/cancel\n/quit\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--user", "42"],
        input=script,
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "欢迎使用十小通" in out
    assert "村干部（岩头镇苍坡村）" in out
    assert "至少需要2个字" in out
    assert "王小明，登记完成" in out
    assert "姓名：王小明" in out
    # Typed 1: the first button, 检查上报; the village's units of the sample register are offered.
    assert "请选择要检查的单位" in out and "苍坡小超市（示例）" in out
    assert "Traceback" not in out + result.stderr
    assert Path(tmp_path / "data" / "shixiao-chat.log").exists()


def test_log_times_are_the_countys_with_the_offset():
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from bot.app import ZonedFormatter

    record = logging.LogRecord("shixiao", logging.INFO, __file__, 1, "已启动", None, None)
    record.created = datetime(2026, 12, 2, 1, 51, 7, tzinfo=UTC).timestamp()
    formatter = ZonedFormatter("%(asctime)s %(levelname)s %(message)s", ZoneInfo("Asia/Shanghai"))
    assert formatter.format(record) == "2026-12-02 09:51:07+0800 INFO 已启动"
