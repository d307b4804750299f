"""Exactly-once delivery per channel with one DynamoDB item per (channel, alarm state change).

Item: pk = "<channel>#<sha256(alarm_arn|new_state|state_change_time)>", status pending|sent,
claim_id, lease_until (epoch s), expires_at (TTL, epoch s).

Flow: claim (conditional put) -> send -> mark sent; a failed send deletes the claim so the
Lambda retry re-sends only that channel. A claim still "pending" after its lease (the claiming
invocation's own timeout) means that invocation died between claim and send/mark: the next
delivery may take it over. We accept the rare duplicate (crash after a successful send but
before the mark) over a lost page; PagerDuty's dedup_key absorbs it for pages anyway.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass

from botocore.exceptions import ClientError
from oncall_shared.aws import client
from oncall_shared.events import AlarmChange

STATUS_PENDING = "pending"
STATUS_SENT = "sent"
# New item, or a pending claim whose holder outlived its lease (it crashed or timed out).
CLAIM_CONDITION = "attribute_not_exists(pk) OR (#s = :pending AND lease_until < :now)"


def dedupe_key(channel: str, alarm: AlarmChange) -> str:
    identity = f"{alarm.arn}|{alarm.new_state}|{alarm.timestamp}"
    return f"{channel}#{hashlib.sha256(identity.encode('utf-8')).hexdigest()}"


@dataclass(frozen=True)
class Claim:
    key: str
    claim_id: str


class DedupeStore:
    def __init__(self, table_name: str, ttl_hours: int) -> None:
        self.table_name = table_name
        self.ttl_seconds = ttl_hours * 3600

    def claim(self, channel: str, alarm: AlarmChange, lease_seconds: float) -> Claim | None:
        """Claim the delivery, or None when it was already sent or another invocation holds it."""
        now = int(time.time())
        claim = Claim(dedupe_key(channel, alarm), str(uuid.uuid4()))
        try:
            client("dynamodb").put_item(
                TableName=self.table_name,
                Item=self._claim_item(claim, channel, alarm, now, lease_seconds),
                ConditionExpression=CLAIM_CONDITION,
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":pending": {"S": STATUS_PENDING},
                    ":now": {"N": str(now)},
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
        return claim

    def _claim_item(
        self, claim: Claim, channel: str, alarm: AlarmChange, now: int, lease_seconds: float
    ) -> dict[str, dict[str, str]]:
        return {
            "pk": {"S": claim.key},
            "status": {"S": STATUS_PENDING},
            "claim_id": {"S": claim.claim_id},
            "channel": {"S": channel},
            "alarm_arn": {"S": alarm.arn},
            "new_state": {"S": alarm.new_state},
            "state_change_time": {"S": alarm.timestamp},
            "claimed_at": {"N": str(now)},
            "lease_until": {"N": str(now + max(int(lease_seconds), 1))},
            "expires_at": {"N": str(now + self.ttl_seconds)},
        }

    def mark_sent(self, claim: Claim) -> None:
        client("dynamodb").update_item(
            TableName=self.table_name,
            Key={"pk": {"S": claim.key}},
            UpdateExpression="SET #s = :sent, sent_at = :now",
            ConditionExpression="claim_id = :claim",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":sent": {"S": STATUS_SENT},
                ":now": {"N": str(int(time.time()))},
                ":claim": {"S": claim.claim_id},
            },
        )

    def release(self, claim: Claim) -> None:
        """Drop our own pending claim (never someone else's) so a retry can send again."""
        client("dynamodb").delete_item(
            TableName=self.table_name,
            Key={"pk": {"S": claim.key}},
            ConditionExpression="claim_id = :claim AND #s = :pending",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":claim": {"S": claim.claim_id},
                ":pending": {"S": STATUS_PENDING},
            },
        )
