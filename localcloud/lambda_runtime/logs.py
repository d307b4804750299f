"""A function's output into CloudWatch Logs, as Lambda writes it (`/aws/lambda/<name>`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from ..clock import CLOCK

TAIL_BYTES = 4096  # LogType=Tail returns the last 4 KB of the invocation's log


def new_log_stream_name(version: str) -> str:
    """One stream per execution environment: `YYYY/MM/DD/[VERSION]<32 hex>`."""
    day = datetime.fromtimestamp(CLOCK.now(), UTC)
    return f"{day:%Y/%m/%d}/[{version}]{uuid.uuid4().hex}"


def write_log_events(function: Any, stream: str, records: list[str]) -> None:
    """Append to the function's log group (created as Lambda does) through moto's logs backend.

    The stream's own put (not the API's) is used so events stamped with the local clock are not
    rejected for being more than 2 hours ahead of the wall clock; subscription filters still run.
    """
    if not records:
        return
    backend = function.logs_backend
    group_name = function.logs_group_name
    backend.ensure_log_group(group_name)
    group = backend.groups[group_name]
    if stream not in group.streams:
        backend.create_log_stream(group_name, stream)
    millis = int(CLOCK.now() * 1000)
    group.streams[stream].put_log_events([{"timestamp": millis, "message": r} for r in records])


def log_tail(records: list[str]) -> bytes:
    return "\n".join(records).encode()[-TAIL_BYTES:]
