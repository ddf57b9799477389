"""Benchmark Slack HTTP mode: Factbot's bolt app beside a bare bolt app that only acks, on loopback.

Factbot runs with the settings a user gets by default (a SQLite question log in a temporary folder,
repeat suppression on), and beside it in the configuration this bench used before (no database, repeat
suppression off). This process serves the apps on 127.0.0.1 (through `start_http`, as `factbot run --http` does), each
with an `AsyncWebClient` pointed at a local FakeSlack, so nothing leaves the machine. A second process
(this script with `--client`) posts signed `/ask` slash commands to them with aiohttp, `--concurrency`
at a time, and measures throughput and ack latency. After a warm-up the apps are driven in alternating
rounds (bare, Factbot, bare, Factbot, ...) and the table shows the median of the rounds, with the
server's CPU time per request (steadier than req/s when other processes share the machine) and how busy
the load generator was (near 100% would mean it, not the server, set the pace).

    .venv/bin/python bench/slack_http.py [--requests 2000] [--concurrency 50] [--rounds 5] [--warmup 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector, web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack_run import EVENTS_PATH, build_app, close_app, start_http
from bot.adapters.slack_web import check_bot_token
from bot.engine import ANSWER_CACHE, Engine, settle
from bot.knowledge import read_factbase
from bot.settings import PROJECT_ROOT, Settings
from bot.store.sql import store_from_settings

sys.path.insert(0, str(PROJECT_ROOT))  # for tests.fakes, when run as bench/slack_http.py

from stats import percentile

from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, form_body, sign, slash_form  # noqa: E402

QUESTIONS = PROJECT_ROOT / "tests" / "data" / "questions.yaml"
USERS = [f"U0HUMAN{n}" for n in range(7)]
CHANNELS = ["C0GENERAL", "C0NEWS", "C0POLICY"]
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
THROUGHPUT_TARGET = 0.80
P99_TARGET_MS = 100.0
REPLY_TIMEOUT = 120.0

Request = tuple[bytes, dict[str, str]]
"""A form-encoded body and its headers (content type and Slack's signature)."""


# -- the load generator (the `--client` process) ------------------------------------------------


def questions() -> list[str]:
    """Every labelled question (answerable, near the topic, unrelated): what people type after /ask."""
    data = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    return [row["q"] for key in ("answerable", "near_topic", "unrelated") for row in data[key]]


def signed_requests(count: int, hook: str) -> list[Request]:
    """`count` `/ask` slash commands as Slack posts them, rotating questions, users and channels, signed now."""
    texts = questions()
    requests = []
    for n in range(count):
        form = slash_form(
            "/ask",
            texts[n % len(texts)],
            response_url=hook,
            user=USERS[n % len(USERS)],
            channel=CHANNELS[n % len(CHANNELS)],
        )
        body = form_body(form)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT, **sign(body)}
        requests.append((body.encode(), headers))
    return requests


def outcome(status: int, payload: bytes) -> str:
    """What one acknowledgement was: `200 empty` (bare ack), `200 in_channel` (an answer), or the status."""
    if status != 200:
        return f"HTTP {status}"
    if not payload:
        return "200 empty"
    try:
        return f"200 {json.loads(payload).get('response_type', 'json')}"
    except (ValueError, AttributeError):
        return "200 text"


async def worker(
    http: ClientSession, url: str, jobs: Iterator[Request], latencies: list[float], outcomes: Counter[str]
) -> None:
    """Post requests from the shared iterator one after another until it runs out."""
    for body, headers in jobs:
        start = time.perf_counter()
        try:
            async with http.post(url, data=body, headers=headers) as response:
                payload = await response.read()
        except (ClientError, TimeoutError) as exc:
            outcomes[type(exc).__name__] += 1
            continue
        latencies.append(time.perf_counter() - start)
        outcomes[outcome(response.status, payload)] += 1


async def drive(url: str, hook: str, count: int, concurrency: int) -> dict[str, Any]:
    """One round: `count` signed requests, `concurrency` in flight; throughput, latencies and outcomes."""
    jobs = iter(signed_requests(count, hook))
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    connector = TCPConnector(limit=concurrency)
    async with ClientSession(connector=connector, timeout=ClientTimeout(total=30)) as http:
        start, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker(http, url, jobs, latencies, outcomes) for _ in range(concurrency)))
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "rps": len(latencies) / elapsed,
        "client_busy": cpu / elapsed,
        "p50": percentile(latencies, 50) * 1000 if latencies else float("nan"),
        "p99": percentile(latencies, 99) * 1000 if latencies else float("nan"),
        "outcomes": dict(outcomes),
    }


def client_main() -> None:
    """Answer each job line on stdin (url, hook, requests, concurrency) with one result line on stdout."""
    for line in sys.stdin:
        job = json.loads(line)
        result = asyncio.run(drive(job["url"], job["hook"], job["requests"], job["concurrency"]))
        print(json.dumps(result), flush=True)


# -- the server side (this process) ----------------------------------------------------------------


@dataclass
class Target:
    """One app under test and where it listens."""

    label: str
    app: AsyncApp
    runner: web.AppRunner

    @property
    def url(self) -> str:
        """Where Slack would post: the app's /slack/events on loopback."""
        host, port = self.runner.addresses[0][:2]
        return f"http://{host}:{port}{EVENTS_PATH}"


def bare_app(fake: FakeSlack) -> AsyncApp:
    """The baseline: a bolt AsyncApp whose `/ask` listener only acks (with one shared session, like Factbot)."""
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url, session=ClientSession())
    app = AsyncApp(client=client, signing_secret=SIGNING_SECRET, name="bare")

    @app.command("/ask")
    async def ask(ack: AsyncAck) -> None:
        await ack()

    return app


def load_engine(settings: Settings, *, answer_memory: bool = True) -> Engine:
    """The engine `factbot run` would build from these settings (optionally without its answer memory)."""
    base, problems = read_factbase(settings.data_dir.resolve())
    if problems:
        sys.exit(f"the fact base in {settings.data_dir} has {len(problems)} problems; fix it first")
    return Engine(
        base,
        answer=settings.answer_threshold,
        clarify=settings.clarify_threshold,
        margin=settings.clarify_margin,
        answer_memory=ANSWER_CACHE if answer_memory else 0,
    )


async def serve(label: str, app: AsyncApp) -> Target:
    """Check the bot token against the fake (bolt calls auth.test too) and serve `app` on a free port."""
    await check_bot_token(app.client)
    return Target(label, app, await start_http(app, signing_secret=SIGNING_SECRET, host="127.0.0.1", port=0))


class LoadClient:
    """The load-generating process: this script with `--client`, fed one job per line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls) -> LoadClient:
        """Start the client process (it waits on stdin for jobs)."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(Path(__file__).resolve()),
            "--client",
            cwd=PROJECT_ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def round(self, target: Target, hook: str, count: int, concurrency: int) -> dict[str, Any]:
        """Have the client drive `target` once; its result."""
        assert self.process.stdin is not None and self.process.stdout is not None
        job = {"url": target.url, "hook": hook, "requests": count, "concurrency": concurrency}
        self.process.stdin.write((json.dumps(job) + "\n").encode())
        await self.process.stdin.drain()
        cpu = time.process_time()
        line = await asyncio.wait_for(self.process.stdout.readline(), REPLY_TIMEOUT)
        cpu = time.process_time() - cpu
        if not line:
            sys.exit(f"the load client exited (code {await self.process.wait()})")
        return dict(json.loads(line)) | {"server_us": cpu / count * 1e6}

    async def close(self) -> None:
        """End the client (closing stdin ends its loop) and reap it."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


async def measure(args: argparse.Namespace) -> tuple[dict[str, list[dict[str, Any]]], list[str], list[str]]:
    """Serve both apps, warm them up, then drive them in alternating rounds.

    The results per label, and the Web API calls the fake Slack saw before and during the timed rounds.
    """
    fake = await FakeSlack().start()
    folder = tempfile.TemporaryDirectory(prefix="factbot-bench-")
    environment: dict[str, Any] = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
        "FACTBOT_DB_URL": f"sqlite+aiosqlite:///{folder.name}/factbot.db",  # the default, a SQLite file
    }
    settings = Settings(**environment)  # as `factbot run --http` reads them, pointed at the fake
    old = settings.model_copy(update={"repeat_window_minutes": 0})
    targets: list[Target] = []
    client = await LoadClient.start()
    engine = load_engine(settings)
    engine.store = await store_from_settings(settings, purge=True)
    try:
        targets.append(await serve("bare bolt (ack only)", bare_app(fake)))
        targets.append(await serve("Factbot, default settings", build_app(engine, settings)))
        targets.append(await serve("Factbot, no database, no repeats", build_app(load_engine(old), old)))
        if args.no_memory_too:
            plain = load_engine(old, answer_memory=False)
            targets.append(await serve("Factbot, no database, no repeats, no answer memory", build_app(plain, old)))
        settle()  # as `factbot run` does once its engine is loaded
        results: dict[str, list[dict[str, Any]]] = {t.label: [] for t in targets}
        if args.warmup:
            for target in targets:
                await client.round(target, fake.hook_url(), args.warmup, args.concurrency)
        before = len(fake.calls)
        for _ in range(args.rounds):
            for target in targets:
                results[target.label].append(
                    await client.round(target, fake.hook_url(), args.requests, args.concurrency)
                )
        methods = [c.method for c in fake.calls]
        return results, methods[:before], methods[before:]
    finally:
        await client.close()
        for target in targets:
            await target.runner.cleanup()
            await close_app(target.app)
        await engine.drain()
        logged = len(await engine.store.questions())
        await engine.store.close()
        await fake.close()
        folder.cleanup()
        print(f"Questions in the default configuration's SQLite log: {logged}", file=sys.stderr)


# -- the report ---------------------------------------------------------------------------------------


def median(rounds: list[dict[str, Any]], key: str) -> float:
    """The median of one figure over the rounds."""
    return float(statistics.median(r[key] for r in rounds))


def outcomes(rounds: list[dict[str, Any]]) -> str:
    """Every round's acknowledgements, counted by kind."""
    total: Counter[str] = Counter()
    for r in rounds:
        total.update(r["outcomes"])
    return ", ".join(f"{count} x {kind}" for kind, count in total.most_common())


def report(
    args: argparse.Namespace, results: dict[str, list[dict[str, Any]]], calls: tuple[list[str], list[str]]
) -> bool:
    """Print the table and the verdict; whether both targets hold."""
    print(f"Python {platform.python_version()} | {platform.platform()} | {os.cpu_count()} CPUs")
    print(
        f"POST {EVENTS_PATH} on 127.0.0.1: {args.requests} signed /ask per round, {args.concurrency} concurrent, "
        f"from a second process; median of {args.rounds} alternating rounds after {args.warmup} warm-up\n"
    )
    rows = [("App", "req/s", "p50 ms", "p99 ms", "CPU us/req", "client busy", "req/s per round")]
    for label, rounds in results.items():
        per_round = ", ".join(f"{r['rps']:.0f}" for r in rounds)
        rows.append(
            (
                label,
                f"{median(rounds, 'rps'):.0f}",
                f"{median(rounds, 'p50'):.1f}",
                f"{median(rounds, 'p99'):.1f}",
                f"{median(rounds, 'server_us'):.0f}",
                f"{median(rounds, 'client_busy'):.0%}",
                per_round,
            )
        )
    width = max(len(r[0]) for r in rows)
    for i, (name, *figures, per_round) in enumerate(rows):
        print(f"{name:<{width}}  " + "  ".join(f"{f:>11}" for f in figures) + f"  {per_round}")
        if i == 0:
            print(f"{'-' * width}  " + "  ".join("-" * 11 for _ in figures) + f"  {'-' * 15}")
    (bare_label, bare), (factbot_label, factbot) = list(results.items())[:2]
    ratio = median(factbot, "rps") / median(bare, "rps")
    p99 = median(factbot, "p99")
    ratio_ok, p99_ok = ratio >= THROUGHPUT_TARGET, p99 < P99_TARGET_MS
    print()
    print(
        f"{factbot_label} / bare throughput: {ratio:.0%}  (target >= {THROUGHPUT_TARGET:.0%})  "
        f"{'holds' if ratio_ok else 'MISSED'}"
    )
    for label, rounds in list(results.items())[2:]:
        print(f"{label} / bare throughput: {median(rounds, 'rps') / median(bare, 'rps'):.0%}")
    verdict = "holds" if p99_ok else "MISSED"
    print(f"{factbot_label}, ack p99: {p99:.1f} ms  (target < {P99_TARGET_MS:.0f} ms)  {verdict}")
    cost = median(bare, "server_us") / median(factbot, "server_us")
    print(f"By server CPU per request, Factbot costs as much as {1 / cost:.2f} bare requests ({cost:.0%})")
    print(f"Acks: {bare_label}: {outcomes(bare)}; {factbot_label}: {outcomes(factbot)}")
    before, during = (dict(Counter(methods)) or "none" for methods in calls)
    print(f"Web API calls to the fake Slack: before the timed rounds {before}, during them {during}")
    return ratio_ok and p99_ok


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per timed round (default 2000)")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight (default 50)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per app (default 5)")
    parser.add_argument("--warmup", type=int, default=500, help="untimed requests per app first (default 500)")
    parser.add_argument(
        "--no-memory-too",
        action="store_true",
        help="also measure Factbot with its answer memory off (every question matched afresh)",
    )
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.requests < 1 or args.concurrency < 1 or args.rounds < 1 or args.warmup < 0:
        parser.error("--requests, --concurrency and --rounds must be at least 1, --warmup at least 0")
    return args


def main() -> None:
    """Run the benchmark (or, with --client, be its load generator)."""
    args = parse_args()
    if args.client:
        client_main()
        return
    results, before, during = asyncio.run(measure(args))
    report(args, results, (before, during))


if __name__ == "__main__":
    main()
