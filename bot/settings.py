"""The one configuration object: environment variables prefixed SHIXIAO_, or a `.env` file."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    # A half-filled report is precious: keep an idle conversation for a day before it expires.
    conversation_timeout_minutes: int = Field(default=24 * 60, ge=1)
    invite_valid_days: int = Field(default=7, ge=1, le=365)
    # Telegram's limits: about 30 messages/s overall and 1/s per chat.
    send_global_per_second: float = Field(default=30.0, gt=0)
    send_per_chat_interval: float = Field(default=1.0, ge=0)
    polling_timeout: int = Field(default=25, ge=0, le=50)
    log_level: str = "INFO"
    # Where generated files (digest charts) are kept until they are sent.
    data_dir: Path = Path("data")
    # The weekly digest: day of week (mon…sun) and local time.
    digest_day: str = "mon"
    digest_time: str = "08:00"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone, surfaced as a validation error
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def token(self) -> str | None:
        return self.telegram_token.get_secret_value() if self.telegram_token else None

    def sqlite_path(self) -> Path | None:
        prefix = "sqlite+aiosqlite:///"
        if self.database_url.startswith(prefix):
            return Path(self.database_url[len(prefix):])
        return None
