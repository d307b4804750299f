"""Helpers for the Lambda runtime tests: real zip packages and JSON invocations."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
REGION = "us-east-1"


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def invoke_json(aws: Callable[[str], Any], name: str, event: Any = None, **options: Any) -> Any:
    answer = aws("lambda").invoke(
        FunctionName=name, Payload=json.dumps(event if event is not None else {}), **options
    )
    answer["Body"] = json.loads(answer["Payload"].read() or b"null")
    return answer


def log_messages(aws: Callable[[str], Any], name: str) -> list[str]:
    """Every log event of the function's log group, oldest first."""
    group = f"/aws/lambda/{name}"
    if not aws("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        return []  # Lambda creates the group on the first invocation
    events = aws("logs").filter_log_events(logGroupName=group)["events"]
    return [str(event["message"]) for event in events]


def metric_sum(
    aws: Callable[[str], Any],
    metric: str,
    dimensions: dict[str, str],
    now: float,
    namespace: str = "AWS/Lambda",
) -> float:
    """Sum of a metric's data over the last day up to `now` (the local clock)."""
    from datetime import UTC, datetime, timedelta

    end = datetime.fromtimestamp(now, UTC) + timedelta(minutes=1)
    answer = aws("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=end - timedelta(days=1),
        EndTime=end,
        Period=86400,
        Statistics=["Sum"],
    )
    return float(sum(point["Sum"] for point in answer["Datapoints"]))


def queue_bodies(aws: Callable[[str], Any], queue_url: str) -> list[Any]:
    answer = aws("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in answer.get("Messages", [])]
