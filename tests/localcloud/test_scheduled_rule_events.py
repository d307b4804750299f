"""A rule with only a ScheduleExpression fires on its schedule and never for events put on the
bus (found by the health-checker scenario: every alarm state change invoked its schedule rule).

EventBridge: a rule has an event pattern, a schedule, or both; only a pattern matches events."""

from __future__ import annotations

import json
from typing import Any

import boto3

from localcloud.server import LocalCloud


def _client(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_a_scheduled_rule_ignores_events_put_on_the_bus(
    local_endpoint: str, localcloud: LocalCloud
) -> None:
    events, sqs = _client(local_endpoint, "events"), _client(local_endpoint, "sqs")
    queue_url = sqs.create_queue(QueueName="scheduled")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(Name="every-minute", ScheduleExpression="rate(1 minute)")
    events.put_targets(Rule="every-minute", Targets=[{"Id": "q", "Arn": queue_arn}])

    events.put_events(
        Entries=[{"Source": "app.orders", "DetailType": "Order Placed", "Detail": "{}"}]
    )
    localcloud.advance(0)
    assert sqs.receive_message(QueueUrl=queue_url).get("Messages", []) == []

    localcloud.advance(60)
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["detail-type"] for m in messages] == ["Scheduled Event"]
