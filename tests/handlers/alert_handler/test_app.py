"""alert_handler end to end: moto for AWS, real HTTP receivers for Slack, Teams and PagerDuty."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from oncall_shared.errors import BadEventError, DeliveryError

from tests.handlers.conftest import REPO_ROOT, CountdownContext

CHECKOUT_ARN = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:critical-checkout-api-5xx"


def receivers(stack: Any) -> dict[str, int]:
    return {
        "slack": len(stack.slack.requests),
        "teams": len(stack.teams.requests),
        "pagerduty": len(stack.pagerduty.requests),
    }


def test_critical_sns_alarm_reaches_every_channel_once(
    alert_stack, load_handler, lambda_context, event
):
    app = alert_stack.load(load_handler)

    result = app.lambda_handler(event("alarm_sns_metric"), lambda_context)

    outcome = result["alarms"][0]
    assert outcome["severity"] == "critical" and outcome["severity_source"] == "name"
    assert sorted(outcome["sent"]) == ["pagerduty", "slack", "sns", "teams"]
    assert receivers(alert_stack) == {"slack": 1, "teams": 1, "pagerduty": 1}
    page = alert_stack.pagerduty.requests[0].json()
    assert page["event_action"] == "trigger"
    assert page["dedup_key"] == CHECKOUT_ARN
    assert page["routing_key"] == "R0UT1NGKEY0123456789012345678901"
    assert page["payload"]["severity"] == "critical"
    assert page["payload"]["source"] == "123456789012/eu-west-1"
    assert alert_stack.pagerduty.requests[0].path == "/v2/enqueue"
    slack = alert_stack.slack.requests[0].json()
    assert slack["attachments"][0]["color"] == "#D62728"
    assert (
        slack["attachments"][0]["blocks"][0]["text"]["text"] == "ALARM: critical-checkout-api-5xx"
    )
    card = alert_stack.teams.requests[0].json()["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["body"][0]["color"] == "attention"
    [sns] = alert_stack.sns_messages()
    assert sns["Subject"] == "[CRITICAL] ALARM: critical-checkout-api-5xx (eu-west-1, prod)"
    assert "AWS/ApiGateway/5XXError (ApiName=checkout-api, Stage=prod)" in sns["Message"]
    assert "region=eu-west-1#alarmsV2:alarm/critical-checkout-api-5xx" in sns["Message"]


def channels_recorded(stack: Any) -> list[str]:
    return sorted(item["pk"]["S"].split("#", 1)[0] for item in stack.dedupe_items())


def test_dedupe_items_are_marked_sent_with_ttl(alert_stack, load_handler, lambda_context, event):
    app = alert_stack.load(load_handler)
    before = int(time.time())

    app.lambda_handler(event("alarm_sns_metric"), lambda_context)

    items = alert_stack.dedupe_items()
    assert channels_recorded(alert_stack) == ["pagerduty", "slack", "sns", "teams"]
    assert {item["status"]["S"] for item in items} == {"COMPLETED"}
    [alarm] = alert_stack.module("oncall_shared.events").parse_alarm_event(
        event("alarm_sns_metric")
    )
    record_key = alert_stack.module("alert_dedupe").record_key
    assert sorted(item["pk"]["S"] for item in items) == sorted(
        record_key(channel, alarm) for channel in ("pagerduty", "slack", "sns", "teams")
    )
    for item in items:
        expires = int(item["expires_at"]["N"])
        assert before + 48 * 3600 <= expires <= int(time.time()) + 48 * 3600


def test_a_redelivered_event_sends_nothing_twice(alert_stack, load_handler, lambda_context, event):
    app = alert_stack.load(load_handler)
    app.lambda_handler(event("alarm_sns_metric"), lambda_context)
    alert_stack.sns_messages()

    again = app.lambda_handler(event("alarm_sns_metric"), lambda_context)

    assert again["alarms"][0]["sent"] == []
    assert sorted(again["alarms"][0]["duplicates"]) == ["pagerduty", "slack", "sns", "teams"]
    assert receivers(alert_stack) == {"slack": 1, "teams": 1, "pagerduty": 1}
    assert alert_stack.sns_messages() == []


def test_same_change_via_eventbridge_then_sns_is_sent_once(
    alert_stack, load_handler, lambda_context, event
):
    app = alert_stack.load(load_handler)

    first = app.lambda_handler(event("alarm_eventbridge_state_change"), lambda_context)
    second = app.lambda_handler(event("alarm_sns_metric"), lambda_context)

    assert sorted(first["alarms"][0]["sent"]) == ["pagerduty", "slack", "sns", "teams"]
    assert second["alarms"][0]["sent"] == []
    assert receivers(alert_stack) == {"slack": 1, "teams": 1, "pagerduty": 1}


def test_ok_resolves_the_pagerduty_incident_with_the_same_dedup_key(
    alert_stack, load_handler, lambda_context, event
):
    app = alert_stack.load(load_handler)
    app.lambda_handler(event("alarm_sns_metric"), lambda_context)

    app.lambda_handler(event("alarm_sns_metric_ok"), lambda_context)

    trigger, resolve = (request.json() for request in alert_stack.pagerduty.requests)
    assert resolve["event_action"] == "resolve"
    assert resolve["dedup_key"] == trigger["dedup_key"] == CHECKOUT_ARN
    assert alert_stack.slack.requests[1].json()["attachments"][0]["color"] == "#2CA02C"


def test_failed_channel_fails_the_invocation_and_only_it_is_retried(
    alert_stack, load_handler, lambda_context, event, no_sleep
):
    app = alert_stack.load(load_handler)
    for _ in range(3):
        alert_stack.slack.script(500, body="internal_error")

    with pytest.raises(
        DeliveryError, match=r"slack: POST to http://127\.0\.0\.1:\d+ failed after 3 attempts"
    ):
        app.lambda_handler(event("alarm_sns_metric"), lambda_context)

    assert receivers(alert_stack) == {"slack": 3, "teams": 1, "pagerduty": 1}
    assert len(no_sleep) == 2  # backoff between the three tries
    assert "slack" not in channels_recorded(alert_stack)
    retry = app.lambda_handler(event("alarm_sns_metric"), lambda_context)  # Lambda's async retry
    assert retry["alarms"][0]["sent"] == ["slack"]
    assert receivers(alert_stack) == {"slack": 4, "teams": 1, "pagerduty": 1}
    assert len(alert_stack.sns_messages()) == 1


def test_429_waits_for_retry_after_then_delivers(
    alert_stack, load_handler, lambda_context, event, no_sleep
):
    app = alert_stack.load(load_handler)
    alert_stack.slack.script(429, headers={"Retry-After": "3"}, body="rate_limited")

    result = app.lambda_handler(event("alarm_sns_metric"), lambda_context)

    assert "slack" in result["alarms"][0]["sent"]
    assert len(alert_stack.slack.requests) == 2
    assert no_sleep == [3.0]


def test_pagerduty_400_is_not_retried_and_fails_the_invocation(
    alert_stack, load_handler, lambda_context, event
):
    app = alert_stack.load(load_handler)
    alert_stack.pagerduty.script(
        400, body='{"status":"invalid event","errors":["routing_key invalid"]}'
    )

    with pytest.raises(DeliveryError, match=r"pagerduty: POST to .* rejected with HTTP 400"):
        app.lambda_handler(event("alarm_sns_metric"), lambda_context)

    assert receivers(alert_stack) == {"slack": 1, "teams": 1, "pagerduty": 1}


def test_a_hanging_webhook_times_out_and_fails(
    alert_stack, load_handler, lambda_context, event, monkeypatch
):
    app = alert_stack.load(load_handler)
    monkeypatch.setattr(alert_stack.module("alert_channels"), "HTTP_TIMEOUT_SECONDS", 0.2)
    for _ in range(3):
        alert_stack.teams.script(202, delay=1.0)

    with pytest.raises(
        DeliveryError, match=r"teams: .* failed after 3 attempts: timed out after 0\.2s"
    ):
        app.lambda_handler(event("alarm_sns_metric"), lambda_context)

    assert len(alert_stack.teams.requests) == 3


def test_warning_alarm_action_skips_pagerduty(alert_stack, load_handler, lambda_context, event):
    app = alert_stack.load(load_handler)

    result = app.lambda_handler(event("alarm_action_direct"), lambda_context)

    assert result["alarms"][0]["severity"] == "warning"
    assert sorted(result["alarms"][0]["sent"]) == ["slack", "sns", "teams"]
    assert receivers(alert_stack)["pagerduty"] == 0


def test_metric_math_alarm_uses_default_severity(
    alert_stack, load_handler, lambda_context, event, monkeypatch
):
    monkeypatch.setenv("DEFAULT_SEVERITY", "info")
    app = alert_stack.load(load_handler)

    result = app.lambda_handler(event("alarm_sns_metric_math"), lambda_context)

    assert result["alarms"][0]["severity_source"] == "default"
    assert result["alarms"][0]["sent"] == ["sns"]
    [sns] = alert_stack.sns_messages()
    assert "Metric:      metric math expression" in sns["Message"]
    assert receivers(alert_stack) == {"slack": 0, "teams": 0, "pagerduty": 0}


@pytest.mark.parametrize(
    "fixture", ["alarm_sns_composite", "alarm_eventbridge_composite", "alarm_action_composite"]
)
def test_composite_alarm_severity_from_description(
    alert_stack, load_handler, lambda_context, event, fixture
):
    app = alert_stack.load(load_handler)

    result = app.lambda_handler(event(fixture), lambda_context)

    assert result["alarms"][0]["severity"] == "critical"
    assert result["alarms"][0]["severity_source"] == "description"
    page = alert_stack.pagerduty.requests[0].json()
    assert page["payload"]["component"] == "composite"
    assert page["dedup_key"] == "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:checkout-degraded"


def test_alarm_tag_beats_the_naming_convention(
    alert_stack, load_handler, lambda_context, event, tag_alarm
):
    tag_alarm(CHECKOUT_ARN, "info")
    app = alert_stack.load(load_handler)

    result = app.lambda_handler(event("alarm_sns_metric"), lambda_context)

    assert (result["alarms"][0]["severity"], result["alarms"][0]["severity_source"]) == (
        "info",
        "tag",
    )
    assert result["alarms"][0]["sent"] == ["sns"]


def test_routes_and_channels_that_are_off(
    alert_stack, load_handler, lambda_context, event, monkeypatch
):
    monkeypatch.delenv("TEAMS_SECRET_ARN")
    monkeypatch.setenv("ROUTES", '{"critical": ["slack", "teams"], "warning": ["sns"]}')
    app = alert_stack.load(load_handler)

    result = app.lambda_handler(event("alarm_sns_metric"), lambda_context)

    assert result["alarms"][0]["sent"] == ["slack"]
    assert receivers(alert_stack) == {"slack": 1, "teams": 0, "pagerduty": 0}
    assert alert_stack.sns_messages() == []


def test_insufficient_data_does_not_page(alert_stack, load_handler, lambda_context, event):
    app = alert_stack.load(load_handler)
    payload = event("alarm_action_direct")
    payload["alarmData"]["alarmName"] = "critical-disk"
    payload["alarmArn"] = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:critical-disk"
    payload["alarmData"]["state"]["value"] = "INSUFFICIENT_DATA"

    result = app.lambda_handler(payload, lambda_context)

    assert sorted(result["alarms"][0]["sent"]) == ["slack", "sns", "teams"]
    assert alert_stack.slack.requests[0].json()["attachments"][0]["color"] == "#A0A0A0"


def _pending_claim(
    stack: Any, app_module: Any, event_body: dict[str, Any], channel: str, lease_until: int
) -> None:
    from oncall_shared.events import parse_alarm_event

    alarm = parse_alarm_event(event_body)[0]
    key = stack.module("alert_dedupe").record_key(channel, alarm)
    boto3.client("dynamodb", region_name="eu-west-1").put_item(
        TableName=stack.table,
        Item={
            "pk": {"S": key},
            "status": {"S": "INPROGRESS"},
            "lease_until_ms": {"N": str(lease_until * 1000)},
            "expires_at": {"N": str(int(time.time()) + 3600)},
        },
    )


def test_claim_of_a_crashed_invocation_is_taken_over_after_its_lease(
    alert_stack, load_handler, lambda_context, event
):
    app = alert_stack.load(load_handler)
    _pending_claim(alert_stack, app, event("alarm_sns_metric"), "pagerduty", int(time.time()) - 10)
    _pending_claim(alert_stack, app, event("alarm_sns_metric"), "slack", int(time.time()) + 600)

    result = app.lambda_handler(event("alarm_sns_metric"), lambda_context)

    assert "pagerduty" in result["alarms"][0]["sent"]  # lease over: its holder is gone
    assert result["alarms"][0]["duplicates"] == [
        "slack"
    ]  # still leased: another invocation holds it
    assert receivers(alert_stack) == {"slack": 0, "teams": 1, "pagerduty": 1}


def test_a_claim_is_leased_from_the_time_left_when_it_is_made(alert_stack, load_handler, event):
    # 300 s are left for the first channel, 20 s for the later ones. A lease counted from the
    # start would keep their claims 300 s: Lambda's retry (1 min after a timeout) would find them
    # still "in flight" and skip the channels for good although their sender had died.
    app = alert_stack.load(load_handler)
    before_ms = int(time.time() * 1000)

    app.lambda_handler(event("alarm_sns_metric"), CountdownContext(300_000, 20_000))

    after_ms = int(time.time() * 1000)
    leases = sorted(int(c["lease_until_ms"]["N"]) for c in alert_stack.dedupe_items())
    expected = [20_000] * (len(leases) - 1) + [300_000]
    for lease, left_ms in zip(leases, expected, strict=True):
        assert before_ms + left_ms <= lease <= after_ms + left_ms


def test_broken_secret_fails_only_its_channel(alert_stack, load_handler, lambda_context, event):
    boto3.client("secretsmanager", region_name="eu-west-1").put_secret_value(
        SecretId=alert_stack.secret_arns["slack"],
        SecretString='{"url": "https://hooks.slack.com/x"}',
    )
    app = alert_stack.load(load_handler)

    with pytest.raises(DeliveryError) as caught:
        app.lambda_handler(event("alarm_sns_metric"), lambda_context)

    assert "field 'webhook_url': missing or empty" in str(caught.value)
    assert "hooks.slack.com" not in str(caught.value)
    assert receivers(alert_stack) == {"slack": 0, "teams": 1, "pagerduty": 1}


def test_emits_emf_metrics_per_channel(alert_stack, load_handler, lambda_context, event, capsys):
    app = alert_stack.load(load_handler)
    capsys.readouterr()

    app.lambda_handler(event("alarm_sns_metric"), lambda_context)

    import json

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    delivered = [line for line in lines if "AlertsDelivered" in line]
    assert sorted(line["Channel"] for line in delivered) == ["pagerduty", "slack", "sns", "teams"]
    assert all(
        line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "OncallTools" for line in delivered
    )


MALFORMED: dict[str, tuple[Any, str]] = {
    "sns message not json": ("alarm_sns_not_json", "Records\\[0\\].Sns.Message is not JSON"),
    "empty records": ({"Records": []}, "Records is empty"),
    "unknown shape": ({"hello": "world"}, "is not an SNS alarm notification"),
    "list event": ([1, 2], "event is a list"),
    "bad state": ("bad-state", "NewStateValue='SOMETHING'"),
    "eventbridge without resources": ("no-resources", "no alarm ARN in 'resources'"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_events_raise_and_send_nothing(
    alert_stack, load_handler, lambda_context, event, case
):
    app = alert_stack.load(load_handler)
    body, message = MALFORMED[case]
    if body == "bad-state":
        body = event("alarm_sns_metric")
        body["Records"][0]["Sns"]["Message"] = body["Records"][0]["Sns"]["Message"].replace(
            '"NewStateValue":"ALARM"', '"NewStateValue":"SOMETHING"'
        )
    elif body == "no-resources":
        body = event("alarm_eventbridge_state_change")
        body["resources"] = []
    elif isinstance(body, str):
        body = event(body)

    with pytest.raises(BadEventError, match=message):
        app.lambda_handler(body, lambda_context)

    assert receivers(alert_stack) == {"slack": 0, "teams": 0, "pagerduty": 0}
    assert alert_stack.sns_messages() == []
    assert alert_stack.dedupe_items() == []


def test_one_bad_record_stops_the_good_one_too(alert_stack, load_handler, lambda_context, event):
    app = alert_stack.load(load_handler)
    good = event("alarm_sns_metric")
    bad = event("alarm_sns_not_json")
    good["Records"].append(bad["Records"][0])

    with pytest.raises(BadEventError, match="Records\\[1\\]"):
        app.lambda_handler(good, lambda_context)

    assert receivers(alert_stack) == {"slack": 0, "teams": 0, "pagerduty": 0}
    assert alert_stack.sns_messages() == []


def test_channels_are_not_started_without_time_to_finish(
    alert_stack, load_handler, lambda_context, event
):
    import dataclasses

    app = alert_stack.load(load_handler)
    short_context = dataclasses.replace(lambda_context, timeout_millis=6_000)

    with pytest.raises(DeliveryError, match=r"not attempted: only \d+ ms of the invocation left"):
        app.lambda_handler(event("alarm_sns_metric"), short_context)

    assert receivers(alert_stack) == {"slack": 0, "teams": 0, "pagerduty": 0}
    assert alert_stack.sns_messages() == []
    assert alert_stack.dedupe_items() == []  # nothing claimed: the retry sends every channel


def _granted_dynamodb_actions() -> set[str]:
    """dynamodb:* actions the alert handler's role grants, read from the pinned template."""
    golden = REPO_ROOT / "tests" / "products" / "golden" / "alert-handler.json"
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            actions = node.get("Action")
            if isinstance(actions, list):
                found.update(a.split(":", 1)[1] for a in actions if a.startswith("dynamodb:"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(golden.read_text(encoding="utf-8"))["Resources"])
    return found


def test_the_dedupe_table_gets_only_calls_the_role_grants(
    alert_stack, load_handler, lambda_context, event
):
    # Powertools falls back to GetItem only when a failed conditional put does not return the
    # old item; DynamoDB returns it (ReturnValuesOnConditionCheckFailure), so the role needs none.
    from oncall_shared.aws import client

    calls: list[str] = []
    client("dynamodb").meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
    )
    app = alert_stack.load(load_handler)
    alert_stack.slack.script(400, body="invalid_payload")
    with pytest.raises(DeliveryError):
        app.lambda_handler(event("alarm_sns_metric"), lambda_context)  # claim, delete, mark
    app.lambda_handler(event("alarm_eventbridge_state_change"), lambda_context)  # replays

    assert {"PutItem", "UpdateItem", "DeleteItem"} <= set(calls)
    assert set(calls) <= _granted_dynamodb_actions()
