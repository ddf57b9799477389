"""The terminal chat as transcripts: push a line in, read the reply out, as a person at the prompt would."""

from __future__ import annotations

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.chat.commands import console_help

WINNER = "Who won the ITU election?"


def said(reply: str) -> str:
    """A reply with its line breaks and padding folded, for reading a sentence that wraps."""
    return " ".join(reply.split())


async def test_a_conversation_answers_follows_up_and_explains(chat: ConsoleAdapter) -> None:
    assert "Doreen Bogdan-Martin" in await chat.push(WINNER)
    follow_up = said(await chat.push("and when was that?"))
    assert "29 September" in follow_up and f"(Read as a follow-up to “{WINNER}”.)" in follow_up
    assert f"I read your question as a follow-up to “{WINNER}”" in said(await chat.push("/why"))


async def test_help_is_the_command_tables(chat: ConsoleAdapter) -> None:
    assert (await chat.push("/help")).strip() == console_help()
    for command in ("/facts [topic]", "/sources", "/why [question]", "/help", "/quit"):
        assert command in console_help()


@pytest.mark.parametrize(
    ("line", "shown", "hidden"),
    [
        ("/facts", ["Topics", "election"], ["election-winner"]),
        ("/facts ELECTION", ["Facts on election", "election-winner"], []),
        ("/facts nowhere", ["No topic “nowhere”", "election"], []),
        ("/sources", ["Sources", "Borodyna"], []),
        ("/why", ["Nothing to explain here yet: ask a question, then `/why`"], ["/ask"]),
        ("/nope", ["Unknown command /nope. Type /help."], []),
        ("/nope\x1b]0;owned\x07", ["Unknown command /nope"], ["\x1b", "\x07"]),
        ("hello", ["Hello!"], []),
        ("what is the capital of France?", ["I don't know"], []),
    ],
)
async def test_each_line_gets_its_reply(chat: ConsoleAdapter, line: str, shown: list[str], hidden: list[str]) -> None:
    reply = said(await chat.push(line))
    for text in shown:
        assert text in reply
    for text in hidden:
        assert text not in reply


async def test_quit_ends_the_session_and_blank_lines_do_not(chat: ConsoleAdapter) -> None:
    assert await chat.handle("   ") is True
    assert await chat.handle("/QUIT") is False
    assert await chat.handle("/exit") is False


async def test_a_number_picks_a_question_offered_just_before(chat: ConsoleAdapter) -> None:
    offered = await chat.push("votes?")
    assert "2. What was Ismailov's vote count?" in offered
    assert "25 votes" in await chat.push("2")
    assert "25 votes" not in await chat.push("2"), "an answer offers nothing, so the number is read as it is"


@pytest.mark.parametrize("line", ["9", "0", "2 please", "#12"])
async def test_a_number_that_picks_nothing_is_read_as_it_is(chat: ConsoleAdapter, line: str) -> None:
    await chat.push("votes?")
    assert "25 votes" not in await chat.push(line)
