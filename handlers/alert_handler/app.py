"""alert_handler: fan a CloudWatch alarm state change out to SNS, Slack, Teams and PagerDuty.

Accepts the SNS alarm notification, the EventBridge "CloudWatch Alarm State Change" event and the
direct alarm-action payload. The whole event is decoded and every severity resolved before the
first send; each channel is then delivered at most once (Powertools Idempotency on DynamoDB) and
a failed channel makes the invocation fail so Lambda's retry re-sends only that channel.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from alert_channels import (
    Notification,
    pagerduty_applies,
    send_pagerduty,
    send_slack,
    send_sns,
    send_teams,
)
from alert_dedupe import DedupeStore, Delivery
from alert_settings import AlertSettings, load_settings
from alert_severity import resolve_severity
from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from oncall_shared.errors import DeliveryError, OncallError
from oncall_shared.events import AlarmChange, parse_alarm_event
from oncall_shared.tool import counts_failures, tool_metrics, traced

logger = Logger()
metrics = tool_metrics()
# One HTTP try (5 s) plus the DynamoDB claim and mark.
MIN_REMAINING_MS = 7_000
_EXPECTED_FAILURES = (OncallError, ClientError, BotoCoreError)


@dataclass
class AlarmOutcome:
    alarm: str
    state: str
    severity: str
    severity_source: str
    sent: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@logger.inject_lambda_context(clear_state=True)
@traced
@metrics.log_metrics
@counts_failures(metrics, logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = load_settings()
    notes = decode(event, settings)
    metrics.add_metric(name="AlarmChangesReceived", unit=MetricUnit.Count, value=len(notes))
    store = dedupe_store(settings.dedupe_table, settings.dedupe_ttl_hours)
    outcomes = [
        deliver(note, settings, store, context.get_remaining_time_in_millis) for note in notes
    ]
    failed = [f"{o.alarm} {o.state} {ch}: {err}" for o in outcomes for ch, err in o.failed.items()]
    if failed:
        raise DeliveryError(f"{len(failed)} channel delivery(ies) failed: " + "; ".join(failed))
    return {"alarms": [outcome.as_dict() for outcome in outcomes]}


@functools.cache
def dedupe_store(table_name: str, ttl_hours: int) -> DedupeStore:
    """One store (and its Powertools persistence layer) per container and table."""
    return DedupeStore(table_name, ttl_hours)


def decode(event: Any, settings: AlertSettings) -> list[tuple[Notification, str]]:
    """Parse every alarm and resolve its severity; nothing is sent if any of it fails."""
    return [_with_severity(alarm, settings) for alarm in parse_alarm_event(event)]


def _with_severity(alarm: AlarmChange, settings: AlertSettings) -> tuple[Notification, str]:
    decision = resolve_severity(alarm, frozenset(settings.routes), settings.default_severity)
    logger.info(
        "alarm decoded",
        extra={
            "alarm": alarm.name,
            "state": alarm.new_state,
            "severity": decision.severity,
            "severity_source": decision.source,
            "input": alarm.source,
        },
    )
    return Notification(alarm, decision.severity, settings.environment), decision.source


def target_channels(settings: AlertSettings, severity: str, state: str) -> list[str]:
    channels = [ch for ch in settings.routes[severity] if settings.channel_enabled(ch)]
    return [ch for ch in channels if ch != "pagerduty" or pagerduty_applies(state)]


def deliver(
    decoded: tuple[Notification, str],
    settings: AlertSettings,
    store: DedupeStore,
    remaining_ms: Callable[[], int],
) -> AlarmOutcome:
    note, severity_source = decoded
    outcome = AlarmOutcome(note.alarm.name, note.alarm.new_state, note.severity, severity_source)
    for channel in target_channels(settings, note.severity, note.alarm.new_state):
        try:
            left_ms = remaining_ms()
            _require_time(left_ms)
            # The lease counts from the claim, so it is what is left *now*: it must end when
            # this invocation must, or Lambda's retry would find a live claim of a dead
            # invocation, count the channel as delivered and never send it.
            send = functools.partial(send_to, channel, note, settings)
            delivery = deliver_once(store, channel, note, send, left_ms)
        except _EXPECTED_FAILURES as error:
            logger.error(
                "channel delivery failed",
                extra={"channel": channel, "alarm": note.alarm.name, "error": str(error)},
            )
            outcome.failed[channel] = str(error)
            _count("AlertDeliveryFailed", channel, settings.environment)
            continue
        if delivery.mark_failed:
            _count("DedupeMarkFailed", channel, settings.environment)
        (outcome.sent if delivery.sent else outcome.duplicates).append(channel)
        name = "AlertsDelivered" if delivery.sent else "AlertsDeduplicated"
        _count(name, channel, settings.environment)
    return outcome


def _require_time(left_ms: int) -> None:
    """Starting a channel we cannot finish would only leave a claim behind until its lease ends;
    failing it now lets Lambda's retry send it (and only it) with a fresh time budget."""
    if left_ms < MIN_REMAINING_MS:
        raise DeliveryError(f"not attempted: only {left_ms} ms of the invocation left")


def deliver_once(
    store: DedupeStore, channel: str, note: Notification, send: Callable[[], None], left_ms: int
) -> Delivery:
    """Sent now, or skipped as already sent (or in flight) by another delivery."""
    delivery = store.deliver(channel, note.alarm, send, left_ms)
    if not delivery.sent:
        logger.info(
            "already delivered; skipping", extra={"channel": channel, "alarm": note.alarm.name}
        )
    if delivery.mark_failed:
        # The message is out: failing now would only invite a duplicate, so log and count.
        logger.error("sent, but could not mark the dedupe record", extra={"channel": channel})
    return delivery


def _count(name: str, channel: str, environment: str) -> None:
    with single_metric(name=name, unit=MetricUnit.Count, value=1) as metric:
        metric.add_dimension(name="Channel", value=channel)
        metric.add_dimension(name="Environment", value=environment)


def send_to(channel: str, note: Notification, settings: AlertSettings) -> None:
    if channel == "sns":
        send_sns(note, settings.topic_arn)
    else:
        SECRET_SENDERS[channel](note, settings.secret_arns[channel])


SECRET_SENDERS: dict[str, Callable[[Notification, str], None]] = {
    "slack": send_slack,
    "teams": send_teams,
    "pagerduty": send_pagerduty,
}
