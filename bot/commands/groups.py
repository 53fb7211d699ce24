"""`shixiao groups …` and `shixiao digest --push`: work groups (DingTalk and WeCom group robots) that get a scope's
digest, milestone reminders and broadcasts. Webhooks and secrets are shown masked, never printed whole."""

from __future__ import annotations

import os
import sys

import typer

from bot.app import load_sample_if_empty, media_store, robot_senders
from bot.commands.chinese_cli import ChineseTyper
from bot.commands.common import console, fail, load_settings, run_async
from bot.commands.reports import ScopeProblem, _scope
from bot.db_open import open_database
from handlers.report import digest_replies, targets_of
from handlers.texts import Texts
from handlers.work_groups import KINDS, BadGroup, check_group, check_name, default_name, masked, push_replies
from knowledge.shipped import shipped_knowledge
from scheduler.sender import default_instance_name
from storage import outbox, work_groups
from storage.clock import SystemClock
from storage.digest import compute_digest

groups_app = ChineseTyper(
    help="工作群：把周报、计划节点提醒和通知推送到钉钉、企业微信工作群（群机器人）。", no_args_is_help=True
)
PUSH_WITHIN = 120.0  # seconds `digest --push` waits for the robots (20 messages a minute each)


@groups_app.command("add")
def add(
    kind: str = typer.Option(..., "--kind", help="dingtalk（钉钉 / 浙政钉自定义机器人）或 wecom（企业微信群机器人）"),
    scope: str = typer.Option(
        ..., "--scope", help="全县（也可写 county 或县名）或乡镇名称：该群收到这一范围的周报、提醒和通知"
    ),
    webhook: str = typer.Option(
        ..., "--webhook", help="群机器人的 Webhook 地址（https://…，含 access_token= 或 key=）"
    ),
    secret: str | None = typer.Option(
        None, "--secret", help="钉钉机器人“加签”的密钥（SEC 开头）；写 - 则从标准输入读取，不留在命令历史中"
    ),
    name: str | None = typer.Option(None, "--name", help="工作群名称（默认：范围+类型，如 全县钉钉工作群）"),
) -> None:
    """登记一个工作群：以后该范围的周报（文字和图表）、计划节点提醒和通知也推送到这个群。"""
    settings = load_settings()
    texts = Texts.load()
    if secret == "-":
        secret = sys.stdin.readline().strip()
    try:
        spec = check_group(texts, kind, webhook, secret, allow_http=settings.robots_allow_http)
        chosen = check_name(texts, name) if name is not None else None
    except BadGroup as problem:
        fail(str(problem))

    async def go() -> tuple[str, str]:
        db = await open_database(settings)
        # As `invite` does: a fresh install can be tried.
        await load_sample_if_empty(db, SystemClock(settings.tz), register=settings.sample_register)
        try:
            async with db.transaction() as session:
                area = await _scope(session, scope)
                group_name = chosen or default_name(spec.kind, area.name)
                if await work_groups.group_named(session, group_name) is not None:
                    raise ScopeProblem(texts("wg_name_taken", name=group_name))
                await work_groups.add_group(
                    session, group_name, spec.kind, area, spec.webhook, spec.secret, SystemClock(settings.tz).now()
                )
                return group_name, area.name
        finally:
            await db.dispose()

    try:
        group_name, area_name = run_async(go())
    except ScopeProblem as problem:
        fail(str(problem))
    signed = "已设置" if spec.secret else "未设置"
    console.print(
        f"已添加工作群“{group_name}”（{KINDS[spec.kind]} · {area_name}）：Webhook {masked(spec.webhook)}，"
        f"加签{signed}。",
        highlight=False,
        markup=False,
    )


@groups_app.command("list")
def list_groups() -> None:
    """列出已登记的工作群（每行：名称、类型、范围、Webhook、加签密钥、连续失败次数，制表符分隔；地址和密钥只显示末4位）。"""
    settings = load_settings()

    async def go() -> list[str]:
        db = await open_database(settings)
        try:
            async with db.transaction() as session:
                return [
                    "\t".join(
                        (
                            group.name,
                            KINDS.get(group.kind, group.kind),
                            area.name,
                            masked(group.webhook),
                            masked(group.secret),
                            str(group.failures),
                        )
                    )
                    for group, area in await work_groups.all_groups(session)
                ]
        finally:
            await db.dispose()

    lines = run_async(go())
    if not lines:
        console.print(
            "还没有登记工作群。添加：shixiao groups add --kind dingtalk --scope 全县 --webhook 地址 --secret 密钥"
        )
        return
    for line in lines:
        typer.echo(line)


@groups_app.command("remove")
def remove(name: str = typer.Argument(..., help="工作群名称（见 shixiao groups list）")) -> None:
    """删除一个工作群：不再向它推送，尚未送达的推送一并取消。"""
    settings = load_settings()

    async def go() -> int | None:
        db = await open_database(settings)
        try:
            async with db.transaction() as session:
                group = await work_groups.group_named(session, name.strip())
                if group is None:
                    return None
                return await work_groups.remove_group(session, group)
        finally:
            await db.dispose()

    dropped = run_async(go())
    if dropped is None:
        fail(f"没有名为“{name}”的工作群，可用 shixiao groups list 查看。")
    extra = f"，{dropped}条尚未送达的推送已取消" if dropped else ""
    console.print(f"已删除工作群“{name.strip()}”{extra}。", highlight=False, markup=False)


def push_digest(scope_name: str) -> None:
    """`shixiao digest --scope S --push`: the scope's digest to its work groups, delivered now."""
    settings = load_settings()
    texts, knowledge = Texts.load(), shipped_knowledge()
    clock = SystemClock(settings.tz)

    async def go() -> tuple[int, int, int]:
        db = await open_database(settings)
        try:
            async with db.transaction() as session:
                scope = await _scope(session, scope_name)
                groups = await work_groups.groups_of(session, [scope.id])
                if not groups:
                    raise ScopeProblem(
                        f"“{scope.name}”还没有登记工作群：先用 shixiao groups add --scope {scope.name} … 添加。"
                    )
                result = await compute_digest(session, scope, clock.now(), targets_of(knowledge))
                replies = digest_replies(result, texts, knowledge, clock, settings.data_dir / "charts")
                await push_replies(session, groups, replies, clock.now())
            # An instance name of its own: a bot running on this host keeps its claims, and each push goes once.
            senders = robot_senders(
                db,
                settings,
                clock,
                texts,
                media_store(settings),
                instance=f"{default_instance_name()}-cli-{os.getpid()}",
            )
            try:
                for sender in senders:
                    await sender.drain(within=PUSH_WITHIN)
            finally:
                for sender in senders:
                    await sender.transport.close()  # type: ignore[attr-defined]
            async with db.transaction() as session:
                pending = sum(
                    [
                        await outbox.count_pending(session, work_groups.robot_channel(group.kind), group.id)
                        for group in groups
                    ]
                )
            return len(groups), sum(sender.delivered for sender in senders), pending
        finally:
            await db.dispose()

    try:
        groups, delivered, pending = run_async(go())
    except ScopeProblem as problem:
        fail(str(problem))
    console.print(f"周报已推送到{groups}个工作群（送达{delivered}条消息）。", highlight=False)
    if pending:
        console.print(
            f"还有{pending}条消息未送达：机器人运行时（shixiao run）会继续重试；连续失败的工作群会通知县整规办，"
            "也可用 shixiao groups list 查看失败次数。",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    app.add_typer(groups_app, name="groups")
