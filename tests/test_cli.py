"""The `factbot` command line end to end: in process (CliRunner) and as the installed script."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.engine import Engine
from bot.knowledge import load_factbase
from bot.matcher import MAX_CHARS
from bot.settings import PROJECT_ROOT
from tests.conftest import TINY

FACTBOT = Path(sys.executable).parent / "factbot"
CONTRACT = {"question", "status", "intent", "confidence", "answer", "citations", "suggestions", "truncated", "context"}
CITATION = {"fact_id", "source_id", "title", "author", "publisher", "url", "quote", "paragraph", "note"}
STATUSES = {"answered", "clarify", "fallback", "smalltalk"}
WINNER = "Who won the ITU election?"
BORDERS = str.maketrans("", "", "│╭╮╰╯─")


class Ran(NamedTuple):
    """What a run of the console script left behind."""

    code: int
    out: str
    err: str


def invoke(runner: CliRunner, args: list[str], stdin: str | bytes | None = None) -> Result:
    """Run `factbot ARGS` in process; it must exit, never raise or print a traceback."""
    result = runner.invoke(app, args, input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def factbot(args: list[str], cwd: Path, stdin: bytes = b"", env: dict[str, str] | None = None) -> Ran:
    """Run the console script in `cwd`, with no Factbot, Slack or Discord settings but `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("FACTBOT_", "SLACK_", "DISCORD_"))}
    clean["COLUMNS"] = "80"  # a standard terminal's width, whatever the machine running the tests has
    clean["XDG_CACHE_HOME"] = str(cwd / ".cache")  # the default cache folder, in the test's own folder
    clean.update(env or {})
    done = subprocess.run([str(FACTBOT), *args], input=stdin, capture_output=True, cwd=cwd, env=clean, timeout=60)
    ran = Ran(
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )
    assert "Traceback" not in ran.out + ran.err, ran.err
    return ran


def flat(text: str) -> str:
    """Output without panel borders, whitespace collapsed, so wrapped lines read as one."""
    return " ".join(text.translate(BORDERS).split())


def json_lines(output: str) -> list[dict[str, Any]]:
    """Every line of `output` parsed as one JSON object."""
    rows = [json.loads(line) for line in output.splitlines()]
    assert all(isinstance(row, dict) for row in rows)
    return rows


def named(rows: list[tuple[Any, ...]]) -> list[str]:
    """Test ids for a table whose first column is a command line."""
    return [" ".join(row[0])[:40] or "(none)" for row in rows]


@pytest.fixture(scope="module")
def tiny_base_engine() -> Engine:
    """An engine on the tiny fixture, read in place (the tests here never change it)."""
    return Engine(load_factbase(TINY))


# -- factbot ask ---------------------------------------------------------------------------------


def assert_readable_answer(output: str, engine: Engine, question: str, paragraph: str) -> None:
    """`output` holds the answer to `question`, each citation's verbatim quote and its paragraph."""
    expected = engine.respond(question)
    assert expected.status == "answered" and expected.citations
    shown = flat(output)
    assert flat(expected.answer) in shown
    for citation in expected.citations:
        assert flat(f"“{citation.quote}”") in shown, f"quote of {citation.fact_id} not shown in full"
        assert citation.url in "".join(output.split())
    assert paragraph in output


@pytest.mark.parametrize(
    ("question", "data_dir", "must_hold", "paragraph"),
    [
        (WINNER, None, "Bogdan-Martin", "paragraph 1"),
        ("who kept the lighthouse", TINY, "Mara Quill", "paragraph 2"),
    ],
)
def test_ask_prints_answer_quote_and_paragraph(
    runner: CliRunner,
    engine: Engine,
    tiny_base_engine: Engine,
    question: str,
    data_dir: Path | None,
    must_hold: str,
    paragraph: str,
) -> None:
    args = ["ask", question] + (["--data-dir", str(data_dir)] if data_dir else [])
    result = invoke(runner, args)
    assert result.exit_code == 0
    assert must_hold in result.output
    assert_readable_answer(result.output, tiny_base_engine if data_dir else engine, question, paragraph)


def test_console_script_ask_prints_the_whole_quote(tmp_path: Path, engine: Engine) -> None:
    ran = factbot(["ask", WINNER], tmp_path)
    assert ran.code == 0, ran.err
    assert_readable_answer(ran.out, engine, WINNER, "paragraph 1")


def test_ask_words_without_quotes_make_one_question(runner: CliRunner) -> None:
    result = invoke(runner, ["ask", "--json", "who", "won", "the", "ITU", "election?"])
    assert json.loads(result.output)["question"] == "who won the ITU election?"


def test_ask_json_prints_one_object_with_the_contract_keys(runner: CliRunner) -> None:
    result = invoke(runner, ["ask", "--json", WINNER])
    assert result.exit_code == 0
    assert len(result.output.strip().splitlines()) == 1
    data = json.loads(result.output)
    assert set(data) == CONTRACT
    assert (data["question"], data["status"], data["truncated"]) == (WINNER, "answered", False)
    assert isinstance(data["intent"], str) and 0 <= data["confidence"] <= 1
    assert "Bogdan-Martin" in data["answer"]
    assert data["citations"] and all(set(c) == CITATION for c in data["citations"])
    assert data["citations"][0]["paragraph"] == 1
    assert "Doreen Bogdan-Martin" in data["citations"][0]["quote"]
    assert data["suggestions"] == []


def test_ask_json_suggestions_have_intent_and_question(runner: CliRunner) -> None:
    data = json.loads(invoke(runner, ["ask", "--json", "What is the capital of France?"]).output)
    assert set(data) == CONTRACT
    assert data["status"] in {"fallback", "clarify"} and data["citations"] == []
    assert data["suggestions"] and all(set(s) == {"intent", "question"} for s in data["suggestions"])


@pytest.mark.parametrize(
    ("stdin", "questions"),
    [
        ("Who won the ITU election?\nhi\n", ["Who won the ITU election?", "hi"]),
        (
            "who won?\n\nhow many votes did ismailov get\n",
            ["who won?", "", "how many votes did ismailov get"],
        ),
        ("no newline at the end\nlast", ["no newline at the end", "last"]),
        ("\n", [""]),
        ("", []),
        (b"who won?\n\xff\xfe bad\nthanks\n", ["who won?", "\ufffd\ufffd bad", "thanks"]),
    ],
)
def test_ask_json_reads_stdin_as_json_lines(runner: CliRunner, stdin: str | bytes, questions: list[str]) -> None:
    result = invoke(runner, ["ask", "--json"], stdin)
    assert result.exit_code == 0
    rows = json_lines(result.output)
    assert [row["question"] for row in rows] == questions
    assert all(set(row) == CONTRACT and row["status"] in STATUSES for row in rows)


def test_ask_json_empty_line_gets_help(runner: CliRunner) -> None:
    [row] = json_lines(invoke(runner, ["ask", "--json"], "\n").output)
    assert (row["status"], row["intent"]) == ("smalltalk", "capabilities")


def test_ask_readable_reads_each_stdin_line_and_skips_blank_ones(runner: CliRunner, engine: Engine) -> None:
    questions = [WINNER, "who wrote the article?"]
    result = invoke(runner, ["ask"], f"{questions[0]}\n\n   \n{questions[1]}\n")
    assert result.exit_code == 0
    answers = [engine.respond(q).answer for q in questions]
    shown = flat(result.output)
    assert all(flat(a) in shown for a in answers)
    assert shown.index(flat(answers[0])) < shown.index(flat(answers[1]))
    assert "I answer questions about" not in result.output, "blank lines are skipped, not answered"


def test_console_script_ask_json_keeps_going_past_bad_bytes(tmp_path: Path) -> None:
    ran = factbot(["ask", "--json"], tmp_path, b"who won?\n\xff\xfe bad\nhow many votes did ismailov get\n")
    assert ran.code == 0, ran.err
    rows = json_lines(ran.out)
    assert len(rows) == 3
    assert rows[0]["question"] == "who won?"
    assert "\ufffd" in rows[1]["question"] and rows[1]["question"].endswith(" bad")
    assert rows[2]["question"] == "how many votes did ismailov get"
    assert all(set(row) == CONTRACT and row["status"] in STATUSES for row in rows)


def test_console_script_ask_json_drops_windows_line_ends(tmp_path: Path) -> None:
    ran = factbot(["ask", "--json"], tmp_path, b"hi\r\nwho won the itu election\r\n")
    assert ran.code == 0, ran.err
    assert [row["question"] for row in json_lines(ran.out)] == ["hi", "who won the itu election"]


# -- factbot chat and factbot run ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "shows", "hides"),
    [
        ("/help", ["/facts [topic]", "/sources", "/help", "/quit"], []),
        ("/HELP", ["/facts [topic]"], ["Unknown command"]),
        ("/sources", ["Sources", "odi-itu-2022", "Borodyna", "ODI"], []),
        ("/facts", ["Topics", "election", "china"], ["election-winner"]),
        ("/facts election", ["Facts on election", "election-winner", "Bogdan-Martin"], []),
        ("/facts nonexistent", ["No topic “nonexistent”", "election"], []),
        ("/nope", ["Unknown command /nope", "/help"], []),
        ("/nope with words", ["Unknown command /nope"], ["with words"]),
    ],
)
def test_chat_commands(runner: CliRunner, line: str, shows: list[str], hides: list[str]) -> None:
    result = invoke(runner, ["chat"], line + "\n")
    assert result.exit_code == 0
    assert all(text in result.output for text in shows), result.output
    assert not any(text in result.output for text in hides), result.output


@pytest.mark.parametrize("command", ["/quit", "/exit", "/QUIT"])
def test_chat_quit_stops_before_later_lines(runner: CliRunner, engine: Engine, command: str) -> None:
    result = invoke(runner, ["chat"], f"hi\n{command}\n{WINNER}\n/help\n")
    assert result.exit_code == 0
    assert "Hello!" in result.output
    assert flat(engine.respond(WINNER).answer) not in flat(result.output)
    assert "/facts [topic]" not in result.output


def test_console_script_chat_answers_piped_questions_and_exits(tmp_path: Path, engine: Engine) -> None:
    questions = [WINNER, "who wrote the article?", "What is the capital of France?"]
    script = (
        "\n".join(
            [
                questions[0],
                "/help",
                "/sources",
                "/facts",
                "/facts election",
                "/nope",
                questions[1],
                questions[2],
                "/quit",
                "hi",
                "/help",
            ]
        )
        + "\n"
    )
    ran = factbot(["chat"], tmp_path, script.encode())
    assert ran.code == 0, ran.err
    shown = flat(ran.out)
    places = [shown.index(flat(engine.respond(q).answer)) for q in questions]
    assert places == sorted(places), "answers come in the order of the questions"
    for text in [
        "/facts [topic]",
        "odi-itu-2022",
        "Topics",
        "Facts on election",
        "Unknown command /nope",
    ]:
        assert text in ran.out
    assert "Hello!" not in ran.out, "/quit stops before the later lines"
    assert ran.out.count("/facts [topic]") == 1


def test_console_script_chat_exits_at_end_of_input(tmp_path: Path) -> None:
    ran = factbot(["chat"], tmp_path, b"")
    assert (ran.code, ran.out.strip(), ran.err.strip()) == (0, "", "")


def test_console_script_chat_survives_bad_bytes(tmp_path: Path) -> None:
    ran = factbot(["chat"], tmp_path, b"\xff\xfe\nhi\n")
    assert ran.code == 0, ran.err
    assert "Hello!" in ran.out


def test_run_without_tokens_is_the_terminal_chat(runner: CliRunner, engine: Engine) -> None:
    result = invoke(runner, ["run"], f"{WINNER}\n")
    assert result.exit_code == 0
    assert flat(engine.respond(WINNER).answer) in flat(result.output)


def test_console_script_run_without_tokens_chats_in_the_terminal(tmp_path: Path) -> None:
    ran = factbot(["run", "--data-dir", str(TINY)], tmp_path, b"who kept the lighthouse\n/quit\n")
    assert ran.code == 0, ran.err
    assert "Mara Quill" in ran.out and "paragraph 2" in ran.out


# -- validate, facts, sources, and choosing the fact base ------------------------------------------


def expected_code(shows: list[str]) -> int:
    """A topic that is not there exits 1 (a script asked for it); everything else 0."""
    return 1 if any(text.startswith("No topic") for text in shows) else 0


SHIPPED_ROWS = [
    (["validate"], ["✓", "every quote is verbatim"], []),
    (["facts"], ["Topics", "election", "china", "russia"], ["election-winner"]),
    (
        ["facts", "--topic", "election"],
        ["Facts on election", "election-winner", "Bogdan-Martin"],
        [],
    ),
    (["facts", "-t", "election"], ["Facts on election", "election-winner"], []),
    (["facts", "--topic", "nonexistent"], ["No topic “nonexistent”", "election"], ["Facts on"]),
    (["sources"], ["Sources", "odi-itu-2022", "Borodyna", "ODI"], []),
]


@pytest.mark.parametrize(("args", "shows", "hides"), SHIPPED_ROWS, ids=named(SHIPPED_ROWS))
def test_fact_base_commands(runner: CliRunner, args: list[str], shows: list[str], hides: list[str]) -> None:
    result = invoke(runner, args)
    assert result.exit_code == expected_code(shows)
    assert all(text in result.output for text in shows), result.output
    assert not any(text in result.output for text in hides), result.output


def test_validate_counts_what_it_checked(runner: CliRunner, engine: Engine) -> None:
    output = invoke(runner, ["validate"]).output
    base = engine.base
    counts = re.search(r"(\d+) sources, (\d+) facts, (\d+) intents, (\d+) examples", output)
    assert counts, output
    examples = sum(len(i.examples) for i in base.intents.values())
    assert tuple(map(int, counts.groups())) == (
        len(base.sources),
        len(base.facts),
        len(base.intents),
        examples,
    )


def cells(output: str, column: int, glue: str = "") -> str:
    """The text of one column of a rendered table, its wrapped pieces joined with `glue`."""
    rows = [line.split("│") for line in output.splitlines() if line.startswith("│")]
    return glue.join(row[column + 1].strip() for row in rows if len(row) > column + 1)


@pytest.mark.parametrize("data_dir", [None, TINY], ids=["shipped", "tiny"])
def test_sources_shows_each_source_title_and_url_in_full(runner: CliRunner, data_dir: Path | None) -> None:
    args = ["sources"] + (["--data-dir", str(data_dir)] if data_dir else [])
    output = invoke(runner, args).output
    base = load_factbase(data_dir or PROJECT_ROOT)
    for source in base.sources.values():
        assert flat(source.title) in " ".join(cells(output, 1, " ").split()), source.title
        assert source.url in cells(output, 5) or source.url in "".join(output.split()), source.url


TINY_ROWS = [
    (["validate"], ["1 sources, 3 facts, 3 intents, 24 examples"], []),
    (["facts"], ["lighthouse", "people", "story"], ["election", "china"]),
    (["facts", "--topic", "people"], ["Facts on people", "keeper", "Mara Quill"], []),
    (["facts", "--topic", "election"], ["No topic “election”", "lighthouse"], []),
    (["sources"], ["tiny", "Ada Example", "Example Press"], ["odi-itu-2022", "Borodyna"]),
    (["ask", "who kept the lighthouse"], ["Mara Quill", "paragraph 2"], ["Bogdan-Martin"]),
    (["ask", "--json", "who wrote the story"], ['"source_id":"tiny"', '"paragraph":null'], []),
]


@pytest.mark.parametrize(("args", "shows", "hides"), TINY_ROWS, ids=named(TINY_ROWS))
@pytest.mark.parametrize("how", ["option", "environment"])
def test_data_dir_switches_fact_base(
    runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
    args: list[str],
    shows: list[str],
    hides: list[str],
) -> None:
    if how == "option":
        args = [*args, "--data-dir", str(TINY)]
    else:
        monkeypatch.setenv("FACTBOT_DATA_DIR", str(TINY))
    result = invoke(runner, args)
    assert result.exit_code == expected_code(shows)
    assert all(text in result.output for text in shows), result.output
    assert not any(text in result.output for text in hides), result.output


def test_data_dir_option_beats_environment(runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FACTBOT_DATA_DIR", str(tmp_path / "nowhere"))
    result = invoke(runner, ["facts", "--data-dir", str(TINY)])
    assert result.exit_code == 0 and "lighthouse" in result.output


def test_data_dir_from_dotenv_file(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"FACTBOT_DATA_DIR={TINY}\n", encoding="utf-8")
    result = invoke(runner, ["facts"])
    assert result.exit_code == 0 and "lighthouse" in result.output


def test_working_directory_holding_a_fact_base_is_used(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tiny: Path
) -> None:
    monkeypatch.chdir(tiny)
    result = invoke(runner, ["facts"])
    assert result.exit_code == 0 and "lighthouse" in result.output


def test_console_script_follows_factbot_data_dir(tmp_path: Path) -> None:
    ran = factbot(["sources"], tmp_path, env={"FACTBOT_DATA_DIR": str(TINY)})
    assert ran.code == 0, ran.err
    assert "Ada Example" in ran.out and "odi-itu-2022" not in ran.out


def test_broken_fact_base_is_refused_line_by_line(runner: CliRunner, tiny: Path) -> None:
    facts = tiny / "knowledge" / "facts" / "tiny.yaml"
    facts.write_text(
        facts.read_text(encoding="utf-8").replace("built in 1871", "built in 1872"),
        encoding="utf-8",
    )
    for args in (["validate"], ["ask", "who built it"], ["chat"], ["facts"], ["sources"]):
        result = invoke(runner, [*args, "--data-dir", str(tiny)])
        assert result.exit_code == 1, args
        assert "quote of fact 'built' not found verbatim" in result.output


# -- never a traceback ----------------------------------------------------------------------


EVERY_COMMAND = [
    (["--help"], b"", 0),
    (["ask", "--help"], b"", 0),
    (["ask", "\x01\x02 <script>alert(1)</script> ' OR 1=1 --"], b"", 0),
    (["ask"], b"", 0),
    (["ask", "--json"], b"\x00\xff\n" + b"blah " * 20_000 + b"\n", 0),
    (["validate"], b"", 0),
    (["facts", "--topic", "nonexistent"], b"", 1),
    (["sources"], b"", 0),
    (["ask", "--data-dir", "nowhere", "hi"], b"", 1),
    (["validate", "--data-dir", "nowhere"], b"", 1),
    (["nope"], b"", 2),
    (["ask", "--no-such-option"], b"", 2),
]


@pytest.mark.parametrize(("args", "stdin", "code"), EVERY_COMMAND, ids=named(EVERY_COMMAND))
def test_console_script_never_prints_a_traceback(tmp_path: Path, args: list[str], stdin: bytes, code: int) -> None:
    ran = factbot(args, tmp_path, stdin)
    assert ran.code == code, ran.err


@pytest.mark.parametrize(
    ("name", "value"),
    [("FACTBOT_ANSWER_THRESHOLD", "abc"), ("FACTBOT_CLARIFY_THRESHOLD", "2")],
)
def test_console_script_reports_a_bad_setting_without_a_traceback(tmp_path: Path, name: str, value: str) -> None:
    ran = factbot(["ask", "hi"], tmp_path, env={name: value})
    assert ran.code != 0
    assert name in ran.err


@pytest.mark.parametrize(
    ("environment", "line"),
    [
        ({"SLACK_BOT_TOKEN": ""}, "factbot: bad setting SLACK_BOT_TOKEN: is set but empty"),
        ({"SLACK_APP_TOKEN": "  "}, "factbot: bad setting SLACK_APP_TOKEN: is set but empty"),
        ({"DISCORD_TOKEN": "abc\ndef"}, "factbot: bad setting DISCORD_TOKEN: contains a space or a line break"),
        ({"SLACK_SIGNING_SECRET": "s3cr3t "}, "factbot: bad setting SLACK_SIGNING_SECRET: contains a space"),
        ({"FACTBOT_DIGEST_TIMEZONE": "Mars/Olympus"}, "factbot: bad setting FACTBOT_DIGEST_TIMEZONE: “Mars/Olympus”"),
        (
            {"FACTBOT_ANSWER_THRESHOLD": "0.3", "FACTBOT_CLARIFY_THRESHOLD": "0.5"},
            "factbot: bad setting: FACTBOT_CLARIFY_THRESHOLD (0.5) is above FACTBOT_ANSWER_THRESHOLD (0.3)",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], line: str
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    result = runner.invoke(app, ["ask", "who won?"])
    assert result.exit_code == 2
    assert result.output.startswith(line), result.output
    assert "Traceback" not in result.output and "s3cr3t" not in result.output


def test_a_dotenv_that_is_not_utf8_is_one_line(runner: CliRunner) -> None:
    Path(".env").write_bytes(b"\xff\xfeFACTBOT_DB_URL=x\n")
    result = runner.invoke(app, ["ask", "who won?"])
    assert (result.exit_code, result.output.strip()) == (2, "factbot: .env is not UTF-8 text; save it as UTF-8.")


def test_a_port_out_of_range_is_refused(runner: CliRunner) -> None:
    result = runner.invoke(app, ["run", "--http", "--port", "70000"])
    assert result.exit_code == 2 and "65535" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("question", ["who \udcff won the itu election", "\ud800 who won the itu election"])
def test_ask_json_makes_broken_text_safe(runner: CliRunner, question: str) -> None:
    result = runner.invoke(app, ["ask", "--json", question])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["status"] == "answered" and data["question"].endswith("won the itu election")
    assert "\ufffd" in data["question"]


ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b]8;;http://x\x1b\\"


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["ask", "--why", f"who won{ESCAPES} the itu election"], None),
        (["ask", "--why", "--json", "who \udcff won the itu election"], None),
        (["chat"], f"/nope{ESCAPES}\n"),
        (["chat"], f"who won the itu election{ESCAPES}?\n/why\n"),
    ],
)
def test_nothing_typed_reaches_the_terminal_as_a_control_sequence(
    runner: CliRunner, args: list[str], stdin: str | None
) -> None:
    result = runner.invoke(app, args, input=stdin)
    assert result.exit_code == 0, result.output
    assert "\x1b]" not in result.output and "\x1b[2J" not in result.output and "\x07" not in result.output


def test_ask_json_echoes_only_what_was_read_of_a_huge_question(runner: CliRunner) -> None:
    result = runner.invoke(app, ["ask", "--json", "who won the itu election " * 20_000])
    data = json.loads(result.output)
    assert data["truncated"] is True and len(data["question"]) == MAX_CHARS


@pytest.mark.parametrize("args", [["run"], ["run", "--http"]])
def test_a_malformed_slack_token_stops_run_with_one_line_and_nothing_after(tmp_path: Path, args: list[str]) -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_APP_TOKEN": "xoxb-wrong",
        "SLACK_SIGNING_SECRET": "s",
        "FACTBOT_USER_SALT": "x",
    }
    if args == ["run", "--http"]:
        env["SLACK_BOT_TOKEN"] = "xapp-wrong"
    ran = factbot(args, tmp_path, env=env)
    assert ran.code == 1
    assert [line for line in ran.err.splitlines() if line.strip()] == [ran.err.strip().splitlines()[0]]
    assert ran.err.startswith("factbot: SLACK_") and "Unclosed" not in ran.err
