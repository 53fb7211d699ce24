"""`shixiao backup` / `shixiao restore`: online copies of the embedded SQLite database (storage/backup.py).

PostgreSQL has its own tools for this (pg_dump / pg_restore); both commands say so instead of half-doing it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import TaskID
from rich.table import Table
from sqlalchemy.engine import make_url

from bot.app import media_store
from bot.commands.common import console, fail, load_settings, progress, run_async
from storage.backup import (
    BackupError,
    Damaged,
    ForeignSchema,
    MigrationFailed,
    NoDatabase,
    NotShixiao,
    NotSqlite,
    SameFile,
    Summary,
    TargetExists,
    UnknownRevision,
    discard,
    finish_restore,
    prepare_restore,
)
from storage.backup import backup as backup_database
from storage.media import MediaError
from storage.media_backup import back_up_media, media_folder_for, restore_media
from storage.migrate import head_revision

POSTGRES_HELP = """当前数据库是 PostgreSQL，shixiao backup / restore 只用于内嵌的 SQLite 数据库。
请用 PostgreSQL 的客户端工具（密码可用 PGPASSWORD 环境变量或 ~/.pgpass 提供）：
· 备份：pg_dump -Fc {conn} -f {dump}
· 恢复（先停止机器人；--clean 会先删除库中现有的表）：pg_restore --clean --if-exists --no-owner {conn} {dump}
恢复后运行 shixiao db upgrade（或直接启动机器人）把表结构升级到最新。详见 README 的“备份与恢复”一节。"""


OBJECT_NAMES = {"trigger": "触发器", "view": "视图", "index": "索引", "table": "表"}


def sqlite_file(url: str, action: str) -> Path:
    """The database file behind SHIXIAO_DATABASE_URL; any other kind of database ends in a Chinese explanation."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        conn = " ".join(
            f"{flag} {value}"
            for flag, value in (
                ("-h", parsed.host),
                ("-p", parsed.port),
                ("-U", parsed.username),
                ("-d", parsed.database),
            )
            if value
        )
        stamp = datetime.now().strftime("%Y%m%d")
        fail(escape(POSTGRES_HELP.format(conn=conn, dump=f"shixiao-{stamp}.dump")), code=2)
    if backend != "sqlite" or not parsed.database or parsed.database == ":memory:":
        fail(f"{action}只支持 SQLite 数据库文件，当前的 SHIXIAO_DATABASE_URL（{escape(url)}）不是。", code=2)
    return Path(parsed.database)


def row_table(summary: Summary) -> Table:
    table = Table("表", "行数", title="各表行数")
    for name, count in summary.rows.items():
        table.add_row(name, f"{count:,}")
    return table


def size_text(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def explain(error: BackupError) -> str:
    """The Chinese explanation of a backup or restore that cannot go ahead."""
    path = escape(str(error.path))
    detail = escape(error.detail)
    if isinstance(error, TargetExists):
        return f"文件 {path} 已存在。请换一个文件名，或加 --force 覆盖它。"
    if isinstance(error, SameFile):
        return f"{path} 就是当前数据库本身，不能用它自己备份或恢复。"
    if isinstance(error, NotSqlite):
        return f"{path} 不是 SQLite 数据库文件，无法恢复。请确认选对了文件（应是 shixiao backup 生成的备份）。"
    if isinstance(error, Damaged):
        return f"{path} 已损坏，未通过 SQLite 完整性检查（{detail}）。"
    if isinstance(error, NotShixiao):
        return f"{path} 是 SQLite 数据库，但不是十小通的数据库（缺少表：{detail}）。"
    if isinstance(error, UnknownRevision):
        version = f"版本 {detail}" if detail else "没有版本记录"
        return f"{path} 的数据库{version}，不是本程序认识的版本（可能来自更新的十小通），请先升级程序再恢复。"
    if isinstance(error, ForeignSchema):
        found = "、".join(f"{OBJECT_NAMES.get(kind, kind)}“{escape(name)}”" for kind, name in error.objects)
        return (
            f"{path} 含有版本 {detail} 的十小通数据库不应有的结构：{found}。备份只应包含数据，"
            "多出的触发器或视图会在机器人里执行（例如把新投诉转发给他人），这个文件可能被篡改过，已拒绝恢复。"
        )
    if isinstance(error, MigrationFailed):
        return f"{path} 升级到最新表结构时出错（{detail}），当前数据库没有改动。"
    if isinstance(error, NoDatabase):
        return f"找不到文件 {path}。"
    return f"{path}：{detail}"


def backup(
    out: Path = typer.Option(..., "--out", help="备份文件，如 backups/shixiao-20260506.db"),
    force: bool = typer.Option(False, "--force", help="备份文件已存在时覆盖它"),
) -> None:
    """备份 SQLite 数据库到一个文件（机器人运行时也可以备份，得到的是同一时刻的完整副本）。"""
    source = sqlite_file(load_settings().database_url, "备份")
    if not source.is_file():
        fail(f"数据库文件 {escape(str(source))} 不存在：机器人还没有运行过，或 SHIXIAO_DATABASE_URL 指向了别处。")
    if not out.parent.is_dir():
        fail(f"输出目录 {escape(str(out.parent))} 不存在，请先创建。")
    try:
        with progress() as bar:
            tasks: list[TaskID] = []  # the bar appears with the first pages copied, not before a refusal

            def advance(done: int, total: int) -> None:
                if not tasks:
                    tasks.append(bar.add_task("备份（页）", total=total))
                bar.update(tasks[0], completed=done, total=total)

            summary = backup_database(source, out, force=force, progress=advance)
    except Damaged as error:
        fail(
            f"备份副本未通过完整性检查（{escape(error.detail)}），没有写入 {escape(str(out))}。当前数据库可能已损坏，"
            "请停止机器人后联系技术人员。"
        )
    except NotShixiao as error:
        fail(
            f"数据库 {escape(str(source))} 中没有十小通的表（缺少：{escape(error.detail)}），请检查 SHIXIAO_DATABASE_URL。"
        )
    except BackupError as error:
        fail(explain(error))
    except OSError as error:
        fail(f"无法写入备份文件 {escape(str(out))}：{escape(error.strerror or str(error))}")
    console.print(row_table(summary))
    back_up_photos(out)
    console.print(
        f"备份完成：{escape(str(out))}（{size_text(summary.size)}，完整性检查通过，数据库版本 {summary.revision}，"
        f"共 {sum(summary.rows.values()):,} 行）。恢复：shixiao restore {escape(str(out))}",
        highlight=False,
    )


def restore(
    file: Path = typer.Argument(..., help="shixiao backup 生成的备份文件"),
    yes: bool = typer.Option(False, "--yes", "-y", help="不再询问，直接恢复"),
) -> None:
    """用备份文件替换当前 SQLite 数据库。先检查备份，当前数据库另存一份安全副本，恢复后自动升级到最新表结构。建议先停止机器人。"""
    live = sqlite_file(load_settings().database_url, "恢复")
    try:
        staged = prepare_restore(file, live)
    except BackupError as error:
        fail(f"{explain(error)}当前数据库没有改动。")
    except OSError as error:
        fail(f"无法读取备份文件 {escape(str(file))}：{escape(error.strerror or str(error))}。当前数据库没有改动。")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    safety = live.with_name(f"{live.stem}-before-restore-{stamp}{live.suffix}")
    found = staged.backup
    console.print(
        f"备份 {escape(str(file))}：{size_text(found.size)}，完整性检查通过，数据库版本 {found.revision}，"
        f"共 {sum(found.rows.values()):,} 行。",
        highlight=False,
    )
    if live.is_file():
        question = f"用它替换当前数据库 {escape(str(live))} 吗？当前数据库会先另存为 {escape(str(safety))}。"
    else:
        question = f"当前数据库 {escape(str(live))} 还不存在，用备份创建它吗？"
    if not yes and not typer.confirm(question, default=False):
        discard(staged.staging)
        fail("已取消，当前数据库没有改动。")
    labels = {"safety": "另存当前数据库（页）", "restore": "恢复（页）"}
    try:
        with progress() as bar:
            tasks: dict[str, TaskID] = {}

            def advance(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(labels[phase], total=total)
                bar.update(tasks[phase], completed=done, total=total)

            restored = run_async(finish_restore(staged, live, safety, advance))
    except BackupError as error:
        fail(f"恢复失败：{explain(error)}")
    except Exception as error:
        fail(
            f"恢复失败：{type(error).__name__}: {escape(str(error))}。当前数据库的安全副本（如已生成）：{escape(str(safety))}"
        )
    console.print(row_table(restored.live))
    upgraded = (
        f"已从版本 {found.revision} 升级到 {restored.live.revision}"
        if found.revision != restored.live.revision
        else f"版本 {restored.live.revision}"
    )
    console.print(
        f"恢复完成：当前数据库 {escape(str(live))}（{upgraded}，最新：{head_revision()}，完整性检查通过）。",
        highlight=False,
    )
    if restored.safety is not None and restored.safety_sound:
        console.print(
            f"原数据库已另存为 {escape(str(restored.safety))}；如需撤销：shixiao restore {escape(str(restored.safety))}",
            highlight=False,
        )
    elif restored.safety is not None:
        console.print(
            f"原数据库已损坏（未通过完整性检查），其文件已按原样另存为 {escape(str(restored.safety))}，"
            "供技术人员排查。",
            highlight=False,
        )
    if restored.replaced_file:
        console.print(
            "原数据库文件已损坏到无法写入，已直接换成备份。如果机器人正在运行，请立即重启它。", highlight=False
        )
    restore_photos(file)


def back_up_photos(out: Path) -> None:
    """The photos the backup's reports reference, copied from the media store into OUT.media/ beside it."""
    folder = media_folder_for(out)
    try:
        copied = run_async(back_up_media(out, media_store(load_settings())))
    except (MediaError, OSError) as error:
        fail(f"数据库已备份到 {escape(str(out))}，但照片没有备份完（{escape(str(error))}）。请检查媒体存储后重新备份。")
    if copied.total or copied.missing:
        console.print(
            f"照片：{copied.total} 张，保存在 {escape(str(folder))}（恢复时与备份文件放在同一目录）。", highlight=False
        )
    if copied.missing:
        console.print(
            f"⚠️ 媒体存储中缺少 {len(copied.missing)} 张照片，未能备份：{escape('、'.join(copied.missing[:5]))}",
            highlight=False,
        )


def restore_photos(file: Path) -> None:
    """The backup's photos (FILE.media/ beside it) put back into the media store, each checked against its hash."""
    try:
        restored = run_async(restore_media(file, media_store(load_settings())))
    except (MediaError, OSError) as error:
        fail(f"数据库已恢复，但照片没有恢复完（{escape(str(error))}）。请检查媒体存储后再次运行本命令。")
    if restored.total:
        console.print(f"照片：已恢复 {restored.copied} 张，{restored.present} 张原已存在。", highlight=False)
    if restored.damaged:
        console.print(
            f"⚠️ {len(restored.damaged)} 张照片文件已损坏（内容与文件名不符），未恢复："
            f"{escape('、'.join(restored.damaged[:5]))}",
            highlight=False,
        )
    if restored.missing:
        console.print(
            f"⚠️ 备份中缺少 {len(restored.missing)} 张照片（应在 {escape(str(media_folder_for(file)))}），"
            "这些照片无法查看。",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
