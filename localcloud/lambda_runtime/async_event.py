"""An asynchronous event as the internal queue holds it, shared by the queue and destinations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ..clock import CLOCK
from .execution import Outcome


@dataclass
class AsyncEvent:
    account_id: str
    region: str
    function: str  # name or ARN, as given
    qualifier: str | None
    payload: bytes
    request_id: str
    received_at: float
    trace_header: str | None
    attempts: int = 0
    throttled: int = 0
    last_outcome: Outcome | None = None


def record_timestamp() -> str:
    return datetime.fromtimestamp(CLOCK.now(), UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
