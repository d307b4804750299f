"""alert_channels: message shapes and the size limits of each channel."""

from __future__ import annotations

import dataclasses
import json

from alert_channels import (
    PAGERDUTY_SUMMARY_CHARS,
    SLACK_HEADER_CHARS,
    SLACK_SECTION_CHARS,
    Notification,
    pagerduty_dedup_key,
    pagerduty_payload,
    slack_payload,
    sns_subject,
    teams_payload,
)
from oncall_shared.alerts import safe_subject
from oncall_shared.events import parse_alarm_event


def _note(event, fixture="alarm_sns_metric", **changes) -> Notification:
    [alarm] = parse_alarm_event(event(fixture))
    return Notification(dataclasses.replace(alarm, **changes), "critical", "prod")


def _walk_texts(blocks):
    for block in blocks:
        if "text" in block:
            yield block["text"]["text"]
        for item in block.get("fields", []):
            yield item["text"]


def test_slack_limits_hold_for_huge_alarms(event):
    note = _note(event, name="x" * 300, reason="<b>&" * 5000, description="d" * 9000)
    payload = slack_payload(note)
    blocks = payload["attachments"][0]["blocks"]
    assert len(blocks) <= 50
    assert len(blocks[0]["text"]["text"]) <= SLACK_HEADER_CHARS
    assert all(len(text) <= SLACK_SECTION_CHARS for text in _walk_texts(blocks))
    assert "&lt;b&gt;&amp;" in blocks[2]["text"]["text"]  # escaped for mrkdwn


def test_slack_has_console_button(event):
    blocks = slack_payload(_note(event))["attachments"][0]["blocks"]
    assert blocks[-1]["elements"][0]["url"].startswith(
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/"
    )


def test_teams_adaptive_card_shape(event):
    payload = teams_payload(_note(event, new_state="OK"))
    [attachment] = payload["attachments"]
    card = attachment["content"]
    assert payload["type"] == "message"
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["body"][0]["color"] == "good"
    assert card["actions"][0]["type"] == "Action.OpenUrl"
    assert len(json.dumps(payload).encode()) < 28 * 1024


def test_pagerduty_trigger_and_limits(event):
    note = _note(event, reason="r" * 5000)
    payload = pagerduty_payload(note, "KEY")
    assert payload["event_action"] == "trigger"
    assert len(payload["payload"]["summary"]) == PAGERDUTY_SUMMARY_CHARS
    assert payload["payload"]["severity"] == "critical"
    assert payload["links"][0]["href"].endswith("#alarmsV2:alarm/critical-checkout-api-5xx")


def test_pagerduty_resolve_is_minimal(event):
    payload = pagerduty_payload(_note(event, new_state="OK"), "KEY")
    assert payload == {
        "routing_key": "KEY",
        "event_action": "resolve",
        "dedup_key": _note(event).alarm.arn,
    }


def test_long_arn_dedup_key_is_hashed_and_stable(event):
    long_arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:" + "n" * 250
    alarm = _note(event, arn=long_arn).alarm
    key = pagerduty_dedup_key(alarm)
    assert key.startswith("sha256:") and len(key) <= 255 and key == pagerduty_dedup_key(alarm)


def test_console_links_follow_the_partition(event):
    note = _note(
        event,
        arn="arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:a b",
        name="a b",
        region="cn-north-1",
    )
    assert note.console_url == (
        "https://cn-north-1.console.amazonaws.cn/cloudwatch/home?region=cn-north-1#alarmsV2:alarm/a%20b"
    )


def test_sns_subject_survives_sns_rules(event):
    subject = safe_subject(sns_subject(_note(event, name="Überlast " + "z" * 200)))
    assert (
        len(subject) < 100
        and subject.isascii()
        and subject.startswith("[CRITICAL] ALARM: ?berlast")
    )
