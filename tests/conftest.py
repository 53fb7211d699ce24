"""Shared fixtures: a real database (SQLite always, PostgreSQL when SHIXIAO_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os

# The CLI's rich console (bot/commands/common.py) takes its width from COLUMNS once, when it is made, if COLUMNS is
# set then; otherwise it reads it at every call, which is how the tests that want unwrapped tables pass COLUMNS=250 to
# the CLI. A run started with COLUMNS in its environment (a shell that exports it; pytest-xdist's workers start with
# COLUMNS=80 and LINES=24) would pin the width at that and fail them: forget both before the CLI is imported.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from handlers.area_files import SAMPLE_COUNTY, parse_area_file
from handlers.assembly import build_core
from handlers.context import CoreConfig
from handlers.core import Core
from storage.areas import load_county
from storage.clock import SHANGHAI, ManualClock
from storage.db import Database
from storage.private_files import private_copy
from tests.emulator import TelegramEmulator
from tests.log_audit import AUDIT, AuditHandler, personal
from tests.telegram_harness import RUNTIMES, RunningBot, bot_settings

POSTGRES_ENV = "SHIXIAO_TEST_POSTGRES_URL"


@pytest.fixture(scope="session", autouse=True)
def log_audit(request: pytest.FixtureRequest) -> Iterator[None]:
    """Everything the suite's bots log or store as an error is checked for the token, names and phones
    (tests/log_audit.py); a finding fails the session (under pytest-xdist: each worker's session, as an error of its
    last test)."""
    root = logging.getLogger()
    handler, level = AuditHandler(AUDIT), root.level
    root.addHandler(handler)
    root.setLevel(min(level, logging.INFO))  # what `shixiao run` logs by default
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    findings = AUDIT.finish()
    worker_output = getattr(request.config, "workeroutput", None)  # a pytest-xdist worker's report to the controller
    if worker_output is not None and (AUDIT.records or AUDIT.files_read):
        worker_output["log_audit"] = AUDIT.summary()
    if findings:
        raise AssertionError(
            f"{len(findings)} secrets or personal data in the bots' logs or stored errors:\n" + "\n".join(findings[:30])
        )


async def reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        # A connection an earlier test left idle in a transaction (a task cancelled mid-query, a killed bot)
        # holds locks that would make DROP SCHEMA wait for ever: end such sessions first, and never wait
        # long for a lock, so a leak shows up as a failure of its own rather than a suite that never ends.
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        await conn.execute(text("SET LOCAL lock_timeout = '30s'"))
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


WORKER_AUDITS: list[str] = []  # the pytest-xdist workers' log audit summaries, in the controller


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """A pytest-xdist worker finished: its log audit's summary is shown at the end of the run."""
    summary = getattr(node, "workeroutput", {}).get("log_audit")
    if summary:
        WORKER_AUDITS.append(f"[{node.gateway.id}] {summary}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if AUDIT.records or AUDIT.files_read:
        terminalreporter.write_line(AUDIT.summary())
    for line in sorted(WORKER_AUDITS):
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """A database of this test run's own (test_<pid>), so parallel runs never reset each other's tables."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        yield None
        return
    url = make_url(base)
    own = url.set(database=f"{url.database}_{os.getpid()}")
    asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{own.database}"'))
    asyncio.run(_admin(base, f'CREATE DATABASE "{own.database}"'))
    yield own.render_as_string(hide_password=False)
    asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path, postgres_url: str | None) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'shixiao.db'}"
        return
    url = postgres_url
    if not url:
        pytest.skip(
            f"PostgreSQL run skipped: set {POSTGRES_ENV} (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
        )
    await reset_postgres(url)
    yield url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 5, 6, 9, 0, tzinfo=SHANGHAI))


async def migrated_with_county(url: str, now: datetime) -> Database:
    """A database at the head of the migrations holding the sample county, loaded at `now`."""
    database = Database(url)
    await database.upgrade()
    async with database.transaction() as session:
        await load_county(session, parse_area_file(SAMPLE_COUNTY), now)
    return database


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[datetime, Path]]:
    """Where the session's SQLite templates go, and the ones made so far (by the county's load time)."""
    return tmp_path_factory.mktemp("sqlite-templates"), {}


async def sqlite_template(templates: tuple[Path, dict[datetime, Path]], now: datetime) -> Path:
    """A migrated SQLite file with the sample county loaded at `now`, made once per session (and per xdist worker):
    migrating and loading the county for each test was a third of a second of the quick tier's every database test.
    Tests get a copy of it, so none sees another's writes."""
    folder, made = templates
    if now not in made:
        path = folder / f"template-{len(made)}.db"
        database = await migrated_with_county(f"sqlite+aiosqlite:///{path}", now)
        await database.dispose()  # the last connection closed checkpoints the WAL into the file and removes it
        assert not path.with_name(path.name + "-wal").exists(), "the template's WAL was not checkpointed"
        made[now] = path
    return made[now]


@pytest.fixture
async def db(
    db_url: str, clock: ManualClock, sqlite_templates: tuple[Path, dict[datetime, Path]]
) -> AsyncIterator[Database]:
    """A database at the head of the migrations with the sample county: on SQLite a copy of the session's template
    (the same steps, taken once), on PostgreSQL migrated and loaded for the test."""
    url = make_url(db_url)
    file = (
        Path(url.database)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
        else None
    )
    if file is not None and not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        private_copy(await sqlite_template(sqlite_templates, clock.now()), file)
        database = Database(db_url)
        await database.upgrade()  # finds the copy at the head: nothing to do
    else:
        database = await migrated_with_county(db_url, clock.now())
    yield database
    await database.dispose()


@pytest.fixture
def core(db: Database, clock: ManualClock) -> Core:
    return build_core(db, clock, CoreConfig())


@pytest.fixture
def runtime(request: pytest.FixtureRequest) -> str:
    """The Telegram runtime an end-to-end test drives. The rule: aiogram (the default runtime) for the flows; both
    aiogram and PTB for the contract suite, the tests marked `contract`: what both runtimes must do alike (the
    Telegram contract of tests/test_e2e_telegram.py) and the tests about a runtime (its polling, its HTTP client)."""
    return getattr(request, "param", "aiogram")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "runtime" in metafunc.fixturenames and metafunc.definition.get_closest_marker("contract"):
        metafunc.parametrize("runtime", RUNTIMES, indirect=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Runs on PostgreSQL and on PTB carry the markers `postgresql` and `ptb`, which the quick tier leaves out
    (scripts/test --quick); `-m postgresql` runs only the PostgreSQL half."""
    for item in items:
        params = item.callspec.params if isinstance(item, pytest.Function) and hasattr(item, "callspec") else {}
        if params.get("db_url") == "postgresql":
            item.add_marker(pytest.mark.postgresql)
        if "ptb" in params.values():
            item.add_marker(pytest.mark.ptb)


@pytest.fixture
async def emulator() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator() as emu:
        yield emu
        personal(*(user.first_name for user in emu.users))  # display names: never in a log line


@pytest.fixture
async def bot(emulator: TelegramEmulator, db_url: str, runtime: str, tmp_path) -> AsyncIterator[RunningBot]:
    """shixiao running on `runtime` against the emulator, on each database."""
    running = await RunningBot(bot_settings(emulator, db_url, media_dir=tmp_path / "media"), runtime).start()
    yield running
    await running.stop()
