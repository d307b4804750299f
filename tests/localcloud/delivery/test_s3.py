"""S3 event notifications: S3's record shape with URL-encoded keys, to SQS, SNS and EventBridge."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

from .test_events import _bodies, _queue


def _notifications(aws: Callable[..., Any], url: str) -> list[Any]:
    """What the queue got, without the s3:TestEvent S3 sends when notifications are set up."""
    return [body for body in _bodies(aws, url) if "s3:TestEvent" not in json.dumps(body)]


def _bucket_notifying(aws: Callable[..., Any], configuration: dict[str, Any]) -> Any:
    s3 = aws("s3")
    s3.create_bucket(Bucket="logs-bucket")
    s3.put_bucket_notification_configuration(
        Bucket="logs-bucket", NotificationConfiguration=configuration
    )
    return s3


def test_a_queue_gets_the_s3_record_with_the_key_url_encoded(
    aws: Callable[..., Any], localcloud: Any
) -> None:
    url, arn = _queue(aws, "s3-inbox")
    s3 = _bucket_notifying(
        aws,
        {
            "QueueConfigurations": [
                {"Id": "new-logs", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    s3.put_object(Bucket="logs-bucket", Key="app logs/2026+01.gz", Body=b"12345")
    [notification] = _notifications(aws, url)
    [record] = notification["Records"]
    assert (record["eventSource"], record["eventVersion"], record["eventName"]) == (
        "aws:s3",
        "2.1",
        "ObjectCreated:Put",
    )
    moment = datetime.datetime.fromtimestamp(localcloud.now(), tz=datetime.UTC)
    assert record["eventTime"].startswith(moment.strftime("%Y-%m-%dT%H:%M:%S"))
    assert record["s3"]["configurationId"] == "new-logs"
    assert record["s3"]["bucket"] == {
        "name": "logs-bucket",
        "ownerIdentity": {"principalId": "123456789012"},
        "arn": "arn:aws:s3:::logs-bucket",
    }
    assert record["s3"]["object"]["key"] == "app+logs%2F2026%2B01.gz"
    assert record["s3"]["object"]["size"] == 5
    assert set(record) >= {"userIdentity", "requestParameters", "responseElements"}


def test_a_topic_gets_the_record_as_an_s3_notification(aws: Callable[..., Any]) -> None:
    sns = aws("sns")
    topic_arn = sns.create_topic(Name="uploads")["TopicArn"]
    url, queue_arn = _queue(aws, "topic-inbox")
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    s3 = _bucket_notifying(
        aws, {"TopicConfigurations": [{"TopicArn": topic_arn, "Events": ["s3:ObjectCreated:*"]}]}
    )
    s3.put_object(Bucket="logs-bucket", Key="a.log", Body=b"x")
    [envelope] = _notifications(aws, url)
    assert envelope["Subject"] == "Amazon S3 Notification"
    assert json.loads(envelope["Message"])["Records"][0]["s3"]["object"]["key"] == "a.log"


def test_eventbridge_notifications_reach_the_log_processor_rule(aws: Callable[..., Any]) -> None:
    url, queue_arn = _queue(aws, "eb-inbox")
    events = aws("events")
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["logs-bucket"]}},
    }
    events.put_rule(Name="new-objects", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="new-objects", Targets=[{"Id": "q", "Arn": queue_arn}])
    s3 = _bucket_notifying(aws, {"EventBridgeConfiguration": {}})
    s3.put_object(Bucket="logs-bucket", Key="b.log", Body=b"x")
    [event] = _bodies(aws, url)
    assert (event["source"], event["detail-type"]) == ("aws.s3", "Object Created")
    assert event["detail"]["object"]["key"] == "b.log"
    assert event["resources"] == ["arn:aws:s3:::logs-bucket"]
