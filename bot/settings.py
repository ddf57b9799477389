"""Settings from the environment and `.env` (pydantic-settings). Secrets stay `SecretStr`."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    answer_threshold: float = Field(
        default=0.7, ge=0, le=1, validation_alias="FACTBOT_ANSWER_THRESHOLD"
    )
    clarify_threshold: float = Field(
        default=0.4, ge=0, le=1, validation_alias="FACTBOT_CLARIFY_THRESHOLD"
    )
    clarify_margin: float = Field(default=0.005, ge=0, le=1, validation_alias="FACTBOT_CLARIFY_MARGIN")

    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET")
    )
    discord_token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN")
    discord_guild_ids: str = Field(default="", validation_alias="DISCORD_GUILD_IDS")

    @property
    def has_chat_tokens(self) -> bool:
        """Whether any chat platform is configured."""
        return bool(self.discord_token or (self.slack_bot_token and (self.slack_app_token or self.slack_signing_secret)))
