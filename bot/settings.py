"""Settings from the environment and `.env` (pydantic-settings). Secrets stay `SecretStr`."""

from __future__ import annotations

import os
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.models import ConfigError  # noqa: F401  (re-exported: where callers have always found it)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


SHIPPED = Path(__file__).resolve().parent / "factbase"
"""Where a plain `pip install` puts the example fact base (the repository's knowledge/, intents/, seeds/)."""


def _default_data_dir() -> Path:
    """The working directory when it holds a fact base, else the example one (the repository's, or the package's)."""
    for candidate in (Path.cwd(), PROJECT_ROOT, SHIPPED):
        if (candidate / "knowledge" / "sources.yaml").exists():
            return candidate
    return PROJECT_ROOT


def _default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/factbot`, else `~/.cache/factbot` (where the XDG base directory spec puts a cache)."""
    home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(home) / "factbot"


class Settings(BaseSettings):
    """Everything Factbot can be configured with; each field is also an environment variable."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        validation_alias="FACTBOT_DATA_DIR",
        description="The fact base to load: a folder with `knowledge/`, `intents/` and `seeds/`.",
    )
    db_url: str = Field(
        default="sqlite+aiosqlite:///factbot.db",
        validation_alias="FACTBOT_DB_URL",
        description=(
            "Where the question log lives: `sqlite+aiosqlite:///path/to/file.db` (the default is a file in the "
            "working directory) or `postgresql+asyncpg://user:password@host:5432/db`; plain `sqlite://`, "
            "`postgresql://` and `postgres://` URLs work too."
        ),
    )
    answer_threshold: float | None = Field(
        default=None,
        ge=0,
        le=1,
        validation_alias="FACTBOT_ANSWER_THRESHOLD",
        description=(
            "Confidence needed to answer. Unset: read off the fact base at start-up (0.72 on the shipped one); "
            "set, it is the only way to an answer."
        ),
    )
    clarify_threshold: float | None = Field(
        default=None,
        ge=0,
        le=1,
        validation_alias="FACTBOT_CLARIFY_THRESHOLD",
        description=(
            "Confidence needed to offer suggestions rather than fall back; at most the answer threshold. "
            "Unset: read off the fact base at start-up (0.26 on the shipped one)."
        ),
    )
    clarify_margin: float = Field(
        default=0.005,
        ge=0,
        le=1,
        validation_alias="FACTBOT_CLARIFY_MARGIN",
        description="Two intents closer than this, answering differently, get a clarifying question (unless words "
        "and meaning agree on the best, on a fact base of everyday requests).",
    )

    cache_dir: Path | None = Field(
        default_factory=_default_cache_dir,
        validation_alias="FACTBOT_CACHE_DIR",
        description=(
            "Where what start-up reads off a fact base (its thresholds) is kept, so that the next start on the "
            "same fact base and release skips measuring it; empty: measured at every start."
        ),
    )

    log_questions: bool = Field(
        default=True,
        validation_alias="FACTBOT_LOG_QUESTIONS",
        description=(
            "`false` keeps everything but the question text: counts, statuses and intents still feed the reports."
        ),
    )
    retention_days: int = Field(
        default=90,
        ge=1,
        validation_alias="FACTBOT_RETENTION_DAYS",
        description=(
            "Questions, votes and posts older than this many days are deleted when `factbot run` starts and by "
            "`factbot purge`; reports read the log as it is."
        ),
    )
    user_salt: SecretStr | None = Field(
        default=None,
        validation_alias="FACTBOT_USER_SALT",
        description=(
            "The secret user ids are hashed with (any long random string, e.g. `openssl rand -hex 32`); set the "
            "same value on every replica. Unset: a random salt per start, so one vote per person and user counts "
            "do not hold across restarts."
        ),
    )
    repeat_window_minutes: int = Field(
        default=30,
        ge=0,
        validation_alias="FACTBOT_REPEAT_WINDOW_MINUTES",
        description=(
            "A question the channel was given the same answer to within this many minutes is answered only for "
            "the person asking, under a line saying when it was answered there; 0 turns this off."
        ),
    )

    command_ask: str = Field(
        default="ask",
        pattern=r"^[a-z0-9_-]{1,32}$",
        validation_alias="FACTBOT_COMMAND_ASK",
        description="The name of the slash command that asks a question, without the slash.",
    )
    command_facts: str = Field(
        default="facts",
        pattern=r"^[a-z0-9_-]{1,32}$",
        validation_alias="FACTBOT_COMMAND_FACTS",
        description="The name of the slash command that lists the topics and their facts.",
    )
    command_digest: str = Field(
        default="digest",
        pattern=r"^[a-z0-9_-]{1,32}$",
        validation_alias="FACTBOT_COMMAND_DIGEST",
        description="The name of the slash command that previews the digest and subscribes a channel to it.",
    )
    command_why: str = Field(
        default="why",
        pattern=r"^[a-z0-9_-]{1,32}$",
        validation_alias="FACTBOT_COMMAND_WHY",
        description="The name of the slash command that explains an answer.",
    )
    command_help: str = Field(
        default="factbot",
        pattern=r"^[a-z0-9_-]{1,32}$",
        validation_alias="FACTBOT_COMMAND_HELP",
        description=(
            "The name of the slash command that shows help. After renaming any command, regenerate the Slack "
            "manifest (`factbot slack manifest`) and sync Discord's commands again."
        ),
    )

    digest_grace_minutes: int = Field(
        default=60,
        ge=0,
        validation_alias="FACTBOT_DIGEST_GRACE_MINUTES",
        description=(
            "How late a digest may still go out after its time (the process was down); later, that day is skipped."
        ),
    )
    digest_time: time = Field(
        default=time(9, 0),
        validation_alias="FACTBOT_DIGEST_TIME",
        description="The time a `/digest subscribe` without one uses (24-hour HH:MM).",
    )
    digest_timezone: str = Field(
        default="UTC",
        min_length=1,
        validation_alias="FACTBOT_DIGEST_TIMEZONE",
        description="The time zone a `/digest subscribe` without one uses: an Area/City name such as Europe/London.",
    )
    digest_stale_minutes: int = Field(
        default=10,
        ge=1,
        validation_alias="FACTBOT_DIGEST_STALE_MINUTES",
        description=("How long a claimed digest may stay unsent (a crash) before one more try may take it over, once."),
    )
    digest_reload_minutes: int = Field(
        default=5,
        ge=0,
        validation_alias="FACTBOT_DIGEST_RELOAD_MINUTES",
        description="How often the scheduler rereads the subscriptions (other replicas' changes); 0 never.",
    )

    slack_bot_token: SecretStr | None = Field(
        default=None,
        validation_alias="SLACK_BOT_TOKEN",
        description="The Bot User OAuth Token, `xoxb-…` (both modes). Unset: Slack off.",
    )
    slack_app_token: SecretStr | None = Field(
        default=None,
        validation_alias="SLACK_APP_TOKEN",
        description="An app-level token with `connections:write`, `xapp-…` (Socket Mode).",
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias="SLACK_SIGNING_SECRET",
        description="The app's Signing Secret (HTTP mode).",
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        validation_alias="SLACK_API_URL",
        description="The Web API's base URL (`https://slack-gov.com/api/` for GovSlack).",
    )
    http_port: int = Field(
        default=3000,
        ge=1,
        le=65535,
        validation_alias="FACTBOT_HTTP_PORT",
        description="The port of `factbot run --http`.",
    )

    discord_token: SecretStr | None = Field(
        default=None,
        validation_alias="DISCORD_TOKEN",
        description="The bot token from the Discord Developer Portal's Bot page. Unset: Discord off.",
    )
    discord_guild_ids: str = Field(
        default="",
        validation_alias="DISCORD_GUILD_IDS",
        description=(
            "Servers to sync the slash commands to at start, instantly: their ids, separated by commas or spaces."
        ),
    )
    discord_cooldown_seconds: float = Field(
        default=10.0,
        ge=0,
        validation_alias="FACTBOT_DISCORD_COOLDOWN_SECONDS",
        description="The cooldown window, in seconds; 0 turns the cooldown off.",
    )
    discord_cooldown_rate: int = Field(
        default=5,
        ge=1,
        validation_alias="FACTBOT_DISCORD_COOLDOWN_RATE",
        description="Commands, questions and button presses a person may send per cooldown window.",
    )

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

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _no_cache_when_empty(cls, value: object) -> object:
        """FACTBOT_CACHE_DIR set to nothing turns the cache off."""
        return None if isinstance(value, str) and not value.strip() else value

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
