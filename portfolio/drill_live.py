"""The drill's local part: make the function really fail, let the alarm fire, watch it arrive.

Only a local cloud can do this without waiting real minutes: its clock is moved forward, so the
alarm's evaluation (every 60 s, as CloudWatch does) and the topic's deliveries run at once.
Every step goes through AWS APIs: an observer queue subscribes to the alarm's topic, `Invoke`
runs the function with an event it cannot handle as often as the errors alarm's own threshold
asks, and the ALARM and OK messages are read from the queue as the on-call team would get them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from portfolio.aws import AwsClients
from portfolio.drill_target import DrillError, Echo, LaunchedTool, describe_alarm

Advance = Callable[[float], float]
EVALUATION_INTERVAL_SECONDS = 60  # CloudWatch evaluates metric alarms once a minute
# A JSON string: every tool's handler expects an object, so it raises (an Unhandled error).
FAILING_EVENT = b'"build.py drill: not an event this function can handle"'


@dataclass(frozen=True)
class Breach:
    """What it takes to breach the errors alarm, read from the launched alarm itself."""

    failures_per_period: int
    periods: int
    period_seconds: int

    @classmethod
    def of(cls, alarm: dict[str, Any]) -> Breach:
        if alarm["Statistic"] != "Sum":
            raise DrillError(
                f"alarm {alarm['AlarmName']}: statistic {alarm['Statistic']} is not Sum"
            )
        return cls(
            failures_per_period=_failures_to_cross(alarm),
            periods=int(alarm.get("DatapointsToAlarm") or alarm["EvaluationPeriods"]),
            period_seconds=int(alarm["Period"]),
        )

    @property
    def patience_seconds(self) -> int:
        """How long the alarm may take to change state once the data is there."""
        return self.period_seconds * (self.periods + 2)


def _failures_to_cross(alarm: dict[str, Any]) -> int:
    threshold = float(alarm["Threshold"])
    comparison = alarm["ComparisonOperator"]
    if comparison == "GreaterThanOrEqualToThreshold":
        return max(1, math.ceil(threshold))
    if comparison == "GreaterThanThreshold":
        return math.floor(threshold) + 1
    raise DrillError(
        f"alarm {alarm['AlarmName']}: comparison {comparison} is not crossed by errors"
    )


@dataclass
class Observer:
    """An SQS queue subscribed to a topic: what a subscriber of the on-call topic receives."""

    sqs: Any
    queue_url: str
    received: list[dict[str, Any]]

    def poll(self) -> None:
        while True:
            answer = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = answer.get("Messages", [])
            if not messages:
                return
            for message in messages:
                self.received.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def take_state_message(self, alarm_name: str, state: str) -> dict[str, Any] | None:
        """The oldest message not yet taken about ALARM_NAME entering STATE."""
        for envelope in self.received:
            body = _json_or_none(envelope.get("Message"))
            if body and body.get("AlarmName") == alarm_name and body.get("NewStateValue") == state:
                self.received.remove(envelope)
                return envelope
        return None


def _json_or_none(text: Any) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def subscribe_observer(clients: AwsClients, tool: LaunchedTool, topic_arn: str) -> Observer:
    sqs, sns = clients.client("sqs", tool.region), clients.client("sns", tool.region)
    queue_url = sqs.create_queue(QueueName=f"drill-observer-{tool.name}")["QueueUrl"]
    sqs.purge_queue(QueueUrl=queue_url)
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    # As on AWS, the queue must let the topic send to it.
    sqs.set_queue_attributes(
        QueueUrl=queue_url, Attributes={"Policy": _queue_policy(queue_arn, topic_arn)}
    )
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return Observer(sqs, queue_url, [])


def _queue_policy(queue_arn: str, topic_arn: str) -> str:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def alarm_topic(tool: LaunchedTool) -> str:
    topics = [a for a in tool.errors_alarm.get("AlarmActions", []) if a.startswith("arn:aws:sns:")]
    if not topics:
        raise DrillError(f"alarm {tool.alarm_name} notifies no SNS topic on ALARM")
    return str(topics[0])


def fail_function(lambda_client: Any, function_name: str, times: int) -> str:
    """Invoke the function TIMES with an event it cannot handle; its error, as Lambda said."""
    error = ""
    for _ in range(times):
        answer = lambda_client.invoke(FunctionName=function_name, Payload=FAILING_EVENT)
        raw = answer["Payload"].read().decode("utf-8", "replace")
        payload = _json_or_none(raw) or {}
        if answer.get("FunctionError") != "Unhandled" or "errorType" not in payload:
            raise DrillError(f"{function_name} did not fail on the drill's event: {raw[:300]}")
        error = f"{payload['errorType']}: {payload.get('errorMessage')}"
    return error


def alarm_state(cloudwatch: Any, alarm_name: str) -> str:
    alarms = cloudwatch.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"]
    return str(alarms[0]["StateValue"])


@dataclass
class LiveDrill:
    clients: AwsClients
    tool: LaunchedTool
    advance: Advance
    echo: Echo
    observer: Observer | None = None

    @property
    def cloudwatch(self) -> Any:
        return self.clients.client("cloudwatch", self.tool.region)

    def subscribe(self) -> None:
        topic = alarm_topic(self.tool)
        self.observer = subscribe_observer(self.clients, self.tool, topic)
        self.echo(f"== observer: SQS queue {self.observer.queue_url} subscribed to {topic}")

    def show_set_state_messages(self) -> None:
        """What the observer got from the SetAlarmState drill (it ran the alarm's actions)."""
        for state in ("ALARM", "OK"):
            self._show_message(state)

    def run(self) -> None:
        """Real failures through Invoke until the alarm fires, then its recovery."""
        breach = Breach.of(self.tool.errors_alarm)
        self.echo("== make the function fail")
        self.echo(f"  errors alarm: {describe_alarm(self.tool.errors_alarm)}")
        self._breach(breach)
        self._show_message("ALARM", real=True)
        self.echo("== recovery: no more failures")
        self._wait_for_state("OK", breach.patience_seconds)
        self._show_message("OK", real=True)

    def _breach(self, breach: Breach) -> None:
        lambda_client = self.clients.client("lambda", self.tool.region)
        for _ in range(breach.periods):
            error = fail_function(
                lambda_client, self.tool.function_name, breach.failures_per_period
            )
            self.echo(
                f"  invoked {self.tool.function_name} {breach.failures_per_period} time(s) "
                f"with a bad event: {error}"
            )
            if self._wait_for_state("ALARM", breach.period_seconds, required=False):
                return
        self._wait_for_state("ALARM", breach.patience_seconds)

    def _wait_for_state(self, state: str, seconds: int, required: bool = True) -> bool:
        waited = 0
        while waited < seconds:
            self._advance(EVALUATION_INTERVAL_SECONDS)
            waited += EVALUATION_INTERVAL_SECONDS
            if alarm_state(self.cloudwatch, self.tool.alarm_name) == state:
                self.echo(f"  after {waited} s of local time the alarm is {state}")
                return True
        if required:
            now = alarm_state(self.cloudwatch, self.tool.alarm_name)
            raise DrillError(f"alarm {self.tool.alarm_name} is still {now} after {waited} s")
        return False

    def _advance(self, seconds: float) -> None:
        from localcloud.errors import LocalCloudError

        try:
            self.advance(seconds)
        except LocalCloudError as error:  # the control endpoint or the clock refused
            message = f"advancing the local clock by {seconds:g} s failed: {error}"
            raise DrillError(message) from None

    def _show_message(self, state: str, real: bool = False) -> None:
        if self.observer is None:
            raise DrillError("the drill's observer is not subscribed yet")
        self._advance(0)  # deliveries due now
        self.observer.poll()
        envelope = self.observer.take_state_message(self.tool.alarm_name, state)
        if envelope is None:
            raise DrillError(
                f"the observer queue got no {state} message from {self.tool.alarm_name} "
                f"({len(self.observer.received)} other message(s))"
            )
        body = json.loads(envelope["Message"])
        cause = "the real failures" if real else "SetAlarmState"
        self.echo(f"== {state} notification from {cause}, received by the observer")
        self.echo(f"  Subject: {envelope.get('Subject')}")
        self.echo(f"  {body['OldStateValue']} -> {body['NewStateValue']}: {body['NewStateReason']}")
