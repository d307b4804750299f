"""`build.py redrive`: real asynchronous failures on a local cloud land in the tool's dead-letter
queue as Lambda's invocation records; once the cause is fixed, redrive re-invokes the function
with each original event, deletes what succeeds and keeps what fails again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from build import cli
from catalog.cli_context import DEFAULT_CONFIG
from localcloud import LocalCloud
from portfolio.aws import AwsClients, Target
from portfolio.demo import create_demo_prerequisites
from portfolio.redrive import (
    RedriveError,
    event_source,
    find_dead_letter_target,
    parse_dead_letter,
)
from portfolio.workflow import BuiltCatalog, prepare, run_bootstrap, run_launch, run_publish

REGION = "us-east-1"
REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "tests" / "events"
TOOL = "log-processor"
# Lambda retries a failed asynchronous event twice, 60 s then 120 s after the previous attempt
# (localcloud does as AWS documents): past this, the event is in the on-failure destination.
THROUGH_THE_RETRIES = 60 + 120 + 1


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltCatalog:
    return prepare(DEFAULT_CONFIG, tmp_path_factory.mktemp("redrive") / "dist")


@pytest.fixture
def clients(local_endpoint: str, built: BuiltCatalog) -> AwsClients:
    """The real catalog published into a fresh local cloud, the log processor launched in dev."""
    clients = AwsClients(Target(endpoint_url=local_endpoint, region=REGION))
    run_bootstrap(clients, built, echo=lambda message: None)
    run_publish(clients, built, progress=lambda change: None)
    create_demo_prerequisites(clients, built, "dev")  # the log groups it subscribes to
    run_launch(clients, built, TOOL, "dev", overrides={}, echo=lambda line: None)
    return clients


def _client(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _event(name: str) -> bytes:
    return (EVENTS / f"{name}.json").read_bytes()


def _redrive(endpoint: str, dist: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli,
        ["--dist", str(dist), "redrive", TOOL, "--env", "dev", "--endpoint-url", endpoint, *args],
    )


def _visible(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def _bodies(sqs: Any, queue_url: str) -> list[str]:
    answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [m["Body"] for m in answer.get("Messages", [])]


def _records(bodies: list[str]) -> list[dict[str, Any]]:
    """The bodies that are JSON objects (Lambda's records), parsed."""
    return [json.loads(body) for body in bodies if body.startswith("{")]


def _fail_while_broken(
    localcloud: LocalCloud, lambda_client: Any, function: str, events: list[bytes]
) -> None:
    """A broken setting (a handler that does not exist) fails every asynchronous event through
    all its retries; then the setting is put back."""
    handler = lambda_client.get_function_configuration(FunctionName=function)["Handler"]
    lambda_client.update_function_configuration(FunctionName=function, Handler="app.missing")
    for payload in events:
        lambda_client.invoke(FunctionName=function, InvocationType="Event", Payload=payload)
    localcloud.advance(THROUGH_THE_RETRIES)
    lambda_client.update_function_configuration(FunctionName=function, Handler=handler)


@pytest.fixture
def dead_letters(
    clients: AwsClients, local_endpoint: str, localcloud: LocalCloud
) -> tuple[Any, str]:
    """Two good events and one the handler rejects, failed by a broken handler setting that is
    fixed again; and a message that is not an invocation record. (sqs client, queue URL)"""
    found = find_dead_letter_target(clients, REGION, TOOL, "dev", None)
    lambda_client, sqs = _client(local_endpoint, "lambda"), _client(local_endpoint, "sqs")
    good, bad = _event("logs_subscription_quiet"), _event("logs_bad_base64")
    _fail_while_broken(localcloud, lambda_client, found.function_name, [good, bad, good])
    sqs.send_message(QueueUrl=found.queue_url, MessageBody="not a record")
    return sqs, found.queue_url


def test_dead_letters_are_lambda_invocation_records_of_the_original_events(
    dead_letters: tuple[Any, str],
) -> None:
    sqs, queue_url = dead_letters
    bodies = _bodies(sqs, queue_url)
    records = _records(bodies)
    assert len(bodies) == 4 and len(records) == 3
    assert {r["requestContext"]["condition"] for r in records} == {"RetriesExhausted"}
    assert [r["requestPayload"] for r in records].count(json.loads(_event("logs_bad_base64"))) == 1
    assert {r["responsePayload"]["errorType"] for r in records} == {"Runtime.HandlerNotFound"}


def test_redrive_deletes_what_succeeds_and_keeps_what_fails_again(
    dead_letters: tuple[Any, str], local_endpoint: str, tmp_path: Path
) -> None:
    sqs, queue_url = dead_letters
    result = _redrive(local_endpoint, tmp_path / "dist", "--yes")
    out = result.output
    assert "dead-letter queue" in out and "4 message(s) waiting" in out
    assert out.count("re-invoked: ok; deleted") == 2
    failed_again = [line for line in out.splitlines() if "re-invoked: function error:" in line]
    assert len(failed_again) == 1, out
    assert "BadEventError: awslogs.data is not valid base64" in failed_again[0]
    assert failed_again[0].endswith("; kept")
    assert "cannot be used: the body is not JSON" in out
    assert (
        "redrive: 2 re-invoked ok and deleted, 1 failed again and kept, 1 skipped and kept" in out
    )
    assert result.exit_code == 1
    assert out.strip().splitlines()[-1] == "error: 2 message(s) kept in the dead-letter queue"
    # The kept ones are visible again at once, not after the run's hold.
    assert _visible(sqs, queue_url) == 2
    kept = _bodies(sqs, queue_url)
    assert "not a record" in kept
    records = _records(kept)
    assert [r["requestPayload"] for r in records] == [json.loads(_event("logs_bad_base64"))]


def test_dry_run_lists_the_dead_letters_and_changes_nothing(
    dead_letters: tuple[Any, str], local_endpoint: str, tmp_path: Path
) -> None:
    sqs, queue_url = dead_letters
    result = _redrive(local_endpoint, tmp_path / "dist", "--dry-run")
    assert result.exit_code == 0, result.output
    listed = [line for line in result.output.splitlines() if "RetriesExhausted after 3" in line]
    assert len(listed) == 3
    assert all("CloudWatch Logs subscription" in line for line in listed)
    assert "redrive: dry run, 4 message(s) listed, nothing changed" in result.output
    assert "re-invoked" not in result.output
    assert _visible(sqs, queue_url) == 4


def test_max_bounds_the_messages_of_one_run(
    dead_letters: tuple[Any, str], local_endpoint: str, tmp_path: Path
) -> None:
    sqs, queue_url = dead_letters
    result = _redrive(local_endpoint, tmp_path / "dist", "--dry-run", "--max", "2")
    assert "redrive: dry run, 2 message(s) listed, nothing changed" in result.output
    assert _visible(sqs, queue_url) == 4


def test_without_a_terminal_and_without_yes_it_refuses_before_any_call(tmp_path: Path) -> None:
    result = _redrive("http://127.0.0.1:9", tmp_path / "dist")
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: redrive re-invokes functions and deletes messages: not on a terminal, so pass "
        "--yes (or --dry-run to only list them); nothing changed"
    )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["nope", "--env", "dev"], "error: unknown tool 'nope' (known: log-processor,"),
        ([TOOL, "--env", "qa"], "error: unknown environment 'qa' (known: dev,"),
        (
            [TOOL, "--env", "dev", "--instance", "blue"],
            "error: us-east-1: no provisioned product 'log-processor-blue-dev'; nothing to redrive",
        ),
        ([TOOL, "--env", "dev", "--local"], "error: redrive --local: a fresh local cloud"),
    ],
)
def test_what_cannot_be_redriven_is_one_line(
    clients: AwsClients, local_endpoint: str, tmp_path: Path, args: list[str], error: str
) -> None:
    arguments = ["--dist", str(tmp_path / "dist"), "redrive", *args, "--yes"]
    if "--local" not in args:
        arguments += ["--endpoint-url", local_endpoint]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert result.output.startswith(error), result.output


def test_an_empty_queue_has_nothing_to_redrive(
    clients: AwsClients, local_endpoint: str, tmp_path: Path
) -> None:
    with pytest.raises(RedriveError, match="no provisioned product 'alert-handler-dev'"):
        find_dead_letter_target(clients, REGION, "alert-handler", "dev", None)
    result = _redrive(local_endpoint, tmp_path / "dist", "--yes")
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "redrive: nothing to redrive"


def _redrive_on_a_terminal(endpoint: str, dist: Path, answer: str) -> tuple[int, str]:
    """build.py redrive in its own process whose stdin and stdout are a real terminal (a pty),
    given ANSWER to its question; (exit code, what it printed)."""
    controller, terminal = os.openpty()
    command = ["redrive", TOOL, "--env", "dev", "--endpoint-url", endpoint]
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "--dist", str(dist), *command],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=REPO,
    )
    os.close(terminal)
    os.write(controller, answer.encode() + b"\n")  # the terminal holds it until the prompt reads
    printed = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the process closed the terminal's last end
            break
        if not chunk:
            break
        printed += chunk
    os.close(controller)
    return process.wait(timeout=120), printed.decode("utf-8", "replace").replace("\r\n", "\n")


def test_on_a_terminal_it_asks_first_and_no_changes_nothing(
    dead_letters: tuple[Any, str], local_endpoint: str, tmp_path: Path
) -> None:
    sqs, queue_url = dead_letters
    code, printed = _redrive_on_a_terminal(local_endpoint, tmp_path / "dist", "n")
    assert "Re-invoke oncall-log-processor-dev with up to 100 of the 4 waiting event(s)" in printed
    assert printed.strip().endswith("[y/N]: error: redrive cancelled; nothing changed")
    assert code == 1
    assert _visible(sqs, queue_url) == 4


def test_on_a_terminal_yes_redrives(
    dead_letters: tuple[Any, str], local_endpoint: str, tmp_path: Path
) -> None:
    sqs, queue_url = dead_letters
    code, printed = _redrive_on_a_terminal(local_endpoint, tmp_path / "dist", "y")
    assert "redrive: 2 re-invoked ok and deleted, 1 failed again and kept" in printed, printed
    assert code == 1
    assert _visible(sqs, queue_url) == 2


@pytest.mark.parametrize(
    ("event", "source"),
    [
        ("alarm_action_direct", "aws.cloudwatch"),
        ("alarm_sns_metric", "aws:sns"),
        ("alarm_eventbridge_state_change", "aws.cloudwatch CloudWatch Alarm State Change"),
        ("s3_notification_object_created", "aws:s3"),
        ("health_scheduled_event", "aws.events Scheduled Event"),
        ("logs_subscription_quiet", "CloudWatch Logs subscription"),
    ],
)
def test_each_event_shape_the_tools_receive_is_named_by_its_source(event: str, source: str) -> None:
    assert event_source(json.loads(_event(event))) == source


FUNCTION = "oncall-log-processor-dev"
ARN = f"arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION}:$LATEST"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("not json", "the body is not JSON"),
        ('"a string"', "not a Lambda invocation record (no requestPayload)"),
        ('{"Records": []}', "not a Lambda invocation record (no requestPayload)"),
        ('{"requestPayload": {}}', "not a Lambda invocation record (no requestContext)"),
        (
            json.dumps({"requestPayload": {}, "requestContext": {"functionArn": "x"}}),
            f"a record of function 'x', not {FUNCTION!r}",
        ),
        (
            json.dumps(
                {
                    "requestPayload": {},
                    "requestContext": {"functionArn": ARN.replace(FUNCTION, "other")},
                }
            ),
            f"a record of function 'other', not {FUNCTION!r}",
        ),
    ],
)
def test_a_message_that_is_not_a_record_of_this_function_cannot_be_used(
    body: str, problem: str
) -> None:
    letter = parse_dead_letter({"MessageId": "m-1", "ReceiptHandle": "h", "Body": body}, FUNCTION)
    assert letter.record is None
    assert letter.problem == problem


def test_a_record_of_this_function_gives_back_the_original_event() -> None:
    event = json.loads(_event("health_scheduled_event"))
    body = json.dumps({"requestContext": {"functionArn": ARN}, "requestPayload": event})
    letter = parse_dead_letter({"MessageId": "m-1", "ReceiptHandle": "h", "Body": body}, FUNCTION)
    assert letter.problem is None
    assert json.loads(letter.payload) == event
