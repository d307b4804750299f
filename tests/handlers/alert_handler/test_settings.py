"""alert_handler settings fail the cold start with the variable and its value."""

from __future__ import annotations

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
            "ROUTES\\['critical'\\]=\\['slack', 'sms'\\]: unknown channel",
        ),
        ("ROUTES", '{"critical": "slack"}', "ROUTES\\['critical'\\]='slack': must be a list"),
        ("ROUTES", '{"p1": ["slack"]}', "unknown severity \\['p1'\\]"),
        ("DEFAULT_SEVERITY", "error", "DEFAULT_SEVERITY='error': not a severity in ROUTES"),
        ("DEDUPE_TTL_HOURS", "two days", "DEDUPE_TTL_HOURS='two days': is not an integer"),
        ("DEDUPE_TTL_HOURS", "0", "DEDUPE_TTL_HOURS='0': must be at least 1"),
        ("DEDUPE_TABLE", "", "DEDUPE_TABLE='': required setting is missing or empty"),
        ("ALERT_TOPIC_ARN", " ", "ALERT_TOPIC_ARN=' ': required setting"),
        ("POWERTOOLS_METRICS_NAMESPACE", "", "POWERTOOLS_METRICS_NAMESPACE='': required setting"),
    ],
)
def test_bad_settings_fail_at_import(alert_stack, load_handler, monkeypatch, env, value, message):
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError, match=message):
        alert_stack.load(load_handler)


def test_channels_without_secret_are_off_and_routes_keep_order(
    alert_stack, load_handler, monkeypatch
):
    monkeypatch.setenv("SLACK_SECRET_ARN", "")
    monkeypatch.setenv("ROUTES", '{"Critical": ["sns", "pagerduty", "sns"], "info": ["sns"]}')
    monkeypatch.setenv("DEFAULT_SEVERITY", "INFO")
    settings = alert_stack.load(load_handler).SETTINGS
    assert settings.routes == {"critical": ("sns", "pagerduty"), "info": ("sns",)}
    assert settings.default_severity == "info"
    assert not settings.channel_enabled("slack") and settings.channel_enabled("pagerduty")
    assert settings.dedupe_ttl_hours == 48
