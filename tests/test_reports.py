"""Curator reports: the core (grouping, feedback, usage, formats) on a memory store, and `factbot report`."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
import subprocess
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot import cli, reports
from bot.cli import reports as reports_cli
from bot.engine import Engine
from bot.models import Question
from bot.store import FeedbackRecord, MemoryStore, QuestionRecord, Store, now
from tests.test_cli import factbot

NOW = now()

ASKED: list[tuple[str, int, int]] = [
    # (question, days ago, times asked) on the shipped fact base
    ("Where is the ITU headquartered?", 1, 3),
    ("where is the itu headquarters", 2, 1),
    ("ITU headquarters location", 3, 1),
    ("what is the weather in geneva", 1, 2),
    ("when does bogdan-martin take office", 0, 2),
    ("When does Bogdan-Martin take office?", 4, 1),
    ("Who won the ITU election?", 0, 4),
    ("how many votes did bogdan-martin get", 2, 2),
    ("hi", 1, 2),
    ("what is the ITU budget?", 5, 1),
    ("is it going to rain in geneva next week", 20, 1),
]


def record(engine: Engine, text: str, *, days_ago: float = 0, log_text: bool = True) -> QuestionRecord:
    """The question record the engine would log for `text`, asked `days_ago` days ago."""
    answer = engine.respond(text)
    logged = engine.record(Question(text=text, who="U1", where="C1", platform="slack"), answer)
    return logged.model_copy(update={"at": NOW - timedelta(days=days_ago), "text": text if log_text else None})


def missed(text: str, *, status: str = "fallback", days_ago: float = 0) -> QuestionRecord:
    """A question the bot did not answer, whatever the fact base would say to it today."""
    return QuestionRecord(at=NOW - timedelta(days=days_ago), platform="slack", text=text, status=status)


async def fill(store: Store, engine: Engine, asked: Sequence[tuple[str, int, int]] = ASKED) -> dict[str, int]:
    """Log each question its number of times; return the id of each question's last copy."""
    ids = {}
    for text, days_ago, times in asked:
        for _ in range(times):
            ids[text] = await store.log_question(record(engine, text, days_ago=days_ago))
    return ids


async def vote(store: Store, question_id: int | None, who: str, up: bool, *, intent: str, facts: list[str]) -> None:
    """One 👍 or 👎 on the answer to a question."""
    await store.record_feedback(
        FeedbackRecord(
            question_id=question_id,
            answer_key=f"answer-{question_id}",
            platform="slack",
            user_hash=who,
            vote="up" if up else "down",
            intent=intent,
            fact_ids=facts,
        )
    )


async def fill_votes(store: Store, ids: dict[str, int]) -> None:
    """Votes on two answers: the winner's (3 👍, 1 👎) and the vote count's (2 👎)."""
    winner, votes = ids["Who won the ITU election?"], ids["how many votes did bogdan-martin get"]
    for who in ("a", "b", "c"):
        await vote(store, winner, who, True, intent="election-winner", facts=["election-winner"])
    await vote(store, winner, "d", False, intent="election-winner", facts=["election-winner"])
    await vote(store, votes, "a", False, intent="winner-votes", facts=["winner-votes", "election-winner"])
    await vote(store, None, "b", False, intent="winner-votes", facts=["winner-votes"])


@pytest.fixture
def filled(engine: Engine) -> MemoryStore:
    """A memory store holding the ASKED questions and a few votes."""
    store = MemoryStore()

    async def both() -> None:
        await fill_votes(store, await fill(store, engine))

    asyncio.run(both())
    return store


# -- the reporting window ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - timedelta(days=7)),
        ("24h", NOW - timedelta(hours=24)),
        ("30m", NOW - timedelta(minutes=30)),
        ("2w", NOW - timedelta(weeks=2)),
        (" 3D ", NOW - timedelta(days=3)),
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
        ("2024-05-01T12:30", datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
        ("2024-05-01T12:30+02:00", datetime(2024, 5, 1, 10, 30, tzinfo=UTC)),
        ("all", None),
        ("ALL", None),
    ],
)
def test_parse_since(text: str, expected: datetime | None) -> None:
    assert reports.parse_since(text, moment=NOW) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "7x", "-1d", "d7", "2024-13-01", "7 days"])
def test_parse_since_rejects_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        reports.parse_since(text, moment=NOW)


@pytest.mark.parametrize(
    ("since", "expected"),
    [(None, "ever"), (datetime(2024, 5, 1, 9, 30, tzinfo=UTC), "since 2024-05-01 09:30 UTC")],
)
def test_describe_since(since: datetime | None, expected: str) -> None:
    assert reports.describe_since(since) == expected


# -- unanswered questions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Where is the ITU headquartered?", "itu headquart"),
        ("where's the ITU's HQ", "itu headquart"),
        ("what is it?", "what is it"),  # only stopwords: the words themselves
    ],
)
def test_content_key_keeps_the_stems_of_content_words(text: str, key: str) -> None:
    assert reports.content_key(text) == key


@pytest.mark.parametrize(
    ("questions", "groups"),
    [
        (
            ["Where is the ITU headquartered?", "where is the itu headquarters", "ITU headquarters location"],
            [3],
        ),
        (["what is the weather in geneva", "Weather in Geneva?", "who funds the itu"], [2, 1]),
        (["when is the next election", "when was the election"], [1, 1]),
        (["what is the itu budget", "what is the itu headquarters"], [1, 1]),
        (["who funds the ITU?", "Who funds the ITU", "who funds the itu!!"], [3]),
    ],
    ids=["variants", "two-topics", "subset-is-not-same", "shared-word", "case-and-punctuation"],
)
def test_similar_questions_are_grouped(engine: Engine, questions: list[str], groups: list[int]) -> None:
    report = reports.unanswered([missed(q) for q in questions], engine.matcher)
    assert [g.count for g in report.groups] == groups


def test_unanswered_groups_most_asked_first_with_example_and_near_match(engine: Engine, filled: MemoryStore) -> None:
    report = reports.unanswered(asyncio.run(filled.questions(since=NOW - timedelta(days=7))), engine.matcher)
    rows = [(g.count, g.example, g.intent) for g in report.groups]
    assert rows == [
        (5, "Where is the ITU headquartered?", "itu-role"),
        (3, "when does bogdan-martin take office", "election-date"),
        (2, "what is the weather in geneva", None),
        (1, "what is the ITU budget?", "itu-role"),
    ]
    first = report.groups[0]
    assert first.phrasings == [
        "Where is the ITU headquartered?",
        "ITU headquarters location",  # asked once, like the next, but before it
        "where is the itu headquarters",
    ]
    assert (first.fallback, first.clarify) == (5, 0)
    assert report.groups[1].clarify == 3 and report.groups[1].score is not None and report.groups[1].score >= 0.4
    assert report.groups[2].score is None
    assert report.unlogged == 0


def test_the_most_common_phrasing_is_the_example(engine: Engine) -> None:
    asked = ["When does Bogdan-Martin take office?", *["when does bogdan-martin take office"] * 2]
    [group] = reports.unanswered([record(engine, q) for q in asked], engine.matcher).groups
    assert group.example == "when does bogdan-martin take office"
    assert group.phrasings == [group.example]  # one phrasing: same words, other case


def test_unanswered_is_deterministic_whatever_the_order(engine: Engine, filled: MemoryStore) -> None:
    questions = asyncio.run(filled.questions())
    expected = reports.unanswered(questions, engine.matcher).groups
    for seed in range(5):
        shuffled = questions[:]
        random.Random(seed).shuffle(shuffled)
        assert reports.unanswered(shuffled, engine.matcher).groups == expected


def test_questions_logged_without_text_are_counted_not_grouped(engine: Engine) -> None:
    asked = [record(engine, "what is the weather in geneva", log_text=False), record(engine, "weather in geneva")]
    report = reports.unanswered(asked, engine.matcher)
    assert [g.count for g in report.groups] == [1]
    assert report.unlogged == 1


def test_answered_and_smalltalk_are_not_unanswered(engine: Engine) -> None:
    asked = [record(engine, q) for q in ("Who won the ITU election?", "hi", "thanks")]
    assert reports.unanswered(asked, engine.matcher).groups == []


# -- feedback --------------------------------------------------------------------------------------


def test_feedback_per_intent_and_fact_with_the_questions_behind_the_down_votes(filled: MemoryStore) -> None:
    votes, questions = asyncio.run(filled.feedback()), asyncio.run(filled.questions())
    rows = [(r.kind, r.id, r.up, r.down, r.down_questions) for r in reports.feedback(votes, questions)]
    assert rows == [
        ("intent", "winner-votes", 0, 2, ["how many votes did bogdan-martin get"]),
        ("intent", "election-winner", 3, 1, ["Who won the ITU election?"]),
        ("fact", "election-winner", 3, 2, ["Who won the ITU election?", "how many votes did bogdan-martin get"]),
        ("fact", "winner-votes", 0, 2, ["how many votes did bogdan-martin get"]),
    ]


def test_feedback_on_questions_logged_without_text(engine: Engine) -> None:
    store = MemoryStore()

    async def go() -> None:
        question = await store.log_question(record(engine, "Who won the ITU election?", log_text=False))
        await vote(store, question, "a", False, intent="election-winner", facts=[])

    asyncio.run(go())
    [row] = reports.feedback(asyncio.run(store.feedback()), asyncio.run(store.questions()))
    assert (row.down, row.down_questions) == (1, [])


# -- usage -----------------------------------------------------------------------------------------


def test_usage_per_day_with_empty_days_and_top_intents(filled: MemoryStore) -> None:
    since = NOW - timedelta(days=7)
    rows = reports.usage(asyncio.run(filled.questions(since=since)), since=since, until=NOW)
    days = [r for r in rows if r.kind == "day"]
    assert [r.key for r in days] == [(NOW.date() - timedelta(days=n)).isoformat() for n in range(7, -1, -1)]
    by_day = {r.key: (r.questions, r.answered, r.clarify, r.fallback, r.smalltalk, r.share_answered) for r in days}
    assert by_day[(NOW.date() - timedelta(days=7)).isoformat()] == (0, 0, 0, 0, 0, None)
    assert by_day[(NOW.date() - timedelta(days=1)).isoformat()] == (7, 0, 0, 5, 2, 0.0)
    assert by_day[NOW.date().isoformat()] == (6, 4, 2, 0, 0, 0.667)
    intents = [(r.key, r.questions, r.answered) for r in rows if r.kind == "intent"]
    assert intents == [("election-winner", 4, 4), ("winner-votes", 2, 2), ("election-date", 3, 0)]


def test_usage_without_a_window_runs_from_the_first_question_to_the_last(engine: Engine) -> None:
    asked = [record(engine, "hi", days_ago=3), record(engine, "hi", days_ago=1)]
    days = [r.key for r in reports.usage(asked) if r.kind == "day"]
    assert days == [(NOW.date() - timedelta(days=n)).isoformat() for n in (3, 2, 1)]


def test_usage_of_nothing_is_empty() -> None:
    assert reports.usage([]) == []


@pytest.mark.parametrize("top", [0, 1, 2])
def test_usage_keeps_the_top_intents(filled: MemoryStore, top: int) -> None:
    rows = reports.usage(asyncio.run(filled.questions()), top=top)
    assert len([r for r in rows if r.kind == "intent"]) == top


@pytest.mark.parametrize("days", [1, 14, 120])
def test_plot_usage_writes_a_png_for_any_window(engine: Engine, tmp_path: Path, days: int) -> None:
    asked = [record(engine, text, days_ago=n) for n in range(days) for text in ("hi", "who won?")[: 1 + n % 2]]
    path = reports.plot_usage(reports.usage(asked), tmp_path / "usage.png")
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


# -- formats ---------------------------------------------------------------------------------------


def test_csv_has_a_header_and_joins_lists(engine: Engine, filled: MemoryStore) -> None:
    groups = reports.unanswered(asyncio.run(filled.questions()), engine.matcher).groups
    text = reports.as_csv(groups, list(reports.UnansweredGroup.model_fields))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(reports.UnansweredGroup.model_fields)
    assert rows[0]["phrasings"].split(" | ")[0] == "Where is the ITU headquartered?"
    assert rows[2]["intent"] == "" and rows[2]["score"] == ""


def test_records_are_json_ready(engine: Engine, filled: MemoryStore) -> None:
    groups = reports.unanswered(asyncio.run(filled.questions()), engine.matcher).groups
    [first, *_] = json.loads(json.dumps(reports.as_records(groups)))
    assert datetime.fromisoformat(first["last_asked"]).tzinfo is not None


# -- factbot report ----------------------------------------------------------------------------------


def point_cli_at(monkeypatch: pytest.MonkeyPatch) -> list[Store]:
    """Make the commands read the store put in the returned list (the SQL store is not needed)."""
    stores: list[Store] = []

    async def fake(settings: object) -> Store:
        return stores[0]

    monkeypatch.setattr(reports_cli, "question_log", fake)
    monkeypatch.setenv("FACTBOT_DB_URL", "memory://tests")
    return stores


@pytest.fixture
def use_store(monkeypatch: pytest.MonkeyPatch) -> list[Store]:
    """The commands read the store the test puts in this list."""
    return point_cli_at(monkeypatch)


def run(runner: CliRunner, args: list[str]) -> tuple[int, str, str]:
    """`factbot ARGS` in process: exit code, stdout and stderr; never a traceback."""
    result = runner.invoke(cli.app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_report_unanswered_table(runner: CliRunner, use_store: list[Store], filled: MemoryStore) -> None:
    use_store.append(filled)
    code, shown, _ = run(runner, ["report", "unanswered"])
    assert code == 0
    assert "Unanswered questions since" in shown
    assert shown.index("Where is the ITU headquartered?") < shown.index("what is the weather in geneva")
    assert "itu-role" in shown and "none" in shown
    assert "11 questions in 4 groups" in " ".join(shown.split())
    assert "rain in geneva" not in shown, "asked 20 days ago: outside the default 7 days"


@pytest.mark.parametrize(("since", "groups"), [("7d", 4), ("30d", 5), ("all", 5), ("2h", 1)])
def test_report_unanswered_json(
    runner: CliRunner, use_store: list[Store], filled: MemoryStore, since: str, groups: int
) -> None:
    use_store.append(filled)
    code, shown, _ = run(runner, ["report", "unanswered", "--since", since, "--format", "json"])
    data = json.loads(shown)
    assert code == 0 and isinstance(data, list) and len(data) == groups
    assert set(data[0]) == set(reports.UnansweredGroup.model_fields)


def test_report_unanswered_reads_further_back_with_since(
    runner: CliRunner, use_store: list[Store], filled: MemoryStore
) -> None:
    use_store.append(filled)
    data = json.loads(run(runner, ["report", "unanswered", "--since", "30d", "--format", "json"])[1])
    assert [g["count"] for g in data] == [5, 3, 2, 1, 1]
    assert data[-1]["phrasings"] == ["is it going to rain in geneva next week"], "not the same as the weather today"


def test_report_unanswered_csv(runner: CliRunner, use_store: list[Store], filled: MemoryStore) -> None:
    use_store.append(filled)
    code, shown, _ = run(runner, ["report", "unanswered", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(shown)))
    assert code == 0 and [r["count"] for r in rows] == ["5", "3", "2", "1"]


def test_report_feedback(runner: CliRunner, use_store: list[Store], filled: MemoryStore) -> None:
    use_store.append(filled)
    code, shown, _ = run(runner, ["report", "feedback"])
    assert code == 0
    assert "winner-votes" in shown and "“how many votes did bogdan-martin get”" in shown
    data = json.loads(run(runner, ["report", "feedback", "--format", "json"])[1])
    assert [(r["kind"], r["id"], r["up"], r["down"]) for r in data][:2] == [
        ("intent", "winner-votes", 0, 2),
        ("intent", "election-winner", 3, 1),
    ]


def test_report_usage_with_plot(runner: CliRunner, use_store: list[Store], filled: MemoryStore, tmp_path: Path) -> None:
    use_store.append(filled)
    chart = tmp_path / "usage.png"
    code, shown, _ = run(runner, ["report", "usage", "--plot", str(chart)])
    assert code == 0
    assert NOW.date().isoformat() in shown and "total" in shown and "election-winner" in shown
    assert f"Chart written to {chart}" in " ".join(shown.split())
    assert chart.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("name", ["no/such/folder/usage.png", "usage.nosuchformat"])
def test_a_chart_that_cannot_be_written_is_one_line(
    runner: CliRunner, use_store: list[Store], filled: MemoryStore, tmp_path: Path, name: str
) -> None:
    use_store.append(filled)
    code, _, said = run(runner, ["report", "usage", "--plot", str(tmp_path / name)])
    assert code == 1
    assert said.startswith(f"factbot: cannot write {tmp_path / name}") and said.strip().count("\n") == 0


def test_report_usage_csv_keeps_stdout_for_the_data(
    runner: CliRunner, use_store: list[Store], filled: MemoryStore, tmp_path: Path
) -> None:
    use_store.append(filled)
    code, shown, said = run(runner, ["report", "usage", "--format", "csv", "--plot", str(tmp_path / "u.png")])
    rows = list(csv.DictReader(io.StringIO(shown)))
    assert code == 0 and rows[0]["kind"] == "day" and {r["kind"] for r in rows} == {"day", "total", "intent"}
    assert "Chart written" in said


@pytest.mark.parametrize("command", ["unanswered", "feedback", "usage"])
@pytest.mark.parametrize(
    ("output", "stdout"),
    [("table", "No {what} recorded since"), ("json", "[]"), ("csv", "count,example")],
)
def test_an_empty_store_gets_a_friendly_line(
    runner: CliRunner, use_store: list[Store], command: str, output: str, stdout: str
) -> None:
    use_store.append(MemoryStore())
    code, shown, said = run(runner, ["report", command, "--format", output])
    what = "feedback" if command == "feedback" else "questions"
    assert code == 0
    if output == "table":
        assert shown.startswith(stdout.format(what=what))
    elif output == "json":
        assert json.loads(shown) == []
    else:
        assert shown.count("\n") == 1  # the header row only
    if output != "table":
        assert f"No {what} recorded since" in said


def test_no_unanswered_questions_is_said_plainly(runner: CliRunner, use_store: list[Store], engine: Engine) -> None:
    store = MemoryStore()
    asyncio.run(fill(store, engine, [("Who won the ITU election?", 0, 2)]))
    use_store.append(store)
    code, shown, _ = run(runner, ["report", "unanswered"])
    assert code == 0 and "No unanswered questions since" in shown and "all 2 questions answered" in shown


class Unreachable:
    """A store whose database cannot be reached."""

    async def questions(self, *, since: datetime | None = None) -> list[QuestionRecord]:
        """Fail as a driver does."""
        raise ConnectionRefusedError("[Errno 111] Connect call failed ('127.0.0.1', 5432)")

    async def close(self) -> None:
        """Nothing to close."""


@pytest.mark.parametrize("command", ["unanswered", "feedback", "usage"])
def test_an_unreachable_database_is_one_line(runner: CliRunner, use_store: list[Store], command: str) -> None:
    use_store.append(Unreachable())  # type: ignore[arg-type]
    code, shown, said = run(runner, ["report", command])
    assert code == 1 and shown == ""
    assert said.strip().count("\n") == 0
    assert said.startswith("factbot: cannot read the question log at memory://tests: [Errno 111]")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("sqlite+aiosqlite:///missing.db", "no question log at missing.db"),
        ("sqlite+aiosqlite:////nowhere/at/all.db", "no question log at /nowhere/at/all.db"),
    ],
)
def test_a_missing_sqlite_file_is_one_line(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, url: str, shown: str
) -> None:
    monkeypatch.setenv("FACTBOT_DB_URL", url)
    code, out, said = run(runner, ["report", "usage"])
    assert (code, out) == (1, "")
    assert said.strip() == f"factbot: {shown} (FACTBOT_DB_URL); nothing has been recorded there."
    assert not Path("missing.db").exists(), "a report never creates a database"


@pytest.mark.parametrize(
    ("url", "file"),
    [
        ("sqlite+aiosqlite:///factbot.db", Path("factbot.db")),
        ("sqlite:////var/lib/factbot.db?timeout=5", Path("/var/lib/factbot.db")),
        ("sqlite+aiosqlite://", None),
        ("sqlite+aiosqlite:///:memory:", None),
        ("postgresql+asyncpg://bot:secret@db/factbot", None),
    ],
)
def test_sqlite_file(url: str, file: Path | None) -> None:
    assert reports_cli._sqlite_file(url) == file


@pytest.mark.parametrize("since", ["yesterday", "7x"])
def test_a_bad_since_is_a_usage_error(runner: CliRunner, since: str) -> None:
    result = runner.invoke(cli.app, ["report", "usage", "--since", since])
    assert result.exit_code == 2 and "--since" in result.output


# -- on the SQL store, end to end ------------------------------------------------------------------


@pytest.fixture
def sqlite_log(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite question log filled by the tests, named by FACTBOT_DB_URL."""
    from bot.settings import Settings
    from bot.store.sql import store_from_settings

    path = tmp_path / "log.db"
    monkeypatch.setenv("FACTBOT_DB_URL", f"sqlite+aiosqlite:///{path}")

    async def go() -> None:
        store = await store_from_settings(Settings())
        try:
            await fill_votes(store, await fill(store, engine))
        finally:
            await store.close()

    asyncio.run(go())
    return path


@pytest.mark.parametrize(
    ("args", "holds"),
    [
        (["report", "unanswered"], "Where is the ITU headquartered?"),
        (["report", "feedback"], "winner-votes"),
        (["report", "usage"], "election-winner"),
        (["suggest"], "election-date"),
    ],
)
def test_reports_on_a_sqlite_log(runner: CliRunner, sqlite_log: Path, args: list[str], holds: str) -> None:
    code, shown, said = run(runner, args)
    assert code == 0, said
    assert holds in shown


def test_reports_never_purge_and_factbot_purge_does(
    runner: CliRunner, sqlite_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACTBOT_RETENTION_DAYS", "10")

    def asked() -> int:
        rows = json.loads(run(runner, ["report", "usage", "--since", "all", "--format", "json"])[1])
        return sum(r["questions"] for r in rows if r["kind"] == "day")

    before = asked()
    assert before == sum(times for _, _, times in ASKED), "a report deletes nothing, however old"
    code, shown, _ = run(runner, ["purge"])
    assert code == 0 and shown.startswith("Deleted ") and "older than 10 days" in shown
    assert 0 < asked() < before


def fingerprint(folder: Path) -> dict[str, bytes]:
    """The database and its write-ahead log, byte for byte (SQLite may add an empty -wal and the -shm index
    that reading a WAL database needs; neither holds data)."""
    files = {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}
    return {name: data for name, data in files.items() if not name.endswith("-shm") and (data or "-wal" not in name)}


@pytest.mark.parametrize("args", [["report", "usage", "--since", "all"], ["report", "unanswered"], ["suggest"]])
def test_a_report_changes_nothing_in_the_log(runner: CliRunner, sqlite_log: Path, args: list[str]) -> None:
    """Reports open the database read-only: no purge, no migration, no journal change, not a byte written."""
    before = fingerprint(sqlite_log.parent)
    code, _, said = run(runner, args)
    assert code == 0, said
    assert fingerprint(sqlite_log.parent) == before


def test_a_report_on_an_empty_file_leaves_it_empty(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    monkeypatch.setenv("FACTBOT_DB_URL", f"sqlite+aiosqlite:///{empty}")
    code, _, said = run(runner, ["report", "usage"])
    assert code == 0, said
    assert empty.stat().st_size == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


def test_a_report_does_not_migrate_an_older_log(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    from bot.store import migrations

    path = tmp_path / "old.db"

    async def version(migrate_to: int | None = None) -> int:
        engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
        try:
            if migrate_to is not None:
                await migrations.migrate(engine, target=migrate_to)
            async with engine.connect() as conn:
                return await conn.run_sync(migrations.current_version)
        finally:
            await engine.dispose()

    assert asyncio.run(version(migrate_to=migrations.LATEST - 1)) == migrations.LATEST - 1
    monkeypatch.setenv("FACTBOT_DB_URL", f"sqlite+aiosqlite:///{path}")
    code, _, said = run(runner, ["report", "usage", "--since", "all"])
    assert code == 0, said
    assert asyncio.run(version()) == migrations.LATEST - 1


def test_report_json_on_a_sqlite_log_matches_the_memory_store(
    runner: CliRunner, sqlite_log: Path, engine: Engine, filled: MemoryStore
) -> None:
    data = json.loads(run(runner, ["report", "unanswered", "--since", "all", "--format", "json"])[1])
    expected = reports.as_records(reports.unanswered(asyncio.run(filled.questions()), engine.matcher).groups)
    assert [(g["count"], g["example"], g["intent"]) for g in data] == [
        (g["count"], g["example"], g["intent"]) for g in expected
    ]


def test_dates_are_utc_days(engine: Engine) -> None:
    late = record(engine, "hi").model_copy(update={"at": datetime(2024, 5, 1, 23, 30, tzinfo=UTC)})
    assert [r.key for r in reports.usage([late]) if r.kind == "day"] == [date(2024, 5, 1).isoformat()]


def test_the_console_script_says_when_there_is_no_log_yet(tmp_path: Path) -> None:
    ran = factbot(["report", "unanswered"], tmp_path)
    assert ran.code == 1 and ran.out == ""
    assert (
        ran.err.strip() == "factbot: no question log at factbot.db (FACTBOT_DB_URL); nothing has been recorded there."
    )
    assert not (tmp_path / "factbot.db").exists()


def test_a_vote_from_chat_is_tied_to_the_question_its_answer_replied_to() -> None:
    from datetime import timedelta as _td

    from bot.reports import feedback as feedback_rows
    from bot.store import FeedbackRecord as Vote
    from bot.store import QuestionRecord as Asked
    from bot.store import now as _now

    t = _now()
    asked = [
        Asked(
            id=1, at=t - _td(minutes=9), platform="slack", channel="C1", text="who won?", status="answered", intent="w"
        ),
        Asked(
            id=2, at=t - _td(minutes=5), platform="slack", channel="C2", text="winner?", status="answered", intent="w"
        ),
        Asked(
            id=3,
            at=t - _td(minutes=2),
            platform="discord",
            channel="9",
            text="who got it",
            status="answered",
            intent="w",
        ),
    ]
    votes = [
        Vote(
            answer_key="C1:1700000000.1",
            at=t,
            platform="slack",
            user_hash="h1",
            vote="down",
            intent="w",
            fact_ids=["f"],
        ),
        Vote(answer_key="123456", at=t, platform="discord", user_hash="h2", vote="down", intent="w", fact_ids=["f"]),
    ]
    [row, _fact_row] = feedback_rows(votes, asked)
    assert (row.kind, row.down, row.down_questions) == ("intent", 2, ["who won?", "who got it"])


@pytest.fixture
def unwritable_folder(sqlite_log: Path) -> Iterator[Path]:
    """The log's folder made unchangeable (`chattr +i`: root included), as another user's folder is to Factbot."""
    folder = sqlite_log.parent
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_log_in_a_folder_factbot_cannot_write_is_still_read(
    runner: CliRunner, sqlite_log: Path, unwritable_folder: Path
) -> None:
    """A WAL database's readers make a -shm file beside it; where they cannot, the file is read as it is."""
    code, shown, said = run(runner, ["report", "usage", "--since", "all", "--format", "json"])
    assert code == 0, said
    assert sum(r["questions"] for r in json.loads(shown) if r["kind"] == "day") == sum(t for _, _, t in ASKED)
