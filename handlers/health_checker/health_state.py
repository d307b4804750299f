"""Per-target state in DynamoDB and the transition rules (flap suppression, recovery).

Item shape (table key: pk only): pk="target#<name>", status, consecutive_failures, version,
last_detail, last_checked (epoch s), expires_at (TTL, so removed targets age out).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from health_probes import CheckResult
from oncall_shared.aws import client
from oncall_shared.errors import OncallError

HEALTHY = "healthy"
UNHEALTHY = "unhealthy"
UNKNOWN = "unknown"
STATE_TTL_SECONDS = 30 * 24 * 3600
_BATCH_GET_LIMIT = 100  # DynamoDB BatchGetItem takes at most 100 keys per call
_MAX_UNPROCESSED_ROUNDS = 5


@dataclass(frozen=True)
class TargetState:
    status: str = UNKNOWN
    consecutive_failures: int = 0
    version: int = 0


@dataclass(frozen=True)
class Transition:
    name: str
    old_status: str
    new_status: str
    consecutive_failures: int
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


def state_key(name: str) -> str:
    return f"target#{name}"


def load_states(table: str, names: list[str]) -> dict[str, TargetState]:
    states = {name: TargetState() for name in names}
    for start in range(0, len(names), _BATCH_GET_LIMIT):
        for item in _batch_get(table, names[start : start + _BATCH_GET_LIMIT]):
            name = str(item["pk"]["S"]).removeprefix("target#")
            states[name] = _from_item(item)
    return states


def _batch_get(table: str, names: list[str]) -> list[dict[str, Any]]:
    request: dict[str, Any] = {
        table: {"Keys": [{"pk": {"S": state_key(name)}} for name in names], "ConsistentRead": True}
    }
    items: list[dict[str, Any]] = []
    for _ in range(_MAX_UNPROCESSED_ROUNDS):
        response = client("dynamodb").batch_get_item(RequestItems=request)
        items.extend(response.get("Responses", {}).get(table, []))
        request = response.get("UnprocessedKeys") or {}
        if not request:
            return items
        time.sleep(0.2)  # unprocessed keys mean throttling: give the partition a moment
    raise StateStoreError(f"STATE_TABLE={table!r}: keys still unprocessed after retries")


def _from_item(item: dict[str, Any]) -> TargetState:
    return TargetState(
        status=str(item.get("status", {}).get("S", UNKNOWN)),
        consecutive_failures=int(item.get("consecutive_failures", {}).get("N", "0")),
        version=int(item.get("version", {}).get("N", "0")),
    )


def save_state(table: str, name: str, state: TargetState, detail: str, now: float) -> bool:
    """Write ``state`` only if nobody else moved the item since we read it; False if they did."""
    item = {
        "pk": {"S": state_key(name)},
        "status": {"S": state.status},
        "consecutive_failures": {"N": str(state.consecutive_failures)},
        "version": {"N": str(state.version)},
        "last_detail": {"S": detail[:1000]},
        "last_checked": {"N": str(int(now))},
        "expires_at": {"N": str(int(now) + STATE_TTL_SECONDS)},
    }
    try:
        client("dynamodb").put_item(
            TableName=table,
            Item=item,
            ConditionExpression="attribute_not_exists(pk) OR version = :previous",
            ExpressionAttributeValues={":previous": {"N": str(state.version - 1)}},
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


class StateStoreError(OncallError):
    """DynamoDB kept refusing to answer for some keys."""
