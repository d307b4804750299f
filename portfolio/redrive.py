"""`build.py redrive TOOL --env ENV`: re-invoke the events waiting in a tool's dead-letter queue.

Every product sends an asynchronous invocation that failed all of Lambda's retries to its
on-failure destination, the tool's SQS queue (products/builder.py; the products set no
DeadLetterConfig). Each message there is Lambda's invocation record: `requestContext` (request
id, function ARN, condition, attempts), `requestPayload` (the original event) and
`responsePayload` (the last error). An SQS redrive would only move the record to another
queue; the event needs the function run again. So, per message: invoke the function
synchronously with `requestPayload`, delete the message when that succeeded, keep it otherwise.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions
import click

from catalog.cli_context import CliContext
from portfolio.aws import AwsClients, Target, aws_errors, unless_not_found
from portfolio.commands import launched_tool_options, target_options
from portfolio.errors import PublishError
from portfolio.launch import provisioned_product_name

Echo = Callable[[str], None]
DEFAULT_MAX_MESSAGES = 100
RECEIVE_BATCH = 10  # ReceiveMessage returns at most 10 messages per call
# A taken message stays hidden while the run goes on, so that the run does not take it twice;
# the ones kept are made visible again at the end. A run longer than this sees a message again
# and skips it (by message id).
HOLD_SECONDS = 900
# A synchronous Invoke answers within the function's timeout (at most 900 s) plus Lambda's own.
INVOKE_READ_TIMEOUT = 960.0
_USABLE_STATES = ("AVAILABLE", "TAINTED")
_ID_CHARS = 8


class RedriveError(PublishError):
    """The redrive cannot run, or messages were kept (names the queue and how many)."""


@dataclass(frozen=True)
class DeadLetterTarget:
    """A launched tool's function and the queue its failed asynchronous events land in."""

    name: str
    region: str
    function_name: str
    queue_url: str


@dataclass(frozen=True)
class DeadLetter:
    """One message of the queue: the invocation record it holds, or why it cannot be used."""

    message_id: str
    receipt_handle: str
    record: dict[str, Any] | None
    problem: str | None = None

    @property
    def short_id(self) -> str:
        request_id = (self.record or {}).get("requestContext", {}).get("requestId")
        return str(request_id or self.message_id)[:_ID_CHARS]

    @property
    def payload(self) -> bytes:
        assert self.record is not None
        return json.dumps(self.record["requestPayload"]).encode("utf-8")


@dataclass
class Tally:
    """What the run did with the messages it took."""

    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    listed: int = 0
    kept: list[DeadLetter] = field(default_factory=list)

    def line(self, dry_run: bool) -> str:
        if dry_run:
            return f"redrive: dry run, {self.listed} message(s) listed, nothing changed"
        return (
            f"redrive: {self.succeeded} re-invoked ok and deleted, {self.failed} failed again "
            f"and kept, {self.skipped} skipped and kept"
        )


def find_dead_letter_target(
    clients: AwsClients, region: str, tool: str, environment: str, instance: str | None
) -> DeadLetterTarget:
    """The function and queue of TOOL-ENV (or TOOL-NAME-ENV), from the product's outputs."""
    sc = clients.client("servicecatalog", region)
    name = provisioned_product_name(tool, environment, instance)
    answer = unless_not_found(lambda: sc.describe_provisioned_product(Name=name))
    if answer is None:
        raise RedriveError(f"{region}: no provisioned product {name!r}; nothing to redrive")
    status = answer["ProvisionedProductDetail"]["Status"]
    if status not in _USABLE_STATES:
        raise RedriveError(f"{region}: provisioned product {name!r} is {status}")
    outputs = sc.get_provisioned_product_outputs(ProvisionedProductName=name).get("Outputs", [])
    values = {o["OutputKey"]: str(o.get("OutputValue", "")) for o in outputs}
    for key in ("FunctionName", "DeadLetterQueueUrl"):
        if not values.get(key):
            raise RedriveError(f"{region}: provisioned product {name!r} has no {key} output")
    return DeadLetterTarget(name, region, values["FunctionName"], values["DeadLetterQueueUrl"])


def parse_dead_letter(message: dict[str, Any], function_name: str) -> DeadLetter:
    """The message's invocation record, checked to be one of FUNCTION_NAME's failures."""
    message_id, handle = str(message["MessageId"]), str(message["ReceiptHandle"])
    try:
        record = json.loads(message.get("Body", ""))
    except ValueError:
        return DeadLetter(message_id, handle, None, "the body is not JSON")
    problem = _record_problem(record, function_name)
    return DeadLetter(message_id, handle, None if problem else record, problem)


def _record_problem(record: object, function_name: str) -> str | None:
    if not isinstance(record, dict) or "requestPayload" not in record:
        return "not a Lambda invocation record (no requestPayload)"
    context = record.get("requestContext")
    if not isinstance(context, dict):
        return "not a Lambda invocation record (no requestContext)"
    arn = str(context.get("functionArn", ""))
    # arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
    named = arn.split(":")[6] if arn.count(":") >= 6 else ""
    if named != function_name:
        return f"a record of function {named or arn or '?'!r}, not {function_name!r}"
    return None


def describe_dead_letter(letter: DeadLetter) -> str:
    """One line: short id, when, the event's source, and why Lambda gave up on it."""
    if letter.record is None:
        return f"{letter.short_id}  cannot be used: {letter.problem}"
    record = letter.record
    context = record.get("requestContext", {})
    event = record["requestPayload"]
    when = (event.get("time") if isinstance(event, dict) else None) or record.get("timestamp")
    gave_up = (
        f"{context.get('condition', '?')} after {context.get('approximateInvokeCount', '?')} "
        f"attempt(s)"
    )
    return (
        f"{letter.short_id}  {when or '-'}  {event_source(event)}  {gave_up}{_last_error(record)}"
    )


def event_source(event: object) -> str:
    """Where the event came from, in the words of its own shape."""
    if not isinstance(event, dict):
        return f"a JSON {type(event).__name__}, not an object"
    if "source" in event:  # EventBridge
        return f"{event['source']} {event.get('detail-type', '')}".strip()
    if "awslogs" in event:
        return "CloudWatch Logs subscription"
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], dict):
        first = records[0]
        return str(first.get("EventSource") or first.get("eventSource") or "Records")
    if "alarmData" in event:
        return "CloudWatch alarm action"
    return "event with keys " + ", ".join(sorted(event)[:4])


def _last_error(record: dict[str, Any]) -> str:
    response = record.get("responsePayload")
    if not isinstance(response, dict) or "errorType" not in response:
        return ""
    return f": {_error_text(response)}"


def _error_text(response: dict[str, Any]) -> str:
    message = str(response.get("errorMessage", "")).splitlines()
    return f"{response.get('errorType')}: {message[0] if message else ''}"[:300]


def take_messages(
    sqs: Any, queue_url: str, limit: int, held_again: list[str]
) -> Iterator[dict[str, Any]]:
    """Up to LIMIT distinct messages, each hidden for HOLD_SECONDS when taken. A message taken
    before and received again (its hold ran out) is not handled twice: its receipt handle goes
    to HELD_AGAIN, to be made visible again at the end."""
    seen: set[str] = set()
    while len(seen) < limit:
        answer = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(RECEIVE_BATCH, limit - len(seen)),
            VisibilityTimeout=HOLD_SECONDS,
            WaitTimeSeconds=0,
        )
        messages = answer.get("Messages", [])
        held_again.extend(m["ReceiptHandle"] for m in messages if m["MessageId"] in seen)
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:  # an empty queue, or only messages this run already has
            return
        for message in fresh:
            seen.add(message["MessageId"])
            yield message


@dataclass(frozen=True)
class Outcome:
    ok: bool
    text: str


def reinvoke(lambda_client: Any, function_name: str, letter: DeadLetter) -> Outcome:
    """Run the function synchronously with the original event."""
    try:
        answer = lambda_client.invoke(
            FunctionName=function_name, InvocationType="RequestResponse", Payload=letter.payload
        )
    except Exception as error:  # any failed call keeps the message; the run goes on
        return Outcome(False, f"the Invoke call failed: {error}")
    raw = answer["Payload"].read().decode("utf-8", "replace")
    if answer.get("FunctionError"):
        return Outcome(False, f"function error: {_error_text(_json_object(raw))}")
    return Outcome(True, "ok")


def _json_object(raw: str) -> dict[str, Any]:
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    return parsed if isinstance(parsed, dict) else {"errorType": "?", "errorMessage": raw}


@dataclass
class Redrive:
    """One run over a tool's dead-letter queue."""

    clients: AwsClients
    target: DeadLetterTarget
    echo: Echo
    dry_run: bool
    tally: Tally = field(default_factory=Tally)
    held_again: list[str] = field(default_factory=list)

    @property
    def sqs(self) -> Any:
        return self.clients.client("sqs", self.target.region)

    def run(self, limit: int) -> Tally:
        lambda_client = self.clients.invoke_client(self.target.region, INVOKE_READ_TIMEOUT)
        try:
            taken = take_messages(self.sqs, self.target.queue_url, limit, self.held_again)
            for message in taken:
                self._handle(lambda_client, parse_dead_letter(message, self.target.function_name))
        finally:
            self._release_kept()
        return self.tally

    def _handle(self, lambda_client: Any, letter: DeadLetter) -> None:
        self.echo(f"  {describe_dead_letter(letter)}")
        if self.dry_run:
            self.tally.listed += 1
            self.tally.kept.append(letter)
        elif letter.record is None:
            self.echo("    skipped, kept")
            self.tally.skipped += 1
            self.tally.kept.append(letter)
        else:
            self._redrive(lambda_client, letter)

    def _redrive(self, lambda_client: Any, letter: DeadLetter) -> None:
        outcome = reinvoke(lambda_client, self.target.function_name, letter)
        if not outcome.ok:
            self.echo(f"    re-invoked: {outcome.text}; kept")
            self.tally.failed += 1
            self.tally.kept.append(letter)
            return
        self.sqs.delete_message(QueueUrl=self.target.queue_url, ReceiptHandle=letter.receipt_handle)
        self.echo("    re-invoked: ok; deleted")
        self.tally.succeeded += 1

    def _release_kept(self) -> None:
        """Make the kept messages visible again now, not when HOLD_SECONDS run out."""
        handles = [letter.receipt_handle for letter in self.tally.kept] + self.held_again
        for handle in handles:
            try:
                self.sqs.change_message_visibility(
                    QueueUrl=self.target.queue_url, ReceiptHandle=handle, VisibilityTimeout=0
                )
            except botocore.exceptions.ClientError as error:  # e.g. a handle received again
                self.echo(f"  (a kept message stays hidden until its hold ends: {error})")


def waiting_count(sqs: Any, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return str(attributes.get("ApproximateNumberOfMessages", "?"))


def _check_names(obj: CliContext, tool: str, environment: str) -> str:
    """Refuse a tool or environment the config does not know; the first portfolio region."""
    from catalog.config import load_config

    config = load_config(obj.config_path)
    if tool not in config.products:
        raise RedriveError(f"unknown tool {tool!r} (known: {', '.join(config.products)})")
    if environment not in config.environment_names:
        known = ", ".join(config.environment_names)
        raise RedriveError(f"unknown environment {environment!r} (known: {known})")
    return str(config.portfolio["regions"][0])


def _refuse_unattended(*, yes: bool, dry_run: bool) -> None:
    if not (yes or dry_run or sys.stdin.isatty()):
        raise RedriveError(
            "redrive re-invokes functions and deletes messages: not on a terminal, so pass "
            "--yes (or --dry-run to only list them); nothing changed"
        )


def _confirmed(target: DeadLetterTarget, waiting: str, limit: int, *, yes: bool) -> bool:
    if yes:
        return True
    return click.confirm(
        f"Re-invoke {target.function_name} with up to {limit} of the {waiting} waiting "
        f"event(s), deleting each that succeeds?",
        default=False,
    )


REDRIVE_HELP = f"""Re-invoke the events waiting in TOOL-ENV's dead-letter queue.

\b
The queue is the tool's on-failure destination: each message is Lambda's invocation record
of an asynchronous event that failed every retry; its requestPayload is the original event
(the products use no DeadLetterConfig, whose messages would be bare events: a message that is
not an invocation record of this function is reported, skipped and kept).

\b
For each message (at most --max per run): prints its request id (8 characters), the
event's time (or when Lambda gave up), its source, the condition and the last error; invokes
the function synchronously (RequestResponse) with the original event; deletes the message
when the function succeeded, keeps it when it failed again (made visible again at the end of
the run). Ends with a summary. --dry-run only lists the messages (they are received, so their
receive count grows, and made visible again) and changes nothing.

\b
Asks for confirmation on a terminal unless --yes; without a terminal it refuses unless
--yes or --dry-run. Works on AWS and on a running `build.py local` (--endpoint-url); --local
is refused (a fresh local cloud has no dead letters). Exit code 0 when every message taken
was re-invoked successfully; 1 when any was kept, or on an error.

\b
IAM actions it needs (the on-call engineer's role, not the pipeline's):
servicecatalog:DescribeProvisionedProduct, servicecatalog:GetProvisionedProductOutputs,
sqs:GetQueueAttributes, sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility,
kms:Decrypt on the tool's key (the queue is encrypted with it), lambda:InvokeFunction.
Default at most {DEFAULT_MAX_MESSAGES} messages per run."""


@click.command(help=REDRIVE_HELP)
@launched_tool_options
@click.option(
    "--max",
    "limit",
    type=click.IntRange(1, 10_000),
    default=DEFAULT_MAX_MESSAGES,
    show_default=True,
    help="Take at most this many messages in this run.",
)
@click.option("--dry-run", is_flag=True, help="Only list the messages; nothing changes.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation on a terminal.")
@target_options
@click.pass_obj
def redrive(
    obj: CliContext,
    *,
    tool: str,
    environment: str,
    instance: str | None,
    limit: int,
    dry_run: bool,
    yes: bool,
    target: Target,
    local: bool,
) -> None:
    if local:
        raise RedriveError(
            "redrive --local: a fresh local cloud has no dead letters; use --endpoint-url of "
            "a running `build.py local`"
        )
    first_region = _check_names(obj, tool, environment)
    region = target.region or first_region
    _refuse_unattended(yes=yes, dry_run=dry_run)
    request = RedriveRequest(tool, environment, instance, limit, dry_run=dry_run, yes=yes)
    with aws_errors(target):
        tally = _run(AwsClients(target), region, request)
    if tally is not None and tally.kept and not dry_run:
        raise RedriveError(f"{len(tally.kept)} message(s) kept in the dead-letter queue")


@dataclass(frozen=True)
class RedriveRequest:
    """What the command line asked for."""

    tool: str
    environment: str
    instance: str | None
    limit: int
    dry_run: bool
    yes: bool


def _run(clients: AwsClients, region: str, request: RedriveRequest) -> Tally | None:
    found = find_dead_letter_target(
        clients, region, request.tool, request.environment, request.instance
    )
    waiting = waiting_count(clients.client("sqs", region), found.queue_url)
    click.echo(f"{found.name} in {region}: function {found.function_name}")
    click.echo(f"  dead-letter queue {found.queue_url}: {waiting} message(s) waiting")
    if waiting == "0":
        click.echo("redrive: nothing to redrive")
        return None
    if not request.dry_run and not _confirmed(found, waiting, request.limit, yes=request.yes):
        raise RedriveError("redrive cancelled; nothing changed")
    tally = Redrive(clients, found, click.echo, request.dry_run).run(request.limit)
    click.echo(tally.line(request.dry_run))
    return tally


COMMANDS: list[click.Command] = [redrive]
