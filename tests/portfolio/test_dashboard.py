"""`build.py dashboard`: the page of a launched tool, read from a local cloud.

The page tests put a datapoint series into every metric the product's dashboard declares, write
the page through build.py's click group, then check it twice: parsed (every widget has data) and
drawn by a real headless chromium (every chart rendered its series, read back from plotly's own
computed data). The acceptance test runs the drill against a served `build.py local` first.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from build import cli
from catalog.cli_context import DEFAULT_CONFIG
from catalog.config import load_config
from localcloud import LocalCloud
from portfolio.aws import AwsClients, Target
from portfolio.dashboard import time_range
from portfolio.dashboard_data import (
    MAX_QUERIES_PER_CALL,
    DashboardError,
    Query,
    batches,
    chart_queries,
)
from portfolio.demo import create_demo_prerequisites
from portfolio.drill_target import find_launched_tool
from portfolio.workflow import prepare, run_bootstrap, run_launch, run_publish
from products.widgets import Widget

REGION = "us-east-1"
REPO = Path(__file__).resolve().parents[2]
TOOL = "log-processor"
SPLIT_VALUES = ("alpha", "beta")  # the values a split_by dimension gets in the page tests
MINUTES_WITH_DATA = (50, 30, 10)  # minutes before the clock's now


@dataclass(frozen=True)
class WrittenPage:
    path: Path
    widgets: list[Widget]
    output: str


def _client(endpoint: str, service: str) -> Any:
    import boto3

    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _launched_widgets(clients: AwsClients) -> list[Widget]:
    from portfolio.dashboard_data import resolved_widgets

    launched = find_launched_tool(clients, REGION, TOOL, "dev")
    return resolved_widgets(load_config(DEFAULT_CONFIG), launched)


def _put_every_metric(cloudwatch: Any, widgets: list[Widget], now: float) -> None:
    """Datapoints (1, 2, 3: never zero) in every declared metric, per split value."""
    seen: set[tuple[Any, ...]] = set()
    for widget in widgets:
        for metric in widget.metrics:
            for split in SPLIT_VALUES if metric.split_by else ("",):
                dimensions = [
                    *metric.dimensions,
                    *((name, f"{name}-{split}") for name in metric.split_by),
                ]
                key = (metric.namespace, metric.name, tuple(dimensions))
                if key in seen:
                    continue
                seen.add(key)
                cloudwatch.put_metric_data(
                    Namespace=metric.namespace,
                    MetricData=[
                        {
                            "MetricName": metric.name,
                            "Dimensions": [{"Name": n, "Value": v} for n, v in dimensions],
                            "Value": float(number),
                            "Timestamp": datetime.fromtimestamp(now - minutes * 60, UTC),
                        }
                        for number, minutes in enumerate(MINUTES_WITH_DATA, start=1)
                    ],
                )


@pytest.fixture(scope="module")
def written_page(
    localcloud: LocalCloud, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WrittenPage]:
    """log-processor-dev launched, every metric with data, the page written by build.py."""
    localcloud.reset()
    tmp = tmp_path_factory.mktemp("dashboard")
    built = prepare(DEFAULT_CONFIG, tmp / "dist")
    clients = AwsClients(Target(endpoint_url=localcloud.endpoint_url, region=REGION))
    run_bootstrap(clients, built, echo=lambda message: None)
    run_publish(clients, built, progress=lambda change: None)
    create_demo_prerequisites(clients, built, "dev")  # the log group log-processor watches
    run_launch(clients, built, TOOL, "dev", overrides={}, echo=lambda line: None)
    widgets = _launched_widgets(clients)
    cloudwatch = _client(localcloud.endpoint_url, "cloudwatch")
    _put_every_metric(cloudwatch, widgets, localcloud.now())
    for alarm_name in {w.alarm_name for w in widgets if w.kind == "alarm"}:
        for state in ("ALARM", "OK"):
            cloudwatch.set_alarm_state(AlarmName=alarm_name, StateValue=state, StateReason="t")
    page = tmp / "page.html"
    result = CliRunner().invoke(
        cli,
        [
            *("--dist", str(tmp / "dist"), "dashboard", TOOL, "--env", "dev"),
            *("--endpoint-url", localcloud.endpoint_url, "--output", str(page), "--no-build"),
        ],
    )
    assert result.exit_code == 0, result.output
    yield WrittenPage(page, widgets, result.output)
    localcloud.reset()


class _Scripts(HTMLParser):
    """The page's script elements: (attributes, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._open = dict(attrs)
            self.scripts.append((self._open, ""))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            attributes, text = self.scripts[-1]
            self.scripts[-1] = (attributes, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._open = None


def _page_data(path: Path) -> tuple[dict[str, Any], list[dict[str, str | None]]]:
    parser = _Scripts()
    parser.feed(path.read_text(encoding="utf-8"))
    data = [text for attrs, text in parser.scripts if attrs.get("id") == "dashboard-data"]
    assert len(data) == 1
    return json.loads(data[0]), [attrs for attrs, _ in parser.scripts]


def _expected_series(widget: Widget) -> list[str]:
    labels = []
    for metric in widget.metrics:
        if not metric.visible:
            continue
        if metric.split_by:
            labels.extend(
                f"{metric.label} {' '.join(f'{n}-{v}' for n in metric.split_by)}"
                for v in SPLIT_VALUES
            )
        else:
            labels.append(metric.label)
    return [*labels, *(expression.label for expression in widget.expressions)]


def test_the_page_has_every_widget_with_data_and_needs_no_network(
    written_page: WrittenPage,
) -> None:
    data, scripts = _page_data(written_page.path)
    assert f"dashboard written to {written_page.path}" in written_page.output
    assert all("src" not in attributes for attributes in scripts)
    assert "<link" not in written_page.path.read_text(encoding="utf-8")
    assert [chart["title"] for chart in data["charts"]] == [w.title for w in written_page.widgets]
    for chart, widget in zip(data["charts"], written_page.widgets, strict=True):
        assert [s["label"] for s in chart["series"]] == _expected_series(widget), chart["title"]
        for series in chart["series"]:
            assert series["points"] == len(MINUTES_WITH_DATA), (chart["title"], series)
            assert series["nonzero"] == series["points"], (chart["title"], series)
        assert [t["value"] for t in chart["thresholds"]] == [
            float(t.value) for t in widget.thresholds
        ]
        if widget.kind == "alarm":
            assert chart["alarm"]["name"] == widget.alarm_name
            assert chart["alarm"]["state"] == "OK"
            assert [(t["from"], t["to"]) for t in chart["alarm"]["transitions"]] == [
                ("INSUFFICIENT_DATA", "ALARM"),
                ("ALARM", "OK"),
            ]
    alarm_names = {w.alarm_name for w in written_page.widgets if w.kind == "alarm"}
    assert {alarm["name"] for alarm in data["alarms"]} == alarm_names


def _chromium() -> str:
    found = shutil.which("chromium")
    assert found, "chromium is not installed: run scripts/setup as root (it installs it)"
    return found


def rendered_in_browser(page: Path, profile: Path) -> list[dict[str, Any]]:
    """What plotly drew in a headless chromium, read from the page's #rendered element."""
    command = [
        _chromium(),
        *("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"),
        *("--disable-component-update", "--disable-sync", "--no-first-run"),
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        # Nothing may leave the machine: no name resolves and any request goes to a closed
        # loopback port.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=http://127.0.0.1:9",
        # Virtual time runs the page's scripts (plotly's promises included) to completion
        # before the DOM is dumped, independent of how fast the machine is.
        "--virtual-time-budget=30000",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="rendered">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found and found.group(1), "the page wrote no #rendered summary: " + done.stderr[-2000:]
    rendered = json.loads(html.unescape(found.group(1)))
    assert isinstance(rendered, list), rendered
    return rendered


def test_a_headless_browser_draws_every_chart_with_its_series(
    written_page: WrittenPage, tmp_path: Path
) -> None:
    data, _ = _page_data(written_page.path)
    rendered = rendered_in_browser(written_page.path, tmp_path / "profile")
    assert [chart["id"] for chart in rendered] == [chart["id"] for chart in data["charts"]]
    for drawn, chart, widget in zip(rendered, data["charts"], written_page.widgets, strict=True):
        names = [trace["name"] for trace in drawn["traces"]]
        thresholds = [f"{t['label']} ({t['value']:g})" for t in chart["thresholds"]]
        extra = ["alarm state changes"] if widget.kind == "alarm" else []
        assert names == [*_expected_series(widget), *thresholds, *extra], widget.title
        series = drawn["traces"][: len(chart["series"])]
        assert [t["points"] for t in series] == [len(MINUTES_WITH_DATA)] * len(series)
        assert all(trace["nonzero"] == trace["points"] for trace in series), widget.title
        if widget.kind == "alarm":
            assert drawn["traces"][-1]["points"] == 2, widget.title  # ALARM, then OK
        assert drawn["svgTraces"] == len(names), widget.title


def _query(chart: int, number: int, expression: bool = False) -> Query:
    body: dict[str, Any] = {"Expression": "m0 * 2"} if expression else {"MetricStat": {}}
    return Query(chart, f"w{chart}_{number}", "", body, True)


def test_queries_go_in_calls_of_at_most_500_keeping_a_chart_together() -> None:
    queries = [_query(0, n) for n in range(300)] + [_query(1, n) for n in range(300)]
    assert [len(batch) for batch in batches(queries)] == [300, 300]
    many = [_query(0, n) for n in range(1100)]
    assert [len(batch) for batch in batches(many)] == [500, 500, 100]
    too_many = [_query(0, n) for n in range(MAX_QUERIES_PER_CALL)] + [_query(0, 600, True)]
    with pytest.raises(DashboardError, match="501 queries with metric math exceed"):
        list(batches(too_many))


def test_the_time_range_ends_at_the_targets_now() -> None:
    when = time_range(3, 1_800_000_000.7)
    assert when.end == datetime.fromtimestamp(1_800_000_001, UTC)
    assert when.end - when.start == timedelta(hours=3)
    with pytest.raises(DashboardError, match=r"--hours must be more than 0 \(got -1\)"):
        time_range(-1, 0)


def test_a_tool_that_is_not_launched_is_one_clear_error(local_endpoint: str) -> None:
    result = CliRunner().invoke(
        cli, ["dashboard", "alert-handler", "--env", "prod", "--endpoint-url", local_endpoint]
    )
    assert result.exit_code == 1
    assert (
        result.output.strip()
        .splitlines()[-1]
        .startswith(
            "error: us-east-1: no provisioned product 'alert-handler-prod'; launch it first"
        )
    )


@pytest.fixture
def served_local(tmp_path: Path) -> Iterator[str]:
    """`build.py local --port 0` in its own process, stopped afterwards; its endpoint."""
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "local", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("localcloud listening on http://127.0.0.1:"), first
        yield first.rsplit(" ", 1)[1].strip()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


@pytest.mark.slow
def test_after_the_drill_the_page_shows_its_failures_and_the_alarm_and_ok(
    tmp_path: Path, served_local: str
) -> None:
    dist = ["--dist", str(tmp_path / "dist")]
    target = ["--endpoint-url", served_local]
    page = tmp_path / "log-processor-dev.html"
    for command in (["bootstrap"], ["publish", "-y"]):
        step = CliRunner().invoke(cli, [*dist, *command, *target])
        assert step.exit_code == 0, (command, step.output)
    # The log group log-processor subscribes to belongs to the watched application.
    log_group = load_config(DEFAULT_CONFIG).launch_parameters(TOOL, "dev")["LogGroupName"]
    _client(served_local, "logs").create_log_group(logGroupName=log_group)
    for command in (
        ["launch", TOOL, "--env", "dev", "--no-build"],
        ["drill", TOOL, "--env", "dev"],
        ["dashboard", TOOL, "--env", "dev", "--output", str(page), "--no-build"],
    ):
        step = CliRunner().invoke(cli, [*dist, *command, *target])
        assert step.exit_code == 0, (command, step.output)
    data, _ = _page_data(page)
    errors = _errors_series(data)
    assert errors["nonzero"] > 0, errors
    drawn = rendered_in_browser(page, tmp_path / "profile")
    drawn_errors = [
        trace for chart in drawn for trace in chart["traces"] if trace["name"] == "Errors"
    ]
    assert drawn_errors[0]["nonzero"] == errors["nonzero"]
    alarm = _errors_alarm(data)
    changes = [(t["from"], t["to"]) for t in alarm["transitions"]]
    # SetAlarmState's ALARM and OK, then the real failures' ALARM and the recovery's OK.
    assert changes == [
        ("INSUFFICIENT_DATA", "ALARM"),
        ("ALARM", "OK"),
        ("OK", "ALARM"),
        ("ALARM", "OK"),
    ]


def _errors_series(data: dict[str, Any]) -> dict[str, Any]:
    """The Errors series of the "Invocations and errors" chart."""
    chart = next(c for c in data["charts"] if c["kind"] == "metric" and "errors" in c["title"])
    return next(s for s in chart["series"] if s["label"] == "Errors")


def _errors_alarm(data: dict[str, Any]) -> dict[str, Any]:
    charts = [c for c in data["charts"] if c["alarm"] and c["alarm"]["name"].endswith("-errors")]
    assert len(charts) == 1, [c["title"] for c in data["charts"]]
    alarm: dict[str, Any] = charts[0]["alarm"]
    return alarm


def test_query_ids_are_unique_on_the_page_and_metric_math_uses_its_own_widgets() -> None:
    from products.widgets import Expression, Metric

    def metric(name: str, metric_id: str) -> Metric:
        dims = (("FunctionName", "f"),)
        return Metric("AWS/Lambda", name, dims, "Sum", name, "60", (), metric_id, False)

    widget = Widget(
        "Error rate",
        "metric",
        metrics=(metric("Errors", "errors"), metric("Invocations", "invocations")),
        expressions=(Expression("rate", "100 * errors / FILL(invocations, 0)", "Error rate"),),
    )
    queries = chart_queries(3, widget, {}) + chart_queries(4, widget, {})
    assert [q.query_id for q in queries] == [
        f"w{n}_{name}" for n in (3, 4) for name in ("errors", "invocations", "rate")
    ]
    assert queries[2].body["Expression"] == "100 * w3_errors / FILL(w3_invocations, 0)"
    assert [q.body["ReturnData"] for q in queries[:3]] == [False, False, True]
    assert queries[0].body["MetricStat"]["Period"] == 60
