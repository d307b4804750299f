"""Launch preview: a Service Catalog provisioned product plan shows what a launch would change
(every resource added, modified, replaced or removed) before anything changes.

CreateProvisionedProductPlan, then DescribeProvisionedProductPlan until it has its
ResourceChanges; REVIEW sees them and decides; ExecuteProvisionedProductPlan runs the launch, or
DeleteProvisionedProductPlan drops it. The plan is always deleted at the end: one plan per
provisioned product may exist at a time, and a plan left behind would block the next launch.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from portfolio.aws import unless_not_found
from portfolio.errors import PublishError
from portfolio.launch import (
    Launchable,
    LaunchResult,
    check_parameters,
    existing_or_recovered,
    finish_launch,
    launch_target,
    listed_parameters,
    provisioned_product_name,
    with_instance,
)
from portfolio.polling import wait_for
from portfolio.terminate import describe_launched

if TYPE_CHECKING:
    from portfolio.aws import AwsClients
    from portfolio.workflow import BuiltCatalog

_PLAN_SETTLED = ("CREATE_SUCCESS", "CREATE_FAILED", "EXECUTE_SUCCESS", "EXECUTE_FAILED")
_ACTION_WORDS = {"ADD": "add", "MODIFY": "modify", "REMOVE": "remove"}


class LaunchCancelledError(PublishError):
    """The launch was not approved; nothing changed."""


@dataclass(frozen=True)
class ResourceChange:
    """One line of a plan: what happens to one resource of the stack."""

    action: str  # ADD | MODIFY | REMOVE
    logical_id: str
    resource_type: str
    replacement: str  # TRUE | FALSE | CONDITIONAL, for MODIFY; "" otherwise
    properties: tuple[str, ...]  # the changed properties, "Name (by Cause)"

    @classmethod
    def from_aws(cls, change: dict[str, Any]) -> ResourceChange:
        return cls(
            action=str(change.get("Action", "")),
            logical_id=str(change.get("LogicalResourceId", "")),
            resource_type=str(change.get("ResourceType", "")),
            replacement=str(change.get("Replacement", ""))
            if change.get("Action") == "MODIFY"
            else "",
            properties=tuple(_property_words(change.get("Details") or [])),
        )

    def line(self) -> str:
        verb = "replace" if self.replacement == "TRUE" else _ACTION_WORDS.get(self.action, "?")
        if self.replacement == "CONDITIONAL":
            verb = "modify (may replace)"
        changed = f": {', '.join(self.properties)}" if self.properties else ""
        return f"{verb:<21}{self.logical_id} ({self.resource_type}){changed}"

    def as_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "logical_id": self.logical_id,
            "resource_type": self.resource_type,
            "replacement": self.replacement or None,
            "properties": list(self.properties),
        }


def _modifies(change: dict[str, Any]) -> bool:
    return change.get("Action") == "MODIFY"


def _property_words(details: list[dict[str, Any]]) -> list[str]:
    words: list[str] = []
    for detail in details:
        target = detail.get("Target") or {}
        name = target.get("Name") or str(target.get("Attribute", "")).lower()
        cause = detail.get("CausingEntity")
        word = f"{name} (by {cause})" if cause else name
        if word not in words:
            words.append(word)
    return words


@dataclass(frozen=True)
class LaunchPreview:
    """What a launch of PRODUCT in ENVIRONMENT would do, from its plan."""

    provisioned_product: str
    product: str
    environment: str
    version: str
    first_launch: bool
    plan_id: str
    changes: tuple[ResourceChange, ...]

    def lines(self) -> list[str]:
        what = "launch" if self.first_launch else "update"
        head = f"{self.provisioned_product}: {what} to {self.product} {self.version}"
        if not self.changes:
            return [f"{head}: no resource changes"]
        counts = dict.fromkeys(_ACTION_WORDS, 0)
        for change in self.changes:
            counts[change.action] = counts.get(change.action, 0) + 1
        summary = ", ".join(f"{counts[a]} to {w}" for a, w in _ACTION_WORDS.items() if counts[a])
        return [f"{head}: {summary}", *(f"  {change.line()}" for change in self.changes)]

    @property
    def replaces_anything(self) -> bool:
        return any(change.replacement in ("TRUE", "CONDITIONAL") for change in self.changes)


Review = Callable[[LaunchPreview], bool]


def launch_with_preview(
    sc: Any,
    region: str,
    product: str,
    environment: str,
    *,
    parameters: dict[str, str],
    progress: Callable[[str], None],
    review: Review,
    portfolio: str | None = None,
    instance: str | None = None,
    watch: Callable[[dict[str, Any]], None] | None = None,
) -> LaunchResult | None:
    """Plan the launch, let REVIEW see it, and run it only when REVIEW says so (else None).
    INSTANCE and WATCH as for launch()."""
    parameters = with_instance(parameters, instance)
    target = launch_target(sc, region, product, portfolio=portfolio)
    check_parameters(sc, target, parameters)
    name = provisioned_product_name(product, environment, instance)
    _drop_stale_plans(sc, name, progress)
    existing = existing_or_recovered(sc, name, product, environment, progress, instance=instance)
    preview = _preview(sc, name, target, environment, parameters, first=existing is None)
    try:
        if not review(preview):
            return None
        record_id = _execute(sc, preview.plan_id)
        progress(f"{name}: {product} {target.version.name} record {record_id}")
        return finish_launch(sc, name, target.version.name, record_id, progress, watch=watch)
    finally:
        _delete_after_use(sc, preview.plan_id)


def _preview(
    sc: Any,
    name: str,
    target: Launchable,
    environment: str,
    parameters: dict[str, str],
    *,
    first: bool,
) -> LaunchPreview:
    plan_id = _create_plan(sc, name, target, parameters)
    details = _settled(sc, plan_id, name)
    if details["Status"] != "CREATE_SUCCESS":
        delete_plan(sc, plan_id)
        raise PublishError(
            f"launch of {name} refused before anything changed: "
            f"{details.get('StatusMessage') or details['Status']}"
        )
    return LaunchPreview(
        provisioned_product=name,
        product=target.product,
        environment=environment,
        version=target.version.name,
        first_launch=first,
        plan_id=plan_id,
        changes=tuple(ResourceChange.from_aws(c) for c in _resource_changes(sc, plan_id)),
    )


def _create_plan(sc: Any, name: str, target: Launchable, parameters: dict[str, str]) -> str:
    response = sc.create_provisioned_product_plan(
        PlanName=f"{name}-preview",
        PlanType="CLOUDFORMATION",
        ProvisionedProductName=name,
        ProvisioningParameters=listed_parameters(parameters),
        # Fresh: a plan is deleted after each launch, and a repeated token would answer it.
        IdempotencyToken=uuid.uuid4().hex,
        **target.ids(),
    )
    return str(response["PlanId"])


def _settled(sc: Any, plan_id: str, name: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        details: dict[str, Any] = sc.describe_provisioned_product_plan(PlanId=plan_id)[
            "ProvisionedProductPlanDetails"
        ]
        return details if details.get("Status") in _PLAN_SETTLED else None

    return wait_for(check, f"the plan of {name} (plan {plan_id})")


def _resource_changes(sc: Any, plan_id: str) -> list[dict[str, Any]]:
    # DescribeProvisionedProductPlan pages ResourceChanges (at most 20 a page).
    changes: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        extra = {"PageToken": token} if token else {}
        page = sc.describe_provisioned_product_plan(PlanId=plan_id, PageSize=20, **extra)
        changes += page.get("ResourceChanges", [])
        token = page.get("NextPageToken")
        if not token:
            return changes


def _execute(sc: Any, plan_id: str) -> str:
    response = sc.execute_provisioned_product_plan(
        PlanId=plan_id, IdempotencyToken=uuid.uuid4().hex
    )
    return str(response["RecordDetail"]["RecordId"])


def delete_plan(sc: Any, plan_id: str) -> None:
    """Delete PLAN_ID (gone already is fine)."""
    unless_not_found(lambda: sc.delete_provisioned_product_plan(PlanId=plan_id))


def _delete_after_use(sc: Any, plan_id: str) -> None:
    try:
        delete_plan(sc, plan_id)
    except botocore.exceptions.ClientError:
        # The launch's own outcome (or error) is what matters here; a plan left behind (still
        # executing after a timeout) is deleted by the next launch (_drop_stale_plans).
        return


def _drop_stale_plans(sc: Any, name: str, progress: Callable[[str], None]) -> None:
    """Plans an interrupted launch left on NAME (one plan per provisioned product may exist)."""
    detail = describe_launched(sc, name)
    if detail is None:
        return
    listed = sc.list_provisioned_product_plans(ProvisionProductId=detail["Id"])
    for plan in listed.get("ProvisionedProductPlans", []):
        status = sc.describe_provisioned_product_plan(PlanId=plan["PlanId"])[
            "ProvisionedProductPlanDetails"
        ]["Status"]
        if status in _PLAN_SETTLED:
            progress(f"{name}: deleting plan {plan['PlanId']} ({status}) left by an earlier launch")
            delete_plan(sc, plan["PlanId"])


def run_launch_with_preview(
    clients: AwsClients,
    built: BuiltCatalog,
    product: str,
    environment: str,
    *,
    overrides: dict[str, str],
    echo: Callable[[str], None],
    review: Review,
    instance: str | None = None,
    watch_stack: bool = False,
) -> LaunchResult | None:
    """run_launch's parameters and region, launched through a plan REVIEW approves."""
    from portfolio.workflow import launch_setup

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
        return launch_with_preview(
            setup.sc,
            setup.region,
            product,
            environment,
            parameters=setup.parameters,
            progress=echo,
            review=review,
            portfolio=built.desired.display_name,
            instance=instance,
            watch=setup.watch,
        )
