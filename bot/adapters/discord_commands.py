"""The Discord command tree, built from the one command table, with its autocompletion and per-user cooldown.

discord.py reads a command's options from its callback's typed parameters, so each command keeps a small
callback here that parses its options and hands over to the client's listener. Every word Discord shows comes
from `bot.chat.commands.COMMANDS`: names, descriptions, option names, option descriptions and choices (the
topics of the facts command and the autocompletions come from the fact base).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.adapters.discord_send import CHOICE, MAX_CHOICES, Outgoing, clip, send
from bot.chat import messages
from bot.chat.commands import DIGEST, DISCORD, Command, Option, on
from bot.digest import DigestRequest, parse_time, parse_timezone, timezones
from bot.engine import Engine
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.adapters.discord_bot import FactbotClient

log = logging.getLogger(__name__)

Callback = Callable[..., Coroutine[Any, Any, None]]
Choices = list[app_commands.Choice[str]]
Complete = Callable[[discord.Interaction[Any], str], Coroutine[Any, Any, Choices]]


def browse_order(engine: Engine) -> list[str]:
    """Canonical questions for an empty or unmatched prefix: the headline ones first, then the rest."""
    headline = [s.question for s in engine.overview().try_asking]
    return list(dict.fromkeys([*headline, *(i.question for i in engine.base.intents.values())]))


def suggest_questions(engine: Engine, typed: str, *, default: list[str]) -> list[str]:
    """Up to 25 canonical questions for a half-typed one: literal prefix matches, then the matcher's ranking.

    `default` (every question, headline ones first) is the answer to an empty or unmatched prefix.
    """
    typed = " ".join(typed.split())
    intents = engine.base.intents
    starts = [q for q in default if typed and q.lower().startswith(typed.lower())]
    candidates = engine.matcher.rank(typed).candidates
    head = typed.rpartition(" ")[0]
    if not candidates and head:  # the last word may be half-typed
        candidates = engine.matcher.rank(head).candidates
    found = list(dict.fromkeys([*starts, *(intents[c.intent].question for c in candidates)]))
    return (found or default)[:MAX_CHOICES]


def digest_request(action: str, *, time: str | None, timezone: str | None, curators: bool) -> DigestRequest:
    """The digest command's options as a request; ValueError, in one line, for a bad action, time or time zone."""
    actions = DIGEST.options[0].choices
    if action not in actions:
        raise ValueError(f"Unknown action “{action}”: choose {', '.join(actions[:-1])} or {actions[-1]}.")
    return DigestRequest.model_validate(
        {
            "action": action,
            "at": parse_time(time) if time else None,
            "timezone": parse_timezone(timezone) if timezone else None,
            "curators": curators,
        }
    )


def callbacks(client: FactbotClient) -> dict[str, Callback]:
    """One typed callback per command key (discord.py reads the options from its parameters, in the table's order)."""

    async def ask(interaction: discord.Interaction[Any], question: str) -> None:
        await client.slash_ask(interaction, question)

    async def facts(interaction: discord.Interaction[Any], topic: str | None = None) -> None:
        await client.slash_facts(interaction, topic or "")

    async def digest(
        interaction: discord.Interaction[Any],
        action: str = "preview",
        time: str | None = None,
        timezone: str | None = None,
        curators: bool = False,
    ) -> None:
        try:
            request = digest_request(action, time=time, timezone=timezone, curators=curators)
        except ValueError as exc:  # answered at once: nothing slow was asked for
            await send(interaction, Outgoing(content=str(exc)))
            return
        await client.slash_digest(interaction, request)

    async def why(interaction: discord.Interaction[Any], question: str | None = None) -> None:
        await client.slash_why(interaction, question or "")

    async def show_help(interaction: discord.Interaction[Any]) -> None:
        await client.slash_help(interaction)

    return {"ask": ask, "facts": facts, "digest": digest, "why": why, "help": show_help}


def add_commands(client: FactbotClient) -> None:
    """Put every Discord command of the table on the client's tree, named as the settings say."""
    engine, settings = client.service.engine, client.service.settings
    browse = browse_order(engine)

    async def questions(interaction: discord.Interaction[Any], current: str) -> Choices:
        found = suggest_questions(engine, current, default=browse)
        return [app_commands.Choice(name=clip(q, CHOICE), value=clip(q, CHOICE)) for q in found]

    async def zones(interaction: discord.Interaction[Any], current: str) -> Choices:
        return [app_commands.Choice(name=zone, value=zone) for zone in timezones(current, limit=MAX_CHOICES)]

    complete: dict[tuple[str, str], Complete] = {("ask", "question"): questions, ("digest", "timezone"): zones}
    listed = {("facts", "topic"): topic_choices(engine)}
    given = callbacks(client)
    for command in on(DISCORD):
        client.tree.add_command(slash(command, given[command.key], settings, choices=listed, complete=complete))


def topic_choices(engine: Engine) -> Choices:
    """The fact base's topics, the biggest first, as many as Discord lists."""
    topics = {name: len(facts) for name, facts in engine.base.topics().items()}
    ordered = sorted(topics, key=lambda t: -topics[t])[:MAX_CHOICES]
    return [app_commands.Choice(name=clip(t, CHOICE), value=t) for t in ordered]


def slash(
    command: Command,
    callback: Callback,
    settings: Settings,
    *,
    choices: dict[tuple[str, str], Choices],
    complete: dict[tuple[str, str], Complete],
) -> app_commands.Command[Any, ..., None]:
    """One command from the table: its name, description, options' names, descriptions, choices, autocompletion."""
    made: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=command.name(settings), description=command.description, callback=callback
    )
    options = _options(command, callback)
    app_commands.rename(**{p: o.name for p, o in options.items() if p != o.name})(made)
    app_commands.describe(**{p: o.description for p, o in options.items()})(made)
    offered = {p: choices.get((command.key, o.name)) or _choices(o) for p, o in options.items()}
    app_commands.choices(**{p: listed for p, listed in offered.items() if listed})(made)
    for parameter, option in options.items():
        if (completer := complete.get((command.key, option.name))) is not None:
            made.autocomplete(parameter)(completer)
    return made


def _options(command: Command, callback: Callback) -> dict[str, Option]:
    """The table's options by the callback's parameter names (after the interaction), which follow their order."""
    parameters = list(inspect.signature(callback).parameters)[1:]
    return dict(zip(parameters, command.options, strict=True))


def _choices(option: Option) -> Choices:
    """An option's choices as the table lists them."""
    return [app_commands.Choice(name=choice, value=choice) for choice in option.choices]


class FactbotTree(app_commands.CommandTree["FactbotClient"]):
    """The slash-command tree: a per-user cooldown before every command, and no traceback for users."""

    async def interaction_check(self, interaction: discord.Interaction[FactbotClient], /) -> bool:
        """Refuse commands over the user's cooldown (autocomplete is never throttled)."""
        if interaction.type is discord.InteractionType.application_command:
            throttle = self.client.throttle
            if (retry := throttle.retry_after(interaction.user.id)) is not None:
                raise app_commands.CommandOnCooldown(app_commands.Cooldown(throttle.rate, throttle.per), retry)
        return True

    async def on_error(
        self, interaction: discord.Interaction[FactbotClient], error: app_commands.AppCommandError, /
    ) -> None:
        """Say "slow down" to a flood and sorry to a failure; log the failure with its traceback."""
        if isinstance(error, app_commands.CommandOnCooldown):
            await send(interaction, Outgoing(content=messages.slow_down(error.retry_after)))
            return
        name = interaction.command.name if interaction.command else "?"
        log.error("command /%s failed", name, exc_info=error)
        await send(interaction, Outgoing(content=messages.SORRY))
