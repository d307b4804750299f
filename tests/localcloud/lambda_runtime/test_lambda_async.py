"""Asynchronous invocation: the queue on the clock, retries, event age, destinations, drops."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from localcloud import LocalCloud
from localcloud.lambda_runtime import DeliveryDenied, FunctionNotFound, dropped_events, invoke_async
from tests.localcloud.lambda_runtime.functions import (
    log_messages,
    metric_sum,
    queue_bodies,
)

FAILS = "def handler(event, context):\n    raise RuntimeError('always fails: ' + str(event))\n"
WORKS = "def handler(event, context):\n    print('handled', event)\n    return {'ok': True}\n"


def _starts(aws: Callable[[str], Any], name: str) -> int:
    return sum(message.startswith("START RequestId") for message in log_messages(aws, name))


def _queue(aws: Callable[[str], Any], name: str) -> tuple[str, str]:
    url = aws("sqs").create_queue(QueueName=name)["QueueUrl"]
    arn = aws("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return url, arn["Attributes"]["QueueArn"]


def test_an_event_invocation_is_queued_until_the_clock_runs(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    create_function("later", WORKS)

    answer = aws("lambda").invoke(FunctionName="later", InvocationType="Event", Payload=b"{}")

    assert answer["StatusCode"] == 202
    assert _starts(aws, "later") == 0
    localcloud.advance(0)
    assert _starts(aws, "later") == 1
    assert any("handled {}" in message for message in log_messages(aws, "later"))


def test_a_failing_event_is_retried_twice_then_sent_to_the_on_failure_queue(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    create_function("flaky", FAILS)
    url, arn = _queue(aws, "flaky-failures")
    aws("lambda").put_function_event_invoke_config(
        FunctionName="flaky", DestinationConfig={"OnFailure": {"Destination": arn}}
    )
    aws("lambda").invoke(FunctionName="flaky", InvocationType="Event", Payload=b'{"n": 7}')

    localcloud.advance(0)
    assert _starts(aws, "flaky") == 1
    localcloud.advance(59)
    assert _starts(aws, "flaky") == 1
    localcloud.advance(1)
    assert _starts(aws, "flaky") == 2
    localcloud.advance(119)
    assert (_starts(aws, "flaky"), queue_bodies(aws, url)) == (2, [])
    localcloud.advance(1)
    assert _starts(aws, "flaky") == 3

    [record] = queue_bodies(aws, url)
    assert record["version"] == "1.0"
    context = record["requestContext"]
    assert context["condition"] == "RetriesExhausted"
    assert context["approximateInvokeCount"] == 3
    assert context["functionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:flaky:$LATEST"
    assert record["requestPayload"] == {"n": 7}
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["timestamp"].endswith("Z")
    dimensions = {"FunctionName": "flaky"}
    assert metric_sum(aws, "AsyncEventsDropped", dimensions, localcloud.now()) == 1
    assert metric_sum(aws, "Errors", dimensions, localcloud.now()) == 3


def test_maximum_retry_attempts_zero_gives_up_after_the_first_failure(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    create_function("once", FAILS)
    url, arn = _queue(aws, "once-failures")
    aws("lambda").put_function_event_invoke_config(
        FunctionName="once",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": arn}},
    )
    aws("lambda").invoke(FunctionName="once", InvocationType="Event", Payload=b"{}")

    localcloud.advance(0)

    [record] = queue_bodies(aws, url)
    assert record["requestContext"]["approximateInvokeCount"] == 1
    localcloud.advance(600)
    assert _starts(aws, "once") == 1


def test_a_success_goes_to_the_on_success_destination(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    create_function("fine", WORKS)
    url, arn = _queue(aws, "fine-successes")
    aws("lambda").put_function_event_invoke_config(
        FunctionName="fine", DestinationConfig={"OnSuccess": {"Destination": arn}}
    )
    aws("lambda").invoke(FunctionName="fine", InvocationType="Event", Payload=b'{"a": 1}')

    localcloud.advance(0)

    [record] = queue_bodies(aws, url)
    assert record["requestContext"]["condition"] == "Success"
    assert record["responsePayload"] == {"ok": True}
    assert "functionError" not in record["responseContext"]


def test_an_event_older_than_its_maximum_age_is_dropped_as_event_age_exceeded(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    create_function("busy", WORKS)
    aws("lambda").put_function_concurrency(FunctionName="busy", ReservedConcurrentExecutions=0)
    url, arn = _queue(aws, "busy-failures")
    aws("lambda").put_function_event_invoke_config(
        FunctionName="busy",
        MaximumEventAgeInSeconds=60,
        DestinationConfig={"OnFailure": {"Destination": arn}},
    )
    aws("lambda").invoke(FunctionName="busy", InvocationType="Event", Payload=b'{"late": 1}')

    localcloud.advance(30)
    assert queue_bodies(aws, url) == []  # throttled, waiting: not a failure yet
    localcloud.advance(300)

    [record] = queue_bodies(aws, url)
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert record["requestPayload"] == {"late": 1}
    assert _starts(aws, "busy") == 0
    assert metric_sum(aws, "Throttles", {"FunctionName": "busy"}, localcloud.now()) >= 2
    [dropped] = [d for d in dropped_events() if d.function_arn.endswith(":busy")]
    assert dropped.reason == "EventAgeExceeded"
    assert dropped.destination == arn


def test_a_failed_destination_delivery_is_counted_and_recorded(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    create_function("nowhere", FAILS)
    missing = "arn:aws:sqs:us-east-1:123456789012:no-such-queue"
    aws("lambda").put_function_event_invoke_config(
        FunctionName="nowhere",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": missing}},
    )
    aws("lambda").invoke(FunctionName="nowhere", InvocationType="Event", Payload=b"{}")

    localcloud.advance(0)

    dims = {"FunctionName": "nowhere"}
    assert metric_sum(aws, "DestinationDeliveryFailures", dims, localcloud.now()) == 1
    [dropped] = [d for d in dropped_events() if d.function_arn.endswith(":nowhere")]
    assert dropped.destination == missing
    assert dropped.destination_error


def test_without_a_destination_a_dropped_event_is_still_recorded(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    create_function("lost", FAILS)
    aws("lambda").put_function_event_invoke_config(FunctionName="lost", MaximumRetryAttempts=0)
    aws("lambda").invoke(FunctionName="lost", InvocationType="Event", Payload=b'{"keep": 1}')

    localcloud.advance(0)

    [dropped] = [d for d in dropped_events() if d.function_arn.endswith(":lost")]
    assert dropped.reason == "RetriesExhausted"
    assert json.loads(dropped.payload) == {"keep": 1}
    assert metric_sum(aws, "AsyncEventsDropped", {"FunctionName": "lost"}, localcloud.now()) == 1


def test_sns_and_lambda_destinations_receive_the_record(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    create_function("origin", FAILS)
    recorder = (
        "import boto3, json\n"
        "def handler(event, context):\n"
        "    body = json.dumps(event)\n"
        "    boto3.client('sqs').send_message(QueueUrl=event_queue(), MessageBody=body)\n"
        "def event_queue():\n"
        "    return boto3.client('sqs').get_queue_url(QueueName='recorded')['QueueUrl']\n"
    )
    create_function("recorder", recorder)
    recorded_url, _ = _queue(aws, "recorded")
    topic = aws("sns").create_topic(Name="failures")["TopicArn"]
    topic_url, topic_queue = _queue(aws, "topic-copy")
    aws("sns").subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=topic_queue,
        Attributes={"RawMessageDelivery": "true"},
    )
    recorder_arn = aws("lambda").get_function(FunctionName="recorder")["Configuration"][
        "FunctionArn"
    ]
    aws("lambda").put_function_event_invoke_config(
        FunctionName="origin",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": recorder_arn}},
    )
    aws("lambda").invoke(FunctionName="origin", InvocationType="Event", Payload=b'{"to": "fn"}')
    localcloud.advance(0)
    aws("lambda").put_function_event_invoke_config(
        FunctionName="origin",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": topic}},
    )
    aws("lambda").invoke(FunctionName="origin", InvocationType="Event", Payload=b'{"to": "sns"}')
    localcloud.advance(0)

    [via_lambda] = queue_bodies(aws, recorded_url)
    [via_sns] = queue_bodies(aws, topic_url)
    assert via_lambda["requestPayload"] == {"to": "fn"}
    assert via_sns["requestPayload"] == {"to": "sns"}
    assert via_sns["requestContext"]["condition"] == "RetriesExhausted"


def test_invoke_async_checks_the_resource_policy_of_a_service_principal(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    create_function("guarded", WORKS)
    topic = "arn:aws:sns:us-east-1:123456789012:alerts"
    args = ("123456789012", "us-east-1", "guarded", b'{"from": "sns"}')

    with pytest.raises(DeliveryDenied, match=r"sns\.amazonaws\.com"):
        invoke_async(*args, principal="sns.amazonaws.com", source_arn=topic)

    aws("lambda").add_permission(
        FunctionName="guarded",
        StatementId="sns",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn=topic,
    )
    with pytest.raises(DeliveryDenied):
        invoke_async(*args, principal="sns.amazonaws.com", source_arn=topic + "-other")
    with pytest.raises(DeliveryDenied):
        invoke_async(*args, principal="events.amazonaws.com", source_arn=topic)

    request_id = invoke_async(*args, principal="sns.amazonaws.com", source_arn=topic)
    localcloud.advance(0)
    assert any(request_id in message for message in log_messages(aws, "guarded"))


def test_invoke_async_without_a_principal_is_a_same_account_caller(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    create_function("direct", WORKS)
    arn = "arn:aws:lambda:us-east-1:123456789012:function:direct"

    request_id = invoke_async(
        "123456789012", "us-east-1", arn, b"{}", principal=None, source_arn=None
    )
    localcloud.advance(0)

    assert any(request_id in message for message in log_messages(aws, "direct"))


def test_an_event_bus_destination_gets_the_record_as_a_lambda_result_event(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    create_function("to-bus", FAILS)
    url, queue_arn = _queue(aws, "bus-copy")
    aws("events").put_rule(Name="lambda-results", EventPattern=json.dumps({"source": ["lambda"]}))
    aws("events").put_targets(Rule="lambda-results", Targets=[{"Id": "q", "Arn": queue_arn}])
    bus = "arn:aws:events:us-east-1:123456789012:event-bus/default"
    aws("lambda").put_function_event_invoke_config(
        FunctionName="to-bus",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": bus}},
    )
    aws("lambda").invoke(FunctionName="to-bus", InvocationType="Event", Payload=b'{"b": 1}')

    localcloud.advance(0)

    [event] = queue_bodies(aws, url)
    assert event["source"] == "lambda"
    assert event["detail-type"] == "Lambda Function Invocation Result - Failure"
    assert event["detail"]["requestPayload"] == {"b": 1}


def test_invoke_async_of_a_missing_function_is_function_not_found(local_endpoint: str) -> None:
    with pytest.raises(FunctionNotFound, match="no function ghost"):
        invoke_async("123456789012", "us-east-1", "ghost", b"{}", principal=None, source_arn=None)


def test_an_event_for_an_unsupported_runtime_is_dropped_and_recorded(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    create_function(
        "node-async",
        "",
        handler="index.handler",
        Runtime="nodejs20.x",
        files={"index.js": "exports.handler = async () => 1;"},
    )

    aws("lambda").invoke(FunctionName="node-async", InvocationType="Event", Payload=b"{}")
    localcloud.advance(0)

    [dropped] = [d for d in dropped_events() if d.function_arn.endswith(":node-async")]
    assert "nodejs20.x" in dropped.reason
    dims = {"FunctionName": "node-async"}
    assert metric_sum(aws, "AsyncEventsDropped", dims, localcloud.now()) == 1


def test_an_event_for_a_function_deleted_meanwhile_is_recorded(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    create_function("gone", WORKS)
    aws("lambda").invoke(FunctionName="gone", InvocationType="Event", Payload=b"{}")
    aws("lambda").delete_function(FunctionName="gone")

    localcloud.advance(0)

    [dropped] = [d for d in dropped_events() if d.function_arn.endswith("gone")]
    assert dropped.reason.startswith("function not found")


def test_source_account_and_wildcard_source_arn_conditions_are_evaluated(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    create_function("logs-target", WORKS)
    aws("lambda").add_permission(
        FunctionName="logs-target",
        StatementId="logs",
        Action="lambda:InvokeFunction",
        Principal="logs.amazonaws.com",
        SourceArn="arn:aws:logs:us-east-1:123456789012:log-group:/app/*",
        SourceAccount="123456789012",
    )
    base = ("123456789012", "us-east-1", "logs-target", b"{}")
    group = "arn:aws:logs:us-east-1:123456789012:log-group:/app/orders:*"

    with pytest.raises(DeliveryDenied):
        invoke_async(*base, principal="logs.amazonaws.com", source_arn=group)  # no account
    with pytest.raises(DeliveryDenied):
        invoke_async(
            *base, principal="logs.amazonaws.com", source_arn=group, source_account="999999999999"
        )
    with pytest.raises(DeliveryDenied):
        invoke_async(
            *base,
            principal="logs.amazonaws.com",
            source_arn="arn:aws:logs:us-east-1:123456789012:log-group:/other:*",
            source_account="123456789012",
        )
    invoke_async(
        *base, principal="logs.amazonaws.com", source_arn=group, source_account="123456789012"
    )
