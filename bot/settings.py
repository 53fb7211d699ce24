"""The one configuration object: environment variables prefixed SHIXIAO_, or a `.env` file."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from scheduler.weekdays import DAYS

DEFAULT_API_BASE = "https://api.telegram.org"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHIXIAO_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./data/shixiao.db",
        description="SQLAlchemy async URL; SQLite (default) or postgresql+asyncpg://…",
    )
    telegram_token: SecretStr | None = None
    telegram_api_base: str = DEFAULT_API_BASE
    timezone: str = "Asia/Shanghai"
    runtime: str = "aiogram"
    # A half-filled report is precious: a cadre interrupted in the field may come back days later, so an idle
    # conversation is kept for a week (the campaign's reporting rhythm) before it expires.
    conversation_timeout_minutes: int = Field(default=7 * 24 * 60, ge=1)
    invite_valid_days: int = Field(default=7, ge=1, le=365)
    # The bot's @username: an owner's code is offered as a QR code of https://t.me/<username>?start=<code>, so
    # scanning it opens the bot with the code filled in (empty: the QR code holds the code alone).
    bot_username: str = Field(default="", max_length=64, pattern=r"^@?[A-Za-z0-9_]*$")
    # Delivered messages keep their text this long (for questions about what was sent), then it is blanked.
    outbox_retention_days: int = Field(default=30, ge=1, le=3650)
    # Telegram's limits: about 30 messages/s overall and 1/s per chat, with short bursts tolerated in a chat
    # (the answer to a tap and the ✅ mark on the pressed button go out together).
    send_global_per_second: float = Field(default=30.0, gt=0)
    send_per_chat_interval: float = Field(default=1.0, ge=0)
    send_per_chat_burst: int = Field(default=2, ge=1)
    # What one person may send: a burst of this many updates, then this many a minute (0: no limit). Beyond it
    # the updates are not handled; the person is told to slow down, the county office sees the count.
    inbound_burst: int = Field(default=20, ge=1)
    inbound_per_minute: float = Field(default=30.0, ge=0)
    # This instance's name among several sharing one PostgreSQL database (default: the host name). Two
    # instances on one host need different names; a restarted instance should keep its name.
    instance_name: str = Field(default="", max_length=64)
    # Webhook mode (`shixiao run --webhook --listen HOST:PORT`): the public HTTPS URL Telegram posts to (a load
    # balancer in front of the instances), the path each instance serves, and the secret Telegram sends back
    # (default: derived from the token, so all instances agree without configuration).
    webhook_url: str = ""
    webhook_path: str = "/telegram/webhook"
    webhook_secret: SecretStr | None = None
    webhook_max_connections: int = Field(default=40, ge=1, le=100)
    polling_timeout: int = Field(default=25, ge=0, le=50)
    log_level: str = "INFO"
    # A fresh database gets the sample county; with it, unless this is off, the sample register (invented units
    # marked （示例） and their reports), so the first digest, chart and export show something.
    sample_register: bool = True
    # Where generated files (digest charts) are kept until they are sent.
    data_dir: Path = Path("data")
    # The weekly digest: day of week (mon…sun) and local time.
    digest_day: str = "mon"
    digest_time: str = "08:00"
    # The media store for report photos: a folder (default: <data_dir>/media), or an S3-compatible bucket (MinIO,
    # a cloud's object storage) when several instances run: set the endpoint and bucket, and the keys unless the
    # environment provides them (pip install ".[s3]").
    media_dir: Path | None = None
    media_s3_endpoint: str = ""
    media_s3_bucket: str = ""
    media_s3_access_key: str = ""
    media_s3_secret_key: SecretStr | None = None
    media_s3_region: str = ""
    media_s3_prefix: str = ""
    # Downloading a report's photos: attempts before it is flagged on the report, the first retry's delay in
    # seconds (doubled after each failure), and how often new photos are looked for.
    media_fetch_attempts: int = Field(default=8, ge=1, le=100)
    media_retry_seconds: float = Field(default=30.0, gt=0)
    media_poll_seconds: float = Field(default=5.0, gt=0)

    # Work groups (`shixiao groups add`): each DingTalk or WeCom group robot takes at most this many messages a
    # minute (both publish 20); after this many failures in a row the county office is told in the chat.
    # robots_allow_http: accept http:// webhooks, for local tests only (real robots are https).
    robot_per_minute: float = Field(default=20.0, gt=0)
    robot_report_after: int = Field(default=3, ge=1)
    robots_allow_http: bool = False
    # Files meant to be seen outside (digest charts linked from DingTalk group messages, whose robots cannot
    # upload images) are kept in a store of their own: this folder (default <data_dir>/published), or the media
    # bucket under the prefix "published/"; the web server publishes exactly that at SHIXIAO_PUBLIC_MEDIA_URL
    # (e.g. https://bot.example.gov.cn/published). Unset: DingTalk groups get the digest text without the chart.
    public_media_url: str = ""
    published_media_dir: Path | None = None
    # The DingTalk runtime (`shixiao run --runtime dingtalk`): the enterprise app's robot in Stream mode.
    dingtalk_client_id: str = ""
    dingtalk_client_secret: SecretStr | None = None
    # DingTalk's own limits for a robot's one-to-one messages; the defaults stay well inside them.
    dingtalk_send_per_second: float = Field(default=10.0, gt=0)
    dingtalk_per_chat_interval: float = Field(default=1.0, ge=0)
    # Choices (at most 5, labels of at most 20 characters) as buttons of DingTalk's built-in ActionCard messages;
    # false: always numbered text (e.g. for a client that does not follow the buttons' dtmd:// links).
    dingtalk_cards: bool = True

    # The office's web console (`shixiao web`, or `shixiao run --web HOST:PORT`): its public address, used in the
    # /web sign-in links (https: the session cookie is marked Secure); the secret that signs session cookies (all
    # instances need the same; default: derived from the bot's token or the DingTalk app secret); the map's tile
    # server ({z}/{x}/{y} template, e.g. 天地图 with its key; empty: markers on a blank background) and the
    # largest upload accepted (a register xlsx, a milestone's file).
    web_base_url: str = ""
    web_secret: SecretStr | None = None
    web_tile_url: str = ""
    web_tile_attribution: str = ""
    web_upload_max_mb: int = Field(default=10, ge=1, le=200)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone, surfaced as a validation error
        return value

    @field_validator("media_dir", "published_media_dir", mode="before")
    @classmethod
    def _unset_folder(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value  # an empty line in .env: the default

    @field_validator("digest_day")
    @classmethod
    def _weekday(cls, value: str) -> str:
        if value.lower() not in DAYS:
            raise ValueError(f"digest_day must be one of {', '.join(DAYS)}")
        return value.lower()

    @field_validator("digest_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        try:
            parsed = time.fromisoformat(value)
        except ValueError:
            raise ValueError("digest_time must be HH:MM, e.g. 08:00") from None
        return parsed.strftime("%H:%M")

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if (
            value is not None
            and value.get_secret_value()
            and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value())
        ):
            raise ValueError("webhook_secret: 1–256 characters A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    @property
    def media_folder(self) -> Path:
        return self.media_dir or self.data_dir / "media"

    @property
    def published_folder(self) -> Path:
        return self.published_media_dir or self.data_dir / "published"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def token(self) -> str | None:
        return self.telegram_token.get_secret_value() if self.telegram_token else None

    def sqlite_path(self) -> Path | None:
        prefix = "sqlite+aiosqlite:///"
        if self.database_url.startswith(prefix):
            return Path(self.database_url[len(prefix) :])
        return None
