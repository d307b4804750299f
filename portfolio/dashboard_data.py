"""What `build.py dashboard` draws: a launched tool's widgets (products/dashboard.py) with their
data read from CloudWatch (GetMetricData, ListMetrics) and their alarms' states and history
(DescribeAlarms, DescribeAlarmHistory). Plain values; portfolio/dashboard_page.py draws them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from catalog.config import CatalogConfig
from portfolio.drill_target import DrillError, LaunchedTool
from products.widgets import Metric, Widget

# GetMetricData takes at most 500 queries per call (CloudWatch API reference, MetricDataQueries).
MAX_QUERIES_PER_CALL = 500
# DescribeAlarms takes at most 100 alarm names per call.
MAX_ALARM_NAMES_PER_CALL = 100
_METRIC_ID = re.compile(r"\b([a-z][a-zA-Z0-9_]*)\b")


class DashboardError(DrillError):
    """The dashboard cannot be drawn (names what and the value)."""


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime


@dataclass
class Series:
    """One line of a chart: what GetMetricData answered for one query, oldest first."""

    query_id: str
    label: str
    timestamps: list[datetime] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Transition:
    timestamp: datetime
    old_state: str
    new_state: str
    summary: str


@dataclass(frozen=True)
class AlarmView:
    name: str
    state: str
    reason: str
    transitions: tuple[Transition, ...]


@dataclass
class Chart:
    """One widget with its data: series, threshold lines and (alarm widgets) its alarm."""

    widget: Widget
    series: list[Series]
    thresholds: list[tuple[str, float]]
    alarm: AlarmView | None = None


@dataclass(frozen=True)
class Query:
    """One GetMetricData query of a chart (a metric, or metric math over the chart's metrics)."""

    chart: int
    query_id: str
    label: str
    body: dict[str, Any]
    returned: bool


def resolved_widgets(config: CatalogConfig, tool: LaunchedTool) -> list[Widget]:
    """TOOL's widgets with the names and numbers of this launch (its environment, region and
    account, read from its stack's ARN: arn:aws:cloudformation:REGION:ACCOUNT:stack/...)."""
    from products.dashboard import dashboard_widgets, launch_values, resolve
    from products.spec import discover_products

    products = discover_products()
    if tool.tool not in products:
        raise DashboardError(f"unknown tool {tool.tool!r} (known: {', '.join(products)})")
    product = products[tool.tool]
    region, account_id = tool.stack_arn.split(":")[3:5]
    values = launch_values(
        product, config, tool.environment, region, account_id, instance=tool.instance
    )
    return resolve(dashboard_widgets(product, config), values)


def chart_queries(
    index: int, widget: Widget, split_values: dict[Metric, list[tuple[tuple[str, str], ...]]]
) -> list[Query]:
    """The widget's queries: one per metric (per split value), one per expression."""
    prefix = f"w{index}_"
    queries: list[Query] = []
    for number, metric in enumerate(widget.metrics):
        if metric.split_by:
            queries.extend(_split_queries(index, f"{prefix}m{number}", metric, split_values))
            continue
        query_id = prefix + (metric.metric_id or f"m{number}")
        body = _metric_stat(metric, metric.dimensions)
        queries.append(Query(index, query_id, metric.label, body, metric.visible))
    for expression in widget.expressions:
        text = _prefixed_ids(expression.expression, prefix, _local_ids(widget))
        body = {"Expression": text, "Label": expression.label}
        queries.append(
            Query(index, prefix + expression.expression_id, expression.label, body, True)
        )
    return [_with_id(query) for query in queries]


def _local_ids(widget: Widget) -> set[str]:
    return {m.metric_id for m in widget.metrics if m.metric_id} | {
        e.expression_id for e in widget.expressions
    }


def _prefixed_ids(expression: str, prefix: str, ids: set[str]) -> str:
    """EXPRESSION with the widget's own query ids made unique on the page (ids are per widget
    in a dashboard, per call in GetMetricData); functions and numbers stay as they are."""
    return _METRIC_ID.sub(
        lambda m: prefix + m.group(1) if m.group(1) in ids else m.group(1), expression
    )


def _with_id(query: Query) -> Query:
    body = {**query.body, "Id": query.query_id, "ReturnData": query.returned}
    return Query(query.chart, query.query_id, query.label, body, query.returned)


def _split_queries(
    index: int,
    query_id: str,
    metric: Metric,
    split_values: dict[Metric, list[tuple[tuple[str, str], ...]]],
) -> Iterator[Query]:
    for number, dimensions in enumerate(split_values.get(metric, [])):
        split = dict(dimensions)
        label = f"{metric.label} {' '.join(split[name] for name in metric.split_by)}"
        body = _metric_stat(metric, dimensions)
        yield Query(index, f"{query_id}_{number}", label, body, metric.visible)


def _metric_stat(metric: Metric, dimensions: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    return {
        "MetricStat": {
            "Metric": {
                "Namespace": metric.namespace,
                "MetricName": metric.name,
                "Dimensions": [{"Name": name, "Value": value} for name, value in dimensions],
            },
            "Period": int(metric.period),
            "Stat": metric.stat,
        },
        "Label": metric.label,
    }


def split_dimensions(cloudwatch: Any, metric: Metric) -> list[tuple[tuple[str, str], ...]]:
    """Every dimension set CloudWatch holds for METRIC: its fixed dimensions plus one value of
    each split_by dimension (ListMetrics, paginated), in a stable order."""
    fixed = [{"Name": name, "Value": value} for name, value in metric.dimensions]
    wanted = {name for name, _ in metric.dimensions} | set(metric.split_by)
    pages = cloudwatch.get_paginator("list_metrics").paginate(
        Namespace=metric.namespace, MetricName=metric.name, Dimensions=fixed
    )
    found = {
        tuple((d["Name"], d["Value"]) for d in listed["Dimensions"])
        for page in pages
        for listed in page["Metrics"]
        if {d["Name"] for d in listed["Dimensions"]} == wanted
    }
    return sorted(found)


def batches(queries: list[Query]) -> Iterator[list[Query]]:
    """Calls of at most 500 queries, a chart's queries together (an expression needs its inputs
    in the same call); a chart of only metrics that alone exceeds the limit is split."""
    batch: list[Query] = []
    for chart in _by_chart(queries):
        if len(batch) + len(chart) > MAX_QUERIES_PER_CALL and batch:
            yield batch
            batch = []
        if len(chart) > MAX_QUERIES_PER_CALL:
            yield from _split_chart(chart)
            continue
        batch.extend(chart)
    if batch:
        yield batch


def _split_chart(chart: list[Query]) -> Iterator[list[Query]]:
    if any("Expression" in query.body for query in chart):
        raise DashboardError(
            f"chart {chart[0].chart}: {len(chart)} queries with metric math exceed "
            f"GetMetricData's {MAX_QUERIES_PER_CALL} per call"
        )
    for start in range(0, len(chart), MAX_QUERIES_PER_CALL):
        yield chart[start : start + MAX_QUERIES_PER_CALL]


def _by_chart(queries: list[Query]) -> Iterator[list[Query]]:
    charts: dict[int, list[Query]] = {}
    for query in queries:
        charts.setdefault(query.chart, []).append(query)
    yield from charts.values()


def read_metric_data(
    cloudwatch: Any, queries: list[Query], when: TimeRange
) -> tuple[dict[str, Series], int]:
    """Every returned query's series, by query id, and how many GetMetricData calls it took."""
    series = {q.query_id: Series(q.query_id, q.label) for q in queries if q.returned}
    calls = 0
    for batch in batches(queries):
        token: str | None = None
        while True:
            extra = {"NextToken": token} if token else {}
            answer = cloudwatch.get_metric_data(
                MetricDataQueries=[query.body for query in batch],
                StartTime=when.start,
                EndTime=when.end,
                ScanBy="TimestampAscending",
                **extra,
            )
            calls += 1
            for result in answer["MetricDataResults"]:
                _append(series, result)
            token = answer.get("NextToken")
            if not token:
                break
    return series, calls


def _append(series: dict[str, Series], result: dict[str, Any]) -> None:
    # A paginated answer continues a query's points on the next page under the same Id.
    target = series.get(result["Id"])
    if target is None:
        return
    target.timestamps.extend(result.get("Timestamps", []))
    target.values.extend(float(value) for value in result.get("Values", []))


def alarm_views(cloudwatch: Any, names: list[str], when: TimeRange) -> dict[str, AlarmView]:
    """Each named alarm's current state and its state changes within WHEN, oldest first."""
    views: dict[str, AlarmView] = {}
    for start in range(0, len(names), MAX_ALARM_NAMES_PER_CALL):
        chunk = names[start : start + MAX_ALARM_NAMES_PER_CALL]
        for alarm in cloudwatch.describe_alarms(AlarmNames=chunk)["MetricAlarms"]:
            name = alarm["AlarmName"]
            views[name] = AlarmView(
                name,
                alarm["StateValue"],
                alarm.get("StateReason", ""),
                tuple(_transitions(cloudwatch, name, when)),
            )
    missing = [name for name in names if name not in views]
    if missing:
        raise DashboardError(f"the dashboard's alarm(s) {', '.join(missing)} do not exist")
    return views


def _transitions(cloudwatch: Any, name: str, when: TimeRange) -> list[Transition]:
    pages = cloudwatch.get_paginator("describe_alarm_history").paginate(
        AlarmName=name, HistoryItemType="StateUpdate", StartDate=when.start, EndDate=when.end
    )
    items = [item for page in pages for item in page["AlarmHistoryItems"]]
    # AWS lists newest first; reversed is oldest first, same-instant changes in their order.
    transitions = []
    for item in items[::-1]:
        data = json.loads(item.get("HistoryData") or "{}")
        old = data.get("oldState", {}).get("stateValue", "")
        new = data.get("newState", {}).get("stateValue", "")
        transitions.append(Transition(item["Timestamp"], old, new, item["HistorySummary"]))
    transitions.sort(key=lambda transition: transition.timestamp)
    return transitions
