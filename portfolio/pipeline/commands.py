"""CLI commands of the release pipeline: the `pipeline` group (run; deploy is the pipeline
stack's, portfolio/pipeline/deploy.py) and the deploy stage `deploy --env ENV`."""

from __future__ import annotations

import contextlib
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from catalog.cli_context import CliContext
from portfolio.aws import Target
from portfolio.commands import target_options
from portfolio.pipeline.deploy import deploy_pipeline
from portfolio.pipeline.errors import PipelineError


@click.group()
def pipeline() -> None:
    """The release pipeline: run it on this machine, or deploy its stack."""


@pipeline.command()
@click.option("--local", is_flag=True, help="Run every stage on this machine against localcloud.")
@click.option(
    "--commit",
    default="HEAD",
    show_default=True,
    help="The commit to run the pipeline on (any git revision of this repository).",
)
@click.option("--approve", "decision", flag_value="approve", help="Give the manual approval.")
@click.option("--reject", "decision", flag_value="reject", help="Refuse the manual approval.")
@click.option(
    "--work-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Keep checkouts and artifacts here (default: a temporary folder, removed after).",
)
@click.option(
    "--variable",
    "variables",
    multiple=True,
    metavar="NAME=VALUE",
    help="An environment variable for every build stage, as a StartBuild override sets one "
    "(repeatable). PYTEST_ADDOPTS=tests/products/test_versions.py runs only those tests in "
    "BuildAndTest: for rehearsals and training; a release runs the whole suite.",
)
@click.pass_obj
def run(
    obj: CliContext,
    *,
    local: bool,
    commit: str,
    decision: str | None,
    work_dir: Path | None,
    variables: tuple[str, ...],
) -> None:
    """Run the pipeline: Source -> BuildAndTest -> Publish -> DeployDev -> DeployStaging ->
    Approve -> DeployProd.

    --local checks COMMIT out into a clean folder and runs each stage's buildspec as CodeBuild
    does against one in-process local AWS, with one account for the pipeline and one per
    environment (environments.<env>.account). Exit code 1 when a stage fails.
    """
    from localcloud import LocalCloud
    from portfolio.pipeline.local_run import LocalRun, run_pipeline, summary_table

    if not local:
        raise click.UsageError("only --local is supported: the real pipeline runs in CodePipeline")
    project_variables = build_variables(variables)
    repository = obj.config_path.resolve().parent
    with _work_dir(work_dir) as where, LocalCloud() as cloud:
        click.echo(f"local AWS at {cloud.endpoint_url}; work folder {where}")
        run = LocalRun(
            repository,
            commit,
            cloud.endpoint_url,
            where,
            _approval(decision),
            project_variables=project_variables,
        )
        result = run_pipeline(run, click.echo)
    click.echo(summary_table(result))
    if not result.succeeded:
        raise PipelineError(f"pipeline {result.failure}")
    click.echo(f"pipeline succeeded for commit {result.commit}")


_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def build_variables(pairs: tuple[str, ...]) -> dict[str, str]:
    """NAME=VALUE pairs as environment variables; CodeBuild reserves names starting CODEBUILD_."""
    variables: dict[str, str] = {}
    for pair in pairs:
        name, equals, value = pair.partition("=")
        if not equals or not _VARIABLE_NAME.match(name):
            raise click.BadParameter(
                f"{pair!r}: expected NAME=VALUE with NAME of letters, digits and underscores",
                param_hint="--variable",
            )
        if name.upper().startswith("CODEBUILD_"):
            raise click.BadParameter(
                f"{name!r}: names starting with CODEBUILD_ are reserved by CodeBuild",
                param_hint="--variable",
            )
        variables[name] = value
    return variables


@contextlib.contextmanager
def _work_dir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="pipeline-run-") as temporary:
        yield Path(temporary)


def _approval(decision: str | None) -> Callable[[], bool]:
    if decision is not None:
        return lambda: decision == "approve"

    def ask() -> bool:
        if not sys.stdin.isatty():
            raise PipelineError(
                "the manual approval needs a decision: pass --approve or --reject "
                "(or run on a terminal to be asked)"
            )
        return click.confirm("Approve the deployment to prod?", default=False)

    return ask


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


pipeline.add_command(deploy_pipeline)  # the pipeline stack's command (infra helper)

COMMANDS: list[click.Command] = [pipeline, deploy]
