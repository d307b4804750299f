"""CLI commands of the release pipeline: the `pipeline` group (run; deploy is the pipeline
stack's, portfolio/pipeline/deploy.py) and the deploy stage `deploy --env ENV`."""

from __future__ import annotations

import click

from catalog.cli_context import CliContext
from portfolio.pipeline.deploy import deploy_pipeline
from portfolio.pipeline.errors import PipelineError


@click.group()
def pipeline() -> None:
    """The release pipeline: run it on this machine, or deploy its stack."""


@pipeline.command()
@click.option("--local", is_flag=True, help="Run every stage on this machine against localcloud.")
@click.pass_obj
def run(obj: CliContext, local: bool) -> None:
    """Run the pipeline: Source -> BuildAndTest -> Publish -> DeployDev -> DeployStaging ->
    Approve -> DeployProd."""
    if not local:
        raise click.UsageError("only --local is supported: the real pipeline runs in CodePipeline")
    raise PipelineError("pipeline run --local is not implemented yet")


pipeline.add_command(deploy_pipeline)  # the pipeline stack's command (infra helper)

COMMANDS: list[click.Command] = [pipeline]
