"""CLI of launched products: the launch preview's confirmation, `launches` and `terminate`."""

from __future__ import annotations

import click

from catalog.cli_context import CliContext
from catalog.config import CatalogConfig, load_config
from portfolio.aws import Target
from portfolio.commands import target_options
from portfolio.errors import PublishError
from portfolio.launch import provisioned_product_name
from portfolio.launch_plan import LaunchCancelledError
from portfolio.launch_review import on_terminal
from portfolio.launches import launches_json, launches_table, list_launches
from portfolio.terminate import NotLaunchedError, describe_launched, terminate_provisioned_product
from portfolio.workflow import open_clients
from products.environment import check_instance_name


def _region(config: CatalogConfig, target: Target) -> str:
    # Launches live where launch puts them: --region, or the portfolio's first region.
    return target.region or str(config.portfolio["regions"][0])


def _known(config: CatalogConfig, product: str | None, environment: str | None) -> None:
    if product is not None and product not in config.products:
        raise PublishError(f"unknown product {product!r} (known: {', '.join(config.products)})")
    if environment is not None and environment not in config.environment_names:
        raise PublishError(
            f"unknown environment {environment!r} (known: {', '.join(config.environment_names)})"
        )


@click.command()
@click.option("--env", "environment", metavar="ENV", help="Only this environment.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable list on stdout.")
@target_options
@click.pass_obj
def launches(
    obj: CliContext, *, environment: str | None, as_json: bool, target: Target, local: bool
) -> None:
    """List the provisioned products of the catalog's products, per environment: version
    launched, status, and whether a newer version is published."""
    config = load_config(obj.config_path)
    _known(config, None, environment)
    environments = [environment] if environment else list(config.environment_names)
    with open_clients(target, local) as clients:
        region = _region(config, target)
        found = list_launches(
            clients.client("servicecatalog", region), region, list(config.products), environments
        )
    click.echo(launches_json(found) if as_json else launches_table(found))


@click.command()
@click.argument("product")
@click.option("--env", "environment", required=True, metavar="ENV", help="Its environment.")
@click.option("--instance", metavar="NAME", help="A named instance (default: the default one).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@target_options
@click.pass_obj
def terminate(
    obj: CliContext,
    *,
    product: str,
    environment: str,
    instance: str | None,
    yes: bool,
    target: Target,
    local: bool,
) -> None:
    """Terminate PRODUCT's provisioned product in ENV: its stack and every resource in it."""
    config = load_config(obj.config_path)
    _known(config, product, environment)
    if instance is not None:
        check_instance_name(instance)
    name = provisioned_product_name(product, environment, instance)
    with open_clients(target, local) as clients:
        region = _region(config, target)
        sc = clients.client("servicecatalog", region)
        detail = describe_launched(sc, name)
        if detail is None:
            raise NotLaunchedError(
                f"{region}: no provisioned product {name!r}; nothing to terminate"
            )
        click.echo(f"{name} ({detail['Id']}): {detail.get('Status', '?')}")
        _confirm_termination(name, yes)
        terminate_provisioned_product(sc, name, lambda line: click.echo(f"  {line}"))
    click.echo(f"{name} terminated")


def _confirm_termination(name: str, yes: bool) -> None:
    if yes:
        return
    if not on_terminal():
        raise PublishError(
            f"terminate {name}: not on a terminal, so pass --yes to confirm; nothing changed"
        )
    if not click.confirm(f"Terminate {name} and delete every resource of its stack?"):
        raise LaunchCancelledError(f"terminate {name} cancelled; nothing changed")


COMMANDS: list[click.Command] = [launches, terminate]
