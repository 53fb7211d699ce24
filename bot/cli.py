"""The `shixiao` command line."""

from __future__ import annotations

import asyncio
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from bot import collector
from bot.commands.chinese_cli import ChineseTyper
from bot.commands.common import console, fail, load_settings, run_async

log = logging.getLogger("shixiao")

NO_TOKEN = """尚未设置 Telegram 机器人令牌（SHIXIAO_TELEGRAM_TOKEN）。
· 在 Telegram 中向 @BotFather 申请机器人，得到令牌；
· 写入 .env 文件：SHIXIAO_TELEGRAM_TOKEN=123456:ABC…（可参考 .env.example），或设置同名环境变量；
· 然后再次运行 shixiao run。
不需要 Telegram 也可以先在终端里试用：shixiao chat"""

SAMPLE_GREETING = (
    "示例县：您以“{name}”（用户 {user}）的身份进入，输入 /report 即可看到示例名册（约 60 家示例单位）"
    "的数据报表和图表。以居民身份试用：shixiao chat --user 1。正式使用前删除示例名册："
    "shixiao units remove-sample。"
)
JOBS_HINT = (
    "定时任务（整改复查提醒、计划节点提醒、周报、投诉超期升级）只在 shixiao run 运行时按时执行；"
    "终端试用时，在另一个终端运行 shixiao jobs run 名称 立即执行一次（shixiao jobs list 列出名称和作用），"
    "收到的消息在本终端下次输入时显示。"
)
RUNTIMES = ("aiogram", "ptb", "dingtalk")
NO_DINGTALK = """运行时 dingtalk 需要钉钉官方的 Stream SDK（dingtalk-stream），但当前环境没有安装。
· 在项目目录中安装可选依赖：pip install ".[dingtalk]"；
· 或者不指定 --runtime dingtalk，使用 Telegram 运行时。"""
NO_DINGTALK_APP = """尚未设置钉钉应用的凭证（SHIXIAO_DINGTALK_CLIENT_ID 和 SHIXIAO_DINGTALK_CLIENT_SECRET）。
· 在钉钉开放平台（浙政钉为其开发者后台）创建企业内部应用，添加“机器人”能力，消息接收模式选“Stream 模式”；
· 把应用的 Client ID（AppKey）和 Client Secret（AppSecret）写入 .env 或同名环境变量；
· 然后再次运行 shixiao run --runtime dingtalk。"""
NO_PTB = """运行时 ptb 需要 python-telegram-bot 22，但当前环境没有安装（或版本不对）。
· 在项目目录中安装可选依赖：pip install ".[ptb]"（已安装本项目时也可以：pip install "python-telegram-bot>=22.2,<23"）；
· 或者不指定 --runtime / SHIXIAO_RUNTIME，使用默认的 aiogram 运行时。"""


def runtime_class(name: str) -> type:
    """The runtime's class; a missing optional extra becomes a Chinese explanation, not a traceback."""
    if name == "aiogram":
        from bot.aiogram_runtime import AiogramRuntime

        return AiogramRuntime
    if name == "dingtalk":
        try:
            import dingtalk_stream  # noqa: F401  (the optional extra .[dingtalk])
        except ImportError:
            fail(escape(NO_DINGTALK))
        from bot.dingtalk_runtime import DingTalkRuntime

        return DingTalkRuntime
    try:
        import telegram.ext

        major = str(getattr(telegram, "__version__", "0")).split(".")[0]
    except ImportError:
        major = ""
    if major != "22":
        fail(escape(NO_PTB))
    from bot.ptb_runtime import PtbRuntime

    return PtbRuntime


STOPPED_ON_ERROR = "机器人因错误停止，原因见上面的日志（日志中的令牌已隐去）。"


def run(
    runtime: str | None = typer.Option(
        None,
        "--runtime",
        help="运行时：aiogram（默认）或 ptb（python-telegram-bot，需安装可选依赖 ptb），"
        "或 dingtalk（钉钉企业内部应用机器人，Stream 模式，需安装可选依赖 dingtalk）；也可用环境变量 SHIXIAO_RUNTIME 设置",
    ),
    webhook: bool = typer.Option(
        False,
        "--webhook",
        help="以 Webhook 方式接收消息（多个实例可共用一个 PostgreSQL 数据库，置于同一个地址之后）；"
        "Telegram 推送的公网地址由 SHIXIAO_WEBHOOK_URL 设置",
    ),
    listen: str = typer.Option(
        "127.0.0.1:8080",
        "--listen",
        metavar="HOST:PORT",
        help="Webhook 模式下本实例监听的地址和端口（默认只监听本机；负载均衡在其他主机时写 0.0.0.0:端口）",
    ),
    web: str | None = typer.Option(
        None, "--web", metavar="HOST:PORT", help="同时运行网页控制台，监听这个地址（例如 127.0.0.1:8090）"
    ),
) -> None:
    """连接 Telegram 运行机器人（默认长轮询，或 --webhook），或用 --runtime dingtalk 连接钉钉。启动时自动升级数据库，空库时加载示例县。"""
    collector.pause_for_start_up()
    try:
        start_bot(runtime, webhook=webhook, listen=listen, web=web)
    finally:
        collector.resume()  # whatever happened: `run` may be called in a process that goes on (tests)


def start_bot(runtime: str | None, *, webhook: bool, listen: str, web: str | None) -> None:
    settings = load_settings()
    chosen = (runtime or settings.runtime).lower()
    if chosen not in RUNTIMES:
        fail(f"未知的运行时“{chosen}”，可用：{'、'.join(RUNTIMES)}。")
    if chosen == "dingtalk":
        if not settings.dingtalk_client_id or settings.dingtalk_client_secret is None:
            fail(escape(NO_DINGTALK_APP), code=2)
        if webhook:
            fail("钉钉运行时使用 Stream 模式（主动连接钉钉，不需要公网地址），不能与 --webhook 同用。", code=2)
    elif not settings.token:
        fail(NO_TOKEN, code=2)
    address = None
    if webhook:
        if chosen != "aiogram":
            fail("Webhook 模式使用 aiogram 运行时；请去掉 --runtime ptb（或 SHIXIAO_RUNTIME=ptb）。")
        if not settings.webhook_url.startswith(("https://", "http://")):
            fail(
                "Webhook 模式需要设置 SHIXIAO_WEBHOOK_URL：Telegram 推送消息的公网地址，例如 "
                "https://bot.example.gov.cn/telegram/webhook（多个实例时为负载均衡的地址）。",
                code=2,
            )
        from bot.webhook import parse_listen

        try:
            address = parse_listen(listen)
        except ValueError as error:
            fail(str(error), code=2)
    web_address = web_listen(settings, web) if web else None
    runtime_type = runtime_class(chosen)
    from bot.app import configure_logging, open_app, sample_register_once_ready

    configure_logging(settings)

    async def go() -> None:
        shixiao = await open_app(settings, register_later=True)
        console = None
        sample = None
        settling = None
        try:
            if web_address is not None:
                from bot.web.server import Beside

                console = Beside(shixiao, *web_address)
            bot_runtime = runtime_type(shixiao, address) if address is not None else runtime_type(shixiao)
            if settings.sample_register:
                sample = asyncio.create_task(sample_register_once_ready(shixiao.db, shixiao.clock, bot_runtime.ready))
            settling = asyncio.create_task(collector.settle_once_ready(bot_runtime.ready, after=sample))
            await bot_runtime.run()
        finally:
            if settling is not None:
                settling.cancel()
                await asyncio.gather(settling, return_exceptions=True)
            if sample is not None:
                sample.cancel()  # mid-load: its transaction is rolled back, and the next start writes it whole
                await asyncio.gather(sample, return_exceptions=True)
            if console is not None:
                await console.stop()
            await shixiao.close()

    try:
        asyncio.run(go())
    except KeyboardInterrupt:
        pass
    except Exception:
        # Through the log, whose records are redacted (bot/log_redaction.py): an uncaught traceback would print
        # the URL of a failed Bot API call, token included.
        log.exception("the bot stopped on an error")
        fail(STOPPED_ON_ERROR)


def web_listen(settings, listen: str) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """The console's address, or a Chinese explanation of what is missing."""
    from bot.web.server import web_secret
    from bot.webhook import parse_listen

    try:
        address = parse_listen(listen)
        web_secret(settings)
    except ValueError as error:
        fail(str(error), code=2)
    if not settings.web_base_url.startswith(("https://", "http://")):
        fail(
            "网页控制台需要设置 SHIXIAO_WEB_BASE_URL：浏览器访问控制台的网址，例如 https://console.example.gov.cn"
            "（/web 发出的登录链接以它开头）。",
            code=2,
        )
    return address.host, address.port


def web_console(
    listen: str = typer.Option(
        "127.0.0.1:8090", "--listen", metavar="HOST:PORT", help="网页控制台监听的地址和端口（默认只监听本机）"
    ),
) -> None:
    """运行县、乡镇办公室使用的网页控制台（登录链接由聊天中的 /web 发出）。"""
    settings = load_settings()
    host, port = web_listen(settings, listen)
    from bot.app import configure_logging, open_app

    configure_logging(settings)
    from bot.web.server import serve_alone

    async def go() -> None:
        shixiao = await open_app(settings)
        try:
            await serve_alone(shixiao, host, port)
        finally:
            await shixiao.close()

    try:
        asyncio.run(go())
    except KeyboardInterrupt:
        pass


def chat(
    user: int | None = typer.Option(
        None, "--user", help="模拟的用户编号；不同编号代表不同的人。默认：有示例名册时为 0（示例县整规办），否则为 1"
    ),
) -> None:
    """在终端里和机器人对话（不需要 Telegram），按钮显示为编号。"""
    settings = load_settings()
    from bot.app import configure_logging, open_app

    configure_logging(settings, log_file=Path("data") / "shixiao-chat.log")
    from bot.terminal import chat as terminal_chat
    from storage.sample_register import SAMPLE_OFFICE_CHAT, SAMPLE_OFFICE_NAME, sample_office_serves

    async def go() -> None:
        shixiao = await open_app(settings)
        try:
            chosen = user
            if chosen is None:
                async with shixiao.db.transaction() as session:
                    sample = await sample_office_serves(session)
                chosen = SAMPLE_OFFICE_CHAT if sample else 1
                if sample:
                    typer.echo(SAMPLE_GREETING.format(name=SAMPLE_OFFICE_NAME, user=SAMPLE_OFFICE_CHAT))
            typer.echo(JOBS_HINT)
            await terminal_chat(shixiao.core, shixiao.db, chosen, media=shixiao.media)
        finally:
            await shixiao.close()

    run_async(go())


# The command modules, in the order their commands are listed, and the first words of the command lines each adds
# (`export` is a group the units, exports and reports modules each add commands to). A command line names its
# module(s) by its first word (for `export`, its second), so `shixiao plan list` imports the plan commands and what
# they need, not every command's libraries; anything else (`--help`, a typo, no command) gets every module, so the
# help screens and Click's suggestions are those of the full command line. tests/test_cli_modules.py checks this
# table against what each module registers.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "database": ("db",),
    "backup": ("backup", "restore"),
    "areas": ("areas",),
    "access": ("invite", "users"),
    "units": ("units", "export units", "export inspections"),
    "exports": ("export complaints",),
    "reports": ("digest", "export report"),
    "plan": ("plan",),
    "groups": ("groups",),
    "jobs": ("jobs",),
    "knowledge": ("ask", "kb"),  # an optional feature: registered when its module is present in the checkout
}
OPTIONAL_MODULES = ("knowledge",)
OWN_COMMANDS = ("run", "web", "chat")


def modules_for(args: Sequence[str] | None) -> list[str]:
    """The command modules a command line needs: all of them unless its first words name a known command."""
    if args:
        words = " ".join(args[:2]) if args[0] == "export" else args[0]
        if args[0] in OWN_COMMANDS:
            return []
        chosen = [name for name, commands in COMMAND_MODULES.items() if words in commands]
        if chosen:
            return chosen
    return list(COMMAND_MODULES)


def build_app(args: Sequence[str] | None = None) -> typer.Typer:
    """The `shixiao` command line; with `args`, only the command modules that command line needs."""
    shixiao = ChineseTyper(
        name="shixiao",
        help="十小通：“十小”行业质量安全整治与规范的消息机器人。",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    shixiao.command()(run)
    shixiao.command("web")(web_console)
    shixiao.command()(chat)
    for name in modules_for(args):
        try:
            module = importlib.import_module(f"bot.commands.{name}")
        except ModuleNotFoundError as missing:
            if name not in OPTIONAL_MODULES or missing.name != f"bot.commands.{name}":
                raise
            continue
        module.register(shixiao)
    return shixiao


def __getattr__(name: str) -> Any:
    """`bot.cli.app`, the whole command line (for tests and tools), built when first asked for."""
    if name == "app":
        whole = build_app()
        globals()["app"] = whole
        return whole
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    build_app(sys.argv[1:])()


__all__ = ["build_app", "console", "main"]
