"""The DashboardBody JSON of declared widgets (products/widgets.py), as CloudWatch expects it.

The body is one Fn::Sub: names hold ${Environment}, ${Instance} and pseudo parameters, numbers
the EnvironmentSettings placeholders, which the variable map resolves with Fn::FindInMap (and
${Instance} with the instance segment of products/environment.py). Layout:
CloudWatch's 24-column grid, the alarm states across the top, then every widget in order.
"""

from __future__ import annotations

import json
from typing import Any

from troposphere import FindInMap, Ref

from products.environment import (
    ENVIRONMENT_PARAMETER,
    INSTANCE_VARIABLE,
    SETTINGS_MAP,
    instance_segment,
)
from products.widgets import Expression, Metric, Widget, placeholders, substitute

# Width and height of one widget on CloudWatch's 24-column grid.
GRID_COLUMNS = 24
METRIC_WIDGET_SIZE = (12, 6)
ALARM_WIDGET_SIZE = (8, 6)
ALARM_STATES_HEIGHT = 3
DASHBOARD_SUFFIX = "-dashboard"
# Pseudo parameters and the Environment parameter: Fn::Sub resolves them without a map entry.
_LAUNCH_NAMES = ("AWS::Region", "AWS::AccountId", "AWS::Partition", ENVIRONMENT_PARAMETER)


def dashboard_body(widgets: list[Widget]) -> tuple[str, dict[str, Any]]:
    """The body as Fn::Sub text, and a FindInMap per EnvironmentSettings placeholder it uses."""
    body = json.dumps({"widgets": _placed(widgets)}, separators=(",", ":"), sort_keys=True)
    used = placeholders(body)
    settings = sorted(used - set(_LAUNCH_NAMES) - {INSTANCE_VARIABLE})
    for key in settings:
        # Settings are numbers: unquote them so the substituted body holds JSON numbers.
        body = body.replace(f'"${{{key}}}"', f"${{{key}}}")
    variables: dict[str, Any] = {
        key: FindInMap(SETTINGS_MAP, Ref(ENVIRONMENT_PARAMETER), key) for key in settings
    }
    if INSTANCE_VARIABLE in used:
        variables[INSTANCE_VARIABLE] = instance_segment()
    return body, variables


def concrete_body(widgets: list[Widget], values: dict[str, str]) -> dict[str, Any]:
    """The body CloudWatch stores for one launch: what GetDashboard returns."""
    body, _ = dashboard_body(widgets)
    loaded: dict[str, Any] = json.loads(substitute(body, values))
    return loaded


def _placed(widgets: list[Widget]) -> list[dict[str, Any]]:
    """Left to right, top to bottom: the alarm states first, then each widget in order."""
    rendered = [_alarm_states(widgets), *(_rendered(widget) for widget in widgets)]
    placed: list[dict[str, Any]] = []
    x = y = row_height = 0
    for kind, (width, height), properties in rendered:
        if x + width > GRID_COLUMNS:
            x, y, row_height = 0, y + row_height, 0
        placed.append(
            {
                "type": kind,
                "x": x,
                "y": y,
                "width": width,
                "height": height,
                "properties": properties,
            }
        )
        x, row_height = x + width, max(row_height, height)
    return placed


def _rendered(widget: Widget) -> tuple[str, tuple[int, int], dict[str, Any]]:
    if widget.kind == "alarm":
        return "metric", ALARM_WIDGET_SIZE, _alarm_properties(widget)
    return "metric", METRIC_WIDGET_SIZE, _properties(widget)


def _alarm_states(widgets: list[Widget]) -> tuple[str, tuple[int, int], dict[str, Any]]:
    # An alarm status widget: every alarm of the launch, ALARM first.
    arns = [widget.alarm_arn for widget in widgets if widget.kind == "alarm"]
    properties = {"title": "Alarm states", "alarms": arns, "sortBy": "stateUpdatedTimestamp"}
    return "alarm", (GRID_COLUMNS, ALARM_STATES_HEIGHT), properties


def _properties(widget: Widget) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "title": widget.title,
        "view": "timeSeries",
        "region": "${AWS::Region}",
        "stat": widget.metrics[0].stat,
        "period": _number(widget.metrics[0].period),
        "metrics": [
            *[_expression_row(expression) for expression in widget.expressions],
            *[_metric_row(metric) for metric in widget.metrics],
        ],
    }
    if widget.thresholds:
        properties["annotations"] = {
            "horizontal": [{"label": t.label, "value": _number(t.value)} for t in widget.thresholds]
        }
    return properties


def _alarm_properties(widget: Widget) -> dict[str, Any]:
    # A metric widget with one alarm annotation draws the alarm's metric against its
    # threshold, shaded by state: CloudWatch's "alarm graph".
    return {
        "title": widget.title,
        "view": "timeSeries",
        "region": "${AWS::Region}",
        "annotations": {"alarms": [widget.alarm_arn]},
    }


def _expression_row(expression: Expression) -> list[dict[str, str]]:
    return [
        {
            "expression": expression.expression,
            "id": expression.expression_id,
            "label": expression.label,
        }
    ]


def _metric_row(metric: Metric) -> list[Any]:
    period = _number(metric.period)
    options: dict[str, Any] = {"stat": metric.stat, "label": metric.label, "period": period}
    if metric.metric_id:
        options["id"] = metric.metric_id
    if not metric.visible:
        options["visible"] = False
    if metric.split_by:
        # Expression ids start with a lower-case letter and are unique within the widget.
        search_id = f"search{metric.name}"
        return [
            {
                "expression": _search(metric),
                "id": search_id,
                "label": metric.label,
                "period": period,
            }
        ]
    dimensions = [part for pair in metric.dimensions for part in pair]
    return [metric.namespace, metric.name, *dimensions, options]


def _search(metric: Metric) -> str:
    """SEARCH over the metric's fixed dimensions, one series per value of the split ones."""
    keys = ",".join([metric.namespace, *(name for name, _ in metric.dimensions), *metric.split_by])
    fixed = " ".join(f'{name}="{value}"' for name, value in metric.dimensions)
    query = f'{{{keys}}} MetricName="{metric.name}" {fixed}'
    return f"SEARCH('{query}', '{metric.stat}', {metric.period})"


def _number(text: str) -> int | float | str:
    """A number as JSON wants it; a placeholder stays text (dashboard_body unquotes it)."""
    if placeholders(text):
        return text
    number = float(text)
    return int(number) if number.is_integer() else number
