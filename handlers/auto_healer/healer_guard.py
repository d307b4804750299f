"""Cooldown per resource and a cap on actions per hour, enforced atomically in DynamoDB.

Items (table key: pk only, TTL attribute expires_at):
  pk="resource#<id>"  action, acted_at, expires_at = acted_at + cooldown
  pk="window#<YYYY-MM-DDTHH>"  action_count, expires_at = end of hour + 1 day
Both are written in one TransactWriteItems call, so two concurrent invocations cannot both act
on one resource, nor push the hour past the cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from oncall_shared.aws import client
from oncall_shared.errors import OncallError

_WINDOW_TTL_EXTRA_SECONDS = 86_400


@dataclass(frozen=True)
class GuardLimits:
    table: str
    cooldown_seconds: int
    max_actions_per_hour: int


def resource_key(resource_id: str) -> str:
    return f"resource#{resource_id}"


def window_key(now: float) -> str:
    return "window#" + datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H")


def reserve(limits: GuardLimits, resource_id: str, action: str, now: float) -> str | None:
    """Claim the resource and one slot of this hour. Returns None on success, else why not."""
    try:
        client("dynamodb").transact_write_items(
            TransactItems=_reservation_items(limits, resource_id, action, now)
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        return _cancellation_reason(error.response, limits, now)
    return None


def _reservation_items(
    limits: GuardLimits, resource_id: str, action: str, now: float
) -> list[dict[str, Any]]:
    acted_at = int(now)
    return [
        {
            "Put": {
                "TableName": limits.table,
                "Item": {
                    "pk": {"S": resource_key(resource_id)},
                    "action": {"S": action},
                    "acted_at": {"N": str(acted_at)},
                    "expires_at": {"N": str(acted_at + limits.cooldown_seconds)},
                },
                # TTL deletion lags by up to days, so an expired item must count as absent.
                "ConditionExpression": "attribute_not_exists(pk) OR expires_at <= :now",
                "ExpressionAttributeValues": {":now": {"N": str(acted_at)}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
        {
            "Update": {
                "TableName": limits.table,
                "Key": {"pk": {"S": window_key(now)}},
                "UpdateExpression": "ADD action_count :one SET expires_at = :expires",
                "ConditionExpression": "attribute_not_exists(action_count) OR action_count < :max",
                "ExpressionAttributeValues": {
                    ":one": {"N": "1"},
                    ":max": {"N": str(limits.max_actions_per_hour)},
                    ":expires": {"N": str(_window_expiry(now))},
                },
            }
        },
    ]


def _cancellation_reason(response: dict[str, Any], limits: GuardLimits, now: float) -> str:
    reasons = response.get("CancellationReasons") or []
    codes = [str(reason.get("Code", "None")) for reason in reasons]
    if codes and codes[0] == "ConditionalCheckFailed":
        expires = reasons[0].get("Item", {}).get("expires_at", {}).get("N")
        return cooldown_reason(int(expires) if expires else None, now)
    if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
        return f"hourly cap reached: {limits.max_actions_per_hour} actions already taken this hour"
    # Conflicts with a concurrent transaction and the like: raise so Lambda retries later.
    raise GuardUnavailableError(f"STATE_TABLE={limits.table!r}: reservation cancelled ({codes})")


def cooldown_reason(expires_at: int | None, now: float) -> str:
    if expires_at is None:
        return "in cooldown after a recent action"
    minutes = max(1, round((expires_at - now) / 60))
    until = datetime.fromtimestamp(expires_at, UTC).strftime("%H:%M UTC")
    return f"in cooldown after a recent action: {minutes} min left (until {until})"


def release(limits: GuardLimits, resource_id: str) -> None:
    """Drop the cooldown after a failed action so a retry may try again (the hour slot stays)."""
    client("dynamodb").delete_item(
        TableName=limits.table, Key={"pk": {"S": resource_key(resource_id)}}
    )


def peek(limits: GuardLimits, resource_id: str, now: float) -> str | None:
    """Read-only version of reserve() for dry runs: what would stop an action right now."""
    dynamodb = client("dynamodb")
    item = dynamodb.get_item(
        TableName=limits.table, Key={"pk": {"S": resource_key(resource_id)}}, ConsistentRead=True
    ).get("Item")
    if item and int(item["expires_at"]["N"]) > int(now):
        return cooldown_reason(int(item["expires_at"]["N"]), now)
    window = dynamodb.get_item(
        TableName=limits.table, Key={"pk": {"S": window_key(now)}}, ConsistentRead=True
    ).get("Item")
    if window and int(window["action_count"]["N"]) >= limits.max_actions_per_hour:
        return f"hourly cap reached: {limits.max_actions_per_hour} actions already taken this hour"
    return None


def _window_expiry(now: float) -> int:
    hour_start = int(now) - int(now) % 3600
    return hour_start + 3600 + _WINDOW_TTL_EXTRA_SECONDS


class GuardUnavailableError(OncallError):
    """The reservation could not be decided (transaction conflict); retry later."""
