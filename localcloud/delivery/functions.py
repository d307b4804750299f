"""Deliveries to Lambda functions: through the runtime's asynchronous invocation, which checks
the function's resource policy (AWS::Lambda::Permission) as Lambda does for a service."""

from __future__ import annotations

import logging

from moto.core.exceptions import JsonRESTError

from ..errors import LocalCloudError
from ..lambda_runtime import DeliveryDenied, current_trace_header, invoke_async
from .state import DELIVERY

logger = logging.getLogger("localcloud.delivery")


def function_location(function_arn: str) -> tuple[str, str]:
    """(account, region) of a function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:Q])."""
    parts = function_arn.split(":")
    if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "function":
        raise LocalCloudError(f"{function_arn!r} is not a Lambda function ARN")
    return parts[4], parts[3]


def invoke_function(
    service: str,
    function_arn: str,
    payload: bytes,
    *,
    principal: str,
    source_arn: str,
    source_account: str | None = None,
    trace_header: str | None = None,
) -> str | None:
    """Queue PAYLOAD for the function as SERVICE does; a refusal is recorded, never raised."""
    try:
        account, region = function_location(function_arn)
        return invoke_async(
            account,
            region,
            function_arn,
            payload,
            principal=principal,
            source_arn=source_arn,
            source_account=source_account,
            trace_header=trace_header,
        )
    except (DeliveryDenied, LocalCloudError, JsonRESTError) as error:
        # A service delivers asynchronously: the caller's request never fails for it.
        reason = f"{type(error).__name__}: {error}"
        logger.warning("%s could not deliver to %s: %s", service, function_arn, reason)
        DELIVERY.record_failure(service, source_arn, function_arn, reason)
        return None


def trace_header() -> str | None:
    return current_trace_header()
