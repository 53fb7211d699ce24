"""Wiring: the only place that builds settings, database, clock and core and hands them to a runtime."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.db_open import open_database
from bot.settings import Settings
from handlers.area_files import SAMPLE_COUNTY, parse_area_file
from handlers.assembly import build_core
from handlers.context import CoreConfig
from handlers.core import Core
from handlers.plan_schedule import ensure_plan
from handlers.texts import Texts
from knowledge.shipped import shipped_knowledge
from scheduler.context import JobContext
from scheduler.jobs import job_specs
from scheduler.leader import LeaderElectedJobs
from scheduler.photo_keeper import KeepLimits, PhotoKeeper, PhotoSource
from scheduler.retention_jobs import Retention
from scheduler.sender import Limits, Sender, Transport
from scheduler.service import JobScheduler
from storage.areas import count_areas, load_county
from storage.clock import Clock, SystemClock
from storage.db import Database
from storage.leadership import leadership_for
from storage.media import LocalMediaStore, MediaStore
from storage.pacing import Allowance
from storage.sample_register import load_sample_register, pending_sample_county
from storage.work_groups import KINDS, robot_channel

log = logging.getLogger(__name__)
STARTUP_LOCK = 0x736869_78737470  # "shixstp"


@dataclass
class App:
    settings: Settings
    db: Database
    clock: Clock
    core: Core
    media: MediaStore

    async def close(self) -> None:
        await self.db.dispose()


def core_config(settings: Settings) -> CoreConfig:
    return CoreConfig(
        conversation_timeout=timedelta(minutes=settings.conversation_timeout_minutes),
        invite_valid_for=timedelta(days=settings.invite_valid_days),
        charts_dir=settings.data_dir / "charts",
        bot_username=settings.bot_username.lstrip("@"),
        inbound=(
            Allowance(60.0 / settings.inbound_per_minute, settings.inbound_burst)
            if settings.inbound_per_minute > 0
            else None
        ),
        web_base_url=settings.web_base_url,
        robots_allow_http=settings.robots_allow_http,
    )


def send_limits(settings: Settings) -> Limits:
    return Limits(
        global_per_second=settings.send_global_per_second,
        per_chat_interval=settings.send_per_chat_interval,
        per_chat_burst=settings.send_per_chat_burst,
    )


def outbox_sender(app: App, transport: Transport) -> Sender:
    """The runtime's one sender of outbox messages to Telegram."""
    return Sender(app.db, transport, "telegram", send_limits(app.settings), app.settings.instance_name or None)


def media_store(settings: Settings) -> MediaStore:
    """Where report photos are kept: the S3 bucket when one is configured, else the local folder."""
    if settings.media_s3_bucket:
        from storage.media_s3 import S3MediaStore  # boto3 is the optional extra .[s3]

        secret = settings.media_s3_secret_key.get_secret_value() if settings.media_s3_secret_key else ""
        return S3MediaStore(
            settings.media_s3_bucket,
            endpoint=settings.media_s3_endpoint,
            access_key=settings.media_s3_access_key,
            secret_key=secret,
            region=settings.media_s3_region,
            prefix=settings.media_s3_prefix,
        )
    return LocalMediaStore(settings.media_folder)


def photo_keeper(app: App, source: PhotoSource, channel: str = "telegram") -> PhotoKeeper:
    """The runtime's worker that downloads report photos into the media store."""
    settings = app.settings
    limits = KeepLimits(
        max_attempts=settings.media_fetch_attempts,
        first_retry=settings.media_retry_seconds,
        poll_seconds=settings.media_poll_seconds,
    )
    return PhotoKeeper(app.db, source, app.media, app.clock, channel, limits)


def published_store(settings: Settings) -> MediaStore:
    """Files meant to be seen outside (digest charts linked from DingTalk groups): apart from report photos, so a
    web server publishing this store publishes nothing else."""
    if settings.media_s3_bucket:
        from storage.media_s3 import S3MediaStore

        secret = settings.media_s3_secret_key.get_secret_value() if settings.media_s3_secret_key else ""
        return S3MediaStore(
            settings.media_s3_bucket,
            endpoint=settings.media_s3_endpoint,
            access_key=settings.media_s3_access_key,
            secret_key=secret,
            region=settings.media_s3_region,
            prefix=f"{settings.media_s3_prefix.strip('/')}/published".lstrip("/"),
        )
    return LocalMediaStore(settings.published_folder)


def robot_senders(
    db: Database, settings: Settings, clock: Clock, texts: Texts, media: MediaStore | None, instance: str | None = None
) -> list[Sender]:
    """One sender per kind of work-group robot (channels dingtalk-robot, wecom-robot), paced per robot."""
    from bot.robots import RobotTransport, published_links, robot_limits  # aiohttp's client, when it is needed

    publish = published_links(published_store(settings), settings.public_media_url)
    return [
        Sender(
            db,
            RobotTransport(
                db, kind, clock, texts, media=media, publish=publish, report_after=settings.robot_report_after
            ),
            robot_channel(kind),
            robot_limits(settings.robot_per_minute),
            instance or settings.instance_name or None,
        )
        for kind in KINDS
    ]


class RobotDelivery:
    """The work groups' senders, run beside a runtime's own sender (any runtime: the jobs queue the pushes)."""

    def __init__(self, app: App) -> None:
        self.senders = robot_senders(app.db, app.settings, app.clock, app.core.texts, app.media)
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(sender.run(), name=f"outbox-{sender.channel}") for sender in self.senders]

    def wake(self) -> None:
        for sender in self.senders:
            sender.wake()

    async def stop(self) -> None:
        for sender in self.senders:
            sender.stop()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for sender in self.senders:
            await sender.transport.close()  # type: ignore[attr-defined]


async def load_sample_if_empty(db: Database, clock: Clock, *, register: bool = True) -> bool:
    """A fresh install gets the sample county, and with it (`register`) the sample register of invented units
    and inspections, so the bot, the digest, its chart and the exports can be tried at once. Only into an empty
    database: a county that loaded its own areas never gets either. True when the county was loaded now."""
    loaded = await load_sample_county_if_empty(db, clock)
    if register:
        await load_pending_sample_register(db, clock)
    return loaded


async def load_sample_county_if_empty(db: Database, clock: Clock) -> bool:
    """The sample county's areas, into a database that has none."""
    async with db.transaction() as session:
        if await count_areas(session) > 0:
            return False
        result = await load_county(session, parse_area_file(SAMPLE_COUNTY), clock.now())
    log.info("loaded the sample county (%s areas)", result.created)
    return True


async def load_pending_sample_register(db: Database, clock: Clock) -> bool:
    """The sample register, into a sample county that is still waiting for it (storage/sample_register.py
    `pending_sample_county`), in one transaction: a process killed meanwhile leaves no part of it, and the next
    start writes it whole. Reading and checking the shipped files runs off the event loop."""
    async with db.transaction() as session:
        if await pending_sample_county(session) is None:
            return False
    from handlers.sample_register import parse_sample_register

    county = parse_area_file(SAMPLE_COUNTY)
    now = clock.now()
    sample = await asyncio.to_thread(
        parse_sample_register, county, shipped_knowledge(), now.astimezone(clock.tz).date(), now
    )
    async with db.transaction() as session:
        if await pending_sample_county(session) != sample.county:  # another process wrote it meanwhile
            return False
        units = await load_sample_register(session, sample.county, sample.units, now)
    log.info("loaded the sample register (%s units, %s reports)", units.units, units.inspections)
    return True


async def sample_register_once_ready(db: Database, clock: Clock, ready: asyncio.Event) -> None:
    """`shixiao run` on a fresh database: the sample register is written once the bot is polling (`ready`), not
    before it (only the sample county itself is loaded before). Until it is committed the register is simply
    empty: it appears whole, in one transaction. A failure is logged and the next start tries again."""
    await ready.wait()
    try:
        async with db.exclusive(STARTUP_LOCK):
            await load_pending_sample_register(db, clock)
    except Exception:
        log.exception("could not load the sample register; the next start tries again")


async def open_app(
    settings: Settings, clock: Clock | None = None, *, sample: bool = True, register_later: bool = False
) -> App:
    """`register_later`: leave the sample register of a fresh database to `sample_register_once_ready`."""
    clock = clock or SystemClock(settings.tz)
    db = await open_database(settings)
    core = build_core(db, clock, core_config(settings))
    async with db.exclusive(STARTUP_LOCK):  # instances starting together seed the database once
        if sample:
            await load_sample_if_empty(db, clock, register=settings.sample_register and not register_later)
        await ensure_plan(db, clock, core.texts)  # this year's milestones from the shipped plan, once
    return App(settings, db, clock, core, media_store(settings))


class ZonedFormatter(logging.Formatter):
    """Log times in the county's zone with the offset (2026-12-02 09:51:07+0800): servers often run on UTC, and
    whoever reads the log compares it with what users saw in the bot."""

    def __init__(self, fmt: str, tz: ZoneInfo) -> None:
        super().__init__(fmt)
        self.tz = tz

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, self.tz).strftime(datefmt or "%Y-%m-%d %H:%M:%S%z")


def configure_logging(settings: Settings, log_file: Path | None = None) -> None:
    from bot.log_redaction import redact_logs

    redact_logs(settings)  # no token, webhook secret or database password in any line
    handler: logging.Handler
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler()
    handler.setFormatter(ZonedFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", settings.tz))
    logging.basicConfig(level=settings.log_level.upper(), handlers=[handler], force=True)


def build_jobs(app: App) -> LeaderElectedJobs:
    """The scheduled jobs (reminders, digests), run by whichever instance holds the scheduler lock.

    Call from the running event loop: the jobs hand their work back to it."""
    settings = app.settings
    jobs = JobScheduler(
        job_context(app), settings.database_url, settings.tz, job_specs(settings.digest_day, settings.digest_time)
    )
    return LeaderElectedJobs(leadership_for(app.db), jobs)


def job_context(app: App) -> JobContext:
    """What the scheduled jobs run with: the scheduler's and `shixiao jobs run`'s alike. Call from the running
    event loop: the jobs hand their work back to it."""
    settings = app.settings
    retention = Retention(
        outbox=timedelta(days=settings.outbox_retention_days),
        conversations=timedelta(minutes=settings.conversation_timeout_minutes),
    )
    return JobContext(
        app.db,
        app.clock,
        app.core.texts,
        app.core.parts.knowledge,
        settings.data_dir / "charts",
        asyncio.get_running_loop(),
        retention,
    )
