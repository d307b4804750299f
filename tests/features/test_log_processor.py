"""A log batch with errors raises one alert: PutLogEvents into the watched group, the
subscription filter hands the batch to the launched function, which alerts the on-call topic."""

from __future__ import annotations

from pytest_bdd import given, scenarios, then, when

from .conftest import Cloud, Subscriber, subscribe

scenarios("log_processor.feature")

WATCHED = "/aws/app/checkout"
STREAM = "web-1"
# Long enough for a subscription delivery and the invocation it causes, on any local machine.
DELIVERY_WINDOW_SECONDS = 600


@given(
    "the log processor launched through Service Catalog watching an application's log group",
    target_fixture="subscriber",
)
def log_processor_watching(cloud: Cloud) -> Subscriber:
    logs = cloud.client("logs")
    logs.create_log_group(logGroupName=WATCHED)
    logs.create_log_stream(logGroupName=WATCHED, logStreamName=STREAM)
    outputs = cloud.launch("log-processor", LogGroupName=WATCHED).outputs
    return subscribe(cloud, outputs["AlertTopicArn"], "oncall-team")


@when("the application writes a batch of log lines with errors to its log group")
def write_errors(cloud: Cloud) -> None:
    lines = ["GET /health 200"] * 50 + [
        "ERROR payment declined for order 1234",
        "Traceback (most recent call last):",
        "ERROR payment declined for order 1235",
    ] * 3
    start = int(cloud.local.now() * 1000)
    events = [{"timestamp": start + index, "message": line} for index, line in enumerate(lines)]
    cloud.client("logs").put_log_events(
        logGroupName=WATCHED, logStreamName=STREAM, logEvents=events
    )


@then("the on-call topic receives one alert about that log group")
def one_alert(cloud: Cloud, subscriber: Subscriber) -> None:
    cloud.advance_until(lambda: subscriber.alert_count() >= 1, DELIVERY_WINDOW_SECONDS)
    cloud.advance(DELIVERY_WINDOW_SECONDS)  # nothing else may arrive (no duplicate alert)
    subscriber.poll()
    assert len(subscriber.alerts) == 1, subscriber.alerts
    assert WATCHED in subscriber.alerts[0]["Message"]
