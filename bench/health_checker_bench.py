"""Benchmark: does one health-checker invocation over N targets take about as long as its
slowest target?

Targets and AWS are remote in production, so neither shares the handler's process (nor its GIL)
here: the targets are real HTTP servers on 127.0.0.1 (one port per 100 targets), all served by
one asyncio event loop in a child process, 10% answering after DELAY seconds (a timer), the
rest at once; localcloud runs as its own server process (what `python build.py local` runs).
The handler runs whole in this process (`app.lambda_handler`: targets from SSM parameters under
one path, state in DynamoDB, metrics and logs written to stdout, here /dev/null), with the state
table keyed as the product creates it. Baseline, in the same process: one check of one slow
target alone (the slowest target's own time). Reported per size: the first invocation (every
state is new, so every target is written) and then RUNS invocations in steady state, as ratios
to the baseline, min and median, and the CPU seconds this process spent per steady invocation
(every thread). Goal (issue 12): at most 1.3x at 200 and 1,000 targets.

    .venv/bin/python bench/health_checker_bench.py [--targets 200 1000] [--delay 1.0] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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

from localcloud.server import serve  # noqa: E402

TABLE = "bench-health-state"
TARGETS_PATH = "/bench/health/targets"
SSM_STANDARD_VALUE_LIMIT = 4096  # bytes; a longer list is split across parameters
TARGETS_PER_SERVER = 100  # one listening port per 100 targets, as if they were 10 hosts
SLOW_SHARE = 10  # one target in 10 answers after the delay
_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


class TargetProtocol(asyncio.Protocol):
    """One target connection: answers a GET at once, or after ``delay`` for a /slow path."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.received = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.received += data
        if b"\r\n\r\n" not in self.received:
            return
        slow = self.received.split(b" ", 2)[1].startswith(b"/slow")
        if slow:
            asyncio.get_running_loop().call_later(self.delay, self.answer)
        else:
            self.answer()

    def answer(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_ANSWER)
            self.transport.close()


async def _serve_targets(delay: float, count: int, control: Connection) -> None:
    loop = asyncio.get_running_loop()
    servers = [
        await loop.create_server(lambda: TargetProtocol(delay), "127.0.0.1", 0, backlog=1024)
        for _ in range(count)
    ]
    control.send([int(server.sockets[0].getsockname()[1]) for server in servers])
    await loop.run_in_executor(None, control.recv)  # until told to stop
    for server in servers:
        server.close()


def serve_targets(delay: float, count: int, control: Connection) -> None:
    """Serve ``count`` target ports from one event loop in this (separate) process.

    The targets are other machines in production: in the bench's process their work would
    compete with the probes for the GIL. One event loop answers each request with a few
    microseconds of CPU and delays the slow ones with a timer, not a sleeping thread.
    """
    raise_file_limit(2 * count * TARGETS_PER_SERVER + 256)
    run_as_batch()
    asyncio.run(_serve_targets(delay, count, control))


def run_as_batch() -> None:
    """SCHED_BATCH for this process: its wake-ups no longer preempt the handler's thread.

    On loopback, the kernel completes a TCP handshake inside the client's connect() call and
    wakes the server there; with both on one machine the scheduler then often switches to the
    server, so every connect of the handler's single event-loop thread could cost a context
    switch (0.4-1 ms measured under load). Remote targets and AWS do not share the handler's CPU.
    """
    os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


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


def serve_localcloud(control: Connection) -> None:
    """localcloud's own server (as `python build.py local` runs it), its request log silenced."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    run_as_batch()
    serve("127.0.0.1", 0, announce=control.send)


@contextmanager
def localcloud_process() -> Iterator[str]:
    """The endpoint of a localcloud running in a child process (AWS is remote in production)."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=serve_localcloud, args=(theirs,), daemon=True)
    process.start()
    try:
        yield str(ours.recv())
    finally:
        process.terminate()  # SIGTERM: serve() stops as on Ctrl-C
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


def failure_details(shown: int = 5) -> list[str]:
    """The stored details of a few failed checks (a failure changes the state, so it is saved)."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    items = dynamodb.scan(TableName=TABLE)["Items"]
    failed = [item for item in items if item["consecutive_failures"]["N"] != "0"]
    return [f"{item['pk']['S']}: {item['last_detail']['S']}" for item in failed[:shown]]


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


def load_app(endpoint: str, topic_arn: str) -> ModuleType:
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
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
class Invocation:
    seconds: float  # wall time
    cpu_seconds: float  # CPU time of this (the handler's) process, every thread


def invoked(run: Callable[[], object]) -> Invocation:
    cpu = time.process_time()
    seconds = timed(run)
    return Invocation(seconds, time.process_time() - cpu)


@dataclass
class SizeResult:
    targets: int
    parameters: int
    first: Invocation
    steady: list[Invocation]


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
            first = invoked(invoke)
            steady = [invoked(invoke) for _ in range(args.runs)]
    if any(summary["healthy"] != count for summary in summaries):
        raise SystemExit(f"{count} targets: not every check passed: {failure_details()}")
    return SizeResult(count, parameters, first, steady)


def baseline(delay: float, repeats: int) -> float:
    with target_servers(delay, 1) as ports:
        target = HttpTarget(name="slow", url=f"http://127.0.0.1:{ports[0]}/slow")
        return min(timed(lambda: check_http(target, 5.0, True, {})) for _ in range(repeats))


def raise_file_limit(needed: int) -> None:
    """At least ``needed`` file descriptors: one socket per target on each side."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise SystemExit(f"ulimit -n is {soft} (hard {hard}); {needed} descriptors needed")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def print_table(single: float, results: list[SizeResult], args: argparse.Namespace) -> None:
    print(
        f"health checker, whole invocation against localcloud (own process); "
        f"{100 // SLOW_SHARE}% of targets answer after {args.delay:g} s, the rest at once; "
        f"{args.runs} steady runs per size"
    )
    print(f"baseline: one check of one slow target alone = {single:.3f} s")
    header = f"{'targets':>7} {'SSM params':>10} {'first run':>10} {'steady min':>11}"
    print(f"{header} {'steady median':>14} {'goal':>6} {'CPU s min, median':>18}")
    for result in results:
        walls = [run.seconds / single for run in result.steady]
        cpus = [run.cpu_seconds for run in result.steady]
        print(
            f"{result.targets:>7} {result.parameters:>10} {result.first.seconds / single:>9.2f}x "
            f"{min(walls):>10.2f}x {statistics.median(walls):>13.2f}x {'1.30x':>6} "
            f"{min(cpus):>9.2f}, {statistics.median(cpus):.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--targets", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    raise_file_limit(max(args.targets) + 256)
    with localcloud_process() as endpoint:
        os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
        os.environ.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"})
        os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "OncallTools")
        os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "health_checker")
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        create_state_table()
        topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="bench-alerts")
        load_app(endpoint, topic["TopicArn"])
        single = baseline(args.delay, 3)
        results = [bench_size(count, args) for count in args.targets]
    print_table(single, results, args)


if __name__ == "__main__":
    main()
