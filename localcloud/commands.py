"""`python build.py local`: run the local cloud in the foreground."""

import contextlib

import click

from .server import serve

DEFAULT_PORT = 4566


def _announce(endpoint: str) -> None:
    click.echo(f"localcloud listening on {endpoint}")
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
def local(port: int, host: str) -> None:
    """Serve moto plus Service Catalog and extra CloudFormation types until Ctrl-C."""
    # werkzeug usually swallows Ctrl-C itself; either way it means "stop", not an error.
    with contextlib.suppress(KeyboardInterrupt):
        serve(host, port, announce=_announce)
    click.echo("localcloud stopped")


COMMANDS: list[click.Command] = [local]
