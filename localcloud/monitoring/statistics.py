"""One period's statistic from the datapoints moto stored, as CloudWatch computes it.

PutMetricData stores three kinds of datapoint: a Value, Values with Counts (moto expands each
value Counts times, which is what percentiles need) and a StatisticValues set (Sum, Minimum,
Maximum, SampleCount). Sum/SampleCount/Minimum/Maximum/Average combine all three. Percentiles
need raw values: as CloudWatch documents, a statistic set only counts towards a percentile when
its SampleCount is 1 or its Minimum equals its Maximum (every sample then has that value).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import AlarmFeatureNotSupported

SIMPLE_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d{1,10})?|100)$")


@dataclass
class PeriodSummary:
    """Everything a statistic needs about one period's datapoints."""

    sample_count: float = 0.0
    total: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    values: list[float] = field(default_factory=list)
    percentile_ready: bool = True  # False once a statistic set could not be expanded


def summarize(datums: Sequence[Any], unit: str | None = None) -> PeriodSummary | None:
    """None when the period has no datapoint (of `unit`, when the alarm names one)."""
    summary = PeriodSummary()
    for datum in datums:
        if unit is not None and datum.unit is not None and datum.unit != unit:
            continue
        if hasattr(datum, "value"):
            _add_value(summary, float(datum.value))
        else:
            _add_statistic_set(summary, datum)
    return summary if summary.sample_count > 0 else None


def _add_value(summary: PeriodSummary, value: float) -> None:
    summary.sample_count += 1
    summary.total += value
    summary.minimum = min(summary.minimum, value)
    summary.maximum = max(summary.maximum, value)
    summary.values.append(value)


def _add_statistic_set(summary: PeriodSummary, datum: Any) -> None:
    count, low, high = float(datum.sample_count), float(datum.min), float(datum.max)
    summary.sample_count += count
    summary.total += float(datum.sum)
    summary.minimum = min(summary.minimum, low)
    summary.maximum = max(summary.maximum, high)
    if count == 1 or low == high:
        summary.values.extend([low] * int(count))
    else:
        summary.percentile_ready = False


def statistic_value(summary: PeriodSummary, statistic: str) -> float | None:
    """The period's value of `statistic` (a simple statistic or pNN); None when it has none."""
    if statistic == "Sum":
        return summary.total
    if statistic == "SampleCount":
        return summary.sample_count
    if statistic == "Average":
        return summary.total / summary.sample_count
    if statistic == "Minimum":
        return summary.minimum
    if statistic == "Maximum":
        return summary.maximum
    return _percentile(summary, percentile_of(statistic))


def percentile_of(statistic: str) -> float:
    match = _PERCENTILE.match(statistic)
    if match is None:
        raise AlarmFeatureNotSupported(
            f"statistic {statistic!r} is not supported by localcloud: use one of "
            f"{', '.join(SIMPLE_STATISTICS)} or a percentile pNN / pNN.NN"
        )
    return float(match.group(1))


def _percentile(summary: PeriodSummary, percent: float) -> float | None:
    # Nearest rank: CloudWatch does not document its interpolation; this one returns a value
    # that was really published, and p100 is the maximum.
    if not summary.percentile_ready or not summary.values:
        return None
    ordered = sorted(summary.values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def check_statistic(statistic: str) -> None:
    if statistic not in SIMPLE_STATISTICS:
        percentile_of(statistic)
