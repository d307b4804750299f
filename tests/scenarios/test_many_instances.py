"""Many instances of one tool side by side: three health checkers (the default one and two named
ones) and two named alert handlers, launched through Service Catalog in one account, region and
environment, each alarming to its own on-call topic.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from portfolio.aws import AwsClients
from portfolio.launch import LaunchResult
from portfolio.workflow import BuiltCatalog, run_launch

ENVIRONMENT = "dev"
# (tool, instance): None is the default instance, whose names are the single-instance ones.
LAUNCHES = [
    ("health-checker", None),
    ("health-checker", "payments"),
    ("health-checker", "search-api"),
    ("alert-handler", "team-a"),
    ("alert-handler", "team-b"),
]


@dataclass(frozen=True)
class Instance:
    tool: str
    instance: str | None
    result: LaunchResult
    queue_url: str  # an SQS queue subscribed to the instance's own on-call topic

    @property
    def label(self) -> str:
        return f"{self.tool}-{self.instance or 'default'}"


@pytest.fixture
def instances(
    published: tuple[BuiltCatalog, AwsClients], aws: Callable[[str], Any]
) -> list[Instance]:
    prepared, clients = published
    launched = []
    for tool, instance in LAUNCHES:
        topic_arn, queue_url = _observed_topic(aws, f"oncall-{tool}-{instance or 'default'}")
        result = run_launch(
            clients,
            prepared,
            tool,
            ENVIRONMENT,
            overrides={"AlertTopicArn": topic_arn},
            echo=lambda line: None,
            instance=instance,
        )
        launched.append(Instance(tool, instance, result, queue_url))
    return launched


def _observed_topic(aws: Callable[[str], Any], name: str) -> tuple[str, str]:
    """A topic and an SQS queue subscribed to it (allowed to receive from it, as on AWS)."""
    topic_arn = aws("sns").create_topic(Name=name)["TopicArn"]
    sqs = aws("sqs")
    queue_url = sqs.create_queue(QueueName=f"{name}-observer")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    aws("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return topic_arn, queue_url


def _alarm_names(launched: Instance) -> list[str]:
    return launched.result.outputs["AlarmNames"].split(",")


def _physical_ids(aws: Callable[[str], Any], launched: Instance) -> set[str]:
    stack = launched.result.stack_arn
    resources = aws("cloudformation").list_stack_resources(StackName=stack)
    # A Lambda permission has no physical id on the local cloud (a statement inside the
    # function's policy, which is distinct with the function).
    return {
        r["PhysicalResourceId"]
        for r in resources["StackResourceSummaries"]
        if r["ResourceType"] != "AWS::Lambda::Permission"
    }


def _alarm_messages(aws: Callable[[str], Any], queue_url: str) -> list[dict[str, Any]]:
    answer = aws("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [json.loads(json.loads(m["Body"])["Message"]) for m in answer.get("Messages", [])]


def test_every_instance_is_launched_with_its_own_names(
    instances: list[Instance], published: tuple[BuiltCatalog, AwsClients], aws: Callable[..., Any]
) -> None:
    sc = aws("servicecatalog")
    for launched in instances:
        record = sc.describe_record(Id=launched.result.record_id)["RecordDetail"]
        assert record["Status"] == "SUCCEEDED", (launched.label, record)
    names = {i.label: i.result.provisioned_product for i in instances}
    assert names == {
        "health-checker-default": "health-checker-dev",
        "health-checker-payments": "health-checker-payments-dev",
        "health-checker-search-api": "health-checker-search-api-dev",
        "alert-handler-team-a": "alert-handler-team-a-dev",
        "alert-handler-team-b": "alert-handler-team-b-dev",
    }
    functions = {i.label: i.result.outputs["FunctionName"] for i in instances}
    # The default instance keeps the single-instance names; a named one says its instance.
    assert functions["health-checker-default"] == "oncall-health-checker-dev"
    assert functions["health-checker-payments"] == "oncall-health-checker-payments-dev"
    assert functions["alert-handler-team-b"] == "oncall-alert-handler-team-b-dev"


def test_instances_share_no_resource(instances: list[Instance], aws: Callable[..., Any]) -> None:
    seen: dict[str, str] = {}
    for launched in instances:
        ids = _physical_ids(aws, launched)
        assert len(ids) > 10, (launched.label, ids)
        for physical_id in ids:
            assert physical_id not in seen, (physical_id, seen.get(physical_id), launched.label)
            seen[physical_id] = launched.label


def test_an_alarm_notifies_only_its_own_instance_topic(
    instances: list[Instance], aws: Callable[..., Any]
) -> None:
    payments = next(i for i in instances if i.instance == "payments")
    errors_alarm = "oncall-health-checker-payments-dev-errors"
    assert errors_alarm in _alarm_names(payments)
    aws("cloudwatch").set_alarm_state(
        AlarmName=errors_alarm, StateValue="ALARM", StateReason="many-instances test"
    )
    received = {i.label: _alarm_messages(aws, i.queue_url) for i in instances}
    assert [m["AlarmName"] for m in received.pop(payments.label)] == [errors_alarm]
    assert received == {label: [] for label in received}


def test_drill_and_dashboard_find_a_named_instance(
    instances: list[Instance], published: tuple[BuiltCatalog, AwsClients]
) -> None:
    from catalog.cli_context import DEFAULT_CONFIG
    from catalog.config import load_config
    from portfolio.dashboard_data import resolved_widgets
    from portfolio.drill_target import find_launched_tool

    _, clients = published
    launched = find_launched_tool(clients, "us-east-1", "health-checker", ENVIRONMENT, "payments")
    assert launched.name == "health-checker-payments-dev"
    assert launched.alarm_name == "oncall-health-checker-payments-dev-errors"
    widgets = resolved_widgets(load_config(DEFAULT_CONFIG), launched)
    alarms = {w.alarm_name for w in widgets if w.kind == "alarm"}
    assert "oncall-health-checker-payments-dev-errors" in alarms
    default = find_launched_tool(clients, "us-east-1", "health-checker", ENVIRONMENT)
    assert default.alarm_name == "oncall-health-checker-dev-errors"
