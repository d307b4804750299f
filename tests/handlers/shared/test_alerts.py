"""oncall_shared.alerts: SNS subject and size limits, checked through moto (SNS -> SQS)."""

from __future__ import annotations

import json

import boto3
import pytest
from oncall_shared import alerts
from oncall_shared.errors import OncallError


def _topic_and_queue() -> tuple[str, str]:
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="t")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="q")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return topic, queue_url


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("ALARM: disk", "ALARM: disk"),
        ("Café\nline two\tend", "Caf? line two end"),
        ("   ", "On-call alert"),
        ("x" * 150, "x" * 96 + "..."),
    ],
)
def test_safe_subject(subject, expected):
    clean = alerts.safe_subject(subject)
    assert clean == expected
    assert len(clean) < 100 and clean.isascii() and clean.isprintable()


def test_truncate_utf8_never_splits_a_character():
    text = "é" * 100  # 2 bytes each
    cut = alerts.truncate_utf8(text, 51, marker="")
    assert cut == "é" * 25 and len(cut.encode()) <= 51
    assert alerts.truncate_utf8("short", 10) == "short"
    with pytest.raises(OncallError, match="max_bytes=3"):
        alerts.truncate_utf8("long text here", 3)


def test_publish_alert_fits_sns_limits(aws_env):
    topic, queue_url = _topic_and_queue()
    huge = "ü" * 200_000  # 400 KB of UTF-8

    alerts.publish_alert(topic, "ALARM: ünïcode subject\nwith newline", huge)

    [message] = boto3.client("sqs").receive_message(QueueUrl=queue_url)["Messages"]
    body = json.loads(message["Body"])
    assert body["Subject"] == "ALARM: ?n?code subject with newline"
    assert len(body["Message"].encode("utf-8")) <= alerts.MAX_PUBLISH_BYTES - 1024
    assert body["Message"].endswith(alerts.TRUNCATION_MARKER)


def test_publish_alert_needs_a_topic(aws_env):
    with pytest.raises(OncallError, match="no SNS topic"):
        alerts.publish_alert("", "s", "m")
