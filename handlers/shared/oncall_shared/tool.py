"""What the four tools' entry points share: their metrics, the failure metric, and tracing.

The one convention (docs/handlers/shared.md): POWERTOOLS_METRICS_NAMESPACE is required and read
when the module loads, because nothing, not even a failure, can be counted without it; every
other setting is read at the start of each invocation inside ``counts_failures``, so a bad
setting fails that invocation with a SettingsError *and* is counted. Reading the environment
costs microseconds; SSM parameters and secrets are cached by oncall_shared.parameters.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from oncall_shared.errors import BadEventError
from oncall_shared.settings import require_metrics_namespace

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

Handler = TypeVar("Handler", bound=Callable[..., Any])
FAILURE_METRIC = "RunsFailed"
MALFORMED_METRIC = "MalformedEvents"
# Lambda's X-Ray header for the current invocation; "Sampled=1" only when it is traced.
TRACE_HEADER_VARIABLE = "_X_AMZN_TRACE_ID"
TRACED_MODULES = ("botocore",)


def tool_metrics() -> Metrics:
    """Metrics in the namespace the template sets. Powertools would notice a missing one only
    when flushing, after the work, so a cold start without it fails here, naming it."""
    return Metrics(namespace=require_metrics_namespace())


def counts_failures(metrics: Metrics, logger: Logger) -> Callable[[Handler], Handler]:
    """Every failed invocation: one error log line naming the error, one RunsFailed metric (and
    MalformedEvents when the event was rejected); the error is raised on, so Lambda's retry and
    the dead-letter queue apply. Put it inside ``metrics.log_metrics``, which flushes them."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def run(event: Any, context: Any) -> Any:
            try:
                return handler(event, context)
            except Exception as error:
                _record_failure(metrics, logger, error)
                raise

        return run  # type: ignore[return-value]

    return decorate


def _record_failure(metrics: Metrics, logger: Logger, error: Exception) -> None:
    logger.error(
        "invocation failed", extra={"error_type": type(error).__name__, "error": str(error)}
    )
    metrics.add_metric(name=FAILURE_METRIC, unit=MetricUnit.Count, value=1)
    if isinstance(error, BadEventError):
        metrics.add_metric(name=MALFORMED_METRIC, unit=MetricUnit.Count, value=1)


def traced(handler: Handler) -> Handler:
    """X-Ray tracing through Powertools Tracer (boto3 calls only), for the invocations Lambda
    samples.

    Lambda samples only where tracing is on (TracingConfig Active: staging and prod; PassThrough
    only when the caller's header says Sampled=1). Building a Tracer imports and patches
    aws_xray_sdk, which costs about as much as importing boto3, so it is built on the first
    sampled invocation: a container that is never sampled never pays for it."""

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        if not invocation_sampled():
            return handler(event, context)
        return shared_tracer().capture_lambda_handler(handler)(event, context)

    return run  # type: ignore[return-value]


def invocation_sampled() -> bool:
    return "Sampled=1" in os.environ.get(TRACE_HEADER_VARIABLE, "")


@functools.cache
def shared_tracer() -> Tracer:
    from aws_lambda_powertools import Tracer

    # boto3 calls become subsegments. Not HTTP in general: X-Ray's http.client patch records each
    # request's URL path, and a webhook's path is its secret (Slack, Teams).
    return Tracer(patch_modules=TRACED_MODULES)
