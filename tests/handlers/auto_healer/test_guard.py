"""Cooldown and hourly cap against moto DynamoDB, including the transaction cancellation reasons."""

from __future__ import annotations

from typing import Any

import pytest
from healer_guard import GuardLimits, peek, release, reserve, window_key

NOW = 1_764_345_600.0  # 2025-11-28T16:00:00Z, start of an hour


@pytest.fixture
def limits(healer_aws: Any) -> GuardLimits:
    return GuardLimits(table=healer_aws.table, cooldown_seconds=1800, max_actions_per_hour=2)


def test_first_reservation_succeeds_and_writes_both_items(
    limits: GuardLimits, healer_aws: Any
) -> None:
    assert reserve(limits, "i-1", "reboot", NOW) is None
    resource = healer_aws.item("resource#i-1")
    assert resource["action"]["S"] == "reboot"
    assert int(resource["expires_at"]["N"]) == int(NOW) + 1800
    assert healer_aws.item(window_key(NOW))["action_count"]["N"] == "1"


def test_second_action_on_same_resource_is_refused_by_cooldown(limits: GuardLimits) -> None:
    assert reserve(limits, "i-1", "reboot", NOW) is None
    reason = reserve(limits, "i-1", "reboot", NOW + 60)
    assert reason is not None and "cooldown" in reason and "29 min left" in reason


def test_cooldown_ends_even_if_ttl_has_not_deleted_the_item(limits: GuardLimits) -> None:
    assert reserve(limits, "i-1", "reboot", NOW) is None
    assert reserve(limits, "i-1", "reboot", NOW + 1800) is None


def test_hourly_cap_counts_across_resources_and_resets_next_hour(limits: GuardLimits) -> None:
    assert reserve(limits, "i-1", "reboot", NOW) is None
    assert reserve(limits, "i-2", "reboot", NOW + 1) is None
    reason = reserve(limits, "i-3", "reboot", NOW + 2)
    assert reason == "hourly cap reached: 2 actions already taken this hour"
    assert reserve(limits, "i-3", "reboot", NOW + 3600) is None


def test_refused_reservation_writes_nothing(limits: GuardLimits, healer_aws: Any) -> None:
    reserve(limits, "i-1", "reboot", NOW)
    reserve(limits, "i-2", "reboot", NOW)
    assert reserve(limits, "i-3", "reboot", NOW) is not None
    assert healer_aws.item("resource#i-3") is None
    assert healer_aws.item(window_key(NOW))["action_count"]["N"] == "2"


def test_release_lets_a_retry_act_but_keeps_the_hour_slot(
    limits: GuardLimits, healer_aws: Any
) -> None:
    reserve(limits, "i-1", "reboot", NOW)
    release(limits, "i-1")
    assert reserve(limits, "i-1", "reboot", NOW + 5) is None
    assert healer_aws.item(window_key(NOW))["action_count"]["N"] == "2"


def test_peek_reports_without_writing(limits: GuardLimits, healer_aws: Any) -> None:
    assert peek(limits, "i-1", NOW) is None
    assert healer_aws.item("resource#i-1") is None
    reserve(limits, "i-1", "reboot", NOW)
    assert "cooldown" in (peek(limits, "i-1", NOW + 10) or "")
    reserve(limits, "i-2", "reboot", NOW)
    assert "hourly cap" in (peek(limits, "i-9", NOW + 10) or "")
