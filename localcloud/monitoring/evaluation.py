"""Evaluate one metric alarm at one instant, as CloudWatch does (see docs/localcloud.md, Alarms).

CloudWatch's rules, from "Alarm evaluation" and "Configuring how CloudWatch alarms treat missing
data" in its user guide:
- datapoints are per Period, aligned on period boundaries; an evaluation looks at complete
  periods only;
- ALARM when at least DatapointsToAlarm (M) of the last EvaluationPeriods (N) breach, else OK;
- CloudWatch reads more periods than N, the evaluation range. No missing datapoint among the last
  N: those N decide. Some missing but at least N real datapoints in the range: the most recent N
  real ones decide and TreatMissingData plays no part. Fewer than N real ones: the real ones all
  count, and missing ones are filled as few times as possible per TreatMissingData (breaching /
  notBreaching); missing and ignore fill nothing and judge on the real ones;
- no real datapoint in the whole range: missing -> INSUFFICIENT_DATA, ignore -> the state stays,
  breaching -> the filled datapoints breach, notBreaching -> OK.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .expressions import CompiledExpression, Series, compile_expression
from .statistics import statistic_value, summarize
from .store import MetricIndex, metric_key

EXTRA_PERIODS_IN_RANGE = 2
"""How far past the N evaluated periods CloudWatch looks for real datapoints. AWS documents the
evaluation range but not its size ("depends on the period"); localcloud reads N + 2 periods."""

_COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (lambda v, t: v >= t, "greater than or equal to"),
    "GreaterThanThreshold": (lambda v, t: v > t, "greater than"),
    "LessThanThreshold": (lambda v, t: v < t, "less than"),
    "LessThanOrEqualToThreshold": (lambda v, t: v <= t, "less than or equal to"),
}
ANOMALY_OPERATORS = (
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
)
TREATMENTS = ("missing", "notBreaching", "breaching", "ignore")


@dataclass(frozen=True)
class Outcome:
    """A state an evaluation (or SetAlarmState) puts an alarm in."""

    state: str
    reason: str
    reason_data: str


@dataclass(frozen=True)
class Point:
    start: float  # the period's start, epoch seconds
    value: float | None
    sample_count: float | None = None


def aws_time(epoch: float) -> str:
    """CloudWatch's timestamps in reason data and messages: 2026-11-28T09:15:31.476+0000."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _reason_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%d/%m/%y %H:%M:%S")


def _number(value: float) -> str:
    return repr(float(value))


def alarm_period(alarm: Any) -> int:
    if alarm.metric_data_queries:
        for query in alarm.metric_data_queries:
            if query.metric_stat is not None:
                return int(query.metric_stat.period)
            if query.period:
                return int(query.period)
    return int(alarm.period)


def evaluate_metric_alarm(alarm: Any, index: MetricIndex, now: float) -> Outcome | None:
    """The state the alarm should be in at `now`; None when it keeps its state (ignore)."""
    period = alarm_period(alarm)
    wanted = int(alarm.evaluation_periods)
    last_end = math.floor(now / period) * period
    first_start = last_end - (wanted + EXTRA_PERIODS_IN_RANGE) * period
    starts = [float(first_start + i * period) for i in range(wanted + EXTRA_PERIODS_IN_RANGE)]
    points = _points(alarm, index, starts, period)
    return _judge(alarm, points, now, period, wanted)


def _points(alarm: Any, index: MetricIndex, starts: list[float], period: int) -> list[Point]:
    if alarm.metric_data_queries:
        values = _math_series(alarm, index, starts)
        return [Point(start, value) for start, value in zip(starts, values, strict=True)]
    key = metric_key(alarm.namespace, alarm.metric_name, _pairs(alarm.dimensions))
    statistic = alarm.extended_statistic or alarm.statistic
    points = []
    for start in starts:
        summary = summarize(index.datums(key, start, start + period), alarm.unit)
        value = None if summary is None else statistic_value(summary, statistic)
        count = None if summary is None else summary.sample_count
        points.append(Point(start, value, count if value is not None else None))
    return points


def _pairs(dimensions: Sequence[Any]) -> list[tuple[str, str]]:
    # As the index keys datapoints: the names and values moto stored, unconverted.
    return [(d.name, d.value) for d in dimensions]


def _math_series(alarm: Any, index: MetricIndex, starts: list[float]) -> Series:
    queries = {query.id: query for query in alarm.metric_data_queries}
    computed: dict[str, Series] = {}

    def series_of(query_id: str) -> Series:
        if query_id not in computed:
            computed[query_id] = _query_series(queries[query_id], index, starts, series_of)
        return computed[query_id]

    returned = [q.id for q in alarm.metric_data_queries if _returns_data(q)]
    return series_of(returned[0])


def _returns_data(query: Any) -> bool:
    return query.return_data is None or str(query.return_data).lower() != "false"


def _query_series(
    query: Any, index: MetricIndex, starts: list[float], series_of: Callable[[str], Series]
) -> Series:
    if query.expression:
        compiled = _compiled(query.expression)
        inputs = {metric_id: series_of(metric_id) for metric_id in compiled.metric_ids}
        return compiled.evaluate(inputs, len(starts))
    stat = query.metric_stat
    period = int(stat.period)
    key = metric_key(stat.metric.namespace, stat.metric.metric_name, _pairs(stat.metric.dimensions))
    series: Series = []
    for start in starts:
        summary = summarize(index.datums(key, start, start + period), stat.unit)
        series.append(None if summary is None else statistic_value(summary, stat.stat))
    return series


@functools.lru_cache(maxsize=4096)
def _compiled(source: str) -> CompiledExpression:
    return compile_expression(source)


@dataclass(frozen=True)
class _Judgement:
    evaluated: list[Point]  # real datapoints that decide, most recent first
    filled: int  # missing datapoints filled per TreatMissingData


def _judge(alarm: Any, points: list[Point], now: float, period: int, wanted: int) -> Outcome | None:
    treatment = alarm.treat_missing_data or "missing"
    real = [point for point in points if point.value is not None]
    latest = points[-wanted:]
    if all(point.value is not None for point in latest):
        judgement = _Judgement(list(reversed(latest)), 0)
    elif len(real) >= wanted:
        judgement = _Judgement(list(reversed(real[-wanted:])), 0)
    elif not real and treatment in ("missing", "ignore"):
        if treatment == "ignore":
            return None
        reason = f"Insufficient Data: {wanted} datapoint{_plural(wanted)} {_were(wanted)} unknown."
        unknown = list(reversed(latest))  # listed with their timestamps only, as AWS does
        return Outcome(
            "INSUFFICIENT_DATA", reason, _reason_data(alarm, points, unknown, now, period)
        )
    else:
        filled = wanted - len(real) if treatment in ("breaching", "notBreaching") else 0
        judgement = _Judgement(list(reversed(real)), filled)
    return _threshold_outcome(alarm, judgement, points, now=now, period=period, wanted=wanted)


def _threshold_outcome(
    alarm: Any, judgement: _Judgement, points: list[Point], *, now: float, period: int, wanted: int
) -> Outcome:
    compare, phrase = _COMPARISONS[alarm.comparison_operator]
    threshold = float(alarm.threshold)
    breaching = sum(1 for p in judgement.evaluated if compare(float(p.value or 0), threshold))
    treatment = alarm.treat_missing_data or "missing"
    if treatment == "breaching":
        breaching += judgement.filled
    needed = int(alarm.datapoints_to_alarm or wanted)
    state = "ALARM" if breaching >= needed else "OK"
    reason = _threshold_reason(
        alarm,
        judgement,
        state=state,
        breaching=breaching,
        needed=needed,
        phrase=phrase,
        wanted=wanted,
    )
    missing = [point for point in reversed(points) if point.value is None][: judgement.filled]
    evaluated = sorted(judgement.evaluated + missing, key=lambda point: -point.start)
    data = _reason_data(alarm, points, evaluated, now, period)
    return Outcome(state, reason, data)


def _threshold_reason(
    alarm: Any,
    judgement: _Judgement,
    *,
    state: str,
    breaching: int,
    needed: int,
    phrase: str,
    wanted: int,
) -> str:
    threshold = _number(float(alarm.threshold))
    if not judgement.evaluated:
        label = "Breaching" if (alarm.treat_missing_data == "breaching") else "NonBreaching"
        return (
            f"Threshold Crossed: no datapoints were received for {wanted} "
            f"period{_plural(wanted)} and {judgement.filled} missing "
            f"datapoint{_plural(judgement.filled)} {_were(judgement.filled)} treated as [{label}]."
        )
    listed = ", ".join(
        f"{_number(p.value or 0)} ({_reason_time(p.start)})" for p in judgement.evaluated
    )
    total = len(judgement.evaluated) + judgement.filled
    if state == "ALARM":
        counted, negation, transition = breaching, "", f"{alarm.state_value} -> ALARM"
    else:
        counted, negation, transition = total - breaching, "not ", f"{alarm.state_value} -> OK"
    return (
        f"Threshold Crossed: {counted} out of the last {total} datapoints "
        f"[{listed}] {_were(counted)} {negation}{phrase} the threshold ({threshold}) "
        f"(minimum {needed} datapoint{_plural(needed)} for {transition} transition)."
    )


def _plural(count: int) -> str:
    return "" if count == 1 else "s"


def _were(count: int) -> str:
    return "was" if count == 1 else "were"


def _reason_data(
    alarm: Any, points: list[Point], evaluated: list[Point], now: float, period: int
) -> str:
    """StateReasonData as CloudWatch writes it (compact JSON, keys in its order)."""
    recent = [p for p in points if p.value is not None]
    document: dict[str, Any] = {"version": "1.0", "queryDate": aws_time(now)}
    if recent:
        document["startDate"] = aws_time(recent[0].start)
    if not alarm.metric_data_queries:
        statistic_key = "extendedStatistic" if alarm.extended_statistic else "statistic"
        document[statistic_key] = alarm.extended_statistic or alarm.statistic
        if alarm.unit:
            document["unit"] = alarm.unit
    document["period"] = period
    document["recentDatapoints"] = [p.value for p in recent]
    document["threshold"] = float(alarm.threshold)
    document["evaluatedDatapoints"] = [_evaluated_point(p) for p in evaluated]
    return json.dumps(document, separators=(",", ":"))


def _evaluated_point(point: Point) -> Mapping[str, Any]:
    entry: dict[str, Any] = {"timestamp": aws_time(point.start)}
    if point.sample_count is not None:
        entry["sampleCount"] = point.sample_count
    if point.value is not None:
        entry["value"] = point.value
    return entry
