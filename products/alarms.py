"""CloudWatch alarms every tool gets, and how one alarm becomes a resource.

Every alarm notifies the on-call topic on ALARM *and* on OK (otherwise nothing ever says
"resolved"), and its description tells the person paged what to do first and ends with the link
to its runbook, docs/runbooks/<name suffix without the dash>.md, so the notification carries it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from troposphere import GetAtt, Ref, Sub, awslambda, cloudwatch, sqs

from products.environment import ResourceNames, setting

# "Did not run" looks at a whole hour: schedules allowed by the products are at most 30 minutes
# apart, so an hour without an invocation means at least one run was missed.
MISSED_RUN_PERIOD_SECONDS = 3600


@dataclass(frozen=True)
class AlarmSpec:
    logical_id: str
    name_suffix: str
    description: str
    namespace: str
    metric: str
    dimensions: dict[str, Any]
    statistic: str
    threshold: Any
    comparison: str
    period: Any
    evaluation_periods: Any
    treat_missing_data: str = "notBreaching"

    @property
    def runbook(self) -> str:
        """The runbook's file name in docs/runbooks/, without ".md": the name suffix's words."""
        return self.name_suffix.lstrip("-")


@dataclass(frozen=True)
class Watched:
    """What a product's alarms watch and whom they tell: all this module needs of a product."""

    title: str  # how alarm descriptions name the tool
    scheduled: bool  # scheduled tools also get a "did not run" alarm
    function: awslambda.Function
    dead_letter_queue: sqs.Queue
    names: ResourceNames
    notify: Any  # the on-call topic's ARN, as a template expression
    runbook_base_url: str  # where docs/runbooks/ is published (catalog.runbook_base_url)


def standard_alarms(watched: Watched) -> list[AlarmSpec]:
    """Errors, throttles, duration near the timeout, DLQ depth, and missed runs when scheduled."""
    function = {"FunctionName": Ref(watched.function)}
    period = setting("AlarmPeriod")
    evaluations = setting("AlarmEvaluationPeriods")
    title = watched.title
    alarms = [
        AlarmSpec(
            "ErrorsAlarm",
            "-errors",
            f"{title} invocations are failing. Open the function's log group (see the stack "
            "outputs) and look for the ERROR entries; failed events wait in the dead-letter queue.",
            "AWS/Lambda",
            "Errors",
            function,
            "Sum",
            setting("ErrorsThreshold"),
            "GreaterThanOrEqualToThreshold",
            period,
            evaluations,
        ),
        AlarmSpec(
            "ThrottlesAlarm",
            "-throttles",
            f"{title} is being throttled: events are delayed or dropped. Check the reserved "
            "concurrency for this environment and the account's concurrency limit.",
            "AWS/Lambda",
            "Throttles",
            function,
            "Sum",
            setting("ThrottlesThreshold"),
            "GreaterThanOrEqualToThreshold",
            period,
            evaluations,
        ),
        AlarmSpec(
            "DurationAlarm",
            "-duration",
            f"{title} runs close to its timeout and will soon start timing out. Look for slow "
            "downstream calls in the logs, or raise the environment's timeout and memory.",
            "AWS/Lambda",
            "Duration",
            function,
            "Maximum",
            setting("DurationThresholdMs"),
            "GreaterThanOrEqualToThreshold",
            period,
            evaluations,
        ),
        AlarmSpec(
            "DeadLetterQueueAlarm",
            "-dead-letters",
            f"{title} gave up on events after Lambda's retries; they are in the dead-letter "
            "queue (see DeadLetterQueueUrl). Read one, fix the cause, then invoke the function "
            "again with each message's original event (an SQS redrive does not run it).",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": GetAtt(watched.dead_letter_queue, "QueueName")},
            "Maximum",
            setting("DlqDepthThreshold"),
            "GreaterThanOrEqualToThreshold",
            period,
            1,
        ),
        AlarmSpec(
            "DeliveryFailuresAlarm",
            "-dead-letter-delivery",
            f"{title} could not hand failed events to its dead-letter queue (a KMS or "
            "permission problem on the queue): those events are lost. Check the queue's key "
            "and the function role's sqs:SendMessage and kms:GenerateDataKey grants.",
            "AWS/Lambda",
            "DestinationDeliveryFailures",
            function,
            "Sum",
            1,
            "GreaterThanOrEqualToThreshold",
            period,
            1,
        ),
    ]
    if watched.scheduled:
        alarms.append(_missed_run_alarm(title, function))
    return alarms


def _missed_run_alarm(title: str, function: dict[str, Any]) -> AlarmSpec:
    return AlarmSpec(
        "MissedRunsAlarm",
        "-did-not-run",
        f"{title} has not run for an hour: its schedule is disabled, deleted or failing to "
        "invoke. Check the schedule rule in the stack and the function's recent invocations.",
        "AWS/Lambda",
        "Invocations",
        function,
        "Sum",
        1,
        "LessThanThreshold",
        MISSED_RUN_PERIOD_SECONDS,
        1,
        # No data at all is exactly the failure this alarm exists for.
        treat_missing_data="breaching",
    )


def build_alarm(watched: Watched, spec: AlarmSpec) -> cloudwatch.Alarm:
    return cloudwatch.Alarm(
        spec.logical_id,
        AlarmName=watched.names.in_region(spec.name_suffix),
        AlarmDescription=Sub(alarm_description(watched, spec)),
        Namespace=spec.namespace,
        MetricName=spec.metric,
        Dimensions=[
            cloudwatch.MetricDimension(Name=name, Value=value)
            for name, value in spec.dimensions.items()
        ],
        Statistic=spec.statistic,
        Threshold=spec.threshold,
        ComparisonOperator=spec.comparison,
        Period=spec.period,
        EvaluationPeriods=spec.evaluation_periods,
        TreatMissingData=spec.treat_missing_data,
        AlarmActions=[watched.notify],
        OKActions=[watched.notify],
    )


def runbook_url(watched: Watched, spec: AlarmSpec) -> str:
    return f"{watched.runbook_base_url}/{spec.runbook}.md"


def alarm_description(watched: Watched, spec: AlarmSpec) -> str:
    """The Fn::Sub text of SPEC's AlarmDescription: environment, what to do, runbook link last."""
    return f"[${{Environment}}] {spec.description} Runbook: {runbook_url(watched, spec)}"
