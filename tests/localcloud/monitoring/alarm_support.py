"""Builders for the alarm tests: plain functions over real boto3 clients. Datapoints are
stamped with the local clock (`localcloud.now()`), never the wall clock."""

import json
from datetime import UTC, datetime
from typing import Any

from localcloud.server import LocalCloud

NAMESPACE = "OnCall/Test"


def clock_time(cloud: LocalCloud, seconds_ago: float = 0.0) -> datetime:
    return datetime.fromtimestamp(cloud.now() - seconds_ago, UTC)


def put_values(cw: Any, cloud: LocalCloud, *values: float, metric: str = "Errors") -> None:
    """Datapoints of `metric` stamped now on the local clock (all in the current minute)."""
    cw.put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {"MetricName": metric, "Value": value, "Timestamp": clock_time(cloud)}
            for value in values
        ],
    )


def put_alarm(cw: Any, name: str = "errors", **overrides: Any) -> None:
    """A Sum >= 5 alarm on one minute of OnCall/Test Errors; an override of None drops a key."""
    settings: dict[str, Any] = {
        "AlarmName": name,
        "Namespace": NAMESPACE,
        "MetricName": "Errors",
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 5.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    }
    settings.update(overrides)
    cw.put_metric_alarm(**{key: value for key, value in settings.items() if value is not None})


def alarm(cw: Any, name: str = "errors") -> dict[str, Any]:
    answer = cw.describe_alarms(AlarmNames=[name])
    found = answer["MetricAlarms"] + answer["CompositeAlarms"]
    assert len(found) == 1, f"alarm {name} not found exactly once: {found}"
    return dict(found[0])


def state(cw: Any, name: str = "errors") -> str:
    return str(alarm(cw, name)["StateValue"])


def reason_data(cw: Any, name: str = "errors") -> dict[str, Any]:
    return dict(json.loads(alarm(cw, name)["StateReasonData"]))


def topic_with_queue(sns: Any, sqs: Any, name: str = "oncall") -> tuple[str, str]:
    """An SNS topic whose subscriber is an SQS queue: (topic ARN, queue URL)."""
    topic = sns.create_topic(Name=name)["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"{name}-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return topic, queue_url


def received(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message body in the queue (JSON), removing them."""
    bodies: list[dict[str, Any]] = []
    while True:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        messages = answer.get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
