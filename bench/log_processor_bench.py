"""Benchmark: the log processor's whole subscription path against its floor and its naive peer.

Realistic input: CloudWatch Logs subscription payloads (base64 of gzip of JSON, as Lambda gets
them) of 1k, 10k and 50k events, Lambda-style lines (JSON and plain text, about 2% matching), and
the 10-rule set: the 4 defaults plus 6 typical user rules, one without a literal prefix
(``\\b40[13] ``). Three paths on the same event, in the same process, interleaved per round:

- decode only: base64 + gunzip + json.loads (the floor any handler pays);
- handler: the handler's own decode_event and scan_batch (log_multimatch + re);
- naive: the same decode, then every rule's re.search on every event.

Reported per size as ratios (min and median over the rounds): handler / decode (goal <= 2.0) and
naive / handler (goal >= 4). Also the rule engine forced onto re alone, for comparison.

    .venv/bin/python bench/log_processor_bench.py [--events 1000 10000 50000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "handlers" / "shared"), str(ROOT / "handlers" / "log_processor")]
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Bench")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from app import ProcessorSettings, scan_batch  # noqa: E402
from log_rules import Rule, build_rules  # noqa: E402
from log_scan import RuleEngine  # noqa: E402
from log_sources import decode_event  # noqa: E402

USER_RULES = [
    {"name": "http_auth", "pattern": r"\b40[13] "},  # no literal prefix
    {
        "name": "db_connect",
        "pattern": r"could not connect to (?:server|database)|Connection refused",
    },
    {"name": "throttled", "pattern": r"ThrottlingException|Rate exceeded|TooManyRequestsException"},
    {"name": "slow_query", "pattern": r"duration: \d{4,} ms"},
    {"name": "retries", "pattern": r"retries exhausted|max retries exceeded", "ignore_case": True},
    {"name": "http_5xx", "pattern": r"\" 5\d\d \d+"},
]
NORMAL = [
    '{{"level":"info","msg":"request handled","path":"/api/orders/{n}","status":200,"ms":{m}}}',
    '{{"level":"debug","msg":"cache hit","key":"order:{n}","ttl":300}}',
    "START RequestId: 6f0c{n}-aa21-4c3e-9d1b-1e2f3a4b5c6d Version: $LATEST",
    "END RequestId: 6f0c{n}-aa21-4c3e-9d1b-1e2f3a4b5c6d",
    "REPORT RequestId: 6f0c{n} Duration: {m}.12 ms Billed Duration: {m} ms Memory Size: 512 MB",
    '10.0.{m}.7 - - [29/Nov/2026:12:00:00 +0000] "GET /api/items/{n} HTTP/1.1" 200 {m}',
    "[INFO] 2026-11-29T12:00:00.000Z 6f0c{n} processed batch of {m} records in {m} ms",
]
RARE = [
    '{{"level":"error","msg":"payment gateway returned 502","order":{n}}}',
    "[ERROR] ValueError: invalid literal for int() with base 10: '{n}'",
    "Task timed out after 3.00 seconds",
    '10.0.{m}.7 - - [29/Nov/2026:12:00:00 +0000] "GET /admin/{n} HTTP/1.1" 403 12',
    '10.0.{m}.7 - - [29/Nov/2026:12:00:00 +0000] "POST /api/pay HTTP/1.1" 503 {m}',
    "botocore.errorfactory.ThrottlingException: Rate exceeded",
    "LOG: duration: 12{m} ms statement: SELECT * FROM orders WHERE id = {n}",
    "psycopg2.OperationalError: could not connect to server: Connection refused",
]


def rules_10() -> list[Rule]:
    return build_rules(USER_RULES)


def subscription_event(count: int, seed: int = 7) -> dict[str, Any]:
    """An awslogs event of COUNT log events, about 2% of them matching some rule."""
    rng = random.Random(seed)
    events = []
    for index in range(count):
        template = rng.choice(RARE) if rng.random() < 0.02 else rng.choice(NORMAL)
        message = template.format(n=rng.randint(1, 99999), m=rng.randint(1, 999))
        events.append({"id": str(index), "timestamp": 1764417600000 + index, "message": message})
    payload = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/orders",
        "logStream": "2026/11/29/[$LATEST]abc",
        "subscriptionFilters": ["oncall"],
        "logEvents": events,
    }
    data = base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()
    return {"awslogs": {"data": data}}


def decode_only(event: dict[str, Any]) -> Any:
    return json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))


def handler_path(settings: ProcessorSettings, event: dict[str, Any]) -> Any:
    batch = decode_event(event).batch
    assert batch is not None
    return scan_batch(batch, settings)


def naive_path(rules: list[Rule], event: dict[str, Any]) -> dict[str, int]:
    counts = dict.fromkeys((rule.name for rule in rules), 0)
    for log_event in decode_only(event)["logEvents"]:
        message = log_event["message"]
        for rule in rules:
            if rule.regex.search(message):
                counts[rule.name] += 1
    return {name: count for name, count in counts.items() if count}


def settings_for(engine: RuleEngine) -> ProcessorSettings:
    return ProcessorSettings("bench", "arn:aws:sns:us-east-1:123456789012:bench", frozenset(),
                             "us-east-1", engine)  # fmt: skip


def seconds(work: Callable[[], object], number: int) -> float:
    started = time.perf_counter()
    for _ in range(number):
        work()
    return (time.perf_counter() - started) / number


def measure(count: int, rounds: int) -> dict[str, list[float]]:
    rules = rules_10()
    event = subscription_event(count)
    fast = settings_for(RuleEngine(rules, 5))
    re_only = settings_for(RuleEngine(rules, 5, multimatch=False))
    counts = {name: t.count for name, t in handler_path(fast, event).rules.items()}
    assert counts == naive_path(rules, event), "handler and naive counts disagree"
    paths = {
        "decode": lambda: decode_only(event),
        "handler": lambda: handler_path(fast, event),
        "handler_re_only": lambda: handler_path(re_only, event),
        "naive": lambda: naive_path(rules, event),
    }
    times: dict[str, list[float]] = {name: [] for name in paths}
    number = max(1, 20_000 // count)  # small batches: enough calls to rise above timer noise
    for _ in range(rounds):  # interleaved: a busy neighbour slows every path alike
        for name, work in paths.items():
            times[name].append(seconds(work, number))
    return times


def ratios(top: list[float], bottom: list[float]) -> tuple[float, float]:
    values = [a / b for a, b in zip(top, bottom, strict=True)]
    return min(values), statistics.median(values)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    engine = RuleEngine(rules_10(), 5)
    taken = len(engine.multi.rules) if engine.multi else 0
    print(f"python {sys.version.split()[0]}, 10 rules ({taken} on Hyperscan), rounds {args.rounds}")
    print("| events | decode ms | handler / decode (<= 2.0) min, median | naive / handler (>= 4) "
          "min, median | re-only handler / decode median |")  # fmt: skip
    print("|---|---|---|---|---|")
    for count in args.events:
        times = measure(count, args.rounds)
        over_decode = ratios(times["handler"], times["decode"])
        naive = ratios(times["naive"], times["handler"])
        re_only = ratios(times["handler_re_only"], times["decode"])
        print(
            f"| {count:,} | {min(times['decode']) * 1000:.1f} | {over_decode[0]:.2f}, "
            f"{over_decode[1]:.2f} | {naive[0]:.2f}, {naive[1]:.2f} | {re_only[1]:.2f} |"
        )


if __name__ == "__main__":
    main()
