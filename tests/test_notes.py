"""A curator's note on a fact reaches every reader: under the quote in each answer, in `--json`, in the digest."""

from __future__ import annotations

from datetime import date

import pytest

from bot.adapters.console import render_answer
from bot.adapters.discord_embeds import answer_embed, digest_embed
from bot.adapters.slack_messages import answer_message, digest_message
from bot.digest import build_digest, digest_text
from bot.engine import Engine
from bot.models import Answer
from tests.fakes.slack import strings

MARGIN = "By how much did Bogdan-Martin win?"


@pytest.fixture
def noted(engine: Engine) -> Answer:
    answer = engine.respond(MARGIN)
    assert answer.intent == "vote-margin"
    return answer


def test_the_answer_contract_carries_the_note(noted: Answer, engine: Engine) -> None:
    notes = {c.fact_id: c.note for c in noted.citations}
    for fact_id, note in notes.items():
        assert note == engine.base.facts[fact_id].curator_note
    assert any(note and "114" in note for note in notes.values())
    assert '"note":' in noted.model_dump_json()


def test_a_fact_without_a_note_has_none(engine: Engine) -> None:
    [citation] = engine.respond("When was the ITU election held?").citations
    assert citation.note is None


def test_every_platform_shows_the_note_under_the_quote(noted: Answer) -> None:
    note = next(c.note for c in noted.citations if c.note)
    assert note is not None
    slack = "\n".join(strings(answer_message(noted).blocks))
    discord = "\n".join(field.value or "" for field in answer_embed(noted).fields)
    terminal = " ".join(str(part) for part in render_answer(noted).renderables)
    for shown in (slack, discord, terminal):
        assert note.split(":")[-1].strip()[:40] in shown


def test_the_digest_shows_the_note_of_its_fact(engine: Engine) -> None:
    noted = [f for f in engine.base.facts.values() if f.curator_note]
    days = [date(2026, 1, d) for d in range(1, 29)]
    digest = next((d for d in (build_digest(engine, channel="C1", day=day) for day in days) if d.fact.note), None)
    assert noted and digest is not None, "some day's fact of the day has a curator's note"
    assert digest.fact.note in digest_text(digest)
    assert digest.fact.note[:40] in "\n".join(strings(digest_message(digest).blocks))
    assert any(digest.fact.note[:40] in (f.value or "") for f in digest_embed(digest).fields)
