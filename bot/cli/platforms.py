"""`factbot slack manifest`, `factbot discord invite|sync`: setting the bot up on each platform."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from bot.cli import output
from bot.cli.common import DataDir, load_engine, load_settings
from bot.settings import ConfigError

slack_app = typer.Typer(help="Slack: the app manifest.", no_args_is_help=True)
discord_app = typer.Typer(help="Discord: the invite link and global command sync.", no_args_is_help=True)


@slack_app.command("manifest")
def slack_manifest(
    request_url: Annotated[
        str | None,
        typer.Option("--request-url", help="Public URL of /slack/events, for HTTP mode (default: Socket Mode)."),
    ] = None,
) -> None:
    """Print the Slack app manifest (scopes, events, the slash commands as named in settings)."""
    from bot.adapters import slack_manifest

    if request_url is not None and not request_url.startswith("https://"):
        output.fail(f"--request-url must be an https:// URL (Slack calls only HTTPS), not {request_url!r}", 2)
    output.plain(slack_manifest.manifest_yaml(load_settings(None), request_url=request_url), end="")


@discord_app.command("invite")
def discord_invite(
    client_id: Annotated[
        int | None,
        typer.Option(
            "--client-id",
            min=1,
            help="The application's id (Developer Portal → General Information); default: read from DISCORD_TOKEN.",
        ),
    ] = None,
) -> None:
    """Print the OAuth2 URL that adds the bot to a server, with exactly the permissions it needs."""
    from bot.adapters import discord_run

    try:
        application_id = client_id or discord_run.application_id_from_token(load_settings(None))
    except ConfigError as exc:
        output.fail(f"{exc} (or give the application's id: factbot discord invite --client-id ID)")
    output.plain(discord_run.invite_url(application_id))


@discord_app.command("sync")
def discord_sync(
    globally: Annotated[
        bool,
        typer.Option("--global", metavar="", help="Sync the slash commands to every server (takes up to an hour)."),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Register the slash commands with Discord globally (servers in DISCORD_GUILD_IDS sync at start)."""
    from bot.adapters import discord_run

    if not globally:
        output.fail("servers in DISCORD_GUILD_IDS sync when `factbot run` starts; use --global to sync everywhere.", 2)
    engine = load_engine(data_dir)
    try:
        count = asyncio.run(discord_run.sync_global(engine, load_settings(data_dir)))
    except ConfigError as exc:
        output.fail(str(exc))
    output.synced(count)
