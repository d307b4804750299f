"""An index over moto's CloudWatch datapoints, per metric and time, so an evaluation tick reads
only the periods each alarm looks at instead of scanning every datapoint.

moto keeps every datapoint in one list (`CloudWatchBackend.metric_data`) whatever wrote it
(PutMetricData, the Lambda runtime, our SQS metrics). The index follows that list: each sync
indexes only what was appended since the last one, so it never misses a writer and never pays
twice for a datapoint. PutMetricData syncs right after writing (the cost is paid with the
write, not by the next tick); the tick syncs again for writers that append to the list directly.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MetricKey = tuple[str, str, tuple[tuple[str, str], ...]]
"""(namespace, metric name, sorted (dimension name, value) pairs): CloudWatch's identity of a
metric; a different set of dimensions is a different metric."""


def metric_key(namespace: str, name: str, dimensions: Iterable[tuple[str, str]]) -> MetricKey:
    return (namespace, name, tuple(sorted(dimensions)))


_NAIVE_EPOCH = datetime(1970, 1, 1)


def epoch_of(timestamp: datetime) -> float:
    """moto stores naive UTC datetimes (and aware ones when the caller gave an offset)."""
    if timestamp.tzinfo is None:
        return (timestamp - _NAIVE_EPOCH).total_seconds()
    return timestamp.timestamp()


@dataclass
class _Series:
    times: list[float] = field(default_factory=list)
    datums: list[Any] = field(default_factory=list)
    ordered: bool = True

    def add(self, at: float, datum: Any) -> None:
        if self.times and at < self.times[-1]:
            self.ordered = False  # a late datapoint (PutMetricData with an older Timestamp)
        self.times.append(at)
        self.datums.append(datum)

    def between(self, start: float, end: float) -> Sequence[Any]:
        """Datums with start <= timestamp < end."""
        if not self.ordered:
            pairs = sorted(zip(self.times, self.datums, strict=True), key=lambda pair: pair[0])
            self.times = [at for at, _ in pairs]
            self.datums = [datum for _, datum in pairs]
            self.ordered = True
        low = bisect.bisect_left(self.times, start)
        high = bisect.bisect_left(self.times, end, lo=low)
        return self.datums[low:high]


class MetricIndex:
    """Datapoints of one moto CloudWatch backend, by metric, in time order."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self._series: dict[MetricKey, _Series] = {}
        self._indexed = 0
        # PutMetricData (request threads) and the tick (the clock's thread) both sync.
        self._lock = threading.Lock()

    def sync(self) -> None:
        with self._lock:
            data = self._backend.metric_data
            new = data[self._indexed : len(data)]
            self._indexed += len(new)
            self._add_all(new)

    def _add_all(self, new: list[Any]) -> None:
        # The hot loop of a bulk write: kept flat on purpose (no helper calls per datapoint).
        series_by_key = self._series
        for datum in new:
            dimensions = datum.dimensions
            if len(dimensions) == 1:
                pairs: tuple[tuple[str, str], ...] = ((dimensions[0].name, dimensions[0].value),)
            else:
                pairs = tuple(sorted((d.name, d.value) for d in dimensions))
            key = (datum.namespace, datum.name, pairs)
            series = series_by_key.get(key)
            if series is None:
                series = series_by_key[key] = _Series()
            series.add(epoch_of(datum.timestamp), datum)

    def datums(self, key: MetricKey, start: float, end: float) -> Sequence[Any]:
        with self._lock:
            series = self._series.get(key)
            return () if series is None else series.between(start, end)


_CREATION_LOCK = threading.Lock()


def index_of(backend: Any) -> MetricIndex:
    """The backend's index, brought up to date. Created on first use, on the backend object, so
    moto's reset (which rebuilds every backend) drops it with the data."""
    with _CREATION_LOCK:
        index = backend.__dict__.get("_localcloud_metric_index")
        if index is None:
            index = backend.__dict__["_localcloud_metric_index"] = MetricIndex(backend)
    index.sync()
    return index  # type: ignore[no-any-return]
