"""The world the Gherkin scenarios act on: the real build, published into the local cloud and
launched through Service Catalog, reached only through AWS APIs (boto3 on the local endpoint).

Time moves only when a step moves the local cloud's clock (`advance`): schedules, alarm
evaluations and deliveries then run at once, deterministically.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from catalog.cli_context import DEFAULT_CONFIG
from localcloud import LocalCloud
from portfolio.aws import AwsClients, Target
from portfolio.launch import LaunchResult
from portfolio.workflow import BuiltCatalog, prepare, run_bootstrap, run_launch, run_publish
from tests.support.http_receiver import HttpReceiver

REGION = "us-east-1"
EVALUATION_SECONDS = 60  # CloudWatch evaluates alarms once a minute


@pytest.fixture(scope="session")
def built_catalog(tmp_path_factory: pytest.TempPathFactory) -> BuiltCatalog:
    """The real build, once per test session (building is pure: no AWS state involved)."""
    return prepare(DEFAULT_CONFIG, tmp_path_factory.mktemp("features") / "dist")


@dataclass
class Cloud:
    """The local cloud of one scenario: clients, its clock, and launches through the catalog."""

    endpoint: str
    prepared: BuiltCatalog
    local: LocalCloud
    clients: AwsClients

    def client(self, service: str) -> Any:
        """A boto3 client on the local endpoint (cached, like the commands' clients)."""
        return self.clients.client(service, REGION)

    def advance(self, seconds: float) -> None:
        """Move the clock; a job that raised on the way (a delivery, an evaluation) fails."""
        from localcloud.clock import CLOCK

        self.local.advance(seconds)
        assert CLOCK.failures == [], CLOCK.failures

    def launch(self, tool: str, **parameters: str) -> LaunchResult:
        return run_launch(
            self.clients,
            self.prepared,
            tool,
            "dev",
            overrides=parameters,
            echo=lambda message: None,
        )

    def alarm(self, name: str) -> dict[str, Any]:
        return dict(self.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0])

    def advance_until(self, done: Callable[[], bool], within_seconds: int) -> int:
        """Advance a minute at a time (one alarm evaluation) until DONE; the seconds it took."""
        waited = 0
        while not done():
            assert waited < within_seconds, f"not done after {waited} s of local time"
            self.advance(EVALUATION_SECONDS)
            waited += EVALUATION_SECONDS
        return waited


@pytest.fixture
def cloud(localcloud: LocalCloud, local_endpoint: str, built_catalog: BuiltCatalog) -> Cloud:
    """A fresh local cloud with the catalog bootstrapped and published, as `publish` does it."""
    clients = AwsClients(Target(endpoint_url=local_endpoint, region=REGION))
    run_bootstrap(clients, built_catalog, echo=lambda message: None)
    run_publish(clients, built_catalog, progress=lambda change: None)
    return Cloud(local_endpoint, built_catalog, localcloud, clients)


@dataclass
class Subscriber:
    """An SQS queue subscribed to a topic: it receives what the on-call team would.

    The tools' own alarms notify the same topic (ALARM and OK, and OK also when a fresh alarm
    first gets data), so CloudWatch's alarm messages are kept apart from the tools' alerts.
    """

    sqs: Any
    queue_url: str
    alerts: list[dict[str, Any]] = field(default_factory=list)
    alarm_messages: list[dict[str, Any]] = field(default_factory=list)

    def poll(self) -> list[dict[str, Any]]:
        """The tools' alerts (SNS envelopes) that arrived since the last poll."""
        new: list[dict[str, Any]] = []
        for envelope in self._receive_all():
            if _alarm_message(envelope) is None:
                new.append(envelope)
            else:
                self.alarm_messages.append(envelope)
        self.alerts.extend(new)
        return new

    def alert_count(self) -> int:
        """How many alerts arrived so far (polling first)."""
        self.poll()
        return len(self.alerts)

    def _receive_all(self) -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = []
        while True:
            answer = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = answer.get("Messages", [])
            if not messages:
                return received
            for message in messages:
                received.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def alarm_notifications(self, alarm_name: str, state: str) -> list[dict[str, Any]]:
        """CloudWatch's messages (the JSON in the SNS Message) about ALARM_NAME entering STATE."""
        self.poll()
        bodies = [_alarm_message(envelope) for envelope in self.alarm_messages]
        return [
            body
            for body in bodies
            if body and body["AlarmName"] == alarm_name and body["NewStateValue"] == state
        ]


def _alarm_message(envelope: dict[str, Any]) -> dict[str, Any] | None:
    try:
        body = json.loads(envelope.get("Message", ""))
    except ValueError:
        return None
    if isinstance(body, dict) and "AlarmName" in body and "NewStateValue" in body:
        return body
    return None


def subscribe(cloud: Cloud, topic_arn: str, name: str) -> Subscriber:
    sqs = cloud.client("sqs")
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    cloud.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return Subscriber(sqs, queue_url)


@pytest.fixture
def receiver() -> Iterator[Callable[[], HttpReceiver]]:
    """Real HTTP servers on 127.0.0.1 (webhooks, health-check targets), closed afterwards."""
    made: list[HttpReceiver] = []

    def make() -> HttpReceiver:
        made.append(HttpReceiver())
        return made[-1]

    yield make
    for server in made:
        server.close()


@pytest.fixture
def world() -> dict[str, Any]:
    """What one step leaves for the next (the Given's tool, the When's counts...)."""
    return {}
