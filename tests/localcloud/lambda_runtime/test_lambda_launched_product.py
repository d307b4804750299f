"""The acceptance path: a tool launched through Service Catalog runs its real code on Invoke.

The log processor is built, published and launched as `python build.py publish/launch` do it;
its function is then invoked through the Lambda API with a CloudWatch Logs event, and its
asynchronous failures reach the dead-letter queue the product's EventInvokeConfig names.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from catalog.cli_context import DEFAULT_CONFIG
from localcloud import LocalCloud
from localcloud.lambda_runtime import DeliveryDenied, invoke_async
from portfolio.aws import AwsClients, Target
from portfolio.workflow import prepare, run_bootstrap, run_launch, run_publish
from tests.localcloud.lambda_runtime.functions import REGION, queue_bodies
from tests.support.aws import subscribe_inbox

pytestmark = pytest.mark.slow


def _logs_event(log_group: str, messages: list[str]) -> bytes:
    payload = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": log_group,
        "logStream": "2026/11/28/[$LATEST]0f1e2d3c",
        "subscriptionFilters": ["oncall-log-processor"],
        "logEvents": [
            {
                "id": str(36000000000000000000000000 + i),
                "timestamp": 1764320000000 + i,
                "message": m,
            }
            for i, m in enumerate(messages)
        ],
    }
    data = base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()
    return json.dumps({"awslogs": {"data": data}}).encode()


@pytest.fixture
def log_processor(local_endpoint: str, tmp_path: Path, aws: Callable[[str], Any]) -> dict[str, str]:
    """The log processor launched in dev through Service Catalog, watching /aws/app/checkout."""
    aws("logs").create_log_group(logGroupName="/aws/app/checkout")
    prepared = prepare(DEFAULT_CONFIG, tmp_path / "dist")
    clients = AwsClients(Target(endpoint_url=local_endpoint, region=REGION))
    run_bootstrap(clients, prepared, echo=lambda message: None)
    run_publish(clients, prepared, progress=lambda change: None)
    result = run_launch(
        clients,
        prepared,
        "log-processor",
        "dev",
        overrides={"LogGroupName": "/aws/app/checkout"},
        echo=lambda message: None,
    )
    return dict(result.outputs)


def test_invoking_the_launched_log_processor_runs_its_real_code(
    log_processor: dict[str, str], aws: Callable[[str], Any]
) -> None:
    inbox = subscribe_inbox(aws("sns"), aws("sqs"), log_processor["AlertTopicArn"], "inbox")
    lines = ["GET /health 200"] * 50 + [
        "ERROR payment declined for order 1234",
        "Traceback (most recent call last):",
        "ERROR payment declined for order 1235",
    ] * 3

    answer = aws("lambda").invoke(
        FunctionName=log_processor["FunctionName"],
        Payload=_logs_event("/aws/app/checkout", lines),
        LogType="Tail",
    )

    tail = base64.b64decode(answer["LogResult"]).decode()
    assert "FunctionError" not in answer, answer["Payload"].read() + tail.encode()
    assert "REPORT RequestId" in tail
    alerts = queue_bodies(aws, inbox)
    assert len(alerts) == 1, tail
    assert "/aws/app/checkout" in alerts[0]["Message"]
    group = log_processor["LogGroupName"]
    events = aws("logs").filter_log_events(logGroupName=group)["events"]
    assert any(e["message"].startswith("START RequestId") for e in events)


def test_the_launched_permission_lets_only_its_log_group_deliver(
    log_processor: dict[str, str], aws: Callable[[str], Any], localcloud: LocalCloud
) -> None:
    group_arn = "arn:aws:logs:us-east-1:123456789012:log-group:{}:*"
    delivery = {
        "principal": "logs.amazonaws.com",
        "source_account": "123456789012",
    }
    arn = log_processor["FunctionArn"]
    payload = _logs_event("/aws/app/checkout", ["GET / 200"])

    with pytest.raises(DeliveryDenied):
        invoke_async(
            "123456789012", REGION, arn, payload, source_arn=group_arn.format("/other"), **delivery
        )
    request_id = invoke_async(
        "123456789012",
        REGION,
        arn,
        payload,
        source_arn=group_arn.format("/aws/app/checkout"),
        **delivery,
    )
    localcloud.advance(0)

    events = aws("logs").filter_log_events(logGroupName=log_processor["LogGroupName"])["events"]
    assert any(f"END RequestId: {request_id}" == e["message"] for e in events)


def test_an_async_failure_of_the_launched_tool_lands_in_its_dead_letter_queue(
    log_processor: dict[str, str], aws: Callable[[str], Any], localcloud: LocalCloud
) -> None:
    name = log_processor["FunctionName"]
    config = aws("lambda").get_function_event_invoke_config(FunctionName=name)
    assert config["MaximumRetryAttempts"] == 2
    broken = json.dumps({"awslogs": {"data": "not base64 gzip"}}).encode()

    aws("lambda").invoke(FunctionName=name, InvocationType="Event", Payload=broken)
    localcloud.advance(0)
    localcloud.advance(60)
    assert queue_bodies(aws, log_processor["DeadLetterQueueUrl"]) == []
    localcloud.advance(120)

    [record] = queue_bodies(aws, log_processor["DeadLetterQueueUrl"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestPayload"] == {"awslogs": {"data": "not base64 gzip"}}
    assert record["responseContext"]["functionError"] == "Unhandled"
