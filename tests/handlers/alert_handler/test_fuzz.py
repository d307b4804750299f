"""Fuzz: every malformed alarm event is delivered nowhere and ends in a counted BadEventError.

The sweep tries each single mutation of each accepted shape on the decoder (thousands, in
about two seconds); the property test runs the whole handler, with its metrics, on a sample of
those and of random multi-field mutations.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from oncall_shared.errors import BadEventError
from oncall_shared.events import parse_alarm_event

from tests.handlers.event_mutations import (
    FUZZ_SETTINGS,
    fresh_context,
    malformed_events,
    succeeds_or_refused,
    sweep_failures,
)

VALID = (
    "alarm_sns_metric",
    "alarm_sns_metric_math",
    "alarm_sns_metric_ok",
    "alarm_sns_composite",
    "alarm_eventbridge_state_change",
    "alarm_eventbridge_composite",
    "alarm_action_direct",
    "alarm_action_composite",
)


def webhook_requests(stack: Any) -> int:
    return sum(len(r.requests) for r in (stack.slack, stack.teams, stack.pagerduty))


@pytest.mark.parametrize("name", VALID)
def test_every_single_mutation_of_an_alarm_event_decodes_or_is_refused(event, name):
    assert sweep_failures(parse_alarm_event, event(name)) == []


def test_malformed_alarm_events_are_refused_before_any_send(
    alert_stack, load_handler, lambda_context, event, capsys
):
    app = alert_stack.load(load_handler)

    @FUZZ_SETTINGS
    @given(malformed_events([event(name) for name in VALID]))
    def property(body: Any) -> None:
        sent_before = webhook_requests(alert_stack)
        outcome = succeeds_or_refused(
            lambda: app.lambda_handler(body, fresh_context(lambda_context)), capsys
        )
        if outcome == "refused":
            assert webhook_requests(alert_stack) == sent_before

    property()


def sns_message_is(body: Any, text: str) -> Any:
    body["Records"][0]["Sns"]["Message"] = text
    return body


def sns_field(body: Any, key: str, value: Any) -> Any:
    import json

    message = json.loads(body["Records"][0]["Sns"]["Message"])
    parent = message["Trigger"] if key == "Dimensions" else message
    parent[key] = value
    return sns_message_is(body, json.dumps(message))


def metric_stat(body: Any, value: Any) -> Any:
    body["detail"]["configuration"]["metrics"][0]["metricStat"] = value
    return body


# Each was once a TypeError, ValueError, RecursionError, OverflowError, AttributeError or
# botocore's InvalidRegionError instead of a BadEventError.
SEEN: dict[str, tuple[str, Any, str]] = {
    "4,301-digit Message": ("alarm_sns_metric", lambda b: sns_message_is(b, "1" * 4301), "4300"),
    "100,000 nested [": ("alarm_sns_metric", lambda b: sns_message_is(b, "[" * 100_000), "rec"),
    "NewStateValue []": ("alarm_sns_metric", lambda b: sns_field(b, "NewStateValue", []), "NewS"),
    "Dimensions true": ("alarm_sns_metric", lambda b: sns_field(b, "Dimensions", True), "Dimen"),
    "metricStat x": ("alarm_eventbridge_state_change", lambda b: metric_stat(b, "x"), "metricS"),
    "year 1 in UTC": (
        "alarm_sns_metric",
        lambda b: sns_field(b, "StateChangeTime", "0001-01-01T00:00:00.000+0100"),
        "out of range",
    ),
    "ARN region eu&west-1": (
        "alarm_sns_metric",
        lambda b: sns_field(
            b, "AlarmArn", "arn:aws:cloudwatch:eu&west-1:123456789012:alarm:critical-checkout"
        ),
        "not a region code",
    ),
}


@pytest.mark.parametrize("case", sorted(SEEN))
def test_events_that_once_escaped_as_other_errors_are_bad_events(
    alert_stack, load_handler, lambda_context, event, capsys, case
):
    app = alert_stack.load(load_handler)
    name, change, message = SEEN[case]
    capsys.readouterr()

    with pytest.raises(BadEventError, match=message):
        app.lambda_handler(change(event(name)), lambda_context)

    assert webhook_requests(alert_stack) == 0
    assert '"MalformedEvents"' in capsys.readouterr().out
