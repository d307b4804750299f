"""CLI commands of the publish side: plan, publish, status, rollback, launch, bootstrap, demo."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

from catalog.cli_context import CliContext
from portfolio import render
from portfolio.aws import DEBUG_ECHO, CallLog, CallRecorder, Target, check_endpoint_url
from portfolio.changes import Change, Plan
from portfolio.errors import PublishError, StatusCheckError
from portfolio.launch_values import check_launch_request
from portfolio.polling import with_elapsed
from portfolio.workflow import (
    BuiltCatalog,
    open_clients,
    prepare,
    run_bootstrap,
    run_plan,
    run_publish,
    run_publish_and_summarize,
    run_status,
)
from products.environment import ResourceNames, check_instance_name

EXIT_CHANGES_PENDING = 2


def launched_tool_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """TOOL, --env and --instance: the options of a command that acts on one launched tool."""
    for option in reversed(
        (
            click.argument("tool"),
            click.option(
                "--env",
                "environment",
                required=True,
                metavar="ENV",
                help="Environment of the launched tool: the provisioned product is TOOL-ENV.",
            ),
            click.option(
                "--instance",
                metavar="NAME",
                help="A named instance (launch --instance): the provisioned product is "
                "TOOL-NAME-ENV.",
            ),
        )
    ):
        command = option(command)
    return command


def target_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--endpoint-url / --profile / --region / --local, collected into target= and local=."""

    @click.option(
        "--endpoint-url",
        metavar="URL",
        help="Any AWS-compatible endpoint, e.g. a running `build.py local`.",
    )
    @click.option("--profile", metavar="NAME", help="AWS profile of the credential chain.")
    @click.option(
        "--region",
        metavar="REGION",
        help="Only this region of portfolio.regions (default: all of them).",
    )
    @click.option(
        "--local",
        is_flag=True,
        help="Run against a fresh in-process localcloud (starts empty; bootstraps).",
    )
    @click.option(
        "--no-build",
        is_flag=True,
        help="Use the build already in --dist instead of building first.",
    )
    @click.option(
        "--debug",
        is_flag=True,
        help="Log every AWS API call on stderr as it ends (service, operation, region, HTTP "
        "status or error, duration); plan and publish also print the count.",
    )
    @functools.wraps(command)
    def wrapper(
        *args: Any,
        endpoint_url: str | None,
        profile: str | None,
        region: str | None,
        local: bool,
        no_build: bool,
        debug: bool,
        **kwargs: Any,
    ) -> Any:
        if local and (endpoint_url or profile):
            raise click.UsageError("--local cannot be combined with --endpoint-url or --profile")
        if endpoint_url is not None:
            check_endpoint_url(endpoint_url, "--endpoint-url")
        target = Target(endpoint_url=endpoint_url, profile=profile, region=region)
        meta = click.get_current_context().meta
        meta["portfolio.build"] = not no_build
        meta["portfolio.debug"] = debug
        # Every CallLog made while the command runs (drill, dashboard and pipeline commands
        # open their clients themselves) logs to stderr with --debug.
        token = DEBUG_ECHO.set(functools.partial(click.echo, err=True) if debug else None)
        try:
            return command(*args, target=target, local=local, **kwargs)
        finally:
            DEBUG_ECHO.reset(token)

    return wrapper


def _built(obj: CliContext) -> BuiltCatalog:
    build = bool(click.get_current_context().meta.get("portfolio.build", True))
    return prepare(obj.config_path, obj.dist_dir, click.echo if obj.verbose else None, build=build)


def _progress(change: Change) -> None:
    click.echo(render.progress_line(change))


def _debug() -> bool:
    return bool(click.get_current_context().meta.get("portfolio.debug", False))


def _echo_call_count(calls: CallRecorder, *, err: bool = False) -> None:
    if _debug():
        click.echo(calls.summary(), err=err)


@click.command()
@target_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable plan on stdout.")
@click.option("--all", "show_all", is_flag=True, help="Also list objects that are unchanged.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when changes are pending (0: none, 1: error or usage error).",
)
@click.pass_obj
def plan(
    obj: CliContext,
    *,
    target: Target,
    local: bool,
    as_json: bool,
    show_all: bool,
    detailed_exitcode: bool,
) -> None:
    """Show what publish would do, object by object.

    Exit code (Terraform's convention): 0 the plan was made, changes or not; 1 error. With
    --detailed-exitcode: 0 nothing would change, 2 changes pending, 1 error. A usage error of
    plan (a mistyped option) exits 1, never 2, so `plan --detailed-exitcode || [ $? -eq 2 ]`
    cannot pass a typo.
    """
    built = _built(obj)
    calls, log = CallRecorder(), CallLog()
    with open_clients(target, local, hooks=(calls,), log=log) as clients:
        if local:
            with log.quiet():
                run_bootstrap(clients, built, _quiet)
            calls.clear()  # --debug counts the plan's calls, not the local bootstrap's
        result = run_plan(clients, built)
    _echo_call_count(calls, err=as_json)
    click.echo(
        render.plan_json(result)
        if as_json
        else render.plan_table(result, show_unchanged=show_all or not result.has_changes)
    )
    if detailed_exitcode and result.has_changes:
        sys.exit(EXIT_CHANGES_PENDING)


def _quiet(message: str) -> None:
    """Progress that only matters when something goes wrong (errors carry their own text)."""


@click.command()
@target_options
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation on a terminal.")
@click.pass_obj
def publish(obj: CliContext, target: Target, local: bool, yes: bool) -> None:
    """Publish the built products into the Service Catalog portfolio (idempotent).

    Shows the plan, applies it with progress, prints a summary. Prompts only on a terminal.
    """
    built = _built(obj)
    recorder, calls, log = CallRecorder(), CallRecorder(), CallLog()
    with open_clients(target, local, hooks=(recorder, calls), log=log) as clients:
        if local:
            with log.quiet():
                run_bootstrap(clients, built, click.echo)
            calls.clear()  # --debug counts the publish's calls, not the local bootstrap's

        def approve(planned: Plan) -> bool:
            click.echo(render.plan_table(planned, show_unchanged=False))
            return planned.has_changes and _confirmed(yes)

        summary = run_publish_and_summarize(clients, built, approve, _progress)
        click.echo(render.status_text(summary))
    click.echo(f"{len(recorder.writes)} write call(s), {len(recorder.calls)} call(s) in all")
    _echo_call_count(calls)


def _confirmed(yes: bool) -> bool:
    if yes or not sys.stdin.isatty():
        return True
    if not click.confirm("Apply these changes?", default=False):
        raise PublishError("publish cancelled; nothing was written")
    return True


@click.command()
@target_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable status on stdout.")
@click.option(
    "--check",
    is_flag=True,
    help="Exit 1 when there is drift, including a built version that is not published.",
)
@click.pass_obj
def status(obj: CliContext, target: Target, local: bool, as_json: bool, check: bool) -> None:
    """The catalog as published against the build: versions, DEFAULT, drift.

    Exit code 0 (also with drift, unless --check); with --check 1 when anything drifted or the
    built version of a product is not published; 1 on an error.
    """
    built = _built(obj)
    with open_clients(target, local) as clients:
        if local:
            run_bootstrap(clients, built, _quiet)
            run_publish(clients, built, lambda change: None)
        result = run_status(clients, built)
    click.echo(render.status_json(result) if as_json else render.status_text(result))
    if check and result.drift:
        raise StatusCheckError(
            f"status --check: {len(result.drift)} drift item(s), first: {result.drift[0]}"
        )


@click.command()
@click.argument("product")
@click.option(
    "--to",
    "to_version",
    required=True,
    metavar="VERSION",
    help="The earlier version to make DEFAULT again.",
)
@target_options
@click.pass_obj
def rollback(obj: CliContext, product: str, to_version: str, target: Target, local: bool) -> None:
    """Make VERSION of PRODUCT the DEFAULT again and deprecate the newer versions."""
    from portfolio.publish import target_regions
    from portfolio.rollback import rollback_region

    built = _built(obj)
    if product not in built.desired.products:
        raise PublishError(
            f"unknown product {product!r} (known: {', '.join(built.desired.products)})"
        )
    with open_clients(target, local) as clients:
        if local:  # a fresh local AWS holds nothing to roll back until it is published
            run_bootstrap(clients, built, _quiet)
            run_publish(clients, built, lambda change: None)
        for region in target_regions(built.desired, clients.target.region):
            changed = rollback_region(
                clients.client("servicecatalog", region),
                region,
                product,
                to_version,
                _prefixed_echo(f"  {region}: "),
            )
            click.echo(
                f"{region}: {product} rolled back to {to_version} ({changed} version(s) changed)"
            )


def _prefixed_echo(prefix: str) -> Callable[[str], None]:
    def echo(line: str) -> None:
        click.echo(f"{prefix}{line}")

    return echo


def _parse_params(values: tuple[str, ...]) -> dict[str, str]:
    parsed = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise PublishError(f"--param {value!r} is not KEY=VALUE")
        parsed[key] = text
    return parsed


@click.command()
@click.argument("tool")
@click.option(
    "--env",
    "environment",
    required=True,
    metavar="ENV",
    help="Environment whose parameters (config products.<tool>.launch) are used.",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override one CloudFormation parameter (repeatable).",
)
@click.option(
    "--instance",
    metavar="NAME",
    help="Launch a named instance '<tool>-NAME-<env>' next to the default one "
    "(lowercase letters, digits, hyphens; starting with a letter).",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask before changing prod.")
@click.option(
    "--dry-run", is_flag=True, help="Only show what the launch would change (nothing changes)."
)
@target_options
@click.pass_obj
def launch(
    obj: CliContext,
    *,
    tool: str,
    environment: str,
    params: tuple[str, ...],
    instance: str | None,
    yes: bool,
    dry_run: bool,
    target: Target,
    local: bool,
) -> None:
    """Provision (or update) TOOL's DEFAULT version as '<tool>-<env>' and print its outputs.

    Shows what will change first (a Service Catalog plan) and asks before changing prod.
    """
    from portfolio.launch_plan import run_launch_with_preview
    from portfolio.launch_review import launch_review, refuse_unattended

    overrides = _parse_params(params)
    built = _built(obj)
    if tool not in built.desired.products:
        raise PublishError(f"unknown tool {tool!r} (known: {', '.join(built.desired.products)})")
    if instance is not None:
        _check_instance(built, tool, instance)
    check_launch_request(built, tool, environment, overrides)
    # After the values: a bad value is the more useful error, and neither needs AWS.
    refuse_unattended(tool, environment, yes=yes, dry_run=dry_run)
    with open_clients(target, local) as clients:
        if local:
            from portfolio.demo import create_demo_prerequisites

            run_bootstrap(clients, built, _quiet)
            run_publish(clients, built, lambda change: None)
            create_demo_prerequisites(clients, built, environment)
        result = run_launch_with_preview(
            clients,
            built,
            tool,
            environment,
            overrides=overrides,
            echo=with_elapsed(_prefixed_echo("  ")),
            review=launch_review(environment, yes=yes, dry_run=dry_run),
            instance=instance,
            watch_stack=True,
        )
    if result is None:
        return
    click.echo(
        f"{result.provisioned_product} ({result.provisioned_product_id}) at version "
        f"{result.version}; stack {result.stack_arn or '-'}"
    )
    for key, value in sorted(result.outputs.items()):
        click.echo(f"  {key} = {value}")


def _check_instance(built: BuiltCatalog, tool: str, instance: str) -> None:
    """Refuse an instance name the template would refuse, before any AWS call."""
    names = ResourceNames(built.config.catalog["resource_prefix"], tool)
    config = built.config
    limit = names.instance_name_limit(config.environment_names, config.portfolio["regions"])
    check_instance_name(instance, limit)


@click.command()
@target_options
@click.option("--spoke", metavar="ACCOUNT", help="Deploy the spoke stack in this account instead.")
@click.option(
    "--assume-role",
    default="OrganizationAccountAccessRole",
    show_default=True,
    metavar="NAME",
    help="With --spoke: the role to assume in ACCOUNT unless the credentials are ACCOUNT's.",
)
@click.option(
    "--pipeline-account",
    metavar="ACCOUNT",
    help="With --spoke: the pipeline's account (default: the credentials' account).",
)
@click.pass_obj
def bootstrap(
    obj: CliContext,
    *,
    target: Target,
    local: bool,
    spoke: str | None,
    assume_role: str,
    pipeline_account: str | None,
) -> None:
    """Deploy the catalog infrastructure (artifact bucket, launch role) in every region, or
    with --spoke ACCOUNT the spoke stack (launch role, deploy role) in an environment's account."""
    built = _built(obj)
    if spoke:
        from portfolio.bootstrap import deploy_spoke, spoke_template

        body = spoke_template(built.dist_dir, built.manifest)
        with open_clients(target, local) as clients:
            outcome = deploy_spoke(
                clients,
                built.config,
                body,
                spoke,
                admin_role=assume_role,
                pipeline_account=pipeline_account,
                progress=with_elapsed(click.echo),
            )
        click.echo(f"account {spoke}: spoke stack {outcome}")
        return
    with open_clients(target, local) as clients:
        outcomes = run_bootstrap(clients, built, with_elapsed(click.echo))
    for region, outcome in outcomes.items():
        click.echo(f"{region}: bootstrap stack {outcome}")


@click.command()
@click.option(
    "--env",
    "environment",
    default="dev",
    show_default=True,
    help="Environment every product is launched for.",
)
@click.pass_obj
def demo(obj: CliContext, environment: str) -> None:
    """Build, bootstrap, publish and launch every product on an in-process local AWS."""
    from portfolio.demo import run_demo

    run_demo(obj.config_path, obj.dist_dir, environment, click.echo)


COMMANDS: list[click.Command] = [plan, publish, status, rollback, launch, bootstrap, demo]
