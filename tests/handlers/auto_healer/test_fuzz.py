"""Fuzz: every malformed trigger event acts on nothing and ends in a counted BadEventError.

The sweep tries each single mutation of each accepted shape on the trigger parser; the property
test runs the whole handler (dry run off, so a wrongly accepted event would act) on a sample.
"""

from __future__ import annotations

from typing import Any

import pytest
from healer_triggers import Home, parse_triggers
from hypothesis import given
from oncall_shared.errors import BadEventError

from tests.handlers.event_mutations import (
    FUZZ_SETTINGS,
    fresh_context,
    malformed_events,
    succeeds_or_refused,
    sweep_failures,
)

HOME = Home("123456789012", "us-east-1")
VALID = (
    "healer_eventbridge_ec2_instance_check",
    "healer_sns_ec2_system_check",
    "healer_eventbridge_ecs_cpu_alarm",
    "ecs_service_action_task_start_impaired",
    "ecs_service_action_old_arn_format",
    "ecs_deployment_state_change_failed",
    "alarm_action_direct",
)


@pytest.mark.parametrize("name", VALID)
def test_every_single_mutation_of_a_trigger_event_parses_or_is_refused(event, name):
    assert sweep_failures(lambda body: parse_triggers(body, HOME), event(name)) == []


def test_malformed_trigger_events_are_refused_before_any_action(
    healer_aws, load_handler, lambda_context, event, capsys
):
    app = load_handler("auto_healer")

    @FUZZ_SETTINGS
    @given(malformed_events([event(name) for name in VALID]))
    def property(body: Any) -> None:
        outcome = succeeds_or_refused(
            lambda: app.lambda_handler(body, fresh_context(lambda_context)), capsys
        )
        if outcome == "refused":
            assert healer_aws.alerts() == []
        else:
            healer_aws.alerts()  # drained: the next example's check sees only its own

    property()


def test_an_ecs_event_whose_detail_type_is_a_list_is_a_bad_event(
    healer_aws, load_handler, lambda_context, event, capsys
):
    app = load_handler("auto_healer")
    body = event("ecs_service_action_task_start_impaired")
    body["detail-type"] = []  # once a TypeError: a list cannot be looked up in a set
    capsys.readouterr()

    with pytest.raises(BadEventError, match=r"detail-type=\[\]"):
        app.lambda_handler(body, lambda_context)

    assert '"MalformedEvents"' in capsys.readouterr().out
    assert healer_aws.alerts() == []
