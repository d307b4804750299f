"""Benchmark: what does running a function through localcloud's Lambda runtime cost?

A trivial function (returns its event) is created through the Lambda API of an in-process
LocalCloud on 127.0.0.1. Two goals, each a comparison measured in the same run:

- warm: `lambda.invoke` (boto3 over HTTP, a warm worker) against calling the handler in-process;
  the difference must stay under 20 ms;
- cold: an invoke that must start a new worker (the configuration is changed before each one, as
  UpdateFunctionConfiguration makes Lambda start new environments) against a fresh
  `python -c "import boto3"`; the ratio must stay under 1.5.

    .venv/bin/python bench/localcloud_invoke_bench.py [--warm 50] [--cold 7] [--runs 3]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

from localcloud import LocalCloud  # noqa: E402

HANDLER = "def handler(event, context):\n    return event\n"
NAME = "bench-trivial"
# The same handler importing boto3 at module level, as the catalog's tools do: its cold start
# includes the very import the baseline times.
BOTO3_NAME = "bench-boto3"


def trivial_handler() -> Callable[[Any, Any], Any]:
    namespace: dict[str, Any] = {}
    exec(compile(HANDLER, "app.py", "exec"), namespace)
    return namespace["handler"]  # type: ignore[no-any-return]


def zipped(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def clients(endpoint: str) -> tuple[Any, Any]:
    def make(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        )

    return make("lambda"), make("iam")


def create_functions(lam: Any, iam: Any) -> None:
    iam.create_role(RoleName="bench", AssumeRolePolicyDocument="{}")
    for name, source in ((NAME, HANDLER), (BOTO3_NAME, "import boto3\n" + HANDLER)):
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role="arn:aws:iam::123456789012:role/bench",
            Handler="app.handler",
            Code={"ZipFile": zipped(source)},
        )


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def in_process_seconds(count: int) -> list[float]:
    handler = trivial_handler()
    event = json.loads('{"n": 1}')
    return [timed(lambda: handler(event, None)) for _ in range(count)]


def warm_invoke_seconds(lam: Any, count: int) -> list[float]:
    def invoke() -> None:
        answer = lam.invoke(FunctionName=NAME, Payload=b'{"n": 1}')
        if "FunctionError" in answer:
            raise RuntimeError(answer["Payload"].read())
        answer["Payload"].read()

    invoke()  # the cold start is not part of the warm figure
    return [timed(invoke) for _ in range(count)]


def cold_invoke_seconds(lam: Any, count: int, name: str = NAME) -> list[float]:
    times = []
    for index in range(count):
        lam.update_function_configuration(
            FunctionName=name, Environment={"Variables": {"GENERATION": str(index)}}
        )
        times.append(timed(lambda: invoke_once(lam, name)))
    return times


def invoke_once(lam: Any, name: str) -> None:
    answer = lam.invoke(FunctionName=name, Payload=b"{}")
    if "FunctionError" in answer:
        raise RuntimeError(answer["Payload"].read())
    answer["Payload"].read()


def import_boto3_seconds(count: int) -> list[float]:
    command = [sys.executable, "-c", "import boto3"]
    return [timed(lambda: subprocess.run(command, check=True)) for _ in range(count)]


def one_run(lam: Any, warm: int, cold: int) -> dict[str, list[float]]:
    return {
        "in_process": in_process_seconds(warm),
        "warm": warm_invoke_seconds(lam, warm),
        "import_boto3": import_boto3_seconds(cold),
        "cold": cold_invoke_seconds(lam, cold),
        "cold_boto3": cold_invoke_seconds(lam, cold, BOTO3_NAME),
    }


def summary(times: list[float]) -> str:
    return f"min {min(times) * 1000:8.2f} ms  median {statistics.median(times) * 1000:8.2f} ms"


def report(run: int, measured: dict[str, list[float]]) -> None:
    print(f"run {run}")
    for name, times in measured.items():
        print(f"  {name:13} {summary(times)}")
    added = statistics.median(measured["warm"]) - statistics.median(measured["in_process"])
    ratio = statistics.median(measured["cold"]) / statistics.median(measured["import_boto3"])
    print(f"  warm invoke adds {added * 1000:.2f} ms over in-process (goal <= 20 ms)")
    print(f"  cold invoke / fresh import boto3 = {ratio:.2f}x (goal <= 1.5x)")
    heavy = statistics.median(measured["cold_boto3"]) / statistics.median(measured["import_boto3"])
    print(f"  cold invoke of a handler importing boto3 / fresh import boto3 = {heavy:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warm", type=int, default=50, help="warm invocations per run")
    parser.add_argument("--cold", type=int, default=7, help="cold invocations per run")
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    with LocalCloud() as cloud:
        lam, iam = clients(cloud.endpoint_url)
        create_functions(lam, iam)
        for run in range(1, options.runs + 1):
            report(run, one_run(lam, options.warm, options.cold))


if __name__ == "__main__":
    main()
