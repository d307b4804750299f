"""CLI commands of the release pipeline: the `pipeline` group (run; deploy is the pipeline
stack's, portfolio/pipeline/deploy.py) and the deploy stage `deploy --env ENV`."""

from __future__ import annotations

import click

from catalog.cli_context import CliContext
from portfolio.aws import Target
from portfolio.commands import target_options
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


@click.command()
@click.option(
    "--env",
    "environment",
    required=True,
    metavar="ENV",
    help="Environment to deploy: its account (environments.ENV.account) and regions.",
)
@target_options
@click.pass_obj
def deploy(obj: CliContext, environment: str, target: Target, local: bool) -> None:
    """The pipeline's deploy stage: launch every product for ENV in its account.

    For an environment in another account: assume the deploy role there (pipeline.deploy_role_name),
    import the shared portfolio, associate the role with it, then launch every product.
    """
    from portfolio.pipeline.deploy_stage import deploy_environment
    from portfolio.workflow import open_clients, prepare

    if local:
        raise click.UsageError(
            "deploy needs the published catalog and the environment's account: "
            "use --endpoint-url, or `pipeline run --local` for the whole pipeline"
        )
    # --no-build: the deploy project gets the BuildAndTest stage's dist/ as its input.
    build = bool(click.get_current_context().meta.get("portfolio.build", True))
    built = prepare(obj.config_path, obj.dist_dir, build=build)
    with open_clients(target) as clients:
        result = deploy_environment(clients, built, environment, click.echo)
    click.echo(
        f"{environment}: {len(result.launches)} product(s) launched in account {result.account}"
    )
    for launched in result.launches:
        click.echo(f"  {launched.provisioned_product} {launched.version} {launched.stack_arn}")


COMMANDS: list[click.Command] = [pipeline, deploy]
