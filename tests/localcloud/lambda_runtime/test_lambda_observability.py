"""What an invocation leaves behind: CloudWatch Logs, AWS/Lambda metrics, EMF custom metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localcloud import LocalCloud
from tests.localcloud.lambda_runtime.functions import (
    invoke_json,
    log_messages,
    metric_sum,
    queue_bodies,
)

PRINTS = """
import logging
logging.getLogger().setLevel(logging.INFO)
print("init output")
def handler(event, context):
    print("line one")
    logging.getLogger("app").info("via logging")
    if event.get("fail"):
        raise KeyError("missing")
    return "done"
"""


def test_output_and_start_end_report_go_to_the_functions_log_group(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    create_function("logger", PRINTS, MemorySize=192)

    answer = invoke_json(aws, "logger")

    request_id = answer["ResponseMetadata"]["RequestId"]
    streams = aws("logs").describe_log_streams(logGroupName="/aws/lambda/logger")["logStreams"]
    assert len(streams) == 1
    assert "/[$LATEST]" in streams[0]["logStreamName"]
    messages = log_messages(aws, "logger")
    assert messages[0] == "init output"
    assert messages[1] == f"START RequestId: {request_id} Version: $LATEST"
    assert messages[2] == "line one"
    assert messages[3].startswith("[INFO]\t") and messages[3].endswith(
        f"\t{request_id}\tvia logging"
    )
    assert messages[4] == f"END RequestId: {request_id}"
    report = messages[5].split("\t")
    assert report[0] == f"REPORT RequestId: {request_id}"
    assert report[3] == "Memory Size: 192 MB"
    assert report[-1].startswith("Init Duration: ")


def test_an_unhandled_error_is_one_log_event_with_its_traceback(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    create_function("tb", PRINTS)

    invoke_json(aws, "tb", {"fail": True})

    [error] = [m for m in log_messages(aws, "tb") if m.startswith("[ERROR]")]
    assert error.startswith("[ERROR] KeyError: 'missing'\nTraceback (most recent call last):")
    assert 'raise KeyError("missing")' in error


def test_a_logging_record_is_one_event_and_each_printed_line_its_own(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    source = (
        "import logging\n"
        "def handler(event, context):\n"
        "    print('first\\n  indented second')\n"
        "    logging.getLogger().warning('record line 1\\nrecord line 2')\n"
    )
    create_function("lines", source)

    invoke_json(aws, "lines")

    messages = log_messages(aws, "lines")
    assert "first" in messages
    assert "  indented second" in messages
    [record] = [m for m in messages if m.startswith("[WARNING]")]
    assert record.endswith("record line 1\nrecord line 2")


def test_every_invocation_records_aws_lambda_metrics(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    create_function("measured", PRINTS)

    invoke_json(aws, "measured")
    invoke_json(aws, "measured", {"fail": True})
    invoke_json(aws, "measured")

    now = localcloud.now()
    dims = {"FunctionName": "measured"}
    assert metric_sum(aws, "Invocations", dims, now) == 3
    assert metric_sum(aws, "Errors", dims, now) == 1
    assert metric_sum(aws, "ConcurrentExecutions", dims, now) == 3  # one at a time
    durations = aws("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="Duration",
        Dimensions=[{"Name": "FunctionName", "Value": "measured"}],
        StartTime=now - 3600,
        EndTime=now + 60,
        Period=3600,
        Statistics=["SampleCount", "Minimum"],
    )["Datapoints"]
    assert durations[0]["SampleCount"] == 3
    assert durations[0]["Minimum"] > 0
    assert durations[0]["Unit"] == "Milliseconds"


def test_a_qualified_invocation_also_records_the_resource_dimension(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    create_function("versioned", PRINTS)
    version = aws("lambda").publish_version(FunctionName="versioned")["Version"]

    answer = invoke_json(aws, "versioned", Qualifier=version)

    assert answer["ExecutedVersion"] == version
    dims = {"FunctionName": "versioned", "Resource": f"versioned:{version}"}
    assert metric_sum(aws, "Invocations", dims, localcloud.now()) == 1


EMF = """
import json
def handler(event, context):
    print(json.dumps({
        "_aws": {
            "Timestamp": event["at"],
            "CloudWatchMetrics": [{
                "Namespace": "OnCall/Tools",
                "Dimensions": [["Service"], ["Service", "Environment"]],
                "Metrics": [
                    {"Name": "AlertsSent", "Unit": "Count"},
                    {"Name": "Latency", "Unit": "Milliseconds"},
                ],
            }],
        },
        "Service": "alerts",
        "Environment": "dev",
        "AlertsSent": 2,
        "Latency": [10, 30],
    }))
    print('{"_aws": {"CloudWatchMetrics": [{"Namespace": "Bad", "Metrics": [{"Name": "X"}]}]}}')
    print("{not json")
    return "ok"
"""


def test_embedded_metric_format_lines_become_custom_metrics(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    create_function("emf", EMF)
    now = localcloud.now()

    invoke_json(aws, "emf", {"at": int(now * 1000)})

    service = {"Service": "alerts"}
    both = {"Service": "alerts", "Environment": "dev"}
    assert metric_sum(aws, "AlertsSent", service, now, "OnCall/Tools") >= 2
    listed = aws("cloudwatch").list_metrics(Namespace="OnCall/Tools")["Metrics"]
    dimension_sets = {
        (m["MetricName"], tuple(sorted(d["Name"] for d in m["Dimensions"]))) for m in listed
    }
    assert dimension_sets == {
        ("AlertsSent", ("Service",)),
        ("AlertsSent", ("Environment", "Service")),
        ("Latency", ("Service",)),
        ("Latency", ("Environment", "Service")),
    }
    latency = aws("cloudwatch").get_metric_statistics(
        Namespace="OnCall/Tools",
        MetricName="Latency",
        Dimensions=[{"Name": k, "Value": v} for k, v in both.items()],
        StartTime=now - 60,
        EndTime=now + 60,
        Period=60,
        Statistics=["SampleCount", "Maximum"],
    )["Datapoints"]
    assert (latency[0]["SampleCount"], latency[0]["Maximum"]) == (2, 30)
    assert aws("cloudwatch").list_metrics(Namespace="Bad")["Metrics"] == []
    assert any(m.startswith("{not json") for m in log_messages(aws, "emf"))


RECORDER = """
import base64, boto3, gzip, json
def handler(event, context):
    data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    queue = boto3.client("sqs").get_queue_url(QueueName="seen-logs")["QueueUrl"]
    boto3.client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(data))
"""


def test_subscription_filters_on_the_log_group_see_the_functions_output(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    create_function("talker", "def handler(event, context):\n    print('watch me')\n")
    create_function("listener", RECORDER)
    queue = aws("sqs").create_queue(QueueName="seen-logs")["QueueUrl"]
    listener = aws("lambda").get_function(FunctionName="listener")["Configuration"]["FunctionArn"]
    aws("logs").create_log_group(logGroupName="/aws/lambda/talker")
    aws("lambda").add_permission(  # CloudWatch Logs delivers only where the policy allows it
        FunctionName="listener",
        StatementId="logs",
        Action="lambda:InvokeFunction",
        Principal="logs.amazonaws.com",
        SourceArn="arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/talker:*",
    )
    aws("logs").put_subscription_filter(
        logGroupName="/aws/lambda/talker",
        filterName="all",
        filterPattern="",
        destinationArn=listener,
    )

    invoke_json(aws, "talker")
    localcloud.advance(0)

    bodies = queue_bodies(aws, queue)
    seen = [event["message"] for body in bodies for event in body["logEvents"]]
    assert "watch me" in seen
    assert any(message.startswith("REPORT RequestId") for message in seen)
    assert {body["logGroup"] for body in bodies} == {"/aws/lambda/talker"}


def test_an_emf_directive_over_100_metrics_is_invalid_and_yields_nothing(
    aws: Callable[[str], Any], create_function: Callable[..., str], localcloud: LocalCloud
) -> None:
    source = """
import json
def handler(event, context):
    names = [f"M{i}" for i in range(event["count"])]
    document = {n: 1 for n in names}
    document["_aws"] = {"CloudWatchMetrics": [{
        "Namespace": event["namespace"], "Dimensions": [[]],
        "Metrics": [{"Name": n} for n in names]}]}
    print(json.dumps(document))
"""
    create_function("many", source)

    invoke_json(aws, "many", {"count": 101, "namespace": "TooMany"})
    invoke_json(aws, "many", {"count": 100, "namespace": "Enough"})

    assert aws("cloudwatch").list_metrics(Namespace="TooMany")["Metrics"] == []
    listed = aws("cloudwatch").get_paginator("list_metrics").paginate(Namespace="Enough")
    assert sum(len(page["Metrics"]) for page in listed) == 100
