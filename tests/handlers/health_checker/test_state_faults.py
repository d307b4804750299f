"""The state store when DynamoDB says no: throttled past the client's retries, or access denied.

The errors come from the local AWS over HTTP (`LocalCloud.inject_fault`), through the shared
client and its real retry policy, so what reaches health_state is what Lambda would see. A
store that cannot write must fail the run (Lambda retries it, the Errors alarm fires): a lost
write would silently reset a target's failure count and swallow the next transition.
"""

from __future__ import annotations

from collections.abc import Iterator

import health_state
import pytest
from botocore.exceptions import ClientError
from health_state import HEALTHY, UNHEALTHY, StateUpdate, TargetState
from oncall_shared import aws as shared_aws

from localcloud import LocalCloud
from tests.handlers.conftest import use_local_aws_with_table

TABLE = "health-state"
DOWN = TargetState(UNHEALTHY, 3, 1)


@pytest.fixture
def local_aws(local_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    use_local_aws_with_table(local_endpoint, monkeypatch, TABLE)
    yield local_endpoint
    shared_aws.reset_clients()


def stored(name: str) -> TargetState:
    return health_state.load_states(TABLE, [name])[name]


def test_a_denied_transition_write_fails_the_run_and_writes_nothing(
    local_aws: str, localcloud: LocalCloud
) -> None:
    localcloud.inject_fault(
        "dynamodb", "PutItem", "AccessDeniedException", "not authorized to perform PutItem"
    )
    with pytest.raises(ClientError, match=r"AccessDeniedException.*not authorized"):
        health_state.save_state(TABLE, "api", DOWN, "HTTP 500", 1000.0)
    assert stored("api") == TargetState()


def test_a_write_still_throttled_after_the_client_retries_fails_the_run(
    local_aws: str, localcloud: LocalCloud
) -> None:
    fault = localcloud.inject_fault("dynamodb", "PutItem", "ThrottlingException", "Rate exceeded")
    with pytest.raises(ClientError, match="ThrottlingException"):
        health_state.save_state(TABLE, "api", DOWN, "HTTP 500", 1000.0)
    assert fault.answered == shared_aws.CLIENT_CONFIG.retries["total_max_attempts"]


def test_a_throttle_the_client_retries_through_is_not_an_error(
    local_aws: str, localcloud: LocalCloud
) -> None:
    localcloud.inject_fault("dynamodb", "PutItem", "ThrottlingException", times=1)
    assert health_state.save_state(TABLE, "api", DOWN, "HTTP 500", 1000.0)
    assert stored("api") == DOWN


def test_a_denied_write_among_transitions_is_raised_not_reported_as_a_lost_race(
    local_aws: str, localcloud: LocalCloud
) -> None:
    updates = [StateUpdate(name, DOWN, "HTTP 500") for name in ("a", "b")]
    localcloud.inject_fault("dynamodb", "PutItem", "AccessDeniedException", times=1)
    with pytest.raises(ClientError, match="AccessDeniedException"):
        health_state.save_transitions(TABLE, updates, 1000.0)


def test_a_lost_race_is_reported_by_name(local_aws: str) -> None:
    health_state.save_state(TABLE, "b", DOWN, "HTTP 500", 1000.0)  # another run got there first
    updates = [StateUpdate(name, DOWN, "HTTP 500") for name in ("a", "b")]
    assert health_state.save_transitions(TABLE, updates, 1001.0) == ["b"]
    assert stored("a") == DOWN


def test_denied_reads_fail_the_run(local_aws: str, localcloud: LocalCloud) -> None:
    localcloud.inject_fault("dynamodb", "BatchGetItem", "AccessDeniedException")
    with pytest.raises(ClientError, match="AccessDeniedException"):
        health_state.load_states(TABLE, ["api"])


def test_denied_batch_writes_fail_the_run(local_aws: str, localcloud: LocalCloud) -> None:
    localcloud.inject_fault("dynamodb", "BatchWriteItem", "AccessDeniedException")
    with pytest.raises(ClientError, match="AccessDeniedException"):
        health_state.save_states(TABLE, [StateUpdate("api", TargetState(HEALTHY, 0, 1), "ok")], 1.0)
