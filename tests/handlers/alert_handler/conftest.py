"""alert_handler wired to moto (SNS -> SQS, DynamoDB, Secrets Manager) and real local webhooks."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

TOOL_DIR = Path(__file__).resolve().parents[3] / "handlers" / "alert_handler"
if str(TOOL_DIR) not in sys.path:  # unit tests import alert_channels / alert_severity directly
    sys.path.insert(0, str(TOOL_DIR))

REGION = (
    "eu-west-1"  # the fixtures' alarms live in eu-west-1 (their SNS "Region" says "EU (Ireland)")
)


@dataclass
class AlertStack:
    app: ModuleType | None
    topic_arn: str
    queue_url: str
    table: str
    slack: Any
    teams: Any
    pagerduty: Any
    secret_arns: dict[str, str]

    def load(self, load_handler: Callable[[str], ModuleType]) -> ModuleType:
        self.app = load_handler("alert_handler")
        return self.app

    def module(self, name: str) -> ModuleType:
        return sys.modules[name]

    def sns_messages(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs", region_name=REGION)
        found: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not batch:
                return found
            for message in batch:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def dedupe_items(self) -> list[dict[str, Any]]:
        return boto3.client("dynamodb", region_name=REGION).scan(TableName=self.table)["Items"]


def _topic_with_queue() -> tuple[str, str]:
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic_arn = sns.create_topic(Name="oncall-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="alert-copies")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return topic_arn, queue_url


def _dedupe_table() -> str:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName="alert-dedupe",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName="alert-dedupe",
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )
    return "alert-dedupe"


def _secret(name: str, value: dict[str, str]) -> str:
    secrets = boto3.client("secretsmanager", region_name=REGION)
    return str(secrets.create_secret(Name=name, SecretString=json.dumps(value))["ARN"])


@pytest.fixture
def alert_stack(
    aws_env: None, make_http_receiver: Any, monkeypatch: pytest.MonkeyPatch, no_sleep: list[float]
) -> AlertStack:
    """All channels on; env set; call ``stack.load(load_handler)`` after any env tweaks."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    topic_arn, queue_url = _topic_with_queue()
    slack, teams, pagerduty = make_http_receiver(), make_http_receiver(), make_http_receiver()
    arns = {
        "slack": _secret("oncall/slack", {"webhook_url": f"{slack.url}/services/T000/B000/XXXX"}),
        "teams": _secret(
            "oncall/teams",
            {"webhook_url": f"{teams.url}/workflows/abc/triggers/manual/paths/invoke"},
        ),
        "pagerduty": _secret(
            "oncall/pagerduty",
            {
                "routing_key": "R0UT1NGKEY0123456789012345678901",
                "events_url": f"{pagerduty.url}/v2/enqueue",
            },
        ),
    }
    pagerduty.default.status, pagerduty.default.body = (
        202,
        '{"status":"success","message":"Event processed"}',
    )
    teams.default.status = 202
    stack = AlertStack(None, topic_arn, queue_url, _dedupe_table(), slack, teams, pagerduty, arns)
    env = {
        "ALERT_TOPIC_ARN": topic_arn,
        "DEDUPE_TABLE": stack.table,
        "ENVIRONMENT": "prod",
        "POWERTOOLS_SERVICE_NAME": "alert_handler",
        "SLACK_SECRET_ARN": arns["slack"],
        "TEAMS_SECRET_ARN": arns["teams"],
        "PAGERDUTY_SECRET_ARN": arns["pagerduty"],
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("ROUTES", "DEFAULT_SEVERITY", "DEDUPE_TTL_HOURS"):
        monkeypatch.delenv(name, raising=False)
    return stack


@pytest.fixture
def tag_alarm(aws_env: None) -> Callable[[str, str], None]:
    """tag_alarm(arn, severity): create the alarm in moto with an oncall:severity tag."""
    return _tag_alarm


def _tag_alarm(arn: str, severity: str) -> None:
    name = arn.split(":alarm:", 1)[1]
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        MetricName="Errors",
        Namespace="AWS/Lambda",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        Tags=[{"Key": "oncall:severity", "Value": severity}],
    )
