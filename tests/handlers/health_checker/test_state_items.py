"""The state store's items and rules in full: what is written, what an old item reads as, the
transitions' fields, the retry loops' limits and pauses (gaps a mutation run found)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import boto3
import health_state
import pytest
from health_probes import CheckResult
from health_state import (
    HEALTHY,
    UNHEALTHY,
    UNKNOWN,
    StateStoreError,
    StateUpdate,
    TargetState,
    Transition,
    next_state,
)
from oncall_shared import aws as shared_aws

from tests.handlers.conftest import FAKE_AWS_ENV
from tests.handlers.health_checker.test_scale import Throttle

TABLE = "health-state"


def create_table(region: str) -> None:
    boto3.client("dynamodb", region_name=region).create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def local_aws(local_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", local_endpoint)
    shared_aws.reset_clients()
    create_table("us-east-1")
    yield local_endpoint
    shared_aws.reset_clients()


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    pauses: list[float] = []
    monkeypatch.setattr(health_state, "BACKOFF_SLEEP", pauses.append)
    return pauses


def raw_item(name: str, region: str = "us-east-1") -> dict[str, Any]:
    key = {"pk": {"S": f"target#{name}"}}
    client = boto3.client("dynamodb", region_name=region)
    return client.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"]


def test_a_recovery_and_a_failure_carry_the_target_count_and_detail() -> None:
    down = TargetState(UNHEALTHY, 4, 7)
    state, transition = next_state(down, CheckResult("api", True, 3.0, "HTTP 200"), 3)
    assert state == TargetState(HEALTHY, 0, 8)
    assert transition == Transition("api", UNHEALTHY, HEALTHY, 0, "HTTP 200")
    up = TargetState(HEALTHY, 2, 9)
    state, transition = next_state(up, CheckResult("api", False, 3.0, "HTTP 503"), 3)
    assert state == TargetState(UNHEALTHY, 3, 10)
    assert transition == Transition("api", HEALTHY, UNHEALTHY, 3, "HTTP 503")


def test_the_item_written_holds_the_state_a_bounded_detail_and_a_ttl(local_aws: str) -> None:
    state = TargetState(UNHEALTHY, 3, 1)
    assert health_state.save_state(TABLE, "api", state, "x" * 1500, 1000.7)
    assert raw_item("api") == {
        "pk": {"S": "target#api"},
        "status": {"S": UNHEALTHY},
        "consecutive_failures": {"N": "3"},
        "version": {"N": "1"},
        "last_detail": {"S": "x" * 1000},
        "last_checked": {"N": "1000"},
        "expires_at": {"N": str(1000 + 30 * 24 * 3600)},
    }


def test_an_item_missing_fields_reads_as_an_unknown_never_written_state(local_aws: str) -> None:
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName=TABLE, Item={"pk": {"S": "target#old"}}
    )
    assert health_state.load_states(TABLE, ["old"])["old"] == TargetState(UNKNOWN, 0, 0, 0)
    assert health_state.load_states(TABLE, ["old"])["old"].written_at == 0


def test_keys_still_unprocessed_after_every_round_fail_the_run_with_the_count(
    local_aws: str, slept: list[float]
) -> None:
    names = [f"t{i}" for i in range(25)]
    Throttle(keep=1, rounds=100)  # one key per call: 8 rounds cannot read 25
    with pytest.raises(StateStoreError) as raised:
        health_state.load_states(TABLE, names)
    assert str(raised.value) == (
        "STATE_TABLE='health-state': 17 keys still unprocessed after 8 BatchGetItem calls"
    )
    assert len(slept) == 7


def test_retry_pauses_are_full_jitter_under_a_doubling_capped_ceiling(
    local_aws: str, slept: list[float]
) -> None:
    # AWS's advice for batch retries: sleep uniform(0, min(cap, base * 2**attempt)).
    Throttle(keep=1, rounds=100)
    random.seed(11)
    expected = [random.uniform(0, min(2.0, 0.05 * 2**attempt)) for attempt in range(1, 8)]
    random.seed(11)
    with pytest.raises(StateStoreError):
        health_state.save_states(
            TABLE, [StateUpdate(f"t{i}", TargetState(), "") for i in range(9)], 1.0
        )
    assert slept == expected


def test_save_states_writes_through_the_client_it_is_given(local_aws: str) -> None:
    create_table("eu-west-1")
    other = boto3.client("dynamodb", region_name="eu-west-1")
    health_state.save_states(
        TABLE, [StateUpdate("api", TargetState(HEALTHY, 0, 1), "ok")], 5.0, other
    )
    assert raw_item("api", "eu-west-1")["status"] == {"S": HEALTHY}
    assert "Item" not in boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=TABLE, Key={"pk": {"S": "target#api"}}
    )
