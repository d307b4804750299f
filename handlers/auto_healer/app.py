"""Auto-healer Lambda: remediate EC2 status-check and ECS service failures, safely and visibly."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from healer_decisions import FAILED, IGNORED, Decision, HealerPolicy, decide
from healer_guard import GuardLimits
from healer_triggers import Home, parse_triggers
from oncall_shared.alerts import publish_alert
from oncall_shared.errors import OncallError, SettingsError
from oncall_shared.events import parse_arn
from oncall_shared.settings import env_bool, env_int, env_str, require_str
from oncall_shared.tool import counts_failures, tool_metrics, traced

logger = Logger()
metrics = tool_metrics()
# Keep this much of the Lambda timeout for the report after the last action's verification.
LAMBDA_RESERVE_SECONDS = 5.0
_METRIC_BY_OUTCOME = {
    "acted": "ActionsTaken",
    "dry-run": "DryRunActions",
    "skipped": "ActionsSkipped",
    "failed": "ActionsFailed",
    "ignored": "EventsIgnored",
}


class HealingFailedError(OncallError):
    """At least one action failed; raised after the report so Lambda's retry and DLQ apply."""


@dataclass(frozen=True)
class HealerSettings:
    policy: HealerPolicy
    topic_arn: str
    environment: str
    region: str


def load_settings() -> HealerSettings:
    limits = GuardLimits(
        table=require_str("STATE_TABLE"),
        cooldown_seconds=60 * env_int("COOLDOWN_MINUTES", 30, minimum=1, maximum=1440),
        max_actions_per_hour=env_int("MAX_ACTIONS_PER_HOUR", 5, minimum=1, maximum=100),
    )
    policy = HealerPolicy(
        opt_in_tag_key=env_str("OPT_IN_TAG_KEY", "oncall:auto-heal") or "oncall:auto-heal",
        dry_run=env_bool("DRY_RUN", True),
        limits=limits,
        automation_document=env_str("AUTOMATION_DOCUMENT"),
    )
    return HealerSettings(
        policy=policy,
        topic_arn=require_str("ALERT_TOPIC_ARN"),
        environment=env_str("ENVIRONMENT", "unknown") or "unknown",
        region=_region(),
    )


def _region() -> str:
    # The Lambda runtime always sets AWS_REGION; without it we cannot tell which alarms are ours.
    region = env_str("AWS_REGION") or env_str("AWS_DEFAULT_REGION")
    if region is None:
        raise SettingsError("AWS_REGION='': the function's region is unknown")
    return region


@logger.inject_lambda_context(clear_state=True)
@traced
@metrics.log_metrics
@counts_failures(metrics, logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _run(event, context)


def _run(event: Any, context: LambdaContext) -> dict[str, Any]:
    settings = load_settings()
    # Parse everything first: a malformed event must fail before any action is taken.
    home = Home(parse_arn(context.invoked_function_arn).account, settings.region)
    triggers = parse_triggers(event, home)

    def seconds_left() -> float:
        return context.get_remaining_time_in_millis() / 1000.0 - LAMBDA_RESERVE_SECONDS

    decisions = [
        decide(trigger, settings.policy, seconds_left, time.time()) for trigger in triggers
    ]
    _record(decisions)
    reportable = [d for d in decisions if d.outcome != IGNORED]
    if reportable:
        _publish(settings, reportable)
    failed = [d for d in decisions if d.outcome == FAILED]
    if failed:
        raise HealingFailedError("; ".join(f"{d.resource_id}: {d.detail}" for d in failed))
    return {"dry_run": settings.policy.dry_run, "decisions": [asdict(d) for d in decisions]}


def _record(decisions: list[Decision]) -> None:
    for decision in decisions:
        log = logger.warning if decision.outcome == FAILED else logger.info
        log(f"decision: {decision.outcome}", extra=asdict(decision))
    for outcome, count in Counter(d.outcome for d in decisions).items():
        metrics.add_metric(name=_METRIC_BY_OUTCOME[outcome], unit=MetricUnit.Count, value=count)


def _publish(settings: HealerSettings, decisions: list[Decision]) -> None:
    message_id = publish_alert(
        settings.topic_arn, alert_subject(settings, decisions), alert_body(settings, decisions)
    )
    logger.info("decisions published", extra={"message_id": message_id, "count": len(decisions)})


def alert_subject(settings: HealerSettings, decisions: list[Decision]) -> str:
    prefix = f"[{settings.environment}] auto-healer"
    if len(decisions) == 1:
        only = decisions[0]
        return f"{prefix}: {only.outcome} {only.action or ''} {only.resource_id or ''}".rstrip()
    counts = Counter(d.outcome for d in decisions)
    return f"{prefix}: " + ", ".join(
        f"{count} {outcome}" for outcome, count in sorted(counts.items())
    )


def alert_body(settings: HealerSettings, decisions: list[Decision]) -> str:
    mode = "DRY RUN (no action taken)" if settings.policy.dry_run else "LIVE"
    lines = [f"Auto-healer, environment {settings.environment}, mode {mode}.", ""]
    for decision in decisions:
        lines.append(
            f"{decision.outcome.upper():8} {decision.resource_id or '-'}: {decision.detail}"
        )
        lines.append(f"         trigger: {decision.trigger}")
    lines += ["", "Details (JSON):", json.dumps([asdict(d) for d in decisions], indent=2)]
    return "\n".join(lines)
