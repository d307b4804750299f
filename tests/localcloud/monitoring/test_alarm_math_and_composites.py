"""Metric-math alarms (the expressions the products use) and composite alarms."""

from typing import Any

import pytest

from localcloud.server import LocalCloud
from tests.localcloud.monitoring.alarm_support import (
    NAMESPACE,
    alarm,
    put_alarm,
    put_values,
    reason_data,
    state,
)


def metric(metric_id: str, name: str) -> dict[str, Any]:
    return {
        "Id": metric_id,
        "MetricStat": {
            "Metric": {"Namespace": NAMESPACE, "MetricName": name},
            "Period": 60,
            "Stat": "Sum",
        },
        "ReturnData": False,
    }


def math_alarm(cw: Any, expression: str, threshold: float, **overrides: Any) -> None:
    settings: dict[str, Any] = {
        "AlarmName": "math",
        "EvaluationPeriods": 1,
        "Threshold": threshold,
        "ComparisonOperator": "GreaterThanThreshold",
        "Metrics": [
            {"Id": "rate", "Expression": expression, "Label": "error rate", "ReturnData": True},
            metric("errors", "Errors"),
            metric("invocations", "Invocations"),
        ],
    }
    settings.update(overrides)
    cw.put_metric_alarm(**settings)


def test_an_error_rate_alarm_divides_errors_by_invocations(cw: Any, localcloud: LocalCloud) -> None:
    math_alarm(cw, "100 * errors / invocations", 10.0)
    put_values(cw, localcloud, 1, 1, metric="Errors")
    put_values(cw, localcloud, 10, metric="Invocations")
    localcloud.advance(60)
    assert state(cw, "math") == "ALARM"
    data = reason_data(cw, "math")
    assert data["recentDatapoints"] == [20.0] and "statistic" not in data


def test_arithmetic_on_a_missing_datapoint_gives_no_datapoint(
    cw: Any, localcloud: LocalCloud
) -> None:
    math_alarm(cw, "100 * errors / invocations", 10.0)
    put_values(cw, localcloud, 10, metric="Invocations")  # no Errors datapoint at all
    localcloud.advance(60)
    assert state(cw, "math") == "INSUFFICIENT_DATA"


def test_fill_and_if_turn_missing_errors_into_a_zero_rate(cw: Any, localcloud: LocalCloud) -> None:
    math_alarm(
        cw,
        "IF(invocations > 0, 100 * FILL(errors, 0) / invocations, 0)",
        -1.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    put_values(cw, localcloud, 10, metric="Invocations")
    localcloud.advance(60)
    assert state(cw, "math") == "ALARM"  # 0.0 > -1: the expression had a value
    assert reason_data(cw, "math")["recentDatapoints"] == [0.0]


@pytest.mark.parametrize(
    ("expression", "function"),
    [("SUM(METRICS())", "SUM"), ("ANOMALY_DETECTION_BAND(errors)", "ANOMALY_DETECTION_BAND")],
)
def test_an_unsupported_math_function_is_refused_by_name(
    cw: Any, expression: str, function: str
) -> None:
    with pytest.raises(cw.exceptions.ClientError) as refused:
        math_alarm(cw, expression, 1.0)
    message = refused.value.response["Error"]["Message"]
    assert f"function {function}" in message and "not supported" in message


def test_an_expression_naming_an_unknown_id_is_refused(cw: Any) -> None:
    with pytest.raises(cw.exceptions.ClientError) as refused:
        math_alarm(cw, "errors / throttles", 1.0)
    assert "throttles" in refused.value.response["Error"]["Message"]


def composite(cw: Any, rule: str, name: str = "composite", **extra: Any) -> None:
    cw.put_composite_alarm(AlarmName=name, AlarmRule=rule, **extra)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ('ALARM("errors") AND NOT OK(throttles)', "ALARM"),
        ("ALARM(errors) AND ALARM(throttles)", "OK"),
        ("(ALARM(throttles) OR INSUFFICIENT_DATA(throttles)) AND TRUE", "ALARM"),
        ("ALARM(errors) AND FALSE", "OK"),
        ("ALARM(arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors)", "ALARM"),
    ],
)
def test_a_composite_alarm_follows_its_rule(
    cw: Any, localcloud: LocalCloud, rule: str, expected: str
) -> None:
    put_alarm(cw, "errors")
    put_alarm(cw, "throttles", MetricName="Throttles")  # never gets data
    composite(cw, rule)
    assert state(cw, "composite") == "INSUFFICIENT_DATA"
    put_values(cw, localcloud, 9)
    localcloud.advance(60)
    assert state(cw, "composite") == expected
    assert alarm(cw, "composite")["AlarmRule"] == rule


def test_a_composite_changes_in_the_tick_its_child_changes(cw: Any, localcloud: LocalCloud) -> None:
    put_alarm(cw, "errors", TreatMissingData="notBreaching")
    composite(cw, "ALARM(errors)")
    put_values(cw, localcloud, 9)
    localcloud.advance(60)
    assert state(cw, "composite") == "ALARM"
    triggering = reason_data(cw, "composite")["triggeringAlarms"]
    assert [(t["arn"].rsplit(":", 1)[-1], t["state"]["value"]) for t in triggering] == [
        ("errors", "ALARM")
    ]
    localcloud.advance(180)  # the 9 leaves the evaluation range
    assert (state(cw, "errors"), state(cw, "composite")) == ("OK", "OK")


@pytest.mark.parametrize(
    ("rule", "named"),
    [("AT_LEAST(2, ALARM, (a, b))", "AT_LEAST"), ("ALARM(errors) AND", "ends too early")],
)
def test_a_rule_localcloud_cannot_evaluate_is_refused(cw: Any, rule: str, named: str) -> None:
    with pytest.raises(cw.exceptions.ClientError) as refused:
        composite(cw, rule)
    assert named in refused.value.response["Error"]["Message"]


def test_a_metrics_insights_query_is_refused_by_name(cw: Any) -> None:
    with pytest.raises(cw.exceptions.ClientError) as refused:
        cw.put_metric_alarm(
            AlarmName="insights",
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
            Metrics=[
                {
                    "Id": "q",
                    "Expression": 'SELECT SUM(Errors) FROM "AWS/Lambda"',
                    "Period": 60,
                    "ReturnData": True,
                }
            ],
        )
    assert "Metrics Insights" in refused.value.response["Error"]["Message"]


def test_expressions_that_refer_to_each_other_are_refused(cw: Any) -> None:
    with pytest.raises(cw.exceptions.ClientError) as refused:
        cw.put_metric_alarm(
            AlarmName="loop",
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
            Metrics=[
                {"Id": "a", "Expression": "b + 1", "ReturnData": True},
                {"Id": "b", "Expression": "a * 2", "ReturnData": False},
            ],
        )
    assert "a -> b -> a" in refused.value.response["Error"]["Message"]
