"""The steps the commands and the demo share: prepare (build + validate), bootstrap, publish,
launch, status. Nothing here writes to AWS before prepare() has validated config and build."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.exceptions

from catalog.config import CatalogConfig, load_config
from catalog.errors import BuildOutputError, CatalogError
from catalog.manifest import MANIFEST_NAME, Manifest
from portfolio import bootstrap as boot
from portfolio.aws import AwsClients, CallHook, CallLog, Target, aws_errors, failure_error
from portfolio.changes import Change, Plan
from portfolio.current import RegionState
from portfolio.desired import DesiredCatalog, desired_catalog
from portfolio.errors import PublishError
from portfolio.launch import LaunchResult, launch
from portfolio.publish import git_commit, make_plan, publish, read_states, target_regions
from portfolio.stack_events import LaunchWatcher
from portfolio.status import CatalogStatus, catalog_status

Echo = Callable[[str], None]


@dataclass(frozen=True)
class BuiltCatalog:
    """A validated config, the build made from it (in DIST_DIR) and the desired state both
    describe: what every publish, launch and status step works from."""

    config: CatalogConfig
    dist_dir: Path
    manifest: Manifest
    desired: DesiredCatalog


def prepare(
    config_path: Path, dist_dir: Path, echo: Echo | None = None, *, build: bool = True
) -> BuiltCatalog:
    """Load and validate the config, build into DIST_DIR (pure) unless BUILD is false (then
    dist/ must hold a finished build, e.g. from an earlier CI step), and interpret both."""
    from products.build import build_all

    config = load_config(config_path)
    if build:
        build_all(config, dist_dir, progress=echo or (lambda message: None))
    manifest = Manifest.load(dist_dir)
    unknown = sorted(set(manifest.products) - set(config.products))
    if unknown:
        raise BuildOutputError(
            f"{dist_dir / MANIFEST_NAME}: product {unknown[0]!r} is not "
            f"in {config_path.name}; build again"
        )
    desired = desired_catalog(
        config.portfolio,
        manifest,
        dist_dir,
        commit=git_commit(config_path.resolve().parent),
        environment_accounts=environment_accounts(config),
        permissions_boundary_arn=config.catalog.get("permissions_boundary_arn"),
    )
    return BuiltCatalog(config, dist_dir, manifest, desired)


def environment_accounts(config: CatalogConfig) -> tuple[str, ...]:
    """The accounts environments deploy to (other than the pipeline's own, which is absent)."""
    targets = [config.deploy_target(name) for name in config.environment_names]
    return tuple(sorted({t.account for t in targets if t.account is not None}))


@contextlib.contextmanager
def open_clients(
    target: Target,
    local: bool = False,
    hooks: tuple[CallHook, ...] = (),
    log: CallLog | None = None,
) -> Iterator[AwsClients]:
    """Clients for TARGET, or for a fresh in-process localcloud when LOCAL. LOG sees every
    call (--debug) and labels a failure with its region, step and endpoint."""
    log = log or CallLog()
    if not local:
        with aws_errors(target, log):
            yield AwsClients(target, hooks, log)
        return
    from localcloud import LocalCloud

    with LocalCloud() as cloud:
        local_target = Target(endpoint_url=cloud.endpoint_url, region=target.region)
        with aws_errors(local_target, log):
            yield AwsClients(local_target, hooks, log)


def run_bootstrap(clients: AwsClients, built: BuiltCatalog, echo: Echo) -> dict[str, str]:
    body = boot.bootstrap_template(built.dist_dir, built.manifest)
    organization = built.config.portfolio.get("shares", {}).get("organization_id")
    # The launch role is IAM (global): the first configured region's stack owns it.
    home = built.desired.regions[0]
    with clients.log.step("bootstrap"):
        return {
            region: boot.deploy(
                clients.client("cloudformation", region),
                region,
                body,
                boot.bootstrap_parameters(body, organization, create_launch_role=region == home),
                echo,
            )
            for region in target_regions(built.desired, clients.target.region)
        }


def run_plan(clients: AwsClients, built: BuiltCatalog) -> Plan:
    return run_plan_with_state(clients, built)[0]


def run_plan_with_state(clients: AwsClients, built: BuiltCatalog) -> tuple[Plan, list[RegionState]]:
    """The plan and the state it was made from: when nothing is to be written, that same
    state is the summary (status_of), and a no-op publish reads the catalog once."""
    with clients.log.step("plan (reading the catalog)"):
        return make_plan(clients, built.desired)


def run_publish(
    clients: AwsClients, built: BuiltCatalog, progress: Callable[[Change], None]
) -> Plan:
    with clients.log.step("publish"):
        return publish(clients, built.desired, progress)


def run_publish_and_summarize(
    clients: AwsClients,
    built: BuiltCatalog,
    approve: Callable[[Plan], bool],
    progress: Callable[[Change], None],
) -> CatalogStatus:
    """Plan (one read), let APPROVE show the plan and decide, apply, and summarize.

    Nothing to write (or not approved): the plan's own read is the summary. Something to
    write: publish() reads the catalog again and plans again right before its first write, so
    a change another run or an operator made while the plan was on screen is seen, not
    overwritten; and the summary is read after the writes, since it must show what they did.
    """
    planned, states = run_plan_with_state(clients, built)
    if not (approve(planned) and planned.has_changes):
        return status_of(built, states)
    run_publish(clients, built, progress)
    return _status_after_publish(clients, built)


def _status_after_publish(clients: AwsClients, built: BuiltCatalog) -> CatalogStatus:
    """The summary read: when it fails, every write is done and the error must say so."""
    try:
        with clients.log.step("status read after publish"):
            return status_of(built, read_states(clients, built.desired))
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        failure = str(failure_error(error, clients.target, clients.log))
    except CatalogError as error:
        failure = str(error)
    raise PublishError(
        f"publish done: every change was applied, but reading the status afterwards failed: "
        f"{failure}; run `python build.py status` to see the catalog"
    )


def run_status(clients: AwsClients, built: BuiltCatalog) -> CatalogStatus:
    with clients.log.step("status"):
        return status_of(built, read_states(clients, built.desired))


def status_of(built: BuiltCatalog, states: list[RegionState]) -> CatalogStatus:
    # The history the build checked its versions against, not a versions file of our own
    # choosing: status then judges exactly the catalog that --config and --dist describe.
    history = {name: p.version_history for name, p in built.manifest.products.items()}
    return catalog_status(built.desired, states, history)


def launch_region(clients: AwsClients, built: BuiltCatalog) -> str:
    return clients.target.region or built.desired.regions[0]


@dataclass(frozen=True)
class LaunchSetup:
    """What a launch from the CLI or the pipeline starts from: the region's Service Catalog
    client, the parameters catalog.yaml and --param give, and the stack-event watcher."""

    sc: Any
    region: str
    parameters: dict[str, str]
    watch: LaunchWatcher | None


def launch_setup(
    clients: AwsClients,
    built: BuiltCatalog,
    product: str,
    environment: str,
    *,
    overrides: dict[str, str],
    echo: Echo,
    watch_stack: bool,
) -> LaunchSetup:
    """WATCH_STACK: echo the provisioned product's stack events while waiting (needs
    cloudformation:DescribeStackEvents, which the deploy permissions do not grant)."""
    parameters = {**built.config.launch_parameters(product, environment), **overrides}
    region = launch_region(clients, built)
    sc = clients.client("servicecatalog", region)
    watch = (
        LaunchWatcher(sc, clients.client("cloudformation", region), echo) if watch_stack else None
    )
    return LaunchSetup(sc, region, parameters, watch)


def run_launch(
    clients: AwsClients,
    built: BuiltCatalog,
    product: str,
    environment: str,
    *,
    overrides: dict[str, str],
    echo: Echo,
    instance: str | None = None,
    watch_stack: bool = False,
) -> LaunchResult:
    setup = launch_setup(
        clients,
        built,
        product,
        environment,
        overrides=overrides,
        echo=echo,
        watch_stack=watch_stack,
    )
    with clients.log.step("launch"):
        return launch(
            setup.sc,
            setup.region,
            product,
            environment,
            parameters=setup.parameters,
            progress=echo,
            portfolio=built.desired.display_name,
            instance=instance,
            watch=setup.watch,
        )
