"""`build.py dashboard TOOL --env ENV`: a launched tool's dashboard as one HTML page.

The widgets are the ones the product's CloudWatch dashboard shows (products/dashboard.py), with
the names and numbers of the launch; their data comes from GetMetricData over the last --hours
(the local clock's hours on a local cloud, whose metrics carry its time), the alarms' states
from DescribeAlarms and their changes from DescribeAlarmHistory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from catalog.cli_context import CliContext
from catalog.config import load_config
from portfolio.aws import AwsClients, Target
from portfolio.commands import launched_tool_options, target_options
from portfolio.dashboard_data import (
    AlarmView,
    Chart,
    DashboardError,
    Query,
    Series,
    TimeRange,
    alarm_views,
    chart_queries,
    read_metric_data,
    resolved_widgets,
    split_dimensions,
)
from portfolio.dashboard_page import PageInfo, render_page
from portfolio.drill import drill_target
from portfolio.drill_target import LaunchedTool, find_launched_tool
from portfolio.launch import provisioned_product_name
from products.widgets import Widget


@dataclass(frozen=True)
class DashboardResult:
    path: Path
    charts: list[Chart]
    alarms: list[AlarmView]
    metric_data_calls: int


def build_dashboard(
    clients: AwsClients,
    config_path: Path,
    tool: LaunchedTool,
    when: TimeRange,
    output: Path,
) -> DashboardResult:
    """Read TOOL's widgets' data and alarms over WHEN and write the page to OUTPUT."""
    widgets = resolved_widgets(load_config(config_path), tool)
    cloudwatch = clients.client("cloudwatch", tool.region)
    queries = _queries(cloudwatch, widgets)
    series, calls = read_metric_data(cloudwatch, queries, when)
    names = list(dict.fromkeys(w.alarm_name for w in widgets if w.kind == "alarm"))
    alarms = alarm_views(cloudwatch, names, when)
    charts = [_chart(n, w, queries, series, alarms) for n, w in enumerate(widgets)]
    info = PageInfo(f"{tool.name}: {tool.function_name}", tool.region, when, when.end)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_page(info, charts, list(alarms.values())), encoding="utf-8")
    return DashboardResult(output, charts, list(alarms.values()), calls)


def _queries(cloudwatch: Any, widgets: list[Widget]) -> list[Query]:
    split_metrics = {m for w in widgets for m in w.metrics if m.split_by}
    split_values = {metric: split_dimensions(cloudwatch, metric) for metric in split_metrics}
    return [q for n, w in enumerate(widgets) for q in chart_queries(n, w, split_values)]


def _chart(
    number: int,
    widget: Widget,
    queries: list[Query],
    series: dict[str, Series],
    alarms: dict[str, AlarmView],
) -> Chart:
    mine = [series[q.query_id] for q in queries if q.chart == number and q.returned]
    thresholds = [(t.label, _number(t.value, widget)) for t in widget.thresholds]
    alarm = alarms.get(widget.alarm_name) if widget.kind == "alarm" else None
    return Chart(widget, mine, thresholds, alarm)


def _number(text: str, widget: Widget) -> float:
    try:
        return float(text)
    except ValueError:
        raise DashboardError(
            f"widget {widget.title!r}: threshold {text!r} is not a number"
        ) from None


def time_range(hours: float, now: float) -> TimeRange:
    """The last HOURS up to NOW (epoch seconds), in whole seconds as GetMetricData takes them;
    the end is the next whole second, so what happened at NOW itself is in the range."""
    check_hours(hours)
    end = datetime.fromtimestamp(math.floor(now) + 1, UTC)
    return TimeRange(end - timedelta(seconds=int(hours * 3600)), end)


def check_hours(hours: float) -> None:
    if hours <= 0:
        raise DashboardError(f"--hours must be more than 0 (got {hours:g})")


def target_now(endpoint_url: str | None) -> float:
    """Now as the target's CloudWatch sees it: a local cloud's clock, else the wall clock."""
    if endpoint_url:
        from localcloud.control import ControlClient
        from localcloud.errors import LocalCloudError

        try:
            return ControlClient(endpoint_url, timeout=5.0).now()
        except (LocalCloudError, OSError, ValueError):
            pass  # another AWS-compatible endpoint: it keeps the wall clock's time
    return datetime.now(UTC).timestamp()


@click.command()
@launched_tool_options
@click.option(
    "--hours",
    type=float,
    default=3.0,
    show_default=True,
    help="How far back the charts go (on a local cloud: on its clock).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the page [default: DIST/dashboards/TOOL-ENV.html].",
)
@target_options
@click.pass_obj
def dashboard(
    obj: CliContext,
    *,
    tool: str,
    environment: str,
    instance: str | None,
    hours: float,
    output: Path | None,
    target: Target,
    local: bool,
) -> None:
    """Write TOOL-ENV's dashboard as one self-contained HTML page and print where it is.

    The charts are the widgets of the product's CloudWatch dashboard (invocations, errors and
    error rate, duration against the timeout, throttles and concurrency, dead letters, the
    tool's own metrics, each alarm with its threshold), read with GetMetricData over the last
    --hours; the alarms' current states and their state changes come from DescribeAlarms and
    DescribeAlarmHistory. The page needs no network to view (plotly.js is inlined).

    --endpoint-url of a running `build.py local` shows what the drill and the scenarios did
    there; --local launches TOOL into a fresh in-process local cloud first (its charts start
    empty). TOOL-ENV is looked up in --region, or in the first region of portfolio.regions.
    """
    from portfolio.drill import _launch_locally, _region

    check_hours(hours)  # before a --local launch, not after it
    region = _region(obj, target)
    name = provisioned_product_name(tool, environment, instance)
    output = output or obj.dist_dir / "dashboards" / f"{name}.html"
    with drill_target(target, local) as (clients, _advance):
        if local:
            _launch_locally(clients, obj, tool, environment, instance)
        when = time_range(hours, target_now(clients.target.endpoint_url))
        launched = find_launched_tool(clients, region, tool, environment, instance)
        result = build_dashboard(clients, obj.config_path, launched, when, output)
    click.echo(
        f"{len(result.charts)} chart(s), {len(result.alarms)} alarm(s), "
        f"{result.metric_data_calls} GetMetricData call(s) over {hours:g} h"
    )
    click.echo(f"dashboard written to {result.path}")


COMMANDS: list[click.Command] = [dashboard]
