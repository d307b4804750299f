"""Benchmark: one alarm evaluation tick over 1,000 alarms with a day of per-minute data each.

Everything runs in this process on moto's CloudWatch backend with localcloud's patches (no
server, no network). Each alarm watches its own metric (a FunctionName dimension), which holds
1,440 datapoints (one per minute for a day), so the store holds 1.44 million datapoints.

Baseline, measured in the same run: reading every datapoint of the store once (a loop over moto's
list summing the values), i.e. what a tick that scanned the store would pay at the very least.
Reported, each as a ratio of the baseline:
- indexing the whole store from scratch into a fresh per-metric index: what PutMetricData pays,
  spread over its calls, as it indexes each write (shown for scale; no tick pays it);
- the first tick: evaluates every alarm and moves all of them out of INSUFFICIENT_DATA (a
  history item and an EventBridge event each);
- a steady tick: one new minute of data per metric, every alarm evaluated, none changes state
  (min and median over --repeats ticks).

    .venv/bin/python bench/alarm_eval_bench.py [--alarms 1000] [--minutes 1440] [--repeats 7]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moto.cloudwatch.models import cloudwatch_backends

from localcloud.monitoring.patches import patch_moto
from localcloud.monitoring.store import MetricIndex
from localcloud.monitoring.ticks import evaluate_backend

STATISTICS = ("Sum", "Average", "Maximum", "p99")


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def create_alarms(backend: Any, count: int) -> None:
    for number in range(count):
        statistic = STATISTICS[number % len(STATISTICS)]
        backend.put_metric_alarm(
            name=f"fn-{number}-errors",
            namespace="AWS/Lambda",
            metric_name="Errors",
            comparison_operator="GreaterThanOrEqualToThreshold",
            evaluation_periods=5,
            datapoints_to_alarm=3,
            period=60,
            threshold=1000.0,
            statistic=None if statistic.startswith("p") else statistic,
            extended_statistic=statistic if statistic.startswith("p") else None,
            description="bench",
            dimensions=[{"Name": "FunctionName", "Value": f"fn-{number}"}],
            alarm_actions=[],
            treat_missing_data="notBreaching",
        )


def minute_of_data(backend: Any, count: int, minute: float) -> None:
    stamp = datetime.fromtimestamp(minute, UTC).replace(tzinfo=None)
    backend.put_metric_data(
        "AWS/Lambda",
        [
            {
                "MetricName": "Errors",
                "Value": float(number % 7),
                "Timestamp": stamp,
                "Dimensions": [{"Name": "FunctionName", "Value": f"fn-{number}"}],
            }
            for number in range(count)
        ],
    )


def read_store_once(backend: Any) -> float:
    return float(sum(datum.value for datum in backend.metric_data))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alarms", type=int, default=1000)
    parser.add_argument("--minutes", type=int, default=1440)
    parser.add_argument("--repeats", type=int, default=7)
    options = parser.parse_args()
    patch_moto()
    backend = cloudwatch_backends["123456789012"]["us-east-1"]
    start = (int(time.time()) // 86400 - 2) * 86400  # a whole day, aligned on minutes
    create_alarms(backend, options.alarms)
    print(f"storing {options.alarms} x {options.minutes} datapoints ...", flush=True)
    for minute in range(options.minutes):
        minute_of_data(backend, options.alarms, start + minute * 60)
    now = start + options.minutes * 60
    baseline = min(timed(lambda: read_store_once(backend)) for _ in range(3))
    indexing = timed(lambda: MetricIndex(backend).sync())
    first = timed(lambda: evaluate_backend(backend, now))
    states = {alarm.state_value for alarm in backend.alarms.values()}
    steady = []
    for repeat in range(options.repeats):
        minute_of_data(backend, options.alarms, now + repeat * 60)
        steady.append(timed(functools.partial(evaluate_backend, backend, now + (repeat + 1) * 60)))
    report(
        options,
        stored=len(backend.metric_data),
        baseline=baseline,
        indexing=indexing,
        first=first,
        steady=steady,
        states=states,
    )


def report(
    options: argparse.Namespace,
    *,
    stored: int,
    baseline: float,
    indexing: float,
    first: float,
    steady: list[float],
    states: set[str],
) -> None:
    print(f"{options.alarms} alarms, {stored:,} datapoints stored; alarm states after: {states}")
    rows = [
        ("baseline: read every datapoint of the store once", baseline),
        ("(index the whole store from scratch, as writes do)", indexing),
        (f"first tick ({options.alarms:,} alarms change state)", first),
        (f"steady tick, min of {len(steady)}", min(steady)),
        (f"steady tick, median of {len(steady)}", statistics.median(steady)),
    ]
    for label, seconds in rows:
        print(f"{label:<52} {seconds * 1000:9.1f} ms  {seconds / baseline:6.2f}x baseline")


if __name__ == "__main__":
    main()
