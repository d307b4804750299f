"""alert_dedupe.DedupeStore on a real (moto) table: what a failure of the store itself means."""

from __future__ import annotations

import time

import boto3
import pytest
from alert_dedupe import DedupeStore, Delivery, record_key
from oncall_shared.errors import DeliveryError
from oncall_shared.events import parse_alarm_event

REGION = "eu-west-1"


@pytest.fixture
def alarm(event):
    return parse_alarm_event(event("alarm_sns_metric"))[0]


def _drop_table(name: str) -> None:
    boto3.client("dynamodb", region_name=REGION).delete_table(TableName=name)


def test_sent_then_a_lost_mark_still_counts_as_sent(alert_stack, alarm):
    store = DedupeStore(alert_stack.table, 48)
    sent: list[str] = []

    def send() -> None:
        sent.append("slack")
        _drop_table(alert_stack.table)  # the COMPLETED mark that follows cannot be written

    assert store.deliver("slack", alarm, send, 30_000) == Delivery(sent=True, mark_failed=True)
    assert sent == ["slack"]


def test_a_failed_send_whose_record_cannot_be_deleted_reports_the_send_error(alert_stack, alarm):
    store = DedupeStore(alert_stack.table, 48)

    def send() -> None:
        _drop_table(alert_stack.table)
        raise DeliveryError("POST to https://hooks.slack.com failed after 3 attempts: HTTP 500")

    with pytest.raises(DeliveryError, match="failed after 3 attempts: HTTP 500"):
        store.deliver("slack", alarm, send, 30_000)


def test_a_store_that_cannot_claim_fails_the_channel_naming_the_table(alert_stack, alarm):
    store = DedupeStore("no-such-table", 48)
    sent: list[str] = []

    with pytest.raises(DeliveryError, match="dedupe table 'no-such-table'"):
        store.deliver("slack", alarm, lambda: sent.append("slack"), 30_000)
    assert sent == []


def test_a_live_claim_of_another_invocation_is_skipped_and_an_expired_one_taken_over(
    alert_stack, alarm
):
    store = DedupeStore(alert_stack.table, 48)
    now_ms = int(time.time() * 1000)
    for channel, lease_ms in (("slack", now_ms + 600_000), ("teams", now_ms - 1_000)):
        boto3.client("dynamodb", region_name=REGION).put_item(
            TableName=alert_stack.table,
            Item={
                "pk": {"S": record_key(channel, alarm)},
                "status": {"S": "INPROGRESS"},
                "lease_until_ms": {"N": str(lease_ms)},
                "expires_at": {"N": str(now_ms // 1000 + 3600)},
            },
        )
    sent: list[str] = []

    slack = store.deliver("slack", alarm, lambda: sent.append("slack"), 30_000)
    teams = store.deliver("teams", alarm, lambda: sent.append("teams"), 30_000)

    assert (slack, teams) == (Delivery(sent=False), Delivery(sent=True))
    assert sent == ["teams"]
