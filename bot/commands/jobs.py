"""`shixiao jobs list` / `shixiao jobs run NAME`: the scheduled jobs, and one of them run now.

A job run here goes through the very function the scheduler calls (scheduler/jobs.py), bound to this process's
database, clock and texts under a binding of its own, so a running bot's scheduler is not disturbed. What the job
queues (reminders, digests, escalations) waits in the outbox: the running bot sends it, and the terminal chat shows
a person's messages when they next chat."""

from __future__ import annotations

import asyncio
import importlib

import typer

from bot.commands.chinese_cli import ChineseTyper
from bot.commands.common import console, fail, load_settings, run_async

jobs_app = ChineseTyper(help="定时任务：列出（list）或立即执行一次（run 名称）。", no_args_is_help=True)
BINDING = "cli"


@jobs_app.command("list")
def list_jobs() -> None:
    """列出定时任务（每行：名称、执行时间、作用，制表符分隔）。"""
    from scheduler.jobs import job_specs, schedule_text

    settings = load_settings()
    for spec in job_specs(settings.digest_day, settings.digest_time):
        typer.echo(f"{spec.id}\t{schedule_text(spec)}\t{spec.what}")
    console.print("立即执行一次：shixiao jobs run 名称（机器人运行时会按上面的时间自动执行）", highlight=False)


@jobs_app.command("run")
def run_job(name: str = typer.Argument(..., help="任务名称，见 shixiao jobs list")) -> None:
    """立即执行一个定时任务（与定时执行的是同一个函数）；产生的消息进入发件箱，由机器人发出。"""
    from bot.app import job_context, open_app
    from scheduler.context import bind, unbind
    from scheduler.jobs import job_specs

    settings = load_settings()
    specs = {spec.id: spec for spec in job_specs(settings.digest_day, settings.digest_time)}
    spec = specs.get(name.strip())
    if spec is None:
        fail(f"没有名为“{name}”的定时任务。可用：{'、'.join(specs)}（shixiao jobs list 查看说明）。")
    module_name, function_name = spec.func.split(":")
    job = getattr(importlib.import_module(module_name), function_name)

    async def go() -> None:
        app = await open_app(settings)
        bind(BINDING, job_context(app))
        try:
            # In a thread, as the scheduler runs it: the job hands its coroutine back to this loop and waits.
            await asyncio.to_thread(job, BINDING)
        finally:
            unbind(BINDING)
            await app.close()

    run_async(go())
    console.print(
        f"已执行定时任务 {spec.id}（{spec.what}）。产生的消息已放入发件箱：机器人运行时（shixiao run）"
        "随即发出；终端对话中，收件人下次输入时显示。",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")
