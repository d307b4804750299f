"""alert_handler: fan a CloudWatch alarm state change out to SNS, Slack, Teams and PagerDuty.

Accepts the SNS alarm notification, the EventBridge "CloudWatch Alarm State Change" event and the
direct alarm-action payload. The whole event is decoded and every severity resolved before the
first send; each channel is then delivered at most once (Powertools Idempotency on DynamoDB) and
a failed channel makes the invocation fail so Lambda's retry re-sends only that channel.
"""

from __future__ import annotations

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
from alert_dedupe import DedupeStore
from alert_settings import AlertSettings, load_settings
from alert_severity import resolve_severity
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from oncall_shared.errors import BadEventError, DeliveryError, OncallError
from oncall_shared.events import AlarmChange, parse_alarm_event

logger = Logger()
metrics = Metrics()
SETTINGS: AlertSettings = load_settings()  # at import: bad settings fail the cold start
STORE = DedupeStore(SETTINGS.dedupe_table, SETTINGS.dedupe_ttl_hours)
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
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    notes = decode(event)
    metrics.add_metric(name="AlarmChangesReceived", unit=MetricUnit.Count, value=len(notes))
    outcomes = [deliver(note, context.get_remaining_time_in_millis) for note in notes]
    failed = [f"{o.alarm} {o.state} {ch}: {err}" for o in outcomes for ch, err in o.failed.items()]
    if failed:
        raise DeliveryError(f"{len(failed)} channel delivery(ies) failed: " + "; ".join(failed))
    return {"alarms": [outcome.as_dict() for outcome in outcomes]}


def decode(event: Any) -> list[tuple[Notification, str]]:
    """Parse every alarm and resolve its severity; nothing is sent if any of it fails."""
    try:
        alarms = parse_alarm_event(event)
    except BadEventError as error:
        logger.error("rejected malformed alarm event", extra={"error": str(error)})
        metrics.add_metric(name="MalformedEvents", unit=MetricUnit.Count, value=1)
        raise
    return [_with_severity(alarm) for alarm in alarms]


def _with_severity(alarm: AlarmChange) -> tuple[Notification, str]:
    decision = resolve_severity(alarm, frozenset(SETTINGS.routes), SETTINGS.default_severity)
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
    return Notification(alarm, decision.severity, SETTINGS.environment), decision.source


def target_channels(severity: str, state: str) -> list[str]:
    channels = [ch for ch in SETTINGS.routes[severity] if SETTINGS.channel_enabled(ch)]
    return [ch for ch in channels if ch != "pagerduty" or pagerduty_applies(state)]


def deliver(decoded: tuple[Notification, str], remaining_ms: Callable[[], int]) -> AlarmOutcome:
    note, severity_source = decoded
    outcome = AlarmOutcome(note.alarm.name, note.alarm.new_state, note.severity, severity_source)
    for channel in target_channels(note.severity, note.alarm.new_state):
        try:
            left_ms = remaining_ms()
            _require_time(left_ms)
            # The lease counts from the claim, so it is what is left *now*: it must end when
            # this invocation must, or Lambda's retry would find a live claim of a dead
            # invocation, count the channel as delivered and never send it.
            delivered = deliver_once(channel, note, left_ms)
        except _EXPECTED_FAILURES as error:
            logger.error(
                "channel delivery failed",
                extra={"channel": channel, "alarm": note.alarm.name, "error": str(error)},
            )
            outcome.failed[channel] = str(error)
            _count("AlertDeliveryFailed", channel)
            continue
        (outcome.sent if delivered else outcome.duplicates).append(channel)
        _count("AlertsDelivered" if delivered else "AlertsDeduplicated", channel)
    return outcome


def _require_time(left_ms: int) -> None:
    """Starting a channel we cannot finish would only leave a claim behind until its lease ends;
    failing it now lets Lambda's retry send it (and only it) with a fresh time budget."""
    if left_ms < MIN_REMAINING_MS:
        raise DeliveryError(f"not attempted: only {left_ms} ms of the invocation left")


def deliver_once(channel: str, note: Notification, remaining_ms: int) -> bool:
    """True when sent now, False when already sent (or in flight) by another delivery."""
    delivery = STORE.deliver(channel, note.alarm, lambda: SENDERS[channel](note), remaining_ms)
    if not delivery.sent:
        logger.info(
            "already delivered; skipping", extra={"channel": channel, "alarm": note.alarm.name}
        )
    if delivery.mark_failed:
        # The message is out: failing now would only invite a duplicate, so log and count.
        logger.error("sent, but could not mark the dedupe record", extra={"channel": channel})
        _count("DedupeMarkFailed", channel)
    return delivery.sent


def _count(name: str, channel: str) -> None:
    with single_metric(name=name, unit=MetricUnit.Count, value=1) as metric:
        metric.add_dimension(name="Channel", value=channel)
        metric.add_dimension(name="Environment", value=SETTINGS.environment)


SENDERS: dict[str, Callable[[Notification], None]] = {
    "sns": lambda note: send_sns(note, SETTINGS.topic_arn),
    "slack": lambda note: send_slack(note, SETTINGS.secret_arns["slack"]),
    "teams": lambda note: send_teams(note, SETTINGS.secret_arns["teams"]),
    "pagerduty": lambda note: send_pagerduty(note, SETTINGS.secret_arns["pagerduty"]),
}
