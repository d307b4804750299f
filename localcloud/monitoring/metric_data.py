"""GetMetricData with what CloudWatch computes and moto's GetMetricData lacks: percentiles
(p50, p99, ...) and metric math, through the same statistics and expressions alarm evaluation
uses, so a dashboard reads what the alarms see.

Periods start at StartTime and follow each other up to EndTime; as CloudWatch does, a period
without data has no point (no timestamp, no value) rather than a zero.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from moto.cloudwatch.exceptions import ValidationError
from moto.cloudwatch.models import CloudWatchBackend

from .expressions import Series, compile_expression
from .statistics import check_statistic, statistic_value, summarize
from .store import epoch_of, index_of, metric_key

DEFAULT_PERIOD = 60


def get_metric_data(
    self: CloudWatchBackend,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    scan_by: str = "TimestampAscending",
) -> list[dict[str, Any]]:
    if start_time >= end_time:
        raise ValidationError("The parameter EndTime must be greater than StartTime.")
    period = _period_of(queries)
    start = epoch_of(start_time.replace(microsecond=0))
    starts = [start + i * period for i in range(int((epoch_of(end_time) - start) // period))]
    series_of = _evaluator(self, {q["Id"]: q for q in queries}, starts)
    results = [
        _result(query, starts, series_of(query["Id"]), start_time, scan_by)
        for query in queries
        if str(query.get("ReturnData", True)).lower() != "false"
    ]
    return results


def _period_of(queries: list[dict[str, Any]]) -> int:
    for query in queries:
        period = query.get("MetricStat", {}).get("Period") or query.get("Period")
        if period:
            return int(period)
    return DEFAULT_PERIOD


def _evaluator(
    backend: CloudWatchBackend, queries: dict[str, dict[str, Any]], starts: list[float]
) -> Callable[[str], Series]:
    index = index_of(backend)
    computed: dict[str, Series] = {}

    def series_of(query_id: str) -> Series:
        if query_id not in queries:
            raise ValidationError(f"Expression refers to unknown query id {query_id!r}")
        if query_id not in computed:
            query = queries[query_id]
            if "Expression" in query:
                compiled = compile_expression(query["Expression"])
                inputs = {name: series_of(name) for name in compiled.metric_ids}
                computed[query_id] = compiled.evaluate(inputs, len(starts))
            else:
                computed[query_id] = _stat_series(index, query["MetricStat"], starts)
        return computed[query_id]

    return series_of


def _stat_series(index: Any, stat: dict[str, Any], starts: list[float]) -> Series:
    check_statistic(stat["Stat"])
    metric = stat["Metric"]
    pairs = [(d["Name"], d["Value"]) for d in metric.get("Dimensions", [])]
    key = metric_key(metric["Namespace"], metric["MetricName"], pairs)
    period = int(stat["Period"])
    series: Series = []
    for start in starts:
        summary = summarize(index.datums(key, start, start + period), stat.get("Unit"))
        series.append(None if summary is None else statistic_value(summary, stat["Stat"]))
    return series


def _result(
    query: dict[str, Any], starts: list[float], series: Series, start: datetime, scan_by: str
) -> dict[str, Any]:
    first = starts[0] if starts else 0.0
    points = [
        (start + timedelta(seconds=at - first), value)
        for at, value in zip(starts, series, strict=True)
        if value is not None
    ]
    if scan_by == "TimestampDescending":
        points.reverse()
    return {
        "id": query["Id"],
        "label": query.get("Label") or _default_label(query),
        "values": [value for _, value in points],
        "timestamps": [at for at, _ in points],
        "status_code": "Complete",
    }


def _default_label(query: dict[str, Any]) -> str:
    stat = query.get("MetricStat")
    return query["Id"] if stat is None else f"{stat['Metric']['MetricName']} {stat['Stat']}"
