"""The Invoke API and moto's own deliveries, routed to our runtime instead of Docker.

moto 5.2.5 serves Invoke through `LambdaBackend.invoke`, and its services deliver to a function
through `LambdaFunction.invoke` (SNS, CloudWatch Logs subscriptions, S3, Kinesis): both are
replaced. Invoke honours InvocationType RequestResponse / Event / DryRun and LogType Tail.
"""

from __future__ import annotations

import atexit
import base64
import json
from typing import Any
from urllib.parse import unquote

from moto.utilities.aws_headers import amz_crc32

from . import execution, tracing
from .asynchronous import check_payload, invoke_async
from .endpoint import current_trace_header
from .errors import (
    InvalidRuntime,
    RecursiveInvocation,
    Throttled,
    TooManyRequests,
    UnsupportedRuntime,
)
from .metrics import put_function_metrics

REQUEST_ID_HEADER = "x-amzn-requestid"
SYNC_PAYLOAD_LIMIT = 6_291_456  # bytes (6 MB) for synchronous invocations
_installed = {"done": False}


def _as_bytes(body: Any) -> bytes:
    if body is None:
        return b"{}"
    data = body.encode() if isinstance(body, str) else bytes(body)
    return data or b"{}"


def invoke_api(  # noqa: PLR0917 - moto's LambdaBackend.invoke signature
    backend: Any,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: dict[str, str],
) -> bytes:
    """Lambda's Invoke: the payload to answer; response_headers get Lambda's x-amz-* headers."""
    function = backend.get_function(function_name, qualifier)  # ResourceNotFoundException
    invocation_type = headers.get("X-Amz-Invocation-Type") or "RequestResponse"
    payload = _as_bytes(body)
    if invocation_type == "DryRun":
        return b""
    if invocation_type == "Event":
        target = f"{function.function_arn.split(':function:')[0]}:function:{function.function_name}"
        request_id = invoke_async(
            backend.account_id,
            backend.region_name,
            f"{target}:{qualifier}" if qualifier else target,
            payload,
            principal=None,
            source_arn=None,
            trace_header=current_trace_header(),
        )
        response_headers[REQUEST_ID_HEADER] = request_id
        return b""
    return _invoke_sync(function, qualifier, payload, response_headers)


def _invoke_sync(
    function: Any, qualifier: str | None, payload: bytes, response_headers: dict[str, str]
) -> bytes:
    check_payload(payload, SYNC_PAYLOAD_LIMIT)
    hop = tracing.next_hop(current_trace_header(), str(function.function_arn))
    if hop.count > tracing.MAX_RECURSIVE_INVOCATIONS:
        put_function_metrics(function, qualifier, {"RecursiveInvocationsDropped": (1, "Count")})
        raise RecursiveInvocation(function.function_name, tracing.MAX_RECURSIVE_INVOCATIONS)
    invocation = execution.Invocation(
        function, qualifier, payload, execution.new_request_id(), hop.trace_id
    )
    try:
        outcome = execution.invoke(invocation)
    except UnsupportedRuntime as problem:
        raise InvalidRuntime(function.function_name, function.run_time) from problem
    except Throttled as problem:
        limit = execution.concurrency_limit(function)
        raise TooManyRequests(function.function_name, limit) from problem
    response_headers[REQUEST_ID_HEADER] = outcome.request_id
    response_headers["x-amz-executed-version"] = outcome.executed_version
    response_headers["x-amz-log-result"] = base64.b64encode(outcome.log_tail).decode()
    if outcome.function_error:
        response_headers["x-amz-function-error"] = outcome.function_error
    return outcome.payload


_STATUS_BY_TYPE = {"Event": 202, "DryRun": 204}


def _invoke_response(response: Any) -> tuple[int, dict[str, str], bytes]:
    """The Invoke route (moto's read the qualifier from the wrong query key and lost it)."""
    function_name = unquote(response.path.rsplit("/", 2)[-2])
    qualifier = response.querystring.get("Qualifier", [None])[0]
    headers: dict[str, str] = {}
    payload = response.backend.invoke(
        function_name, qualifier, response.body, response.headers, headers
    )
    invocation_type = response.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
    if invocation_type == "RequestResponse" and len(payload) > SYNC_PAYLOAD_LIMIT:
        payload = json.dumps(
            {
                "errorMessage": "Response payload size exceeded maximum allowed payload size "
                f"({SYNC_PAYLOAD_LIMIT} bytes).",
                "errorType": "Function.ResponseSizeTooLarge",
            }
        ).encode()
        headers["x-amz-function-error"] = "Unhandled"
    if response.headers.get("X-Amz-Log-Type") != "Tail":
        headers.pop("x-amz-log-result", None)
    headers["content-type"] = "application/json"
    status = _STATUS_BY_TYPE.get(invocation_type, 200)
    headers["status"] = str(status)
    return status, headers, payload


def _deliver_from_moto(function: Any, body: Any, *headers: Any) -> bytes:
    """moto's services deliver events asynchronously, as their AWS counterparts do."""
    invoke_async(
        function.account_id,
        function.region,
        str(function.function_arn),
        _as_bytes(body),
        principal=None,
        source_arn=None,
        trace_header=current_trace_header(),
    )
    return b""


def _keep_invocation_request_id(original: Any) -> Any:
    """Invoke answers with the function's request id (context.aws_request_id), as Lambda does;
    moto would replace it with a random one."""

    def enrich(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
        request_id = headers.get(REQUEST_ID_HEADER)
        headers, body = original(headers, body)
        if request_id:
            headers[REQUEST_ID_HEADER] = request_id
        return headers, body

    return staticmethod(enrich)


def _put_event_invoke_config(backend: Any, function_name: str, config: dict[str, Any]) -> Any:
    """PutFunctionEventInvokeConfig replaces the configuration (moto appended a second one)."""
    from moto.awslambda.models import EventInvokeConfig

    function = backend.get_function(function_name)
    event_config = EventInvokeConfig(function.function_arn, function.last_modified, config)
    function.event_invoke_config = [event_config]
    return event_config.response()


def _update_event_invoke_config(backend: Any, function_name: str, config: dict[str, Any]) -> Any:
    """UpdateFunctionEventInvokeConfig changes only the settings given."""
    function = backend.get_function(function_name)
    current = dict(function.event_invoke_config[0].config) if function.event_invoke_config else {}
    return _put_event_invoke_config(backend, function_name, {**current, **config})


def _stopping_workers_on_delete(original: Any) -> Any:
    def delete_function(backend: Any, function_name: str, qualifier: str | None = None) -> None:
        function = backend.get_function(function_name, qualifier)
        original(backend, function_name, qualifier)
        execution.retire_function(str(function.function_arn))

    return delete_function


def install() -> None:
    """Replace moto's Docker-based invoke path with the local runtime (idempotent)."""
    if _installed["done"]:
        return
    from moto.awslambda.models import LambdaBackend, LambdaFunction
    from moto.awslambda.responses import LambdaResponse

    setattr(LambdaBackend, "invoke", invoke_api)  # noqa: B010
    setattr(LambdaFunction, "invoke", _deliver_from_moto)  # noqa: B010
    deleting = _stopping_workers_on_delete(LambdaBackend.delete_function)
    setattr(LambdaBackend, "delete_function", deleting)  # noqa: B010
    setattr(LambdaBackend, "put_function_event_invoke_config", _put_event_invoke_config)  # noqa: B010
    setattr(LambdaBackend, "update_function_event_invoke_config", _update_event_invoke_config)  # noqa: B010
    setattr(LambdaResponse, "invoke", amz_crc32(_invoke_response))  # noqa: B010
    enrich = _keep_invocation_request_id(LambdaResponse._enrich_response)
    setattr(LambdaResponse, "_enrich_response", enrich)  # noqa: B010
    atexit.register(execution.retire_all)
    _installed["done"] = True
