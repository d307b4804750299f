"""The dedupe store when DynamoDB says no, each refusal from the local AWS over HTTP.

A claim that cannot be written must fail the channel (Lambda retries the event): sending
without a claim would page twice on every retry, and dropping the alert would lose the page.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from alert_dedupe import DedupeStore, Delivery, record_key
from oncall_shared import aws as shared_aws
from oncall_shared.errors import DeliveryError
from oncall_shared.events import parse_alarm_event

from localcloud import LocalCloud
from tests.handlers.conftest import use_local_aws_with_table

TABLE = "alert-dedupe"


@pytest.fixture
def store(local_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[DedupeStore]:
    use_local_aws_with_table(local_endpoint, monkeypatch, TABLE)
    yield DedupeStore(TABLE, 48)
    shared_aws.reset_clients()


@pytest.fixture
def alarm(event: Any) -> Any:
    return parse_alarm_event(event("alarm_sns_metric"))[0]


def records() -> list[dict[str, Any]]:
    return boto3.client("dynamodb", region_name="us-east-1").scan(TableName=TABLE)["Items"]


def test_a_denied_claim_fails_the_channel_naming_the_table_and_sends_nothing(
    store: DedupeStore, localcloud: LocalCloud, alarm: Any
) -> None:
    localcloud.inject_fault(
        "dynamodb", "PutItem", "AccessDeniedException", "not authorized to perform PutItem"
    )
    sent: list[str] = []
    with pytest.raises(DeliveryError, match=r"dedupe table 'alert-dedupe': .*PutItem"):
        store.deliver("slack", alarm, lambda: sent.append("slack"), 30_000)
    assert sent == []


def test_a_claim_still_throttled_after_the_client_retries_fails_the_channel(
    store: DedupeStore, localcloud: LocalCloud, alarm: Any
) -> None:
    fault = localcloud.inject_fault("dynamodb", "PutItem", "ThrottlingException", "Rate exceeded")
    sent: list[str] = []
    with pytest.raises(DeliveryError, match=r"dedupe table 'alert-dedupe'"):
        store.deliver("slack", alarm, lambda: sent.append("slack"), 30_000)
    assert sent == []
    # The shared client (bounded retries and timeouts) made the calls, not a default one.
    assert fault.answered == shared_aws.CLIENT_CONFIG.retries["total_max_attempts"]


def test_a_denied_completion_mark_still_counts_the_send(
    store: DedupeStore, localcloud: LocalCloud, alarm: Any
) -> None:
    localcloud.inject_fault("dynamodb", "UpdateItem", "AccessDeniedException")
    sent: list[str] = []
    delivery = store.deliver("slack", alarm, lambda: sent.append("slack"), 30_000)
    assert delivery == Delivery(sent=True, mark_failed=True)
    assert sent == ["slack"]
    assert [item["status"]["S"] for item in records()] == ["INPROGRESS"]  # the lease ends it


def test_a_failed_send_whose_claim_cannot_be_released_raises_the_send_error(
    store: DedupeStore, localcloud: LocalCloud, alarm: Any
) -> None:
    localcloud.inject_fault("dynamodb", "DeleteItem", "AccessDeniedException")

    def send() -> None:
        raise DeliveryError("POST to https://hooks.slack.com failed: HTTP 500")

    with pytest.raises(DeliveryError, match=r"hooks\.slack\.com failed: HTTP 500"):
        store.deliver("slack", alarm, send, 30_000)


def test_a_delivered_change_is_sent_once_per_channel(store: DedupeStore, alarm: Any) -> None:
    sent: list[str] = []
    first = store.deliver("slack", alarm, lambda: sent.append("slack"), 30_000)
    again = store.deliver("slack", alarm, lambda: sent.append("slack"), 30_000)
    other = store.deliver("teams", alarm, lambda: sent.append("teams"), 30_000)
    assert (first, again, other) == (Delivery(True), Delivery(False), Delivery(True))
    assert sent == ["slack", "teams"]
    assert sorted(item["status"]["S"] for item in records()) == ["COMPLETED", "COMPLETED"]


def test_the_record_key_is_the_channel_and_the_sha256_of_the_change(
    store: DedupeStore, alarm: Any
) -> None:
    identity = json.dumps(
        {
            "alarm_arn": alarm.arn,
            "new_state": alarm.new_state,
            "state_change_time": alarm.timestamp,
        },
        sort_keys=True,
    )
    expected = "slack#" + hashlib.sha256(identity.encode()).hexdigest()
    assert record_key("slack", alarm) == expected
    store.deliver("slack", alarm, lambda: None, 30_000)
    assert [item["pk"]["S"] for item in records()] == [expected]


def test_a_claim_leases_the_invocations_remaining_time_and_expires_after_the_ttl(
    store: DedupeStore, localcloud: LocalCloud, alarm: Any
) -> None:
    localcloud.inject_fault("dynamodb", "UpdateItem", "AccessDeniedException")  # stays a claim
    before = time.time()
    store.deliver("slack", alarm, lambda: None, 45_000)
    after = time.time()
    [item] = records()
    lease_ms, expires_at = int(item["lease_until_ms"]["N"]), int(item["expires_at"]["N"])
    assert int(before * 1000) + 45_000 <= lease_ms <= int(after * 1000) + 45_000
    assert int(before) + 48 * 3600 <= expires_at <= int(after) + 48 * 3600


def test_a_claim_that_cannot_be_released_is_logged(
    store: DedupeStore, localcloud: LocalCloud, alarm: Any, caplog: pytest.LogCaptureFixture
) -> None:
    localcloud.inject_fault("dynamodb", "DeleteItem", "AccessDeniedException", "no DeleteItem")

    def send() -> None:
        raise DeliveryError("HTTP 500")

    with caplog.at_level(logging.ERROR), pytest.raises(DeliveryError):
        store.deliver("slack", alarm, send, 30_000)
    logged = [(r.getMessage(), getattr(r, "error", "")) for r in caplog.records]
    assert [message for message, _ in logged] == ["could not release dedupe claim"]
    assert "no DeleteItem" in logged[0][1]
