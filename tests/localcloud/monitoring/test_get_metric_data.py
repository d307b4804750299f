"""GetMetricData answers percentiles and metric math as CloudWatch does (what dashboards read),
computed by the same statistics and expressions as alarm evaluation."""

from datetime import UTC, datetime, timedelta
from typing import Any

from localcloud import LocalCloud

FUNCTION = [{"Name": "FunctionName", "Value": "f"}]


def _metric(name: str) -> dict[str, Any]:
    return {"Namespace": "AWS/Lambda", "MetricName": name, "Dimensions": FUNCTION}


def _put(cw: Any, name: str, values: list[float], at: datetime) -> None:
    cw.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {"MetricName": name, "Dimensions": FUNCTION, "Value": value, "Timestamp": at}
            for value in values
        ],
    )


def _query(query_id: str, name: str, stat: str) -> dict[str, Any]:
    return {"Id": query_id, "MetricStat": {"Metric": _metric(name), "Period": 60, "Stat": stat}}


def test_percentiles_math_and_empty_periods(cw: Any, localcloud: LocalCloud) -> None:
    start = datetime.fromtimestamp(localcloud.now() // 60 * 60 - 600, UTC)
    _put(cw, "Duration", [float(v) for v in range(1, 101)], start + timedelta(seconds=5))
    _put(cw, "Invocations", [1.0] * 4, start + timedelta(seconds=5))
    _put(cw, "Errors", [1.0], start + timedelta(seconds=10))
    _put(cw, "Errors", [1.0, 1.0], start + timedelta(seconds=130))
    answer = cw.get_metric_data(
        StartTime=start,
        EndTime=start + timedelta(seconds=300),
        ScanBy="TimestampAscending",
        MetricDataQueries=[
            _query("p50", "Duration", "p50"),
            _query("p99", "Duration", "p99"),
            _query("errors", "Errors", "Sum"),
            {**_query("calls", "Invocations", "Sum"), "ReturnData": False},
            {"Id": "rate", "Expression": "100 * errors / calls", "Label": "error rate"},
        ],
    )
    results = {r["Id"]: r for r in answer["MetricDataResults"]}
    assert set(results) == {"p50", "p99", "errors", "rate"}
    assert results["p50"]["Values"] == [50.0]
    assert results["p99"]["Values"] == [99.0]
    assert results["errors"]["Values"] == [1.0, 2.0]
    assert results["errors"]["Timestamps"] == [start, start + timedelta(seconds=120)]
    assert results["rate"]["Values"] == [25.0]
    assert results["rate"]["Label"] == "error rate"
    assert results["errors"]["Label"] == "Errors Sum"
