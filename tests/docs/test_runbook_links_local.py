"""The notification a launched tool's alarm sends carries its runbook's link: the real catalog
published and launched on localcloud, the alarm's actions run, and the message the alert topic
delivered read back from an SQS subscription."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from catalog.cli_context import DEFAULT_CONFIG
from portfolio.aws import AwsClients, Target
from portfolio.drill_target import find_launched_tool
from portfolio.workflow import BuiltCatalog, prepare, run_bootstrap, run_launch, run_publish

REGION = "us-east-1"
RUNBOOKS = Path(__file__).resolve().parents[2] / "docs" / "runbooks"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltCatalog:
    return prepare(DEFAULT_CONFIG, tmp_path_factory.mktemp("runbooks") / "dist")


@pytest.fixture
def clients(local_endpoint: str, built: BuiltCatalog) -> AwsClients:
    clients = AwsClients(Target(endpoint_url=local_endpoint, region=REGION))
    run_bootstrap(clients, built, echo=lambda message: None)
    run_publish(clients, built, progress=lambda change: None)
    return clients


def _client(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _inbox(endpoint: str, topic_arn: str) -> str:
    """An SQS queue subscribed to TOPIC_ARN: what the on-call topic delivers lands there."""
    sqs, sns = _client(endpoint, "sqs"), _client(endpoint, "sns")
    queue_url = str(sqs.create_queue(QueueName="oncall-inbox")["QueueUrl"])
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
    return queue_url


def _delivered(endpoint: str, queue_url: str) -> list[dict[str, Any]]:
    messages = _client(endpoint, "sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    return [json.loads(json.loads(m["Body"])["Message"]) for m in messages.get("Messages", [])]


@pytest.mark.slow
def test_an_alarm_notification_carries_the_link_to_its_runbook(
    clients: AwsClients, built: BuiltCatalog, local_endpoint: str
) -> None:
    run_launch(clients, built, "health-checker", "dev", overrides={}, echo=lambda line: None)
    tool = find_launched_tool(clients, REGION, "health-checker", "dev")
    inbox = _inbox(local_endpoint, tool.outputs["AlertTopicArn"])
    cloudwatch = clients.client("cloudwatch", REGION)
    alarms = [f"{tool.function_name}-errors", f"{tool.function_name}-did-not-run"]
    for alarm in alarms:
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="runbook test")
    notifications = {body["AlarmName"]: body for body in _delivered(local_endpoint, inbox)}
    assert sorted(notifications) == sorted(alarms)
    base = built.config.runbook_base_url
    for alarm, runbook in zip(alarms, ("errors", "did-not-run"), strict=True):
        assert notifications[alarm]["NewStateValue"] == "ALARM"
        assert notifications[alarm]["AlarmDescription"].startswith("[dev] ")
        assert notifications[alarm]["AlarmDescription"].endswith(f" Runbook: {base}/{runbook}.md")
        assert (RUNBOOKS / f"{runbook}.md").is_file()
