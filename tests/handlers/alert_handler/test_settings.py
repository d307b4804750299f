"""alert_handler settings fail the invocation with the variable and its value (and are counted);
only the metrics namespace, without which nothing can be counted, fails the cold start."""

from __future__ import annotations

import json

import pytest
from oncall_shared.errors import SettingsError


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [
        ("ROUTES", "{nope", "ROUTES='{nope': is not valid JSON"),
        ("ROUTES", "[]", "ROUTES=\\[\\]: must be a non-empty JSON object"),
        (
            "ROUTES",
            '{"critical": ["slack", "sms"]}',
            "ROUTES: channel 'sms' \\(severity 'critical'\\) is not one of pagerduty, slack, "
            "teams, sns",
        ),
        ("ROUTES", '{"critical": "slack"}', "ROUTES: 'critical'='slack' must be a list"),
        ("ROUTES", '{"p1": ["slack"]}', "ROUTES: severity 'p1' is not one of critical, error"),
        ("DEFAULT_SEVERITY", "error", "DEFAULT_SEVERITY='error': not a severity in ROUTES"),
        ("DEDUPE_TTL_HOURS", "two days", "DEDUPE_TTL_HOURS='two days': is not an integer"),
        ("DEDUPE_TTL_HOURS", "0", "DEDUPE_TTL_HOURS='0': must be at least 1"),
        ("DEDUPE_TABLE", "", "DEDUPE_TABLE='': required setting is missing or empty"),
        ("ALERT_TOPIC_ARN", " ", "ALERT_TOPIC_ARN=' ': required setting"),
    ],
)
def test_bad_settings_fail_the_invocation_before_anything_is_sent(
    alert_stack, load_handler, lambda_context, event, monkeypatch, capsys, env, value, message
):
    app = alert_stack.load(load_handler)
    monkeypatch.setenv(env, value)
    capsys.readouterr()

    with pytest.raises(SettingsError, match=message):
        app.lambda_handler(event("alarm_sns_metric"), lambda_context)

    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [m["RunsFailed"] for m in emf if "RunsFailed" in m] == [[1.0]]
    assert alert_stack.slack.requests == [] and alert_stack.sns_messages() == []


def test_a_missing_metrics_namespace_fails_the_cold_start(alert_stack, load_handler, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "")
    with pytest.raises(SettingsError, match="POWERTOOLS_METRICS_NAMESPACE='': required setting"):
        alert_stack.load(load_handler)


def test_channels_without_secret_are_off_and_routes_keep_order(
    alert_stack, load_handler, monkeypatch
):
    monkeypatch.setenv("SLACK_SECRET_ARN", "")
    monkeypatch.setenv("ROUTES", '{"Critical": ["sns", "pagerduty", "sns"], "info": ["sns"]}')
    monkeypatch.setenv("DEFAULT_SEVERITY", "INFO")
    settings = alert_stack.load(load_handler).load_settings()
    assert settings.routes == {"critical": ("sns", "pagerduty"), "info": ("sns",)}
    assert settings.default_severity == "info"
    assert not settings.channel_enabled("slack") and settings.channel_enabled("pagerduty")
    assert settings.dedupe_ttl_hours == 48
