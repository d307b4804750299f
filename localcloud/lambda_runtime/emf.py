"""Embedded Metric Format: log lines that CloudWatch Logs turns into custom metrics.

A log event that is a JSON object with `_aws.CloudWatchMetrics` (an array of directives, each with
Namespace, Dimensions as arrays of dimension-key arrays, and Metrics with Name and optional Unit)
yields, for every directive, every dimension set and every metric, one datum whose value (a number
or an array of numbers, at most 100 values) is the member of the root named after the metric;
dimension values are the root members named by the keys. Timestamp is `_aws.Timestamp` in epoch
milliseconds. An invalid document yields no metrics (CloudWatch counts it in AWS/Logs and keeps the
log event): more than 100 metrics in a directive, 30 keys in a dimension set or 100 values for
a metric make it invalid, as the specification says they MUST NOT occur.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from .metrics import put_metrics

logger = logging.getLogger("localcloud.lambda")
MAX_METRICS_PER_DIRECTIVE = 100
MAX_DIMENSIONS_PER_SET = 30
MAX_VALUES_PER_METRIC = 100


def publish_embedded_metrics(function: Any, records: list[str]) -> None:
    for record in records:
        document = _emf_document(record)
        if document is not None:
            for namespace, data in metric_data(document):
                put_metrics(function.account_id, function.region, namespace, data)


def _emf_document(record: str) -> dict[str, Any] | None:
    text = record.strip()
    if not (text.startswith("{") and '"_aws"' in text):
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return None
    aws = document.get("_aws") if isinstance(document, dict) else None
    if not isinstance(aws, dict) or not isinstance(aws.get("CloudWatchMetrics"), list):
        return None
    return dict(document)


def metric_data(document: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(namespace, PutMetricData entries) for every valid directive of the document."""
    timestamp = _timestamp(document["_aws"].get("Timestamp"))
    result = []
    for directive in document["_aws"]["CloudWatchMetrics"]:
        try:
            result.append(_directive_data(document, directive, timestamp))
        except (KeyError, TypeError, ValueError) as problem:
            logger.warning("localcloud: invalid EMF directive skipped (%s): %s", problem, directive)
    return result


def _timestamp(millis: Any) -> datetime:
    from .metrics import clock_timestamp, naive_utc

    if isinstance(millis, int | float) and not isinstance(millis, bool):
        return naive_utc(millis / 1000)
    return clock_timestamp()


def _directive_data(
    root: dict[str, Any], directive: dict[str, Any], timestamp: datetime
) -> tuple[str, list[dict[str, Any]]]:
    namespace = directive["Namespace"]
    if not isinstance(namespace, str) or not namespace:
        raise ValueError(f"Namespace must be a non-empty string, got {namespace!r}")
    dimension_sets = [_dimensions(root, keys) for keys in directive.get("Dimensions", [[]])]
    metrics = directive["Metrics"]
    if not isinstance(metrics, list) or len(metrics) > MAX_METRICS_PER_DIRECTIVE:
        raise ValueError(f"Metrics must be an array of at most 100 definitions, got {metrics!r}")
    data = []
    for metric in metrics:
        values = _values(root, metric["Name"])
        for dimensions in dimension_sets or [[]]:
            datum: dict[str, Any] = {
                "MetricName": metric["Name"],
                "Values": values,
                "Timestamp": timestamp,
                "Dimensions": dimensions,
            }
            if metric.get("Unit"):
                datum["Unit"] = metric["Unit"]
            data.append(datum)
    return namespace, data


def _dimensions(root: dict[str, Any], keys: list[str]) -> list[dict[str, str]]:
    if len(keys) > MAX_DIMENSIONS_PER_SET:
        raise ValueError(f"a dimension set has {len(keys)} keys, at most 30 are allowed")
    return [{"Name": key, "Value": _dimension_value(root, key)} for key in keys]


def _dimension_value(root: dict[str, Any], key: str) -> str:
    value = root[key]
    if not isinstance(value, str):
        raise ValueError(f"dimension {key} must be a string, got {value!r}")
    return value


def _values(root: dict[str, Any], name: str) -> list[float]:
    value = root[name]
    values = value if isinstance(value, list) else [value]
    if not values or len(values) > MAX_VALUES_PER_METRIC:
        raise ValueError(f"metric {name} has {len(values)} values, 1 to 100 are allowed")
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
        raise ValueError(f"metric {name} must be a number or an array of numbers, got {value!r}")
    return [float(v) for v in values]
