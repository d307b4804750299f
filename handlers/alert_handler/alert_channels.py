"""Render one alarm state change for each channel and send it (limits per GUIDE section 3)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from alert_secrets import pagerduty_secret, webhook_secret
from oncall_shared.alerts import publish_alert, truncate_utf8
from oncall_shared.events import AlarmChange, parse_arn
from oncall_shared.http import send_json

# Several channels share one invocation: a short per-try timeout and few tries keep the sum
# well inside the function timeout even when a webhook hangs.
HTTP_TIMEOUT_SECONDS = 5.0
HTTP_MAX_ATTEMPTS = 3
SLACK_SECTION_CHARS = 3000  # Slack: section text at most 3000 chars
SLACK_FIELD_CHARS = 2000  # Slack: each section field at most 2000 chars
SLACK_HEADER_CHARS = 150  # Slack: header plain_text at most 150 chars
TEAMS_TEXT_CHARS = 2000  # keeps the card well under Teams' ~28 KB message limit
PAGERDUTY_SUMMARY_CHARS = 1024  # PagerDuty Events v2: payload.summary at most 1024 chars
PAGERDUTY_DEDUP_KEY_CHARS = 255  # PagerDuty Events v2: dedup_key at most 255 chars
STATE_COLOURS = {"ALARM": "#D62728", "OK": "#2CA02C", "INSUFFICIENT_DATA": "#A0A0A0"}
TEAMS_COLOURS = {"ALARM": "attention", "OK": "good", "INSUFFICIENT_DATA": "warning"}
_CONSOLE_DOMAINS = {"aws-cn": "console.amazonaws.cn", "aws-us-gov": "console.amazonaws-us-gov.com"}


@dataclass(frozen=True)
class Notification:
    alarm: AlarmChange
    severity: str
    environment: str

    @property
    def console_url(self) -> str:
        alarm = self.alarm
        domain = _CONSOLE_DOMAINS.get(parse_arn(alarm.arn).partition, "console.aws.amazon.com")
        return (
            f"https://{alarm.region}.{domain}/cloudwatch/home?region={alarm.region}"
            f"#alarmsV2:alarm/{quote(alarm.name, safe='')}"
        )

    @property
    def title(self) -> str:
        return f"{self.alarm.new_state}: {self.alarm.name}"

    def metric_text(self) -> str:
        alarm = self.alarm
        if alarm.is_composite:
            return "composite alarm"
        if alarm.metric_name is None:
            return "metric math expression"
        dims = ", ".join(f"{key}={value}" for key, value in (alarm.dimensions or {}).items())
        return f"{alarm.namespace}/{alarm.metric_name}" + (f" ({dims})" if dims else "")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def pagerduty_applies(state: str) -> bool:
    """PagerDuty only models open/closed incidents: ALARM triggers, OK resolves, nothing else."""
    return state in ("ALARM", "OK")


# ---------------------------------------------------------------- SNS / e-mail


def sns_subject(note: Notification) -> str:
    return f"[{note.severity.upper()}] {note.title} ({note.alarm.region}, {note.environment})"


def sns_message(note: Notification) -> str:
    alarm = note.alarm
    lines = [
        f"Alarm:       {alarm.name}",
        f"State:       {alarm.old_state or '?'} -> {alarm.new_state} at {alarm.timestamp}",
        f"Severity:    {note.severity}",
        f"Environment: {note.environment}",
        f"Account:     {alarm.account}   Region: {alarm.region}",
        f"Metric:      {note.metric_text()}",
        f"Reason:      {alarm.reason}",
        f"Description: {alarm.description or '-'}",
        f"Console:     {note.console_url}",
        f"Alarm ARN:   {alarm.arn}",
    ]
    return "\n".join(lines)


def send_sns(note: Notification, topic_arn: str) -> None:
    publish_alert(topic_arn, sns_subject(note), sns_message(note))


# ---------------------------------------------------------------- Slack (Block Kit)


def slack_escape(text: str) -> str:
    """Slack mrkdwn treats &, < and > as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_field(label: str, value: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": clip(f"*{label}*\n{slack_escape(value)}", SLACK_FIELD_CHARS)}


def _slack_text(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SLACK_SECTION_CHARS)}}


def slack_payload(note: Notification) -> dict[str, Any]:
    alarm = note.alarm
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": clip(note.title, SLACK_HEADER_CHARS)},
        },
        {
            "type": "section",
            "fields": [
                _slack_field("Severity", note.severity),
                _slack_field("Environment", note.environment),
                _slack_field("Previous state", alarm.old_state or "unknown"),
                _slack_field("Changed at", alarm.timestamp),
                _slack_field("Account / Region", f"{alarm.account} / {alarm.region}"),
                _slack_field("Metric", note.metric_text()),
            ],
        },
        _slack_text(f"*Reason*\n{slack_escape(alarm.reason or '-')}"),
    ]
    if alarm.description:
        blocks.append(_slack_text(f"*Description*\n{slack_escape(alarm.description)}"))
    blocks.append(_slack_actions(note.console_url))
    # Colour bars exist only on attachments, so the blocks ride inside one coloured attachment.
    return {
        "text": clip(f"[{note.severity.upper()}] {note.title}", SLACK_HEADER_CHARS),
        "attachments": [{"color": STATE_COLOURS[alarm.new_state], "blocks": blocks}],
    }


def _slack_actions(url: str) -> dict[str, Any]:
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": "Open in CloudWatch"},
        "url": url,
    }
    return {"type": "actions", "elements": [button]}


def send_slack(note: Notification, secret_arn: str) -> None:
    _post(webhook_secret(secret_arn).webhook_url, slack_payload(note))


# ---------------------------------------------------------------- Microsoft Teams (Workflows)


def teams_payload(note: Notification) -> dict[str, Any]:
    """Workflows webhooks take a message with one Adaptive Card attachment."""
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": _teams_body(note),
        "actions": [
            {"type": "Action.OpenUrl", "title": "Open in CloudWatch", "url": note.console_url}
        ],
    }
    attachment = {
        "contentType": "application/vnd.microsoft.card.adaptive",
        "contentUrl": None,
        "content": card,
    }
    return {"type": "message", "attachments": [attachment]}


def _teams_body(note: Notification) -> list[dict[str, Any]]:
    alarm = note.alarm
    title = _teams_text(note.title, weight="Bolder", size="Medium")
    title["color"] = TEAMS_COLOURS[alarm.new_state]
    body = [title, {"type": "FactSet", "facts": _teams_facts(note)}]
    body.append(_teams_text(clip(alarm.reason or "-", TEAMS_TEXT_CHARS)))
    if alarm.description:
        body.append(_teams_text(clip(alarm.description, TEAMS_TEXT_CHARS), isSubtle=True))
    return body


def _teams_text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _teams_facts(note: Notification) -> list[dict[str, str]]:
    alarm = note.alarm
    pairs = [
        ("Severity", note.severity),
        ("Environment", note.environment),
        ("Previous state", alarm.old_state or "unknown"),
        ("Changed at", alarm.timestamp),
        ("Account / Region", f"{alarm.account} / {alarm.region}"),
        ("Metric", note.metric_text()),
    ]
    return [{"title": title, "value": value} for title, value in pairs]


def send_teams(note: Notification, secret_arn: str) -> None:
    _post(webhook_secret(secret_arn).webhook_url, teams_payload(note))


# ---------------------------------------------------------------- PagerDuty Events v2


def pagerduty_dedup_key(alarm: AlarmChange) -> str:
    """The alarm ARN, so trigger and resolve meet on one incident; hashed if over 255 chars."""
    if len(alarm.arn) <= PAGERDUTY_DEDUP_KEY_CHARS:
        return alarm.arn
    return "sha256:" + hashlib.sha256(alarm.arn.encode("utf-8")).hexdigest()


def pagerduty_payload(note: Notification, routing_key: str) -> dict[str, Any]:
    alarm = note.alarm
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger" if alarm.new_state == "ALARM" else "resolve",
        "dedup_key": pagerduty_dedup_key(alarm),
    }
    if alarm.new_state != "ALARM":
        return event  # resolve needs only the key
    event["payload"] = {
        "summary": clip(f"{alarm.name}: {alarm.reason}", PAGERDUTY_SUMMARY_CHARS),
        "source": f"{alarm.account}/{alarm.region}",
        "severity": note.severity,
        "timestamp": alarm.timestamp,
        "component": alarm.namespace or ("composite" if alarm.is_composite else "metric-math"),
        "group": note.environment,
        "class": alarm.metric_name or "alarm",
        "custom_details": _pagerduty_details(note),
    }
    event["links"] = [{"href": note.console_url, "text": "CloudWatch alarm"}]
    return event


def _pagerduty_details(note: Notification) -> dict[str, Any]:
    alarm = note.alarm
    return {
        "alarm_arn": alarm.arn,
        "previous_state": alarm.old_state,
        "metric": note.metric_text(),
        "description": truncate_utf8(alarm.description or "", 4096),
        "reason": truncate_utf8(alarm.reason, 4096),
    }


def send_pagerduty(note: Notification, secret_arn: str) -> None:
    secret = pagerduty_secret(secret_arn)
    _post(secret.events_url, pagerduty_payload(note, secret.routing_key))


def _post(url: str, payload: dict[str, Any]) -> None:
    """Every HTTP channel sends with the same per-try timeout and number of tries."""
    send_json(url, payload, timeout=HTTP_TIMEOUT_SECONDS, max_attempts=HTTP_MAX_ATTEMPTS)
