"""AWS/Lambda metrics into moto's CloudWatch backend, stamped with the local clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..clock import CLOCK

NAMESPACE = "AWS/Lambda"


def naive_utc(epoch_seconds: float) -> datetime:
    """moto's CloudWatch keeps timestamps as naive UTC (as PutMetricData stores them)."""
    return datetime.fromtimestamp(epoch_seconds, UTC).replace(tzinfo=None)


def clock_timestamp() -> datetime:
    return naive_utc(CLOCK.now())


def function_dimension_sets(
    function_name: str, qualifier: str | None
) -> list[list[dict[str, str]]]:
    """FunctionName always; FunctionName+Resource too when a version or alias was invoked."""
    sets = [[{"Name": "FunctionName", "Value": function_name}]]
    if qualifier and qualifier != "$LATEST":
        sets.append(
            [
                {"Name": "FunctionName", "Value": function_name},
                {"Name": "Resource", "Value": f"{function_name}:{qualifier}"},
            ]
        )
    return sets


def put_metrics(account_id: str, region: str, namespace: str, data: list[dict[str, Any]]) -> None:
    from moto.cloudwatch.models import cloudwatch_backends

    if data:
        cloudwatch_backends[account_id][region].put_metric_data(namespace, data)


def put_function_metrics(
    function: Any, qualifier: str | None, values: dict[str, tuple[float, str]]
) -> None:
    """One datum per metric name (value, unit) and dimension set of the function."""
    timestamp = clock_timestamp()
    data = [
        {
            "MetricName": name,
            "Value": value,
            "Unit": unit,
            "Timestamp": timestamp,
            "Dimensions": dimensions,
        }
        for name, (value, unit) in values.items()
        for dimensions in function_dimension_sets(function.function_name, qualifier)
    ]
    put_metrics(function.account_id, function.region, NAMESPACE, data)
