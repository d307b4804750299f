"""Orchestration: read every region, plan everything, refuse early, then apply region by region."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from portfolio.apply import RegionApplier
from portfolio.aws import AwsClients
from portfolio.changes import Action, Change, Plan, ShareSettings
from portfolio.current import RegionState, read_region
from portfolio.desired import DesiredCatalog
from portfolio.errors import PublishError, TargetError
from portfolio.plan import plan_catalog


def git_commit(near: Path) -> str:
    """The commit being published, recorded with each version; 'unknown' outside git."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],  # noqa: S607 - git from PATH
            cwd=near.resolve().parent if not near.is_dir() else near,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() if result.returncode == 0 else "unknown"


def target_regions(desired: DesiredCatalog, region: str | None) -> list[str]:
    if region is None:
        return list(desired.regions)
    if region not in desired.regions:
        raise TargetError(
            f"--region {region!r} is not one of portfolio.regions ({', '.join(desired.regions)})"
        )
    return [region]


def read_states(clients: AwsClients, desired: DesiredCatalog) -> list[RegionState]:
    return [
        read_region(
            clients.client("servicecatalog", region), clients.client("s3", region), desired, region
        )
        for region in target_regions(desired, clients.target.region)
    ]


def make_plan(clients: AwsClients, desired: DesiredCatalog) -> tuple[Plan, list[RegionState]]:
    states = read_states(clients, desired)
    plan = plan_catalog(desired, states)
    _require_organizations_access(clients, plan)
    return plan, states


def _require_organizations_access(clients: AwsClients, plan: Plan) -> None:
    """Sharing with an organization or OU needs Organizations access enabled for Service
    Catalog; find out before the first write rather than after every product is published."""
    for change in plan.changes:
        if not isinstance(change.payload, ShareSettings) or change.action != Action.CREATE:
            continue
        if change.payload.share_type == "ACCOUNT":
            continue
        sc = clients.client("servicecatalog", change.region)
        status = sc.get_aws_organizations_access_status().get("AccessStatus")
        if status != "ENABLED":
            raise PublishError(
                f"{change.region}: sharing with {change.name} needs AWS Organizations access "
                f"for Service Catalog (it is {status}); run EnableAWSOrganizationsAccess from "
                "the management account or a delegated administrator, then publish again"
            )


def publish(
    clients: AwsClients, desired: DesiredCatalog, progress: Callable[[Change], None]
) -> Plan:
    """Plan every region first (refusals happen before any write), then apply each region."""
    plan, states = make_plan(clients, desired)
    for state in states:
        applier = RegionApplier(
            clients.client("servicecatalog", state.region),
            clients.client("s3", state.region),
            desired,
            state,
        )
        applier.apply(plan.for_region(state.region), progress)
    return plan
