"""Each channel gets each alarm state change once: Powertools Idempotency over DynamoDB.

One record per (channel, alarm state change), in the product's dedupe table (key ``pk``, TTL
``expires_at``): pk = "<channel>#<sha256 of the alarm ARN, new state and state-change time>",
status INPROGRESS|COMPLETED, lease_until_ms (the in-progress expiry), expires_at.

Flow: claim (conditional put) -> send -> mark COMPLETED; a failed send deletes the claim so the
Lambda retry re-sends only that channel. A claim still INPROGRESS after its lease (the time the
claiming invocation had left when it claimed) means that invocation died between claim and
send/mark: the next delivery takes it over. We accept the rare duplicate (crash after a
successful send but before the mark) over a lost page; PagerDuty's dedup_key absorbs it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyInconsistentStateError,
    IdempotencyPersistenceLayerError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from oncall_shared.aws import client
from oncall_shared.errors import DeliveryError
from oncall_shared.events import AlarmChange

logger = Logger(child=True)
Send = Callable[[], None]
# Record layout in the table the product creates (builder.state_table: key pk, TTL expires_at).
RECORD_ATTRIBUTES = {
    "key_attr": "pk",
    "expiry_attr": "expires_at",
    "in_progress_expiry_attr": "lease_until_ms",
    "status_attr": "status",
    "data_attr": "result",
}


def delivery_identity(alarm: AlarmChange) -> dict[str, str]:
    """What makes two deliveries the same: SNS and EventBridge copies of one change agree."""
    return {
        "alarm_arn": alarm.arn,
        "new_state": alarm.new_state,
        "state_change_time": alarm.timestamp,
    }


def record_key(channel: str, alarm: AlarmChange) -> str:
    """The pk Powertools gives the record: key_prefix (the channel) # sha256 of the identity as
    sorted JSON. Only tests and operators need it; the handler lets Powertools compute it."""
    identity = json.dumps(delivery_identity(alarm), sort_keys=True)
    return f"{channel}#{hashlib.sha256(identity.encode('utf-8')).hexdigest()}"


@dataclass(frozen=True)
class Delivery:
    sent: bool  # False: already sent, or another invocation holds a live claim on it
    mark_failed: bool = False  # sent, but the COMPLETED mark could not be written


class TimeLeft:
    """The invocation's remaining time read when the channel starts: Powertools sets the claim's
    in-progress expiry (our lease) to now + this, so the lease ends with the invocation. Powertools
    reads nothing else of the context it is given."""

    def __init__(self, remaining_ms: int) -> None:
        self._remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining_ms


class _Attempt:
    """Tells a send made now from a replayed record, and keeps the send's own error."""

    def __init__(self) -> None:
        self.sent = False
        self.error: Exception | None = None

    def run(self, *, change: dict[str, str], send: Send) -> None:
        try:
            send()
        except Exception as error:
            self.error = error
            raise
        self.sent = True


class DedupeStore:
    def __init__(self, table_name: str, ttl_hours: int) -> None:
        self.table_name = table_name
        self.persistence = DynamoDBPersistenceLayer(
            table_name=table_name, boto3_client=client("dynamodb"), **RECORD_ATTRIBUTES
        )
        self.config = IdempotencyConfig(
            expires_after_seconds=ttl_hours * 3600, hash_function="sha256"
        )
        self._guarded: dict[str, Callable[..., Any]] = {}

    def deliver(self, channel: str, alarm: AlarmChange, send: Send, remaining_ms: int) -> Delivery:
        """Send unless this channel already has (or is sending) this state change."""
        self.config.register_lambda_context(cast(LambdaContext, TimeLeft(remaining_ms)))
        attempt = _Attempt()
        try:
            self._guard(channel)(change=delivery_identity(alarm), send=send, attempt=attempt)
        except IdempotencyAlreadyInProgressError:
            return Delivery(sent=False)
        except (IdempotencyPersistenceLayerError, IdempotencyInconsistentStateError) as error:
            return self._after_store_error(attempt, error)
        return Delivery(sent=attempt.sent)

    def _guard(self, channel: str) -> Callable[..., Any]:
        guarded = self._guarded.get(channel)
        if guarded is None:
            guarded = idempotent_function(
                _run_attempt,
                data_keyword_argument="change",
                persistence_store=self.persistence,
                config=self.config,
                key_prefix=channel,
            )
            self._guarded[channel] = guarded
        return guarded

    def _after_store_error(self, attempt: _Attempt, error: Exception) -> Delivery:
        if attempt.sent:
            return Delivery(sent=True, mark_failed=True)
        if attempt.error is not None:
            # The send failed and so did deleting its claim: the send's error is the one that
            # matters; the claim expires with its lease.
            logger.error("could not release dedupe claim", extra={"error": str(error)})
            raise attempt.error
        raise DeliveryError(f"dedupe table {self.table_name!r}: {error}")


def _run_attempt(*, change: dict[str, str], send: Send, attempt: _Attempt) -> None:
    attempt.run(change=change, send=send)
