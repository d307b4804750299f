"""X-Ray trace headers and the lineage count behind Lambda's recursive loop detection.

Lambda counts how often a function is invoked in one chain of requests (function -> SQS/SNS/S3 ->
the same function) in the trace header's `Lineage` field and stops the chain after 16 invocations.
Here each invocation's `_X_AMZN_TRACE_ID` carries `Lineage=<hash of the function ARN>:<count>`
(several functions separated by `|`); the function's SDK calls send it as X-Amzn-Trace-Id and the
delivering service hands it to `invoke_async`.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from ..clock import CLOCK

MAX_RECURSIVE_INVOCATIONS = 16


@dataclass(frozen=True)
class Hop:
    trace_id: str
    count: int


def _fields(header: str | None) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in (header or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key:
            fields[key] = value
    return fields


def _lineage(value: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in value.split("|"):
        key, _, count = entry.partition(":")
        if key and count.isdigit():
            counts[key] = int(count)
    return counts


def function_hash(function_arn: str) -> str:
    return hashlib.sha256(function_arn.encode()).hexdigest()[:8]


def new_root() -> str:
    return f"1-{int(CLOCK.now() or time.time()):08x}-{secrets.token_hex(12)}"


def next_hop(header: str | None, function_arn: str) -> Hop:
    """The trace id for invoking `function_arn` after a request that carried `header`."""
    fields = _fields(header)
    counts = _lineage(fields.get("Lineage", ""))
    key = function_hash(function_arn)
    counts[key] = counts.get(key, 0) + 1
    lineage = "|".join(f"{name}:{count}" for name, count in counts.items())
    root = fields.get("Root") or new_root()
    trace_id = f"Root={root};Parent={secrets.token_hex(8)};Sampled=0;Lineage={lineage}"
    return Hop(trace_id, counts[key])
