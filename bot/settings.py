"""Settings from the environment and `.env` (pydantic-settings). Secrets stay `SecretStr`."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.models import ConfigError  # noqa: F401  (re-exported: where callers have always found it)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_data_dir() -> Path:
    """The working directory when it holds a fact base, else the one shipped with Factbot."""
    here = Path.cwd()
    return here if (here / "knowledge" / "sources.yaml").exists() else PROJECT_ROOT


class Settings(BaseSettings):
    """Everything Factbot can be configured with; each field is also an environment variable."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir, validation_alias="FACTBOT_DATA_DIR")
    db_url: str = Field(default="sqlite+aiosqlite:///factbot.db", validation_alias="FACTBOT_DB_URL")
    answer_threshold: float | None = Field(default=None, ge=0, le=1, validation_alias="FACTBOT_ANSWER_THRESHOLD")
    """Unset: read off the fact base at start-up (`bot.calibrate`)."""
    clarify_threshold: float | None = Field(default=None, ge=0, le=1, validation_alias="FACTBOT_CLARIFY_THRESHOLD")
    clarify_margin: float = Field(default=0.005, ge=0, le=1, validation_alias="FACTBOT_CLARIFY_MARGIN")

    log_questions: bool = Field(default=True, validation_alias="FACTBOT_LOG_QUESTIONS")
    retention_days: int = Field(default=90, ge=1, validation_alias="FACTBOT_RETENTION_DAYS")
    user_salt: SecretStr | None = Field(default=None, validation_alias="FACTBOT_USER_SALT")
    repeat_window_minutes: int = Field(default=30, ge=0, validation_alias="FACTBOT_REPEAT_WINDOW_MINUTES")

    command_ask: str = Field(default="ask", pattern=r"^[a-z0-9_-]{1,32}$", validation_alias="FACTBOT_COMMAND_ASK")
    command_facts: str = Field(default="facts", pattern=r"^[a-z0-9_-]{1,32}$", validation_alias="FACTBOT_COMMAND_FACTS")
    command_digest: str = Field(
        default="digest", pattern=r"^[a-z0-9_-]{1,32}$", validation_alias="FACTBOT_COMMAND_DIGEST"
    )
    command_why: str = Field(default="why", pattern=r"^[a-z0-9_-]{1,32}$", validation_alias="FACTBOT_COMMAND_WHY")
    command_help: str = Field(default="factbot", pattern=r"^[a-z0-9_-]{1,32}$", validation_alias="FACTBOT_COMMAND_HELP")

    digest_grace_minutes: int = Field(default=60, ge=0, validation_alias="FACTBOT_DIGEST_GRACE_MINUTES")
    """How late a digest may still go out (the process was down at its time); later, that day is skipped."""
    digest_time: time = Field(default=time(9, 0), validation_alias="FACTBOT_DIGEST_TIME")
    digest_timezone: str = Field(default="UTC", min_length=1, validation_alias="FACTBOT_DIGEST_TIMEZONE")
    digest_stale_minutes: int = Field(default=10, ge=1, validation_alias="FACTBOT_DIGEST_STALE_MINUTES")
    """How long a claimed digest may stay unsent (a crash) before another try may claim it, once."""
    digest_reload_minutes: int = Field(default=5, ge=0, validation_alias="FACTBOT_DIGEST_RELOAD_MINUTES")
    """How often the scheduler rereads the subscriptions (other replicas' changes); 0 never."""

    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    http_port: int = Field(default=3000, ge=1, le=65535, validation_alias="FACTBOT_HTTP_PORT")

    discord_token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN")
    discord_guild_ids: str = Field(default="", validation_alias="DISCORD_GUILD_IDS")
    discord_cooldown_seconds: float = Field(default=10.0, ge=0, validation_alias="FACTBOT_DISCORD_COOLDOWN_SECONDS")
    discord_cooldown_rate: int = Field(default=5, ge=1, validation_alias="FACTBOT_DISCORD_COOLDOWN_RATE")

    @field_validator("slack_bot_token", "slack_app_token", "slack_signing_secret", "discord_token")
    @classmethod
    def _a_secret_set_is_whole(cls, value: SecretStr | None) -> SecretStr | None:
        """A token that is set must be one word: empty or broken over lines, it is a mistake, not "unset"."""
        if value is None:
            return None
        secret = value.get_secret_value()
        if not secret.strip():
            raise ValueError("is set but empty (unset it, or give the value)")
        if any(character.isspace() for character in secret.strip()) or secret != secret.strip():
            raise ValueError("contains a space or a line break")
        return value

    @field_validator("digest_timezone")
    @classmethod
    def _a_real_time_zone(cls, value: str) -> str:
        """An IANA time zone name such as Europe/London."""
        try:
            ZoneInfo(value)
        except (KeyError, ValueError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"“{value}” is not a time zone: use an Area/City name like Europe/London") from exc
        return value

    @model_validator(mode="after")
    def _clarify_not_above_answer(self) -> Settings:
        """Asking back below the answer threshold only makes sense when it is the lower one."""
        answer, clarify = self.answer_threshold, self.clarify_threshold
        if answer is not None and clarify is not None and clarify > answer:
            raise ValueError(f"FACTBOT_CLARIFY_THRESHOLD ({clarify}) is above FACTBOT_ANSWER_THRESHOLD ({answer})")
        return self

    @property
    def guild_ids(self) -> list[int]:
        """The Discord guilds to sync commands to at start (comma- or space-separated ids)."""
        return [int(part) for part in self.discord_guild_ids.replace(",", " ").split() if part.isdigit()]

    @property
    def slack_enabled(self) -> bool:
        """Whether Slack is configured: a bot token plus an app token (Socket Mode) or signing secret (HTTP)."""
        return bool(self.slack_bot_token and (self.slack_app_token or self.slack_signing_secret))

    @property
    def discord_enabled(self) -> bool:
        """Whether Discord is configured."""
        return bool(self.discord_token)

    @property
    def has_chat_tokens(self) -> bool:
        """Whether any chat platform is configured."""
        return self.slack_enabled or self.discord_enabled
