"""One fixed digest rendered three ways (Block Kit, Discord embed, plain text): snapshots, safety, limits."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.adapters.discord_embeds import digest_embed, digest_view
from bot.adapters.slack_blocks import DIGEST_TRY
from bot.adapters.slack_messages import digest_message
from bot.digest import AskedItem, Digest, digest_text
from bot.models import Citation, Suggestion
from tests.fakes.slack import block_problems, strings

DIGEST = Digest(
    day=date(2026, 5, 1),
    channel="C0GENERAL",
    fact_answer="Doreen Bogdan-Martin won the election & became Secretary-General.",
    fact=Citation(
        fact_id="election-winner",
        source_id="odi",
        title="Russia's loss",
        author="Olena Borodyna",
        publisher="ODI",
        url="https://odi.org/a",
        quote="Doreen Bogdan-Martin <won> the vote.",
        paragraph=2,
    ),
    asked=[
        AskedItem(question="Who won the ITU election?", answer="Doreen Bogdan-Martin won.", count=3),
        AskedItem(question="When was the vote?", answer="On 29 September 2022.", count=1),
    ],
    unanswered=[AskedItem(question="<!channel> what about *Mars*?", answer="", count=2)],
    try_asking=Suggestion(intent="vote-margin", question="By how much did Bogdan-Martin win?"),
)
QUIET = DIGEST.model_copy(update={"asked": [], "unanswered": []})

TEXT = """\
Factbot digest for Friday 01 May 2026

Fact of the day: Doreen Bogdan-Martin won the election & became Secretary-General.
  “Doreen Bogdan-Martin <won> the vote.”
  — Olena Borodyna, “Russia's loss”, ODI, paragraph 2

What the team asked:
  • Who won the ITU election? (×3) — Doreen Bogdan-Martin won.
  • When was the vote? — On 29 September 2022.

Not answered yet:
  • <!channel> what about *Mars*? (×2)

Try asking: By how much did Bogdan-Martin win?"""


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


BLOCKS: list[dict[str, Any]] = [
    {"type": "header", "text": {"type": "plain_text", "text": "Factbot digest for Friday 01 May 2026", "emoji": True}},
    mrkdwn("*Fact of the day:* Doreen Bogdan-Martin won the election &amp; became Secretary-General."),
    mrkdwn(">Doreen Bogdan-Martin &lt;won&gt; the vote."),
    {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "text": "*Russia's loss* · Olena Borodyna · ODI · paragraph 2 · <https://odi.org/a|read the source>",
            }
        ],
    },
    mrkdwn(
        "*What the team asked*\n• Who won the ITU election? (×3) — Doreen Bogdan-Martin won.\n"
        "• When was the vote? — On 29 September 2022."
    ),
    mrkdwn("*Not answered yet*\n• &lt;!channel&gt; what about *Mars*? (×2)"),
    mrkdwn("*Try asking:* By how much did Bogdan-Martin win?")
    | {
        "accessory": {
            "type": "button",
            "text": {"type": "plain_text", "text": "Ask it", "emoji": True},
            "action_id": "factbot_suggest_digest",
            "value": "vote-margin",
        }
    },
]

EMBED: dict[str, Any] = {
    "type": "rich",
    "title": "Factbot digest for Friday 01 May 2026",
    "url": "https://odi.org/a",
    "description": "**Fact of the day:** Doreen Bogdan-Martin won the election & became Secretary-General.",
    "color": 0x1ABC9C,
    "flags": 0,
    "fields": [
        {"name": "Quote, paragraph 2", "value": "“Doreen Bogdan-Martin <won> the vote.”", "inline": False},
        {
            "name": "What the team asked",
            "inline": False,
            "value": "• Who won the ITU election? (×3) — Doreen Bogdan-Martin won.\n"
            "• When was the vote? — On 29 September 2022.",
        },
        {"name": "Not answered yet", "value": "• <!channel> what about \\*Mars\\*? (×2)", "inline": False},
        {"name": "Try asking", "value": "By how much did Bogdan-Martin win?", "inline": False},
    ],
    "footer": {"text": "Russia's loss — Olena Borodyna, ODI · paragraph 2"},
}


def test_plain_text_snapshot() -> None:
    assert digest_text(DIGEST) == TEXT


def test_block_kit_snapshot() -> None:
    message = digest_message(DIGEST, preview=False)
    assert message.blocks == BLOCKS
    assert (
        message.text == "Factbot digest. Fact of the day: Doreen Bogdan-Martin won the election &amp; became "
        "Secretary-General."
    )
    assert block_problems(message.blocks) == []


def test_discord_embed_snapshot() -> None:
    assert digest_embed(DIGEST).to_dict() == EMBED


async def test_the_embeds_button_asks_the_question_to_try() -> None:
    view = digest_view(DIGEST)
    assert view is not None
    [row] = view.to_components()
    [button] = row["components"]
    assert (button["custom_id"], button["label"]) == ("factbot:ask:vote-margin", "By how much did Bogdan-Martin win?")


def test_a_preview_says_so_and_a_post_does_not() -> None:
    preview = digest_message(DIGEST, preview=True)
    assert preview.blocks[1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "Preview: only you can see this."}],
    }
    assert preview.blocks[2:] == BLOCKS[1:]


def test_a_quiet_day_has_the_fact_and_a_question_only() -> None:
    blocks = digest_message(QUIET, preview=False).blocks
    assert blocks == BLOCKS[:4] + BLOCKS[-1:]
    assert [f["name"] for f in digest_embed(QUIET).to_dict()["fields"]] == ["Quote, paragraph 2", "Try asking"]
    assert "What the team asked" not in digest_text(QUIET) and "Not answered yet" not in digest_text(QUIET)


@pytest.mark.parametrize(
    "changes",
    [
        {"fact_answer": "a" * 9000},
        {"asked": [AskedItem(question="q" * 2000, answer="a" * 2000, count=n) for n in range(3)]},
        {"unanswered": [AskedItem(question="<@U1> " * 500, answer="", count=9)] * 3},
        {"try_asking": Suggestion(intent="x" * 3000, question="y" * 500)},
    ],
    ids=["long-fact", "long-asked", "long-unanswered", "long-question"],
)
def test_long_digests_stay_within_both_platforms_limits(changes: dict[str, Any]) -> None:
    digest = DIGEST.model_copy(update=changes)
    assert block_problems(digest_message(digest).blocks) == []
    embed = digest_embed(digest)
    assert len(embed) <= 6000 and all(len(f.value or "") <= 1024 for f in embed.fields)


def test_nothing_a_user_asked_becomes_a_live_slack_mention() -> None:
    hostile = DIGEST.model_copy(update={"unanswered": [AskedItem(question="<!here> <@U0BOSS> hi", answer="", count=1)]})
    message = digest_message(hostile)
    assert not [t for t in strings(message.blocks) if "<!" in t or "<@" in t]


def test_the_try_asking_button_is_the_digest_kind() -> None:
    button = digest_message(DIGEST).blocks[-1]["accessory"]
    assert button["action_id"] == DIGEST_TRY and button["value"] == "vote-margin"
