"""log_processor wired to moto (SNS -> SQS to read alerts back, S3 for log objects)."""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest

TOOL_DIR = Path(__file__).resolve().parents[3] / "handlers" / "log_processor"
if str(TOOL_DIR) not in sys.path:  # unit tests import log_rules / log_scan directly
    sys.path.insert(0, str(TOOL_DIR))

REGION = "us-east-1"
BUCKET = "oncall-app-logs"
OWN_LOG_GROUP = "/aws/lambda/oncall-log-processor-prod"


@dataclass
class LogStack:
    topic_arn: str
    queue_url: str
    bucket: str

    def alerts(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs", region_name=REGION)
        found: list[dict[str, Any]] = []
        while batch := sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in batch:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return found

    def put_object(self, key: str, text: str, *, gzipped: bool = False) -> None:
        body = text.encode("utf-8")
        boto3.client("s3", region_name=REGION).put_object(
            Bucket=self.bucket, Key=key, Body=gzip.compress(body) if gzipped else body
        )


@pytest.fixture
def log_stack(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> LogStack:
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic_arn = sns.create_topic(Name="oncall-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="log-alert-copies")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=attributes["Attributes"]["QueueArn"])
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    monkeypatch.setenv("ALERT_TOPIC_ARN", topic_arn)
    monkeypatch.setenv("OWN_LOG_GROUP", OWN_LOG_GROUP)
    monkeypatch.setenv("ENVIRONMENT", "prod")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "log_processor")
    for name in ("RULES", "RULES_SSM_PARAMETER", "SAMPLE_LINES", "AWS_LAMBDA_FUNCTION_NAME"):
        monkeypatch.delenv(name, raising=False)
    return LogStack(topic_arn, queue_url, BUCKET)


@pytest.fixture
def processor(log_stack: LogStack, load_handler: Callable[[str], ModuleType]) -> ModuleType:
    """The handler with the stack's default settings (to tweak env, call load_handler yourself)."""
    return load_handler("log_processor")
