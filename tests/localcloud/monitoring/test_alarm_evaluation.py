"""Metric alarms are evaluated every minute of the local clock as CloudWatch evaluates them:
statistics, periods, M out of N, comparison operators and the four ways to treat missing data."""

from typing import Any

import pytest

from localcloud.server import LocalCloud
from tests.localcloud.monitoring.alarm_support import (
    NAMESPACE,
    alarm,
    clock_time,
    put_alarm,
    put_values,
    reason_data,
    state,
)


def test_a_new_alarm_starts_in_insufficient_data_and_nothing_moves_before_a_tick(
    cw: Any, localcloud: LocalCloud
) -> None:
    put_alarm(cw)
    put_values(cw, localcloud, 9)
    assert state(cw) == "INSUFFICIENT_DATA"
    assert alarm(cw)["StateReason"] == "Unchecked: Initial alarm creation"
    localcloud.advance(0)
    assert state(cw) == "INSUFFICIENT_DATA"  # the minute is not over: no evaluation yet


def test_a_breaching_minute_moves_the_alarm_to_alarm_at_the_next_tick(
    cw: Any, localcloud: LocalCloud
) -> None:
    put_alarm(cw)
    put_values(cw, localcloud, 2, 4)
    localcloud.advance(60)
    found = alarm(cw)
    assert found["StateValue"] == "ALARM"
    assert found["StateReason"].startswith(
        "Threshold Crossed: 1 out of the last 1 datapoints [6.0 ("
    )
    assert found["StateReason"].endswith(
        "was greater than or equal to the threshold (5.0) "
        "(minimum 1 datapoint for INSUFFICIENT_DATA -> ALARM transition)."
    )


@pytest.mark.parametrize(
    ("statistic", "expected"),
    [
        ("Sum", 16.0),
        ("Average", 4.0),
        ("Minimum", 1.0),
        ("Maximum", 10.0),
        ("SampleCount", 4.0),
        ("p50", 2.0),
        ("p75", 3.0),
        ("p100", 10.0),
    ],
)
def test_each_statistic_is_computed_from_the_periods_datapoints(
    cw: Any, localcloud: LocalCloud, statistic: str, expected: float
) -> None:
    if statistic.startswith("p"):
        put_alarm(cw, Statistic=None, ExtendedStatistic=statistic, Threshold=1000.0)
    else:
        put_alarm(cw, Statistic=statistic, Threshold=1000.0)
    put_values(cw, localcloud, 3, 1, 10, 2)
    localcloud.advance(60)
    evaluated = reason_data(cw)["evaluatedDatapoints"]
    assert [point["value"] for point in evaluated] == [expected]


def test_statistic_sets_and_values_with_counts_are_combined(
    cw: Any, localcloud: LocalCloud
) -> None:
    for name, statistic in [("sum", "Sum"), ("count", "SampleCount"), ("average", "Average")]:
        put_alarm(cw, name, Statistic=statistic, Threshold=1000.0)
    put_alarm(cw, "median", Statistic=None, ExtendedStatistic="p50", Threshold=1000.0)
    now = clock_time(localcloud)
    cw.put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {
                "MetricName": "Errors",
                "StatisticValues": {"Sum": 10, "Minimum": 1, "Maximum": 5, "SampleCount": 4},
                "Timestamp": now,
            },
            {"MetricName": "Errors", "Values": [2, 8], "Counts": [1, 3], "Timestamp": now},
        ],
    )
    localcloud.advance(60)
    values = {n: reason_data(cw, n)["recentDatapoints"] for n in ("sum", "count", "average")}
    assert values == {"sum": [36.0], "count": [8.0], "average": [4.5]}
    # A statistic set with Minimum != Maximum has no raw values: no percentile for the period.
    assert state(cw, "median") == "INSUFFICIENT_DATA"


def test_a_percentile_uses_values_published_with_counts(cw: Any, localcloud: LocalCloud) -> None:
    put_alarm(cw, Statistic=None, ExtendedStatistic="p50", Threshold=8.0)
    cw.put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {
                "MetricName": "Errors",
                "Values": [2, 8],
                "Counts": [1, 3],
                "Timestamp": clock_time(localcloud),
            }
        ],
    )
    localcloud.advance(60)
    assert state(cw) == "ALARM"
    assert reason_data(cw)["extendedStatistic"] == "p50"


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("GreaterThanOrEqualToThreshold", "ALARM"),
        ("GreaterThanThreshold", "OK"),
        ("LessThanThreshold", "OK"),
        ("LessThanOrEqualToThreshold", "ALARM"),
    ],
)
def test_each_comparison_operator_at_the_threshold(
    cw: Any, localcloud: LocalCloud, operator: str, expected: str
) -> None:
    put_alarm(cw, ComparisonOperator=operator)
    put_values(cw, localcloud, 5)
    localcloud.advance(60)
    assert state(cw) == expected


@pytest.mark.parametrize(
    "operator",
    [
        "LessThanLowerOrGreaterThanUpperThreshold",
        "LessThanLowerThreshold",
        "GreaterThanUpperThreshold",
    ],
)
def test_anomaly_detection_bands_are_refused_by_name(cw: Any, operator: str) -> None:
    with pytest.raises(cw.exceptions.ClientError) as refused:
        put_alarm(cw, ComparisonOperator=operator)
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert operator in error["Message"] and "not supported" in error["Message"]
    assert cw.describe_alarms()["MetricAlarms"] == []


def test_m_out_of_n_needs_m_breaching_periods_among_the_last_n(
    cw: Any, localcloud: LocalCloud
) -> None:
    put_alarm(cw, EvaluationPeriods=3, DatapointsToAlarm=2)
    for value in (9, 1):
        put_values(cw, localcloud, value)
        localcloud.advance(60)
    assert state(cw) == "OK"  # 1 of 2 real datapoints breaching
    put_values(cw, localcloud, 7)
    localcloud.advance(60)
    found = alarm(cw)
    assert found["StateValue"] == "ALARM"
    assert "2 out of the last 3 datapoints" in found["StateReason"]
    assert [p["value"] for p in reason_data(cw)["evaluatedDatapoints"]] == [7.0, 1.0, 9.0]


@pytest.mark.parametrize(
    ("treatment", "expected"),
    [
        ("missing", "INSUFFICIENT_DATA"),
        ("notBreaching", "OK"),
        ("breaching", "ALARM"),
        ("ignore", "INSUFFICIENT_DATA"),  # ignore keeps the state it has (the initial one)
    ],
)
def test_no_data_at_all_is_treated_per_treat_missing_data(
    cw: Any, localcloud: LocalCloud, treatment: str, expected: str
) -> None:
    put_alarm(cw, TreatMissingData=treatment)
    localcloud.advance(60)
    found = alarm(cw)
    assert found["StateValue"] == expected
    if treatment == "breaching":
        assert found["StateReason"] == (
            "Threshold Crossed: no datapoints were received for 1 period and 1 missing "
            "datapoint was treated as [Breaching]."
        )


@pytest.mark.parametrize(
    ("treatment", "after_the_range"), [("ignore", "ALARM"), ("missing", "INSUFFICIENT_DATA")]
)
def test_when_data_stops_the_last_real_datapoints_count_until_the_range_is_empty(
    cw: Any, localcloud: LocalCloud, treatment: str, after_the_range: str
) -> None:
    put_alarm(cw, TreatMissingData=treatment)
    put_values(cw, localcloud, 9)
    localcloud.advance(60)
    assert state(cw) == "ALARM"
    # The evaluation range is N + 2 periods: the 9 is still the most recent real datapoint.
    localcloud.advance(120)
    assert state(cw) == "ALARM"
    assert reason_data(cw)["evaluatedDatapoints"][0]["value"] == 9.0
    localcloud.advance(60)  # now the range holds no real datapoint
    found = alarm(cw)
    assert found["StateValue"] == after_the_range
    if after_the_range == "INSUFFICIENT_DATA":
        assert found["StateReason"] == "Insufficient Data: 1 datapoint was unknown."
        data = reason_data(cw)
        assert data["recentDatapoints"] == [] and "startDate" not in data
        assert [sorted(point) for point in data["evaluatedDatapoints"]] == [["timestamp"]]


@pytest.mark.parametrize(
    ("treatment", "expected"), [("breaching", "ALARM"), ("notBreaching", "OK")]
)
def test_fewer_real_datapoints_than_n_are_completed_with_the_treatment(
    cw: Any, localcloud: LocalCloud, treatment: str, expected: str
) -> None:
    put_alarm(cw, EvaluationPeriods=3, TreatMissingData=treatment)
    put_values(cw, localcloud, 9)  # one real breaching datapoint, two missing ones
    localcloud.advance(60)
    assert state(cw) == expected


def test_real_datapoints_further_back_are_used_before_missing_data_is_treated(
    cw: Any, localcloud: LocalCloud
) -> None:
    put_alarm(cw, EvaluationPeriods=2, DatapointsToAlarm=1, TreatMissingData="breaching")
    for value in (1, 1):
        put_values(cw, localcloud, value)
        localcloud.advance(60)
    localcloud.advance(60)  # one missing period; two real ones in the range
    assert state(cw) == "OK"  # a filled breaching datapoint would have been 1 of 2: ALARM


def test_updating_an_alarm_keeps_its_state(cw: Any, localcloud: LocalCloud) -> None:
    put_alarm(cw)
    put_values(cw, localcloud, 9)
    localcloud.advance(60)
    put_alarm(cw, AlarmDescription="now with a description")
    found = alarm(cw)
    assert (found["StateValue"], found["AlarmDescription"]) == ("ALARM", "now with a description")


def test_a_metric_with_other_dimensions_is_another_metric(cw: Any, localcloud: LocalCloud) -> None:
    put_alarm(cw, Dimensions=[{"Name": "FunctionName", "Value": "checker"}])
    cw.put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {
                "MetricName": "Errors",
                "Value": 9,
                "Timestamp": clock_time(localcloud),
                "Dimensions": [{"Name": "FunctionName", "Value": "other"}],
            }
        ],
    )
    localcloud.advance(60)
    assert state(cw) == "INSUFFICIENT_DATA"


def test_ignoring_low_sample_count_percentiles_is_refused_by_name(cw: Any) -> None:
    with pytest.raises(cw.exceptions.ClientError) as refused:
        put_alarm(
            cw,
            Statistic=None,
            ExtendedStatistic="p99",
            EvaluateLowSampleCountPercentile="ignore",
        )
    assert "EvaluateLowSampleCountPercentile" in refused.value.response["Error"]["Message"]
