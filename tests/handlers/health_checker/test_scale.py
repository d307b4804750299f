"""A thousand targets: batched state I/O against localcloud's DynamoDB, writes only on change,
unprocessed keys/items retried, targets split across SSM parameters, a pool sized to the list.

DynamoDB answers with UnprocessedItems/UnprocessedKeys only when throttled, which localcloud
never is. `Throttle` makes it happen for real on the real client: a botocore hook lets only the
first few requests of each call reach localcloud and hands the rest back as DynamoDB does, as
unprocessed; what was left out is truly not written until the handler sends it again.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import health_state
import pytest
from health_runner import MAX_WORKERS, pool_size
from health_state import HEALTHY, StateStoreError, StateUpdate, TargetState
from health_targets import load_ssm_targets, parse_targets
from oncall_shared import aws as shared_aws
from oncall_shared.errors import SettingsError

from tests.handlers.conftest import use_local_aws_with_table
from tests.support.ports import free_loopback_port

TABLE = "health-state"


@pytest.fixture
def local_aws(local_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """localcloud over HTTP as the handler's AWS, with the state table keyed as the product's."""
    use_local_aws_with_table(local_endpoint, monkeypatch, TABLE)
    yield local_endpoint
    shared_aws.reset_clients()


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff pauses the retry loops asked for, without waiting for them."""
    pauses: list[float] = []
    monkeypatch.setattr(health_state, "BACKOFF_SLEEP", pauses.append)
    return pauses


class CallCounter:
    """Counts DynamoDB API calls made by the shared client, by operation name."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()
        shared_aws.client("dynamodb").meta.events.register("before-call.dynamodb", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[model.name] = self.calls.get(model.name, 0) + 1

    def writes(self) -> int:
        return sum(self.calls.get(op, 0) for op in ("PutItem", "BatchWriteItem", "UpdateItem"))


class Throttle:
    """Lets ``keep`` requests of each BatchWriteItem/BatchGetItem through, for ``rounds`` calls,
    and answers the rest as unprocessed, the way a throttled DynamoDB does."""

    def __init__(self, keep: int, rounds: int) -> None:
        self.keep, self.rounds_left = keep, rounds
        self._held = threading.local()
        self._lock = threading.Lock()
        events = shared_aws.client("dynamodb").meta.events
        events.register("before-parameter-build.dynamodb.BatchWriteItem", self._trim_writes)
        events.register("after-call.dynamodb.BatchWriteItem", self._hand_back_writes)
        events.register("before-parameter-build.dynamodb.BatchGetItem", self._trim_keys)
        events.register("after-call.dynamodb.BatchGetItem", self._hand_back_keys)

    def _take_round(self) -> bool:
        with self._lock:
            if self.rounds_left <= 0:
                return False
            self.rounds_left -= 1
            return True

    def _trim_writes(self, params: dict[str, Any], **_: Any) -> None:
        self._held.value = {}
        (table, requests), *_rest = params["RequestItems"].items()
        if len(requests) > self.keep and self._take_round():
            params["RequestItems"] = {table: requests[: self.keep]}
            self._held.value = {table: requests[self.keep :]}

    def _hand_back_writes(self, parsed: dict[str, Any], **_: Any) -> None:
        parsed["UnprocessedItems"] = self._held.value

    def _trim_keys(self, params: dict[str, Any], **_: Any) -> None:
        self._held.value = {}
        (table, request), *_rest = params["RequestItems"].items()
        keys = request["Keys"]
        if len(keys) > self.keep and self._take_round():
            params["RequestItems"] = {table: {**request, "Keys": keys[: self.keep]}}
            self._held.value = {table: {**request, "Keys": keys[self.keep :]}}

    def _hand_back_keys(self, parsed: dict[str, Any], **_: Any) -> None:
        parsed["UnprocessedKeys"] = self._held.value


def updates(count: int, status: str = HEALTHY) -> list[StateUpdate]:
    return [StateUpdate(f"t{i}", TargetState(status, 0, 1), "ok") for i in range(count)]


def stored_statuses(names: list[str]) -> dict[str, str]:
    return {name: state.status for name, state in health_state.load_states(TABLE, names).items()}


def test_batch_save_writes_25_items_per_call_and_reads_100_keys_per_call(
    local_aws: str,
) -> None:
    counter = CallCounter()
    health_state.save_states(TABLE, updates(130), 1000.0)
    assert counter.calls == {"BatchWriteItem": 6}  # 130 items: 5 calls of 25 and one of 5
    names = [f"t{i}" for i in range(130)]
    assert set(stored_statuses(names).values()) == {HEALTHY}
    assert counter.calls["BatchGetItem"] == 2  # 130 keys: 100 and 30


def test_unprocessed_items_are_sent_again_with_growing_backoff(
    local_aws: str, slept: list[float]
) -> None:
    throttle = Throttle(keep=10, rounds=2)  # 25 items: 10 written, 10 more, then the last 5
    counter = CallCounter()
    health_state.save_states(TABLE, updates(25), 1000.0)
    assert throttle.rounds_left == 0
    assert counter.calls == {"BatchWriteItem": 3}
    assert len(slept) == 2 and all(pause >= 0 for pause in slept)
    assert set(stored_statuses([f"t{i}" for i in range(25)]).values()) == {HEALTHY}


def test_items_still_unprocessed_after_every_round_fail_the_run(
    local_aws: str, slept: list[float]
) -> None:
    Throttle(keep=1, rounds=100)  # one item per call: 8 rounds cannot write 25 items
    with pytest.raises(StateStoreError, match=r"STATE_TABLE='health-state': 17 items still"):
        health_state.save_states(TABLE, updates(25), 1000.0)
    assert len(slept) == 7


def test_unprocessed_keys_are_read_again(local_aws: str, slept: list[float]) -> None:
    health_state.save_states(TABLE, updates(30), 1000.0)
    throttle = Throttle(keep=12, rounds=2)
    counter = CallCounter()
    statuses = stored_statuses([f"t{i}" for i in range(30)])
    assert throttle.rounds_left == 0 and counter.calls == {"BatchGetItem": 3}
    assert set(statuses.values()) == {HEALTHY} and len(slept) == 2


def test_unchanged_targets_cause_no_write(
    local_aws: str,
    monkeypatch: pytest.MonkeyPatch,
    load_handler: Any,
    event: Any,
    lambda_context: Any,
) -> None:
    topic = boto3.client("sns", region_name="us-east-1").create_topic(Name="alerts")["TopicArn"]
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)
    port = listener.getsockname()[1]
    down_port = _closed_port()
    targets = [
        {"name": f"db{i}", "type": "tcp", "host": "127.0.0.1", "port": port} for i in range(40)
    ]
    targets.append({"name": "gone", "type": "tcp", "host": "127.0.0.1", "port": down_port})
    for name, value in {
        "STATE_TABLE": TABLE,
        "ALERT_TOPIC_ARN": topic,
        "ALLOW_PRIVATE_NETWORKS": "true",
        "FAILURE_THRESHOLD": "2",
        "TARGETS": json.dumps(targets),
        "POWERTOOLS_SERVICE_NAME": "health_checker",
    }.items():
        monkeypatch.setenv(name, value)
    app = load_handler("health_checker")
    try:
        first = CallCounter()
        app.lambda_handler(event("health_scheduled_event"), lambda_context)
        # 40 unknown -> healthy and one first failure: 41 changed states, two batches.
        assert first.calls.get("BatchWriteItem") == 2 and "PutItem" not in first.calls
        second = CallCounter()
        summary = app.lambda_handler(event("health_scheduled_event"), lambda_context)
        # Only "gone" moved (its 2nd failure: a transition, written conditionally).
        assert summary["transitions"] == [{"target": "gone", "from": "unknown", "to": "unhealthy"}]
        assert second.calls.get("PutItem") == 1 and "BatchWriteItem" not in second.calls
        third = CallCounter()
        app.lambda_handler(event("health_scheduled_event"), lambda_context)
        # "gone" is still down (its count moves: one batched write); the 40 healthy: nothing.
        assert third.calls.get("BatchWriteItem") == 1 and third.writes() == 1
    finally:
        listener.close()
    assert stored_statuses(["db0", "gone"]) == {"db0": HEALTHY, "gone": "unhealthy"}


def test_a_still_healthy_target_is_rewritten_once_a_day_to_keep_its_ttl() -> None:
    now = 2_000_000.0
    fresh = TargetState(HEALTHY, 0, 3, written_at=int(now) - 3600)
    stale = TargetState(HEALTHY, 0, 3, written_at=int(now - health_state.STATE_REFRESH_SECONDS))
    same = TargetState(HEALTHY, 0, 4)
    assert not health_state.needs_write(fresh, same, now)
    assert health_state.needs_write(stale, same, now)
    assert health_state.needs_write(fresh, TargetState(HEALTHY, 1, 4), now)


def realistic_targets(count: int) -> list[dict[str, Any]]:
    return [
        {
            "name": f"payments-api-{i:04d}",
            "type": "http",
            "url": f"https://payments-{i:04d}.eu-west-1.internal.example.com/health",
            "expected_status": [200, 204],
            "latency_ms": 800,
        }
        for i in range(count)
    ]


def split_into_standard_parameters(targets: list[dict[str, Any]]) -> list[str]:
    """Consecutive slices of the list, each as large as fits in a 4 KB Standard parameter."""
    parts: list[str] = []
    current: list[dict[str, Any]] = []
    for target in targets:
        if current and len(json.dumps([*current, target])) > 4096:
            parts.append(json.dumps(current))
            current = []
        current.append(target)
    return [*parts, json.dumps(current)]


def test_a_thousand_targets_load_from_parameters_under_one_path(local_aws: str) -> None:
    ssm = boto3.client("ssm", region_name="us-east-1")
    targets = realistic_targets(1000)
    parts = split_into_standard_parameters(targets)
    assert len(parts) > 10  # more than one GetParametersByPath page (10 per page)
    for index, value in reversed(list(enumerate(parts))):  # created out of order on purpose
        ssm.put_parameter(
            Name=f"/oncall/health/targets/part-{index:02d}", Value=value, Type="String"
        )
    loaded = parse_targets(load_ssm_targets("/oncall/health/targets"), "TARGETS_SSM_PARAMETER")
    assert [target.name for target in loaded] == [target["name"] for target in targets]


def test_a_parameter_under_the_path_that_is_not_a_list_is_named(local_aws: str) -> None:
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name="/oncall/t/part-1", Value='{"name": "x"}', Type="String")
    with pytest.raises(SettingsError, match=r"SSM parameter /oncall/t/part-1\)=.*JSON list"):
        load_ssm_targets("/oncall/t")


def test_the_pool_grows_with_the_list_up_to_the_thread_limit() -> None:
    assert pool_size(3) == 3
    assert pool_size(500) == 500
    assert pool_size(1000) == MAX_WORKERS < 1024  # Lambda: 1,024 threads per environment


def _closed_port() -> int:
    return free_loopback_port()
