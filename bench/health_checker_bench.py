"""Benchmark: does one health-checker invocation over N targets take about as long as its
slowest target?

Every target is a real HTTP server path on 127.0.0.1 (several servers, listen backlog 128 each):
10% answer after DELAY seconds, the rest at once. The handler runs whole (`app.lambda_handler`:
targets from SSM parameters under one path, state in DynamoDB, metrics and logs written to
stdout, here /dev/null) against the in-process `LocalCloud`, with the state table keyed as the
product creates it. Baseline, in the same process: one check of one slow target alone (the
slowest target's own time). Reported per size: the first invocation (every state is new, so
every target is written) and then RUNS invocations in steady state, as ratios to the baseline,
min and median. Goal (issue 12): at most 1.3x at 200 and 1,000 targets.

    .venv/bin/python bench/health_checker_bench.py [--targets 200 1000] [--delay 1.0] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [
    str(ROOT),
    str(ROOT / "handlers" / "shared"),
    str(ROOT / "handlers" / "health_checker"),
]

import boto3  # noqa: E402
from health_probes import check_http  # noqa: E402
from health_targets import HttpTarget  # noqa: E402

from localcloud import LocalCloud  # noqa: E402

TABLE = "bench-health-state"
TARGETS_PATH = "/bench/health/targets"
SSM_STANDARD_VALUE_LIMIT = 4096  # bytes; a longer list is split across parameters
TARGETS_PER_SERVER = 100  # within each server's listen backlog of 128
SLOW_SHARE = 10  # one target in 10 answers after the delay


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: with every target connecting at once, the rest
    # of the SYNs are dropped and retried a second later, and the bench would time the kernel.
    request_queue_size = 128
    daemon_threads = True


def start_server(delay: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/slow"):
                time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            return

    server = _Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve_targets(delay: float, count: int, control: Connection) -> None:
    """Run ``count`` servers in this (separate) process until told to stop.

    The targets are other machines in production: in the bench's own process their request
    parsing would compete with the probes for the GIL and inflate the ratio.
    """
    servers = [start_server(delay) for _ in range(count)]
    control.send([int(server.server_address[1]) for server in servers])
    control.recv()
    for server in servers:
        server.shutdown()
        server.server_close()


@contextmanager
def target_servers(delay: float, count: int) -> Iterator[list[int]]:
    """Ports of ``count`` target servers running in a child process."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=serve_targets, args=(delay, count, theirs), daemon=True)
    process.start()
    try:
        yield ours.recv()
    finally:
        ours.send("stop")
        process.join(timeout=10)


def target_list(count: int, ports: list[int]) -> list[dict[str, Any]]:
    return [
        {
            "name": f"svc-{index:04d}",
            "type": "http",
            "url": f"http://127.0.0.1:{ports[index // TARGETS_PER_SERVER]}/"
            + ("slow" if index % SLOW_SHARE == 0 else "health"),
            "expected_status": [200],
            "latency_ms": 5000,
        }
        for index in range(count)
    ]


def store_targets(targets: list[dict[str, Any]], path: str) -> int:
    """The list as consecutive parameters under ``path``, each within a Standard value."""
    ssm = boto3.client("ssm", region_name="us-east-1")
    parts: list[list[dict[str, Any]]] = [[]]
    for target in targets:
        if parts[-1] and len(json.dumps([*parts[-1], target])) > SSM_STANDARD_VALUE_LIMIT:
            parts.append([])
        parts[-1].append(target)
    for index, part in enumerate(parts):
        ssm.put_parameter(Name=f"{path}/part-{index:03d}", Value=json.dumps(part), Type="String")
    return len(parts)


def create_state_table() -> None:
    """As products/tools/health_checker.py declares it: key pk (S), on demand, TTL expires_at."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=TABLE,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )


@dataclass
class Context:
    """What the handler reads of Lambda's context: a 5-minute function."""

    function_name: str = "bench-health-checker"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id: str = "bench"
    timeout_ms: int = 300_000

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms


@contextmanager
def stdout_to_devnull() -> Iterator[None]:
    """EMF metrics and logs are still formatted and written, as in Lambda, but not shown."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def load_app(cloud: LocalCloud, topic_arn: str) -> ModuleType:
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": cloud.endpoint_url,
            "STATE_TABLE": TABLE,
            "ALERT_TOPIC_ARN": topic_arn,
            "TARGETS": "[]",
            "TARGETS_SSM_PARAMETER": TARGETS_PATH,
            "ALLOW_PRIVATE_NETWORKS": "true",
            "ENVIRONMENT": "bench",
        }
    )
    import app  # after the environment it reads at import is set

    return app


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


@dataclass
class SizeResult:
    targets: int
    parameters: int
    first: float
    steady: list[float]


def bench_size(count: int, args: argparse.Namespace) -> SizeResult:
    with target_servers(args.delay, -(-count // TARGETS_PER_SERVER)) as ports:
        parameters = store_targets(target_list(count, ports), f"{TARGETS_PATH}-{count}")
        os.environ["TARGETS_SSM_PARAMETER"] = f"{TARGETS_PATH}-{count}"
        app = sys.modules["app"]
        event = json.loads((ROOT / "tests/events/health_scheduled_event.json").read_text())
        summaries: list[dict[str, Any]] = []

        def invoke() -> None:
            summaries.append(app.lambda_handler(event, Context()))

        with stdout_to_devnull():
            first = timed(invoke)
            steady = [timed(invoke) for _ in range(args.runs)]
    if any(summary["healthy"] != count for summary in summaries):
        raise SystemExit(f"{count} targets: not every check passed: {summaries[-1]}")
    return SizeResult(count, parameters, first, steady)


def baseline(delay: float, repeats: int) -> float:
    with target_servers(delay, 1) as ports:
        target = HttpTarget(name="slow", url=f"http://127.0.0.1:{ports[0]}/slow")
        return min(timed(lambda: check_http(target, 5.0, True, {})) for _ in range(repeats))


def raise_file_limit(needed: int) -> None:
    """Each target holds a client and a server socket here: 2 descriptors per target."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise SystemExit(f"ulimit -n is {soft} (hard {hard}); {needed} descriptors needed")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def print_table(single: float, results: list[SizeResult], args: argparse.Namespace) -> None:
    print(
        f"health checker, whole invocation against LocalCloud; {100 // SLOW_SHARE}% of targets "
        f"answer after {args.delay:g} s, the rest at once; {args.runs} steady runs per size"
    )
    print(f"baseline: one check of one slow target alone = {single:.3f} s")
    header = f"{'targets':>7} {'SSM params':>10} {'first run':>10} {'steady min':>11}"
    print(f"{header} {'steady median':>14} {'goal':>6}")
    for result in results:
        print(
            f"{result.targets:>7} {result.parameters:>10} {result.first / single:>9.2f}x "
            f"{min(result.steady) / single:>10.2f}x "
            f"{statistics.median(result.steady) / single:>13.2f}x {'1.30x':>6}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--targets", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    raise_file_limit(2 * max(args.targets) + 256)
    with LocalCloud() as cloud:
        os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
        os.environ.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"})
        os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "OncallTools")
        os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "health_checker")
        os.environ["AWS_ENDPOINT_URL"] = cloud.endpoint_url
        create_state_table()
        topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="bench-alerts")
        load_app(cloud, topic["TopicArn"])
        single = baseline(args.delay, 3)
        results = [bench_size(count, args) for count in args.targets]
    print_table(single, results, args)


if __name__ == "__main__":
    main()
