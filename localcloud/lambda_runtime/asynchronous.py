"""Asynchronous invocation as Lambda does it: an internal queue on the clock, retries, destinations.

An event is a clock job due now. A function error is retried per the function's EventInvokeConfig
(MaximumRetryAttempts, default 2; the first retry a minute later, the second two minutes after
that); an event older than MaximumEventAgeInSeconds (default 6 hours) is not run again. What cannot
be processed goes to the on-failure destination with Lambda's invocation record, and is counted in
AsyncEventsDropped; a throttled event waits (backing off from 1 second to 5 minutes) without
using up a retry. Nothing is dropped silently: `dropped_events()` lists every event given up.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

from moto.awslambda.exceptions import LambdaClientError

from ..clock import CLOCK
from . import destinations, tracing
from .async_event import AsyncEvent
from .errors import (
    FunctionNotFound,
    InvalidRequestContent,
    RequestTooLarge,
    Throttled,
    UnsupportedRuntime,
)
from .execution import Invocation, invoke, new_request_id
from .metrics import put_function_metrics
from .permissions import check_delivery_allowed

logger = logging.getLogger("localcloud.lambda")
ASYNC_PAYLOAD_LIMIT = 1_048_576  # bytes (1 MB) for asynchronous invocations
DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 2
DEFAULT_MAXIMUM_EVENT_AGE_S = 6 * 3600
RETRY_DELAYS_S = (60.0, 120.0)  # before the second and the third attempt
THROTTLE_BACKOFF_S = (1.0, 300.0)


@dataclass(frozen=True)
class DroppedEvent:
    """An asynchronous event localcloud gave up on, and why (AsyncEventsDropped on AWS)."""

    function_arn: str
    request_id: str
    reason: str
    payload: bytes
    at: float
    destination: str | None = None
    destination_error: str | None = None


_dropped: list[DroppedEvent] = []
_dropped_lock = threading.Lock()


def dropped_events() -> list[DroppedEvent]:
    with _dropped_lock:
        return list(_dropped)


def forget_dropped_events() -> None:
    with _dropped_lock:
        _dropped.clear()


def lookup_function(account_id: str, region: str, function: str, qualifier: str | None) -> Any:
    from moto.awslambda.models import lambda_backends

    return lambda_backends[account_id][region].get_function(function, qualifier)


def split_qualifier(function: str) -> tuple[str, str | None]:
    """`name`, `name:qualifier`, an ARN or a qualified ARN -> (name or ARN, qualifier)."""
    if function.startswith("arn:"):
        parts = function.split(":")
        if len(parts) == 8:
            return ":".join(parts[:7]), parts[7]
        return function, None
    name, _, qualifier = function.partition(":")
    return name, qualifier or None


def check_payload(payload: bytes, limit: int) -> None:
    if len(payload) > limit:
        raise RequestTooLarge(limit, len(payload))
    try:
        json.loads(payload or b"{}")
    except ValueError as problem:
        raise InvalidRequestContent(str(problem)) from problem


def invoke_async(
    account_id: str,
    region: str,
    function: str,
    payload: bytes,
    *,
    principal: str | None,
    source_arn: str | None,
    source_account: str | None = None,
    trace_header: str | None = None,
) -> str:
    """Queue an asynchronous invocation as Lambda does for an event source; the request id.

    principal None is an IAM caller of the same account (the Invoke API); a service principal
    must be allowed by the function's resource policy, else DeliveryDenied.
    """
    name, qualifier = split_qualifier(function)
    try:
        target = lookup_function(account_id, region, name, qualifier)
    except LambdaClientError as missing:
        raise FunctionNotFound(
            f"no function {function} in account {account_id}, region {region}: {missing.message}"
        ) from missing
    if principal is not None:
        check_delivery_allowed(target, principal, source_arn, source_account)
    check_payload(payload, ASYNC_PAYLOAD_LIMIT)
    event = AsyncEvent(
        account_id,
        region,
        name,
        qualifier,
        payload or b"{}",
        new_request_id(),
        CLOCK.now(),
        trace_header,
    )
    put_function_metrics(target, qualifier, {"AsyncEventsReceived": (1, "Count")})
    _schedule(event, 0.0)
    return event.request_id


def _schedule(event: AsyncEvent, delay_s: float) -> None:
    label = f"lambda async {event.function} {event.request_id} attempt {event.attempts + 1}"
    CLOCK.call_later(delay_s, lambda: _attempt(event), label)


def event_invoke_config(function: Any) -> dict[str, Any]:
    configs = getattr(function, "event_invoke_config", None) or []
    return dict(configs[0].config) if configs else {}


def _attempt(event: AsyncEvent) -> None:
    try:
        function = lookup_function(event.account_id, event.region, event.function, event.qualifier)
    except LambdaClientError as missing:  # deleted since it was queued: Lambda drops the event
        _record_drop(event, str(event.function), f"function not found: {missing}")
        return
    config = event_invoke_config(function)
    age_s = CLOCK.now() - event.received_at
    if age_s > config.get("MaximumEventAgeInSeconds", DEFAULT_MAXIMUM_EVENT_AGE_S):
        _give_up(event, function, config, "EventAgeExceeded")
        return
    chain = tracing.next_hop(event.trace_header, str(function.function_arn))
    if chain.count > tracing.MAX_RECURSIVE_INVOCATIONS:
        _stop_recursion(event, function, config)
        return
    put_function_metrics(
        function, event.qualifier, {"AsyncEventAge": (round(age_s * 1000), "Milliseconds")}
    )
    _run(event, function, config, chain.trace_id)


def _run(event: AsyncEvent, function: Any, config: dict[str, Any], trace_id: str) -> None:
    invocation = Invocation(function, event.qualifier, event.payload, event.request_id, trace_id)
    try:
        outcome = invoke(invocation)
    except Throttled:
        event.throttled += 1
        low, high = THROTTLE_BACKOFF_S
        _schedule(event, min(low * 2 ** (event.throttled - 1), high))
        return
    except UnsupportedRuntime as problem:  # it can never run: no retry helps
        _give_up(event, function, config, "RetriesExhausted", str(problem))
        return
    event.attempts += 1
    event.last_outcome = outcome
    if outcome.function_error is None:
        destinations.on_success(event, function, config, invoke_async)
        return
    retries = int(config.get("MaximumRetryAttempts", DEFAULT_MAXIMUM_RETRY_ATTEMPTS))
    if event.attempts <= retries:
        _schedule(event, RETRY_DELAYS_S[min(event.attempts - 1, len(RETRY_DELAYS_S) - 1)])
        return
    _give_up(event, function, config, "RetriesExhausted")


def _stop_recursion(event: AsyncEvent, function: Any, config: dict[str, Any]) -> None:
    put_function_metrics(function, event.qualifier, {"RecursiveInvocationsDropped": (1, "Count")})
    reason = (
        f"recursive loop detected: function {function.function_name} would be invoked more than "
        f"{tracing.MAX_RECURSIVE_INVOCATIONS} times in one chain of requests"
    )
    logger.warning("localcloud: %s (request %s)", reason, event.request_id)
    _give_up(event, function, config, "RecursiveInvocationDetected", reason)


def _give_up(
    event: AsyncEvent,
    function: Any,
    config: dict[str, Any],
    condition: str,
    reason: str | None = None,
) -> None:
    put_function_metrics(function, event.qualifier, {"AsyncEventsDropped": (1, "Count")})
    destination, error = destinations.on_failure(event, function, config, condition, invoke_async)
    _record_drop(event, str(function.function_arn), reason or condition, destination, error)


def _record_drop(
    event: AsyncEvent,
    function_arn: str,
    reason: str,
    destination: str | None = None,
    destination_error: str | None = None,
) -> None:
    dropped = DroppedEvent(
        function_arn,
        event.request_id,
        reason,
        event.payload,
        CLOCK.now(),
        destination,
        destination_error,
    )
    with _dropped_lock:
        _dropped.append(dropped)
    logger.info(
        "localcloud: async event %s for %s dropped: %s", event.request_id, function_arn, reason
    )
