"""The one command table: every command Factbot offers, with its options and descriptions.

The Slack manifest, the Discord command tree, the terminal's `/help` and the command table in docs/asking.md are all
generated from `COMMANDS`. A command's name comes from the settings (`FACTBOT_COMMAND_ASK`…) where it has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.settings import Settings

SLACK, DISCORD, CONSOLE = "slack", "discord", "console"
CHAT = frozenset({SLACK, DISCORD})
EVERYWHERE = frozenset({SLACK, DISCORD, CONSOLE})


@dataclass(frozen=True)
class Option:
    """One option of a command: its name, what it is for, and the values it takes (when they are few)."""

    name: str
    description: str
    choices: tuple[str, ...] = ()
    flag: bool = False


@dataclass(frozen=True)
class Command:
    """One command: the setting that names it, what it does, its arguments as typed, and where it exists."""

    key: str
    description: str
    summary: str
    """What it does, in the help's few words."""
    arguments: str = ""
    """How its arguments are typed after the name, on Slack and in the terminal (`[topic]`)."""
    options: tuple[Option, ...] = ()
    platforms: frozenset[str] = EVERYWHERE
    renamable: bool = True

    def name(self, settings: Settings) -> str:
        """The command's name as configured (`ask`, or what FACTBOT_COMMAND_ASK says)."""
        return str(getattr(settings, f"command_{self.key}")) if self.renamable else self.key

    def usage(self, settings: Settings, *, platform: str) -> str:
        """The command as typed, with its arguments: `/ask <question>`, or on Discord `/ask question`."""
        if platform == DISCORD:
            shown = " ".join(o.name if i == 0 else f"[{o.name}]" for i, o in enumerate(self.options))
        else:
            shown = self.arguments
        return f"/{self.name(settings)}" + (f" {shown}" if shown else "")

    def typed(self, settings: Settings, *, platform: str, value: str = "") -> str:
        """The command with a value for its first option, as a person types it: `/digest subscribe`, or on Discord
        `/digest action:subscribe`."""
        if not value:
            return f"/{self.name(settings)}"
        if platform == DISCORD and self.options:
            return f"/{self.name(settings)} {self.options[0].name}:{value}"
        return f"/{self.name(settings)} {value}"


ASK = Command(
    "ask",
    "Ask Factbot a question; the answer quotes its source",
    "ask in your own words; in a channel, the answer is for everyone",
    "<question>",
    (Option("question", "Your question, in your own words"),),
    platforms=CHAT,
)
FACTS = Command(
    "facts",
    "The topics Factbot knows, or the facts of one topic",
    "the topics, or the facts of one topic",
    "[topic]",
    (Option("topic", "Show the facts on this topic"),),
)
DIGEST = Command(
    "digest",
    "Preview today's Factbot digest, or subscribe this channel to it",
    "a preview of today's digest here; `subscribe` posts it daily, `unsubscribe` stops it",
    "[subscribe [HH:MM] [Area/City] [--curators] | unsubscribe]",
    (
        Option(
            "action",
            "preview (the default), subscribe or unsubscribe this channel",
            ("preview", "subscribe", "unsubscribe"),
        ),
        Option("time", "subscribe: the local time to post, HH:MM (default 09:00)"),
        Option("timezone", "subscribe: the time zone, Area/City (default UTC)"),
        Option("curators", "also list the questions the fact base could not answer", flag=True),
    ),
    platforms=CHAT,
)
WHY = Command(
    "why",
    "Why Factbot answered the last question here (or yours) as it did",
    "why the last answer here (or this question's) came out as it did",
    "[question]",
    (Option("question", "Explain this question instead of the last one asked here"),),
)
HELP = Command(
    "help",
    "How to use Factbot, and where its answers come from",
    "this help",
)
SOURCES = Command(
    "sources",
    "The documents the answers come from",
    "the documents the answers come from",
    platforms=frozenset({CONSOLE}),
    renamable=False,
)
QUIT = Command(
    "quit",
    "Leave the chat",
    "leave (Ctrl-D works too)",
    platforms=frozenset({CONSOLE}),
    renamable=False,
)

COMMANDS: tuple[Command, ...] = (ASK, FACTS, DIGEST, WHY, HELP, SOURCES, QUIT)


def on(platform: str) -> list[Command]:
    """The commands a platform offers, in the table's order."""
    return [c for c in COMMANDS if platform in c.platforms]


def console_help() -> str:
    """The terminal's `/help`: one line per command."""
    lines = [(f"/{c.key}" + (f" {c.arguments}" if c.arguments else ""), c.summary) for c in on(CONSOLE)]
    width = max(len(usage) for usage, _ in lines)
    listing = "\n".join(f"  {usage:<{width}}  {summary}" for usage, summary in lines)
    return f"Ask a question in your own words, or type one of these:\n{listing}"


def markdown_table(settings: Settings) -> str:
    """The documentation's command table (docs/asking.md): each command, where it exists, and what it does."""
    rows = ["| command | Slack | Discord | terminal | what it does |", "|---|---|---|---|---|"]
    for command in COMMANDS:
        marks = ["✓" if p in command.platforms else "" for p in (SLACK, DISCORD, CONSOLE)]
        usage = command.usage(settings, platform=SLACK if command.platforms & CHAT else CONSOLE).replace("|", "\\|")
        terminal = f" (in the terminal: `/{command.key}`)" if CONSOLE in command.platforms else ""
        terminal = terminal if command.platforms & CHAT and command.name(settings) != command.key else ""
        rows.append(f"| `{usage}` | " + " | ".join(marks) + f" | {command.description}{terminal} |")
    return "\n".join(rows)
