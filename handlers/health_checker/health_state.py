"""Per-target state in DynamoDB and the transition rules (flap suppression, recovery).

Item shape (table key: pk only): pk="target#<name>", status, consecutive_failures, version,
last_detail, last_checked (epoch s of the last write), expires_at (TTL, so removed targets age
out).

Only targets whose state changed are written (plus a daily refresh that keeps the TTL ahead):
at 1,000 targets a run that changes nothing makes no write at all. A transition is written with
a conditional PutItem on the version read, so two overlapping runs cannot both apply it; every
other change goes through BatchWriteItem (25 items a call), which takes no condition.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from health_probes import CheckResult
from oncall_shared.aws import client
from oncall_shared.errors import OncallError

HEALTHY = "healthy"
UNHEALTHY = "unhealthy"
UNKNOWN = "unknown"
STATE_TTL_SECONDS = 30 * 24 * 3600
# An unchanged item is rewritten once a day, so its TTL never lapses while the target is listed.
STATE_REFRESH_SECONDS = 24 * 3600
_BATCH_GET_LIMIT = 100  # DynamoDB BatchGetItem takes at most 100 keys per call
_BATCH_WRITE_LIMIT = 25  # DynamoDB BatchWriteItem takes at most 25 put/delete requests per call
# Unprocessed keys/items mean the table or partition is throttled: retry what is left, backing
# off exponentially with full jitter (AWS's advice for batch operations), for about 6 s in all.
_MAX_UNPROCESSED_ROUNDS = 8
_BACKOFF_BASE_SECONDS = 0.05
_BACKOFF_CAP_SECONDS = 2.0
# Batch calls of one run are sent side by side; botocore's pool holds 10 connections per client.
_STATE_IO_THREADS = 8
_DETAIL_LIMIT = 1000
# The pause between retry rounds; tests replace it so that they never wait on a clock.
BACKOFF_SLEEP: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class TargetState:
    status: str = UNKNOWN
    consecutive_failures: int = 0
    version: int = 0
    # When the item was last written (epoch s); 0 when there is no item. Not part of the state.
    written_at: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Transition:
    name: str
    old_status: str
    new_status: str
    consecutive_failures: int
    detail: str


@dataclass(frozen=True)
class StateUpdate:
    """One target's new state, to be written with the detail of the check that produced it."""

    name: str
    state: TargetState
    detail: str


def next_state(
    previous: TargetState, result: CheckResult, threshold: int
) -> tuple[TargetState, Transition | None]:
    """Apply one check result. Alerts fire only on a change of status, never on every failure."""
    version = previous.version + 1
    if result.healthy:
        state = TargetState(HEALTHY, 0, version)
        if previous.status == UNHEALTHY:
            return state, Transition(result.name, UNHEALTHY, HEALTHY, 0, result.detail)
        return state, None
    failures = previous.consecutive_failures + 1
    if failures >= threshold and previous.status != UNHEALTHY:
        transition = Transition(result.name, previous.status, UNHEALTHY, failures, result.detail)
        return TargetState(UNHEALTHY, failures, version), transition
    return TargetState(previous.status, failures, version), None


def needs_write(previous: TargetState, state: TargetState, now: float) -> bool:
    """True when the status or failure count moved, or the stored item is due for a refresh."""
    if (previous.status, previous.consecutive_failures) != (
        state.status,
        state.consecutive_failures,
    ):
        return True
    return now - previous.written_at >= STATE_REFRESH_SECONDS


def state_key(name: str) -> str:
    return f"target#{name}"


def load_states(table: str, names: list[str]) -> dict[str, TargetState]:
    """Every target's stored state (unknown when absent), read 100 keys per call, in parallel."""
    states = {name: TargetState() for name in names}
    chunks = _chunks(names, _BATCH_GET_LIMIT)
    for items in _in_parallel(lambda chunk: _batch_get(table, chunk), chunks):
        for item in items:
            name = str(item["pk"]["S"]).removeprefix("target#")
            states[name] = _from_item(item)
    return states


def _batch_get(table: str, names: list[str]) -> list[dict[str, Any]]:
    request: dict[str, Any] = {
        table: {
            "Keys": [{"pk": {"S": state_key(name)}} for name in names],
            "ConsistentRead": True,
            # Only what the transition rules read: last_detail (up to 1 KB) stays on the table.
            "ProjectionExpression": "pk, #status, consecutive_failures, version, last_checked",
            "ExpressionAttributeNames": {"#status": "status"},  # a DynamoDB reserved word
        }
    }
    items: list[dict[str, Any]] = []
    for attempt in range(_MAX_UNPROCESSED_ROUNDS):
        if attempt:
            _back_off(attempt)
        response = client("dynamodb").batch_get_item(RequestItems=request)
        items.extend(response.get("Responses", {}).get(table, []))
        request = response.get("UnprocessedKeys") or {}
        if not request:
            return items
    left = len(request.get(table, {}).get("Keys", []))
    raise StateStoreError(
        f"STATE_TABLE={table!r}: {left} keys still unprocessed after "
        f"{_MAX_UNPROCESSED_ROUNDS} BatchGetItem calls"
    )


def _from_item(item: dict[str, Any]) -> TargetState:
    return TargetState(
        status=str(item.get("status", {}).get("S", UNKNOWN)),
        consecutive_failures=int(item.get("consecutive_failures", {}).get("N", "0")),
        version=int(item.get("version", {}).get("N", "0")),
        written_at=int(item.get("last_checked", {}).get("N", "0")),
    )


def state_item(name: str, state: TargetState, detail: str, now: float) -> dict[str, Any]:
    return {
        "pk": {"S": state_key(name)},
        "status": {"S": state.status},
        "consecutive_failures": {"N": str(state.consecutive_failures)},
        "version": {"N": str(state.version)},
        "last_detail": {"S": detail[:_DETAIL_LIMIT]},
        "last_checked": {"N": str(int(now))},
        "expires_at": {"N": str(int(now) + STATE_TTL_SECONDS)},
    }


def save_state(table: str, name: str, state: TargetState, detail: str, now: float) -> bool:
    """Write ``state`` only if nobody else moved the item since we read it; False if they did."""
    try:
        client("dynamodb").put_item(
            TableName=table,
            Item=state_item(name, state, detail, now),
            ConditionExpression="attribute_not_exists(pk) OR version = :previous",
            ExpressionAttributeValues={":previous": {"N": str(state.version - 1)}},
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def save_transitions(table: str, updates: list[StateUpdate], now: float) -> list[str]:
    """Conditional writes of the transitions, side by side; the names whose write lost a race."""
    saved = _in_parallel(
        lambda update: save_state(table, update.name, update.state, update.detail, now), updates
    )
    return [update.name for update, ok in zip(updates, saved, strict=True) if not ok]


def save_states(table: str, updates: list[StateUpdate], now: float, dynamodb: Any = None) -> None:
    """Unconditional writes, 25 items per BatchWriteItem, retrying what DynamoDB left unprocessed.

    ``dynamodb`` defaults to the shared client; it is a parameter only so that the retry loop can
    be driven by a client that answers with UnprocessedItems (see the tests).
    """
    requests = [
        {"PutRequest": {"Item": state_item(update.name, update.state, update.detail, now)}}
        for update in updates
    ]
    writer = dynamodb if dynamodb is not None else client("dynamodb")
    _in_parallel(
        lambda chunk: _batch_write(writer, table, chunk), _chunks(requests, _BATCH_WRITE_LIMIT)
    )


def _batch_write(dynamodb: Any, table: str, requests: list[dict[str, Any]]) -> None:
    pending: dict[str, Any] = {table: requests}
    for attempt in range(_MAX_UNPROCESSED_ROUNDS):
        if attempt:
            _back_off(attempt)
        response = dynamodb.batch_write_item(RequestItems=pending)
        pending = response.get("UnprocessedItems") or {}
        if not pending:
            return
    raise StateStoreError(
        f"STATE_TABLE={table!r}: {len(pending.get(table, []))} items still unprocessed after "
        f"{_MAX_UNPROCESSED_ROUNDS} BatchWriteItem calls"
    )


def _back_off(attempt: int) -> None:
    ceiling = min(_BACKOFF_CAP_SECONDS, _BACKOFF_BASE_SECONDS * 2**attempt)
    BACKOFF_SLEEP(random.uniform(0, ceiling))  # noqa: S311 - jitter, not a secret


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _in_parallel(work: Callable[[Any], Any], inputs: Iterable[Any]) -> list[Any]:
    """``work`` over ``inputs`` on a few threads, results in order; the first error propagates."""
    batch = list(inputs)
    if len(batch) <= 1:
        return [work(item) for item in batch]
    with ThreadPoolExecutor(max_workers=min(_STATE_IO_THREADS, len(batch))) as pool:
        return list(pool.map(work, batch))


class StateStoreError(OncallError):
    """DynamoDB kept leaving keys or items unprocessed."""
