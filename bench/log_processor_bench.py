"""Benchmark: ~1 MB of short log lines through the log_processor rule engine.

Reported as ratios against a baseline measured in the same process: a plain Python loop that
only splits the text into lines (the least any per-line processing must cost). Also shown: a
naive engine (every rule's regex on every line) and the whole subscription path (base64 +
gzip + JSON decode, then scan) for a CloudWatch Logs payload of the same text.

    .venv/bin/python bench/log_processor_bench.py [--megabytes 1] [--repeats 7]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import random
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "handlers" / "shared"), str(ROOT / "handlers" / "log_processor")]

from log_rules import Rule, build_rules  # noqa: E402
from log_scan import RuleEngine, SourceTally  # noqa: E402
from log_sources import decode_event  # noqa: E402

NORMAL = [
    "INFO request handled path=/api/orders status=200 ms={n}",
    "DEBUG cache hit key=order:{n}",
    "INFO START RequestId: {n} Version: $LATEST",
    "INFO END RequestId: {n}",
    "WARN slow query took {n} ms",
]
RARE = [
    "ERROR payment gateway returned 502 for order {n}",
    "ValueError: invalid literal for int() with base 10: '{n}'",
    "Task timed out after 3.00 seconds",
    "java.lang.OutOfMemoryError: Java heap space",
]


def make_text(megabytes: float, seed: int = 42) -> str:
    """Deterministic log text: mostly normal lines, about 1 in 100 matching a default rule."""
    rng = random.Random(seed)
    lines, size, target = [], 0, int(megabytes * 1024 * 1024)
    while size < target:
        template = rng.choice(RARE) if rng.random() < 0.01 else rng.choice(NORMAL)
        line = template.format(n=rng.randint(1, 99999))
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def baseline_split(text: str) -> int:
    count = 0
    for _line in text.split("\n"):
        count += 1
    return count


def naive_scan(rules: list[Rule], text: str) -> dict[str, int]:
    counts = dict.fromkeys((rule.name for rule in rules), 0)
    for line in text.split("\n"):
        for rule in rules:
            if rule.regex.search(line):
                counts[rule.name] += 1
    return counts


def engine_scan(engine: RuleEngine, text: str) -> SourceTally:
    tally = SourceTally("bench", "bench", "")
    engine.scan(text, tally)
    return tally


def subscription_event(text: str) -> dict[str, object]:
    events = [
        {"id": str(i), "timestamp": 1, "message": line} for i, line in enumerate(text.split("\n"))
    ]
    payload = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/lambda/bench",
        "logStream": "s",
        "subscriptionFilters": ["f"],
        "logEvents": events,
    }
    return {
        "awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()}
    }


def subscription_path(engine: RuleEngine, event: dict[str, object]) -> SourceTally:
    """What the handler does for a subscription batch, minus metrics and SNS."""
    batch = decode_event(event).batch
    assert batch is not None
    tally = SourceTally(batch.log_group, batch.log_stream, "")
    engine.scan("\n".join(m.rstrip("\r\n").replace("\n", " ") for m in batch.messages), tally)
    return tally


def best_seconds(work: Callable[[], object], repeats: int) -> float:
    return min(timeit.repeat(work, number=1, repeat=repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    text = make_text(args.megabytes)
    rules = build_rules(None)
    engine = RuleEngine(rules, sample_lines=5)
    event = subscription_event(text)
    tally = engine_scan(engine, text)
    assert {name: tally.count(name) for name in tally.rules} == {
        name: count for name, count in naive_scan(rules, text).items() if count
    }, "engine and naive scan disagree"
    base = best_seconds(lambda: baseline_split(text), args.repeats)
    rows = [
        ("baseline: split lines only", base),
        (
            "rule engine (default rules)",
            best_seconds(lambda: engine_scan(engine, text), args.repeats),
        ),
        (
            "naive: every regex on every line",
            best_seconds(lambda: naive_scan(rules, text), args.repeats),
        ),
        (
            "subscription path: decode + scan",
            best_seconds(lambda: subscription_path(engine, event), args.repeats),
        ),
    ]
    hits = sum(t.count for t in tally.rules.values())
    size = len(text.encode()) / 1048576
    print(
        f"input: {size:.2f} MB, {tally.lines} lines, {hits} rule hits, {len(rules)} rules, "
        f"python {sys.version.split()[0]}"
    )
    for label, seconds in rows:
        print(f"{label:36s} {seconds * 1000:9.2f} ms   x{seconds / base:6.2f} baseline")


if __name__ == "__main__":
    main()
