"""Destinations of asynchronous invocations (SQS, SNS, Lambda, EventBridge) with Lambda's record."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from .async_event import AsyncEvent, record_timestamp
from .metrics import put_function_metrics

logger = logging.getLogger("localcloud.lambda")
QueueInvocation = Callable[..., str]
"""The asynchronous queue's invoke_async, handed in so a Lambda destination is queued like any
event (this module sits below the queue and does not import it)."""


class DestinationError(Exception):
    """The destination could not take the record (missing, or a kind localcloud does not send)."""


def on_success(
    event: AsyncEvent, function: Any, config: dict[str, Any], queue: QueueInvocation
) -> None:
    destination = _destination(config, "OnSuccess")
    if destination:
        _deliver(event, function, destination, "Success", queue)


def on_failure(
    event: AsyncEvent,
    function: Any,
    config: dict[str, Any],
    condition: str,
    queue: QueueInvocation,
) -> tuple[str | None, str | None]:
    """(destination ARN, delivery error) after sending the record to the on-failure destination."""
    destination = _destination(config, "OnFailure")
    if not destination:
        return None, None
    return destination, _deliver(event, function, destination, condition, queue)


def _destination(config: dict[str, Any], which: str) -> str | None:
    target = (config.get("DestinationConfig") or {}).get(which) or {}
    return str(target["Destination"]) if target.get("Destination") else None


def _deliver(
    event: AsyncEvent, function: Any, destination: str, condition: str, queue: QueueInvocation
) -> str | None:
    body = json.dumps(invocation_record(event, function, condition))
    try:
        _send(destination, body, condition, queue)
    except Exception as problem:  # any failure to deliver is a metric and a record, not a crash
        put_function_metrics(
            function, event.qualifier, {"DestinationDeliveryFailures": (1, "Count")}
        )
        logger.warning("localcloud: destination %s refused the record: %s", destination, problem)
        return f"{type(problem).__name__}: {problem}"
    return None


def invocation_record(event: AsyncEvent, function: Any, condition: str) -> dict[str, Any]:
    """Lambda's record for destinations: the request, the condition and the last response."""
    qualifier = event.qualifier or "$LATEST"
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": record_timestamp(),
        "requestContext": {
            "requestId": event.request_id,
            "functionArn": f"{_unqualified_arn(function)}:{qualifier}",
            "condition": condition,
            "approximateInvokeCount": event.attempts,
        },
        "requestPayload": _json_or_text(event.payload),
    }
    outcome = event.last_outcome
    if outcome is not None:
        context: dict[str, Any] = {"statusCode": 200, "executedVersion": outcome.executed_version}
        if outcome.function_error:
            context["functionError"] = outcome.function_error
        record["responseContext"] = context
        record["responsePayload"] = _json_or_text(outcome.payload)
    return record


def _unqualified_arn(function: Any) -> str:
    arn = str(function.function_arn)
    prefix, _, rest = arn.partition(":function:")
    return f"{prefix}:function:{rest.split(':')[0]}"


def _json_or_text(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", "replace")


def _send_to_event_bus(bus_arn: str, account: str, region: str, body: str, condition: str) -> None:
    """Lambda puts the record on the bus as `source: lambda` with a result detail-type."""
    from moto.events.models import events_backends

    result = "Success" if condition == "Success" else "Failure"
    entry = {
        "Source": "lambda",
        "DetailType": f"Lambda Function Invocation Result - {result}",
        "Detail": body,
        "EventBusName": bus_arn,
    }
    [answer] = events_backends[account][region].put_events([entry])
    if "ErrorCode" in answer:
        raise DestinationError(f"event bus {bus_arn}: {answer['ErrorCode']}")


def _send(destination: str, body: str, condition: str, queue: QueueInvocation) -> None:
    parts = destination.split(":")
    if len(parts) < 6:
        raise DestinationError(f"destination {destination} is not an ARN")
    service, region, account = parts[2], parts[3], parts[4]
    if service == "sqs":
        from moto.sqs.models import sqs_backends

        sqs_backends[account][region].send_message(parts[5], body)
    elif service == "sns":
        from moto.sns.models import sns_backends

        sns_backends[account][region].publish(body, arn=destination)
    elif service == "lambda":
        queue(account, region, destination, body.encode(), principal=None, source_arn=None)
    elif service == "events":
        _send_to_event_bus(destination, account, region, body, condition)
    else:
        raise DestinationError(
            f"destination {destination}: localcloud delivers to SQS, SNS, Lambda and "
            "EventBridge only"
        )
