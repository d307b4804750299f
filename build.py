#!/usr/bin/env python3
"""On-call Tools Catalog: build, lint, publish and launch the on-call tools as AWS products.

Run `python build.py --help` for the commands, `python build.py COMMAND --help` for one.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from catalog.cli_context import DEFAULT_CONFIG, DEFAULT_DIST, CliContext
from catalog.errors import CatalogError

# Exit codes (docs/operating.md, "Exit codes"): 0 success, 1 error, 2 usage error (click's),
# `plan --detailed-exitcode` 2 = changes pending, 130 interrupted (128 + SIGINT, as shells do).
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


class CatalogGroup(click.Group):
    """A click group that turns our own errors into one clear line and exit code 1, Ctrl-C into
    one line and exit 130, and keeps `plan`'s usage errors off exit code 2 ("changes pending")."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        argv = tuple(args)
        try:
            ctx = super().make_context(info_name, args, parent, **extra)
        except click.UsageError as error:
            raise _with_exit_code(error, argv) from None
        ctx.meta[_ARGV_KEY] = argv
        return ctx

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except CatalogError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(EXIT_ERROR)
        except click.UsageError as error:
            raise _with_exit_code(error, ctx.meta.get(_ARGV_KEY, ())) from None
        except KeyboardInterrupt:
            _exit_interrupted()

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            _load_commands_of(COMMAND_MODULES[cmd_name])
        return self.commands.get(cmd_name)


def _exit_interrupted() -> NoReturn:
    # One line, no traceback. Every write we make is idempotent: a rerun resumes.
    click.echo("interrupted (Ctrl-C); rerun the command to resume", err=True)
    sys.exit(EXIT_INTERRUPTED)


_ARGV_KEY = "catalog.argv"


def _with_exit_code(error: click.UsageError, argv: tuple[str, ...]) -> click.UsageError:
    """A usage error of a command line that names `plan` (or --detailed-exitcode, even with a
    typo in the command name) exits 1: scripts read plan's exit code 2 as "changes pending"
    (`plan --detailed-exitcode || [ $? -eq 2 ]`), so a typo must never look like it."""
    if any(arg == "plan" or arg.startswith("--detailed") for arg in argv):
        return PlanUsageError(error.format_message(), error.ctx)
    return error


class PlanUsageError(click.UsageError):
    """A usage error of `plan`: exit code 1, since 2 is plan's "changes pending"."""

    exit_code = EXIT_ERROR


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

    Exit codes: 0 success, 1 error, 2 usage error, 130 interrupted (Ctrl-C). `plan` never
    exits 2 on a usage error: with --detailed-exitcode, 2 means changes pending.
    """
    ctx.obj = CliContext(config_path=config_path, verbose=verbose, dist_dir=dist_dir)


# The module that defines each command. A run imports only its command's module (`launch` does
# not load the local AWS, `lint` not the publishing code): half a second less per command.
# `--help` imports them all; tests/products/test_cli.py checks this map against each module's
# COMMANDS, so a new command cannot be left out.
COMMAND_MODULES = {
    "build": "products.commands",
    "lint": "products.commands",
    "bump": "products.commands",
    "plan": "portfolio.commands",
    "publish": "portfolio.commands",
    "status": "portfolio.commands",
    "rollback": "portfolio.commands",
    "launch": "portfolio.commands",
    "bootstrap": "portfolio.commands",
    "demo": "portfolio.commands",
    "launches": "portfolio.launch_commands",
    "terminate": "portfolio.launch_commands",
    "drill": "portfolio.drill",
    "redrive": "portfolio.redrive",
    "dashboard": "portfolio.dashboard",
    "pipeline": "portfolio.pipeline.commands",
    "deploy": "portfolio.pipeline.commands",
    "local": "localcloud.commands",
    "local-clock": "localcloud.commands",
    "local-inbox": "localcloud.commands",
}


def _load_commands_of(module_name: str) -> None:
    # Each area keeps its commands next to its code; this file only wires them together.
    try:
        module = importlib.import_module(module_name)
    except KeyboardInterrupt:  # Ctrl-C while the command's modules (boto3...) load
        _exit_interrupted()
    for command in module.COMMANDS:
        cli.add_command(command)


def all_commands() -> dict[str, click.Command]:
    """Every command, its module imported (what `--help` does)."""
    for module_name in sorted(set(COMMAND_MODULES.values())):
        _load_commands_of(module_name)
    return dict(cli.commands)


if __name__ == "__main__":
    cli()
