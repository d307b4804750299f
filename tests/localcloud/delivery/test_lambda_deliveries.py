"""Every service delivers to real functions through the runtime, and only where the function's
resource policy allows that service (and source)."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from typing import Any

import pytest

from localcloud.control import ControlClient

from .conftest import make_function

Advance = Callable[[float], float]
ACCOUNT = "123456789012"


@pytest.fixture
def recorder(aws: Callable[..., Any]) -> tuple[str, str]:
    """(function ARN, queue URL): a function that puts every event it gets on that queue."""
    url = aws("sqs").create_queue(QueueName="received")["QueueUrl"]
    return make_function(aws, "recorder", environment={"RECORD_QUEUE_URL": url}), url


def _received(aws: Callable[..., Any], url: str) -> list[Any]:
    answer = aws("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def _allow(aws: Callable[..., Any], principal: str, source_arn: str, **extra: str) -> None:
    aws("lambda").add_permission(
        FunctionName="recorder",
        StatementId=principal.split(".", maxsplit=1)[0],
        Action="lambda:InvokeFunction",
        Principal=principal,
        SourceArn=source_arn,
        **extra,
    )


def _denied(control: ControlClient, service: str) -> list[dict[str, Any]]:
    return [
        f
        for f in control.delivery_failures()
        if f["service"] == service and "DeliveryDenied" in f["reason"]
    ]


# -- SNS ----------------------------------------------------------------------------------


def _topic_to_function(aws: Callable[..., Any], function_arn: str) -> tuple[str, str]:
    sns = aws("sns")
    topic_arn = sns.create_topic(Name="alarms")["TopicArn"]
    answer = sns.subscribe(TopicArn=topic_arn, Protocol="lambda", Endpoint=function_arn)
    return topic_arn, answer["SubscriptionArn"]


def test_sns_invokes_a_permitted_function_with_the_sns_event(
    aws: Callable[..., Any], recorder: tuple[str, str], advance: Advance
) -> None:
    function_arn, url = recorder
    topic_arn, subscription_arn = _topic_to_function(aws, function_arn)
    _allow(aws, "sns.amazonaws.com", topic_arn)
    published = aws("sns").publish(
        TopicArn=topic_arn,
        Message='{"AlarmName": "errors"}',
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )
    assert _received(aws, url) == []  # asynchronous: a clock job
    advance(0)
    [event] = _received(aws, url)
    [record] = event["Records"]
    assert (record["EventSource"], record["EventVersion"]) == ("aws:sns", "1.0")
    assert record["EventSubscriptionArn"] == subscription_arn
    sns = record["Sns"]
    assert (sns["Type"], sns["MessageId"], sns["TopicArn"]) == (
        "Notification",
        published["MessageId"],
        topic_arn,
    )
    assert sns["Subject"] is None
    assert sns["Message"] == '{"AlarmName": "errors"}'
    assert sns["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
    assert set(sns) >= {
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertUrl",
        "UnsubscribeUrl",
    }


def test_sns_does_not_invoke_without_permission(
    aws: Callable[..., Any], recorder: tuple[str, str], advance: Advance, control: ControlClient
) -> None:
    function_arn, url = recorder
    topic_arn, _ = _topic_to_function(aws, function_arn)
    _allow(aws, "sns.amazonaws.com", topic_arn.replace("alarms", "another-topic"))
    aws("sns").publish(TopicArn=topic_arn, Message="m")
    advance(300)
    assert _received(aws, url) == []
    [failure] = _denied(control, "sns")
    assert (failure["source"], failure["target"]) == (topic_arn, function_arn)


# -- EventBridge --------------------------------------------------------------------------


def _scheduled_rule_to_function(aws: Callable[..., Any], function_arn: str) -> str:
    events = aws("events")
    rule_arn = str(events.put_rule(Name="every-5", ScheduleExpression="rate(5 minutes)")["RuleArn"])
    events.put_targets(Rule="every-5", Targets=[{"Id": "f", "Arn": function_arn}])
    return rule_arn


def test_a_schedule_invokes_a_permitted_function_with_the_scheduled_event(
    aws: Callable[..., Any], recorder: tuple[str, str], advance: Advance
) -> None:
    function_arn, url = recorder
    rule_arn = _scheduled_rule_to_function(aws, function_arn)
    _allow(aws, "events.amazonaws.com", rule_arn)
    advance(300)
    [event] = _received(aws, url)
    assert (event["detail-type"], event["source"], event["resources"]) == (
        "Scheduled Event",
        "aws.events",
        [rule_arn],
    )
    assert (event["account"], event["region"], event["detail"], event["version"]) == (
        ACCOUNT,
        "us-east-1",
        {},
        "0",
    )
    assert set(event) == {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }


def test_a_rule_does_not_invoke_without_permission(
    aws: Callable[..., Any], recorder: tuple[str, str], advance: Advance, control: ControlClient
) -> None:
    function_arn, url = recorder
    rule_arn = _scheduled_rule_to_function(aws, function_arn)
    _allow(aws, "sns.amazonaws.com", rule_arn)  # the wrong service
    advance(300)
    assert _received(aws, url) == []
    assert _denied(control, "events")[0]["source"] == rule_arn


def test_an_event_pattern_rule_invokes_the_function(
    aws: Callable[..., Any], recorder: tuple[str, str], advance: Advance
) -> None:
    function_arn, url = recorder
    events = aws("events")
    pattern = {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"]}
    rule_arn = events.put_rule(Name="alarms", EventPattern=json.dumps(pattern))["RuleArn"]
    events.put_targets(Rule="alarms", Targets=[{"Id": "f", "Arn": function_arn}])
    _allow(aws, "events.amazonaws.com", rule_arn)
    events.put_events(
        Entries=[
            {
                "Source": "aws.cloudwatch",
                "DetailType": "CloudWatch Alarm State Change",
                "Detail": json.dumps({"alarmName": "x", "state": {"value": "ALARM"}}),
            }
        ]
    )
    advance(0)
    [event] = _received(aws, url)
    assert event["detail"]["state"] == {"value": "ALARM"}


# -- CloudWatch Logs ----------------------------------------------------------------------


def _subscribed_group(aws: Callable[..., Any], function_arn: str, pattern: str) -> Any:
    logs = aws("logs")
    logs.create_log_group(logGroupName="/app/web")
    logs.create_log_stream(logGroupName="/app/web", logStreamName="i-1")
    logs.put_subscription_filter(
        logGroupName="/app/web",
        filterName="errors",
        filterPattern=pattern,
        destinationArn=function_arn,
    )
    return logs


def _put_lines(logs: Any, lines: list[str], now: float) -> None:
    logs.put_log_events(
        logGroupName="/app/web",
        logStreamName="i-1",
        logEvents=[
            {"timestamp": int(now * 1000) + i, "message": line} for i, line in enumerate(lines)
        ],
    )


def test_a_subscription_filter_sends_the_awslogs_payload(
    aws: Callable[..., Any], recorder: tuple[str, str], advance: Advance, localcloud: Any
) -> None:
    function_arn, url = recorder
    logs = _subscribed_group(aws, function_arn, "ERROR")
    _allow(
        aws,
        "logs.amazonaws.com",
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/app/web:*",
        SourceAccount=ACCOUNT,
    )
    now = localcloud.now()
    _put_lines(logs, ["INFO started", "ERROR disk full", "ERROR timeout"], now)
    advance(0)
    [event] = _received(aws, url)
    data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    assert (data["messageType"], data["owner"], data["logGroup"], data["logStream"]) == (
        "DATA_MESSAGE",
        ACCOUNT,
        "/app/web",
        "i-1",
    )
    assert data["subscriptionFilters"] == ["errors"]
    assert [e["message"] for e in data["logEvents"]] == ["ERROR disk full", "ERROR timeout"]
    assert data["logEvents"][0]["timestamp"] == int(now * 1000) + 1
    assert all(isinstance(e["id"], str) for e in data["logEvents"])


def test_nothing_is_sent_when_no_event_matches(
    aws: Callable[..., Any], recorder: tuple[str, str], advance: Advance, localcloud: Any
) -> None:
    function_arn, url = recorder
    logs = _subscribed_group(aws, function_arn, "ERROR")
    _allow(aws, "logs.amazonaws.com", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/app/web:*")
    _put_lines(logs, ["INFO fine"], localcloud.now())
    advance(0)
    assert _received(aws, url) == []


def test_logs_do_not_invoke_without_permission(
    aws: Callable[..., Any],
    recorder: tuple[str, str],
    advance: Advance,
    control: ControlClient,
    localcloud: Any,
) -> None:
    function_arn, url = recorder
    logs = _subscribed_group(aws, function_arn, "")
    _allow(aws, "logs.amazonaws.com", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/other:*")
    _put_lines(logs, ["ERROR x"], localcloud.now())
    advance(0)
    assert _received(aws, url) == []
    assert _denied(control, "logs")[0]["source"].endswith("log-group:/app/web:*")


# -- S3 -----------------------------------------------------------------------------------


def _bucket_to_function(aws: Callable[..., Any], function_arn: str) -> Any:
    s3 = aws("s3")
    s3.create_bucket(Bucket="uploads")
    s3.put_bucket_notification_configuration(
        Bucket="uploads",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": function_arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    return s3


def test_s3_invokes_a_permitted_function_with_the_s3_event(
    aws: Callable[..., Any], recorder: tuple[str, str], advance: Advance
) -> None:
    function_arn, url = recorder
    _allow(aws, "s3.amazonaws.com", "arn:aws:s3:::uploads", SourceAccount=ACCOUNT)
    s3 = _bucket_to_function(aws, function_arn)
    s3.put_object(Bucket="uploads", Key="logs/a b.gz", Body=b"data")
    advance(0)
    [event] = _received(aws, url)
    [record] = event["Records"]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["object"]["key"] == "logs/a+b.gz".replace("/", "%2F")


def test_s3_does_not_invoke_from_another_account(
    aws: Callable[..., Any], recorder: tuple[str, str], advance: Advance, control: ControlClient
) -> None:
    function_arn, url = recorder
    _allow(aws, "s3.amazonaws.com", "arn:aws:s3:::uploads", SourceAccount="999999999999")
    s3 = _bucket_to_function(aws, function_arn)
    s3.put_object(Bucket="uploads", Key="a.gz", Body=b"data")
    advance(0)
    assert _received(aws, url) == []
    assert _denied(control, "s3")[0]["source"] == "arn:aws:s3:::uploads"


def test_a_deleted_function_is_recorded_and_the_publish_still_succeeds(
    aws: Callable[..., Any], recorder: tuple[str, str], control: ControlClient
) -> None:
    function_arn, _ = recorder
    topic_arn, _ = _topic_to_function(aws, function_arn)
    aws("lambda").delete_function(FunctionName="recorder")
    assert aws("sns").publish(TopicArn=topic_arn, Message="m")["MessageId"]
    [failure] = control.delivery_failures()
    assert (failure["service"], failure["target"]) == ("sns", function_arn)
    assert "FunctionNotFound" in failure["reason"]
