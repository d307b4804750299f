#!/usr/bin/env python3
"""On-call Tools Catalog: build, lint, publish and launch the on-call tools as AWS products.

Run `python build.py --help` for the commands, `python build.py COMMAND --help` for one.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from catalog.cli_context import DEFAULT_CONFIG, DEFAULT_DIST, CliContext
from catalog.errors import CatalogError


class CatalogGroup(click.Group):
    """A click group that turns our own errors into one clear line and exit code 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except CatalogError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)


@click.group(cls=CatalogGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_CONFIG,
    show_default="catalog.yaml",
    help="Catalog configuration file (portfolio, environments, products).",
)
@click.option(
    "--dist",
    "dist_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_DIST,
    show_default="dist/",
    help="Where build writes templates, packages and the manifest.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show more detail.")
@click.pass_context
def cli(ctx: click.Context, config_path: Path, dist_dir: Path, verbose: bool) -> None:
    """Build the on-call tools into CloudFormation products and publish them to AWS Service Catalog.

    Typical flow: build -> lint -> plan -> publish -> launch. Add --local (or
    --endpoint-url) to publish and launch against an embedded local AWS.
    """
    ctx.obj = CliContext(config_path=config_path, verbose=verbose, dist_dir=dist_dir)


def _add_commands() -> None:
    # Each area keeps its commands next to its code; this file only wires them together.
    for module_name in (
        "products.commands",
        "portfolio.commands",
        "portfolio.launch_commands",
        "portfolio.drill",
        "portfolio.dashboard",
        "portfolio.pipeline.commands",
        "localcloud.commands",
    ):
        for command in importlib.import_module(module_name).COMMANDS:
            cli.add_command(command)


_add_commands()

if __name__ == "__main__":
    cli()
