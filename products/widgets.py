"""The dashboard widgets of one product, as plain typed values (see products/dashboard.py).

A widget's text fields are *launch text*: concrete except for ``${Name}`` placeholders that only
a launch decides. The placeholders are

- ``${Environment}``, ``${AWS::Region}``, ``${AWS::AccountId}``, ``${AWS::Partition}``: the
  launch parameter and pseudo parameters (resource names come from products.environment, so a
  name is e.g. ``oncall-log-processor${Instance}-${Environment}-errors``);
- ``${Instance}``: "" for the default instance, "-<InstanceName>" for a named one;
- one per key of the EnvironmentSettings mapping (``${TimeoutMs}``, ``${ErrorsThreshold}``,
  ``${AlarmPeriod}``, ...): numbers from catalog.yaml for the launched environment.

In a template the whole dashboard body is one Fn::Sub whose variable map gives each setting
placeholder its Fn::FindInMap; on a launched stack ``resolve`` substitutes concrete values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from troposphere import AWSHelperFn

from products.alarms import AlarmSpec, Watched
from products.environment import INSTANCE_VARIABLE, SETTINGS_MAP
from products.errors import BuildError

# Where the handlers publish their own (EMF) metrics: POWERTOOLS_METRICS_NAMESPACE.
METRICS_NAMESPACE = "OncallTools"
# Powertools adds the service (POWERTOOLS_SERVICE_NAME, the handler folder) to every EMF metric.
SERVICE_DIMENSION = "service"
# The shared failure metrics of oncall_shared.tool, emitted by every handler.
FAILURE_METRICS = ("RunsFailed", "MalformedEvents")
# Lambda's own per-function period when nothing else is asked for.
DEFAULT_PERIOD = "${AlarmPeriod}"

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9:]+)\}")

Dimensions = tuple[tuple[str, str], ...]
_COMPARISONS = {
    "GreaterThanOrEqualToThreshold": ">=",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}
# Handlers that count per environment add it as a dimension: the launched one.
LAUNCHED_ENVIRONMENT: Dimensions = (("Environment", "${Environment}"),)


@dataclass(frozen=True)
class Metric:
    """One series (or, with split_by, one series per value of those dimensions)."""

    namespace: str
    name: str
    dimensions: Dimensions  # (name, launch text) pairs, in the order CloudWatch shows them
    stat: str  # Sum, Maximum, p50, p99, ...
    label: str
    period: str = DEFAULT_PERIOD  # seconds, launch text
    # Dimensions whose values only the handler knows (Target, Rule, Channel): the dashboard
    # draws them with a SEARCH expression, a page lists them with ListMetrics.
    split_by: tuple[str, ...] = ()
    metric_id: str = ""  # set when an expression uses it
    visible: bool = True  # an input of an expression only


@dataclass(frozen=True)
class Expression:
    """Metric math over the widget's metrics (by metric_id), e.g. an error rate."""

    expression_id: str
    expression: str
    label: str


@dataclass(frozen=True)
class Threshold:
    """A horizontal line: an alarm threshold, the timeout, the reserved concurrency."""

    label: str
    value: str  # a number, launch text


@dataclass(frozen=True)
class Widget:
    """One dashboard widget: kind "metric" charts metrics, kind "alarm" shows one alarm."""

    title: str
    kind: Literal["metric", "alarm"]
    metrics: tuple[Metric, ...] = ()
    expressions: tuple[Expression, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    alarm_name: str = ""  # alarm widgets: the alarm's name, launch text
    alarm_arn: str = ""  # alarm widgets: the alarm's ARN, launch text
    alarm_logical_id: str = ""  # alarm widgets: the alarm's logical id in the template


def alarm_arn(alarm_name: str) -> str:
    """An alarm's ARN, launch text."""
    account = "${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}"
    return f"arn:{account}:alarm:{alarm_name}"


def tool_metric(
    handler: str,
    name: str,
    label: str,
    *,
    stat: str = "Sum",
    dimensions: Dimensions = (),
    split_by: tuple[str, ...] = (),
) -> Metric:
    """A metric a handler emits through Powertools (namespace OncallTools, service=HANDLER)."""
    return Metric(
        METRICS_NAMESPACE,
        name,
        (*dimensions, (SERVICE_DIMENSION, handler)),
        stat,
        label,
        split_by=split_by,
    )


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def substitute(text: str, values: Mapping[str, str]) -> str:
    """TEXT with every ${Name} replaced; BuildError names a placeholder without a value."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise BuildError(f"dashboard placeholder ${{{name}}} in {text!r} has no value")
        return values[name]

    return _PLACEHOLDER.sub(value, text)


def resolve(widgets: list[Widget], values: Mapping[str, str]) -> list[Widget]:
    """The widgets with every placeholder replaced by VALUES (see dashboard.launch_values)."""
    return [_resolve_widget(widget, values) for widget in widgets]


def _resolve_widget(widget: Widget, values: Mapping[str, str]) -> Widget:
    return replace(
        widget,
        metrics=tuple(
            replace(
                metric,
                dimensions=tuple((k, substitute(v, values)) for k, v in metric.dimensions),
                period=substitute(metric.period, values),
            )
            for metric in widget.metrics
        ),
        thresholds=tuple(
            replace(threshold, value=substitute(threshold.value, values))
            for threshold in widget.thresholds
        ),
        alarm_name=substitute(widget.alarm_name, values),
        alarm_arn=substitute(widget.alarm_arn, values),
    )


# -- from the alarm specs --------------------------------------------------------------------


class LaunchText:
    """Turns the template expressions of alarm specs into launch text.

    KNOWN maps what a Ref or GetAtt of a builder resource names, e.g. ("Function", "Ref") to
    the function's name; anything else is refused, so a new alarm on a resource the dashboard
    cannot name fails the build instead of drawing an empty chart.
    """

    def __init__(self, known: Mapping[tuple[str, str], str]) -> None:
        self.known = dict(known)

    def __call__(self, value: Any) -> str:
        if isinstance(value, bool):
            raise BuildError(f"dashboard: {value!r} is not a name or number")
        if isinstance(value, (str, int, float)):
            return str(value)
        if isinstance(value, AWSHelperFn):
            return self._expression(value.to_dict())
        raise BuildError(f"dashboard: cannot turn {value!r} into launch text")

    def _expression(self, data: Any) -> str:
        if isinstance(data, dict) and "Fn::FindInMap" in data:
            mapping, _, key = data["Fn::FindInMap"]
            if mapping == SETTINGS_MAP:
                return f"${{{key}}}"
        if isinstance(data, dict) and "Ref" in data:
            return self._known(data["Ref"], "Ref")
        if isinstance(data, dict) and "Fn::GetAtt" in data:
            logical_id, attribute = data["Fn::GetAtt"]
            return self._known(logical_id, attribute)
        if isinstance(data, dict) and "Fn::Sub" in data and isinstance(data["Fn::Sub"], str):
            return str(data["Fn::Sub"])
        if isinstance(data, dict) and "Fn::Sub" in data and _names_instance(data["Fn::Sub"]):
            # A resource name (products.environment.sub): its text, ${Instance} included.
            return str(data["Fn::Sub"][0])
        raise BuildError(f"dashboard: cannot turn the expression {data!r} into launch text")

    def _known(self, logical_id: str, attribute: str) -> str:
        if (logical_id, attribute) not in self.known:
            raise BuildError(
                f"dashboard: no name known for {logical_id}.{attribute}; "
                "add it to the builder's dashboard names"
            )
        return self.known[(logical_id, attribute)]


def _names_instance(sub: Any) -> bool:
    """Whether an Fn::Sub's only variable is ${Instance} (the name of a launched instance)."""
    return isinstance(sub, list) and len(sub) == 2 and set(sub[1]) == {INSTANCE_VARIABLE}


def alarm_widget(watched: Watched, spec: AlarmSpec, text: LaunchText) -> Widget:
    """SPEC's alarm as a widget: its metric against its threshold, and its state."""
    metric = Metric(
        spec.namespace,
        spec.metric,
        tuple((name, text(value)) for name, value in spec.dimensions.items()),
        spec.statistic,
        spec.metric,
        period=text(spec.period),
    )
    name = text(watched.names.in_region(spec.name_suffix))
    return Widget(
        title=f"Alarm: {spec.name_suffix.lstrip('-')} ({_COMPARISONS[spec.comparison]} threshold)",
        kind="alarm",
        metrics=(metric,),
        thresholds=(Threshold("alarm threshold", text(spec.threshold)),),
        alarm_name=name,
        alarm_arn=alarm_arn(name),
        alarm_logical_id=spec.logical_id,
    )


# -- what every tool's function shows --------------------------------------------------------


def lambda_metric(function_name: str, name: str, stat: str, label: str, **extra: Any) -> Metric:
    return Metric("AWS/Lambda", name, (("FunctionName", function_name),), stat, label, **extra)


def standard_widgets(function_name: str, queue_name: str, handler: str) -> list[Widget]:
    """Invocations and errors, error rate, duration, concurrency, dead letters, failed runs."""
    return [
        Widget(
            "Invocations and errors",
            "metric",
            metrics=(
                lambda_metric(function_name, "Invocations", "Sum", "Invocations"),
                lambda_metric(function_name, "Errors", "Sum", "Errors"),
            ),
            thresholds=(Threshold("errors alarm", "${ErrorsThreshold}"),),
        ),
        _error_rate(function_name),
        Widget(
            "Duration p50 / p99 (ms) against the timeout",
            "metric",
            metrics=(
                lambda_metric(function_name, "Duration", "p50", "p50"),
                lambda_metric(function_name, "Duration", "p99", "p99"),
            ),
            thresholds=(
                Threshold("timeout", "${TimeoutMs}"),
                Threshold("duration alarm", "${DurationThresholdMs}"),
            ),
        ),
        Widget(
            "Throttles and concurrency against the reserved concurrency",
            "metric",
            metrics=(
                lambda_metric(function_name, "Throttles", "Sum", "Throttles"),
                lambda_metric(function_name, "ConcurrentExecutions", "Maximum", "Concurrency"),
            ),
            thresholds=(Threshold("reserved concurrency", "${ReservedConcurrency}"),),
        ),
        _dead_letters(function_name, queue_name),
        Widget(
            "Failed runs and malformed events",
            "metric",
            metrics=tuple(
                tool_metric(handler, name, name, dimensions=()) for name in FAILURE_METRICS
            ),
        ),
    ]


def _error_rate(function_name: str) -> Widget:
    return Widget(
        "Error rate (%)",
        "metric",
        metrics=(
            lambda_metric(
                function_name, "Errors", "Sum", "Errors", metric_id="errors", visible=False
            ),
            lambda_metric(
                function_name,
                "Invocations",
                "Sum",
                "Invocations",
                metric_id="invocations",
                visible=False,
            ),
        ),
        expressions=(Expression("rate", "100 * errors / invocations", "Error rate (%)"),),
    )


def _dead_letters(function_name: str, queue_name: str) -> Widget:
    depth = Metric(
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        (("QueueName", queue_name),),
        "Maximum",
        "Dead letters waiting",
    )
    lost = lambda_metric(
        function_name, "DestinationDeliveryFailures", "Sum", "Not delivered to the queue"
    )
    return Widget(
        "Dead-letter queue depth",
        "metric",
        metrics=(depth, lost),
        thresholds=(Threshold("dead-letter alarm", "${DlqDepthThreshold}"),),
    )


def tool_widget(title: str, *metrics: Metric) -> Widget:
    """A chart of metrics the tool's handler emits (declared in products/tools/<tool>.py)."""
    return Widget(title, "metric", metrics=metrics)
