"""`python build.py local`: run the local cloud in the foreground."""

import contextlib

import click

from .server import serve

DEFAULT_PORT = 4566


MAX_SPEED = 3600.0  # an hour of clock time per second: faster starves the server of the CPU


def _announce(endpoint: str, speed: float) -> None:
    click.echo(f"localcloud listening on {endpoint}")
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
    "--sns-auto-confirm",
    is_flag=True,
    help="Confirm SNS http/https/email subscriptions at once instead of waiting for the "
    "endpoint to confirm (as AWS does).",
)
def local(port: int, host: str, speed: float, sns_auto_confirm: bool) -> None:
    """Serve moto plus Service Catalog and extra CloudFormation types until Ctrl-C.

    Functions run, events are delivered and alarms are evaluated on a clock that follows real
    time (or --speed times faster); POST /_localcloud/clock/advance jumps it forward.
    """
    # werkzeug usually swallows Ctrl-C itself; either way it means "stop", not an error.
    with contextlib.suppress(KeyboardInterrupt):
        serve(
            host,
            port,
            announce=lambda endpoint: _announce(endpoint, speed),
            speed=speed,
            auto_confirm=sns_auto_confirm,
        )
    click.echo("localcloud stopped")


COMMANDS: list[click.Command] = [local]
