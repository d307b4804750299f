"""`python build.py local`: run the local cloud in the foreground; `local-clock` and
`local-inbox`: its clock and its e-mail outbox, from another terminal."""

import contextlib
import datetime
from typing import Any

import click

from .control import ControlClient
from .server import serve

DEFAULT_PORT = 4566
DEFAULT_ENDPOINT = f"http://127.0.0.1:{DEFAULT_PORT}"


MAX_SPEED = 3600.0  # an hour of clock time per second: faster starves the server of the CPU


def _announce(endpoint: str, speed: float | None) -> None:
    click.echo(f"localcloud listening on {endpoint}")
    if speed is None:
        pace = "manual (it moves only with `build.py local-clock --advance SECONDS`)"
    else:
        pace = "real time" if speed == 1 else f"{speed:g}x real time"
    click.echo(f"Clock: {pace}; control endpoint {endpoint}/_localcloud/ (clock, outbox):")
    click.echo(f"  curl {endpoint}/_localcloud/outbox")
    click.echo(f"  curl -X POST {endpoint}/_localcloud/clock/advance -d '{{\"seconds\": 60}}'")
    click.echo("Point clients at it with:")
    click.echo(f"  export AWS_ENDPOINT_URL={endpoint}")
    click.echo(
        "  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing"
        " AWS_DEFAULT_REGION=us-east-1"
    )
    click.echo(f"  boto3.client('servicecatalog', endpoint_url='{endpoint}')")
    click.echo(f"  aws --endpoint-url {endpoint} servicecatalog list-portfolios")
    click.echo("Press Ctrl-C to stop.")


@click.command("local")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="TCP port to listen on (0 picks a free one).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--speed",
    type=click.FloatRange(0, MAX_SPEED, min_open=True),
    default=1.0,
    show_default=True,
    help="Run the clock this many times faster than real time (schedules, retries, alarm "
    f"evaluation every clock minute); at most {MAX_SPEED:g}.",
)
@click.option(
    "--manual-clock",
    is_flag=True,
    help="Keep the clock still: it moves only when asked (`build.py local-clock --advance`), "
    "so the same commands print the same results (the training labs use it).",
)
@click.option(
    "--sns-auto-confirm",
    is_flag=True,
    help="Confirm SNS http/https/email subscriptions at once instead of waiting for the "
    "endpoint to confirm (as AWS does).",
)
def local(port: int, host: str, speed: float, manual_clock: bool, sns_auto_confirm: bool) -> None:
    """Serve moto plus Service Catalog and extra CloudFormation types until Ctrl-C.

    Functions run, events are delivered and alarms are evaluated on a clock that follows real
    time (or --speed times faster; or only when asked, with --manual-clock);
    `build.py local-clock --advance SECONDS` jumps it forward.
    """
    if manual_clock and speed != 1.0:
        raise click.UsageError("--manual-clock and --speed exclude each other: pick one")
    pace = None if manual_clock else speed
    # werkzeug usually swallows Ctrl-C itself; either way it means "stop", not an error.
    with contextlib.suppress(KeyboardInterrupt):
        serve(
            host,
            port,
            announce=lambda endpoint: _announce(endpoint, pace),
            speed=pace,
            auto_confirm=sns_auto_confirm,
        )
    click.echo("localcloud stopped")


endpoint_option = click.option(
    "--endpoint-url",
    default=DEFAULT_ENDPOINT,
    show_default=True,
    metavar="URL",
    help="The running `build.py local` (loopback only).",
)


def _moment(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")


@click.command("local-clock")
@endpoint_option
@click.option(
    "--advance",
    "seconds",
    type=click.FloatRange(0, 7 * 24 * 3600),
    help="Move the clock forward this many seconds, running everything that falls due "
    "(schedules, retries, deliveries, alarm evaluations) in order; 0 runs what is due now.",
)
@click.option("--pending", "show_pending", is_flag=True, help="Also list the jobs waiting.")
def local_clock(endpoint_url: str, seconds: float | None, show_pending: bool) -> None:
    """Show (or move) the clock of a running `build.py local`."""
    control = ControlClient(endpoint_url)
    if seconds is not None:
        control.advance(seconds)
        click.echo(f"advanced {seconds:g} s")
    clock = control.clock()
    pending = clock["pending"]
    click.echo(f"local time {_moment(clock['now'])} UTC; {len(pending)} job(s) pending")
    if show_pending:
        for job in pending:
            click.echo(f"  {_moment(job['due'])}  {job['label']}")


@click.command("local-inbox")
@endpoint_option
@click.option("--to", "address", help="Only the mails to this address.")
@click.option("--full", is_flag=True, help="Print each mail's whole body (default: subject).")
@click.option("--clear", is_flag=True, help="Empty the inbox after printing it.")
@click.option(
    "--confirm",
    is_flag=True,
    help="Follow the link of every subscription confirmation in the inbox, as its recipient would.",
)
def local_inbox(
    endpoint_url: str, address: str | None, full: bool, clear: bool, confirm: bool
) -> None:
    """The e-mails SNS sent from a running `build.py local` (its e-mail subscriptions' inbox).

    A subscription confirmation is confirmed with `--confirm` as the recipient clicking its link
    would; start the local cloud with --sns-auto-confirm to skip that step.
    """
    control = ControlClient(endpoint_url)
    mails = control.outbox(address)
    click.echo(f"{len(mails)} mail(s){f' to {address}' if address else ''}")
    for mail in mails:
        _print_mail(mail, full)
    if confirm:
        click.echo(f"confirmed {control.confirm_subscriptions(address)} subscription(s)")
    if clear:
        control.clear_outbox(address)


def _print_mail(mail: dict[str, Any], full: bool) -> None:
    click.echo(f"- {_moment(mail['time'])}  to {mail['to']}: {mail['subject']}")
    if full:
        for line in str(mail["body"]).splitlines():
            click.echo(f"    {line}")


COMMANDS: list[click.Command] = [local, local_clock, local_inbox]
