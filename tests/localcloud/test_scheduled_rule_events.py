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


RULE_TEMPLATE = {
    "Parameters": {"Rate": {"Type": "String"}, "QueueArn": {"Type": "String"}},
    "Resources": {
        "Schedule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "ScheduleExpression": {"Ref": "Rate"},
                "Targets": [{"Id": "q", "Arn": {"Ref": "QueueArn"}}],
            },
        }
    },
    "Outputs": {"RuleArn": {"Value": {"Fn::GetAtt": ["Schedule", "Arn"]}}},
}


def test_a_new_schedule_updates_the_rule_in_place_keeping_its_name_and_targets(
    local_endpoint: str, localcloud: LocalCloud
) -> None:
    """As on AWS (ScheduleExpression: update with no interruption): what names the rule, such
    as a function's invoke permission, keeps working after the schedule changes."""
    cfn, events, sqs = (_client(local_endpoint, s) for s in ("cloudformation", "events", "sqs"))
    queue_url = sqs.create_queue(QueueName="ticks")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]

    def deploy(rate: str, action: Any) -> str:
        parameters = [
            {"ParameterKey": "Rate", "ParameterValue": rate},
            {"ParameterKey": "QueueArn", "ParameterValue": queue_arn},
        ]
        action(StackName="sched", TemplateBody=json.dumps(RULE_TEMPLATE), Parameters=parameters)
        outputs = cfn.describe_stacks(StackName="sched")["Stacks"][0]["Outputs"]
        return str(outputs[0]["OutputValue"])

    created = deploy("rate(5 minutes)", cfn.create_stack)
    updated = deploy("rate(1 minute)", cfn.update_stack)
    assert updated == created
    name = created.rsplit("/", 1)[1]
    assert events.describe_rule(Name=name)["ScheduleExpression"] == "rate(1 minute)"
    assert [t["Id"] for t in events.list_targets_by_rule(Rule=name)["Targets"]] == ["q"]
    localcloud.advance(60)
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    assert len(messages) == 1
