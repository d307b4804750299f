"""log_processor: count rule matches in CloudWatch Logs batches and S3 log objects, alert once.

Per invocation: read the settings, decode the whole event (BadEventError before anything is read
or sent), scan every source with the rules (compiled once per rule set and container), emit
per-rule EMF counts (LogGroup, Rule), and publish at most one SNS alert summarising every rule
that crossed its threshold.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext
from log_reader import object_blocks
from log_report import (
    alert_message,
    alert_subject,
    crossed_rules,
    logs_console_url,
    s3_console_url,
    totals,
)
from log_rules import Rule, build_rules
from log_scan import RuleEngine, SourceTally
from log_sources import DecodedEvent, LogBatch, S3Object, decode_event
from oncall_shared.alerts import publish_alert
from oncall_shared.settings import env_int, env_str, load_json_setting, require_str
from oncall_shared.tool import counts_failures, tool_metrics, traced

logger = Logger()
metrics = tool_metrics()

# Time kept back from reading S3 objects for the metrics and the alert (a quarter of the time
# left at the start when that is less): an invocation that ran into Lambda's timeout would
# report nothing and be retried from the start, so it stops reading and reports what it saw.
SCAN_RESERVE_MILLIS = 10_000

TimeIsUp = Callable[[], bool]


@dataclass(frozen=True)
class ProcessorSettings:
    environment: str
    topic_arn: str
    own_log_groups: frozenset[str]
    region: str
    engine: RuleEngine

    @property
    def rules(self) -> list[Rule]:
        return self.engine.rules


def load_settings() -> ProcessorSettings:
    own = {env_str("OWN_LOG_GROUP")}
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
    if function_name:  # the default log group, in case OWN_LOG_GROUP was left unset
        own.add(f"/aws/lambda/{function_name}")
    return ProcessorSettings(
        environment=env_str("ENVIRONMENT", "unknown") or "unknown",
        topic_arn=require_str("ALERT_TOPIC_ARN"),
        own_log_groups=frozenset(group for group in own if group),
        region=env_str("AWS_REGION") or env_str("AWS_DEFAULT_REGION") or "us-east-1",
        engine=rule_engine(
            json.dumps(load_json_setting("RULES", "RULES_SSM_PARAMETER", None)),
            env_int("SAMPLE_LINES", 5, minimum=0, maximum=50),
        ),
    )


@functools.lru_cache(maxsize=4)
def rule_engine(rules_json: str, sample_lines: int) -> RuleEngine:
    """Rules are compiled once per container and rule set (a bad regex is a SettingsError);
    a changed SSM parameter gives a new set once its cached value expires."""
    return RuleEngine(build_rules(json.loads(rules_json)), sample_lines)


@logger.inject_lambda_context(clear_state=True)
@traced
@metrics.log_metrics
@counts_failures(metrics, logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process(event, context, load_settings())


def time_guard(context: LambdaContext) -> TimeIsUp:
    reserve = min(SCAN_RESERVE_MILLIS, context.get_remaining_time_in_millis() // 4)
    return lambda: context.get_remaining_time_in_millis() <= reserve


def process(event: Any, context: LambdaContext, settings: ProcessorSettings) -> dict[str, Any]:
    time_is_up = time_guard(context)
    decoded = decode_event(event)
    if decoded.kind == "control":
        logger.info("CONTROL_MESSAGE from CloudWatch Logs acknowledged")
        metrics.add_metric(name="ControlMessages", unit=MetricUnit.Count, value=1)
        return {"kind": "control", "alerted": False}
    if decoded.batch is not None and decoded.batch.log_group in settings.own_log_groups:
        # Alerting on our own output would feed back into the next batch.
        logger.warning("skipped our own log group", extra={"log_group": decoded.batch.log_group})
        metrics.add_metric(name="OwnLogGroupSkipped", unit=MetricUnit.Count, value=1)
        return {"kind": "own_log_group", "alerted": False}
    sources = scan(decoded, settings, time_is_up)  # S3 errors surface here, before any send
    counts = totals(sources, settings.rules)
    emit_metrics(sources)
    report_cut_short(sources, context.function_name)
    message_id = maybe_alert(sources, counts, settings)
    lines = sum(source.lines for source in sources)
    return {
        "kind": decoded.kind,
        "lines": lines,
        "counts": counts,
        "alerted": message_id is not None,
        "cut_short": sum(source.cut_short for source in sources),
    }


def scan(
    decoded: DecodedEvent, settings: ProcessorSettings, time_is_up: TimeIsUp
) -> list[SourceTally]:
    if decoded.batch is not None:
        return [scan_batch(decoded.batch, settings)]
    return [scan_object(obj, settings, time_is_up) for obj in decoded.objects]


def scan_batch(batch: LogBatch, settings: ProcessorSettings) -> SourceTally:
    tally = SourceTally(
        batch.log_group,
        batch.log_stream,
        logs_console_url(settings.region, batch.log_group, batch.log_stream),
    )
    # One log event is one unit, even a multi-line traceback: fold its lines into one.
    settings.engine.scan(
        "\n".join(message.rstrip("\r\n").replace("\n", " ") for message in batch.messages), tally
    )
    return tally


def scan_object(obj: S3Object, settings: ProcessorSettings, time_is_up: TimeIsUp) -> SourceTally:
    region = obj.region or settings.region
    tally = SourceTally(f"s3://{obj.bucket}", obj.key, s3_console_url(region, obj.bucket, obj.key))
    if time_is_up():  # an earlier object used the time: this one is reported, not opened
        tally.cut_short = True
        return tally
    blocks = object_blocks(obj)
    try:
        for block in blocks:
            settings.engine.scan(block, tally)
            if time_is_up():
                tally.cut_short = True
                break
    finally:
        blocks.close()  # closes the S3 body at once when the scan stopped early
    return tally


def report_cut_short(sources: list[SourceTally], function_name: str) -> None:
    cut = [source for source in sources if source.cut_short]
    if not cut:
        return
    # Per function, so that each launched stack's ScansCutShort alarm sees only its own scans.
    with single_metric(name="ScansCutShort", unit=MetricUnit.Count, value=len(cut)) as metric:
        metric.add_dimension(name="FunctionName", value=function_name)
    for source in cut:
        logger.warning(
            "scan cut short: the function's time ran out",
            extra={"source": f"{source.group}/{source.stream}", "lines_scanned": source.lines},
        )


def emit_metrics(sources: list[SourceTally]) -> None:
    """One EMF object per (log group, rule) with matches; plus lines scanned per invocation."""
    metrics.add_metric(
        name="LinesScanned", unit=MetricUnit.Count, value=sum(s.lines for s in sources)
    )
    for source in sources:
        for rule_name, tally in source.rules.items():
            with single_metric(
                name="RuleMatches", unit=MetricUnit.Count, value=tally.count
            ) as metric:
                metric.add_dimension(name="LogGroup", value=source.group[:1024])
                metric.add_dimension(name="Rule", value=rule_name)


def maybe_alert(
    sources: list[SourceTally], counts: dict[str, int], settings: ProcessorSettings
) -> str | None:
    crossed = crossed_rules(counts, settings.rules)
    if not crossed:
        return None
    subject = alert_subject(settings.environment, crossed, sources)
    message = alert_message(settings.environment, crossed, sources, settings.rules)
    message_id = publish_alert(settings.topic_arn, subject, message)
    logger.info(
        "alert published", extra={"rules": [c.rule.name for c in crossed], "message_id": message_id}
    )
    metrics.add_metric(name="AlertsPublished", unit=MetricUnit.Count, value=1)
    return message_id
