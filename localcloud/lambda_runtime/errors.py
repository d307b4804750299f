"""Errors of the Lambda runtime: our own, and the AWS-shaped ones the Invoke API answers."""

from __future__ import annotations

import json

from moto.awslambda.exceptions import LambdaClientError

from ..errors import LocalCloudError


class DeliveryDenied(LocalCloudError):
    """The function's resource policy does not let this service principal invoke it."""


class FunctionNotFound(LocalCloudError):
    """invoke_async named a function that does not exist (in that account and region)."""


class UnsupportedRuntime(LocalCloudError):
    """The function's runtime is not one localcloud can run (python3.x only)."""


class Throttled(LocalCloudError):
    """Every execution environment the function may use is busy (its reserved concurrency)."""


class WorkerTimedOut(LocalCloudError):
    def __init__(self, timeout_s: float) -> None:
        super().__init__(f"no answer from the worker within {timeout_s:.2f} seconds")
        self.timeout_s = timeout_s


class WorkerCrashed(LocalCloudError):
    def __init__(self, what: str, exit_detail: str) -> None:
        super().__init__(f"{what} ({exit_detail})")
        self.exit_detail = exit_detail


class TooManyRequests(LambdaClientError):
    """Invoke's 429: the function's reserved concurrency is in use."""

    code = 429

    def __init__(self, function_name: str, concurrency: int) -> None:
        message = (
            f"Rate Exceeded. Function {function_name} is using all of its reserved concurrency "
            f"({concurrency})."
        )
        super().__init__("TooManyRequestsException", message)
        self.description = json.dumps(
            {
                "__type": "TooManyRequestsException",
                "message": message,
                "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
            }
        )


class InvalidRuntime(LambdaClientError):
    """Invoke's 502 for a runtime Lambda (here: localcloud) cannot run."""

    code = 502

    def __init__(self, function_name: str, runtime: str | None) -> None:
        super().__init__(
            "InvalidRuntimeException",
            f"The runtime {runtime} of function {function_name} is not supported by localcloud: "
            "only python3.x runtimes can be invoked",
        )


class RecursiveInvocation(LambdaClientError):
    """Invoke's answer when a chain of requests would invoke the function a 17th time."""

    code = 400

    def __init__(self, function_name: str, limit: int) -> None:
        super().__init__(
            "RecursiveInvocationException",
            f"Lambda detected that function {function_name} was invoked more than {limit} times "
            "in the same chain of requests and stopped the invocation",
        )


class RequestTooLarge(LambdaClientError):
    code = 413

    def __init__(self, limit: int, size: int) -> None:
        super().__init__(
            "RequestTooLargeException",
            f"Request must be smaller than {limit} bytes for the InvokeFunction operation "
            f"(got {size} bytes)",
        )


class InvalidRequestContent(LambdaClientError):
    code = 400

    def __init__(self, problem: str) -> None:
        super().__init__(
            "InvalidRequestContentException", f"Could not parse request body into json: {problem}"
        )
